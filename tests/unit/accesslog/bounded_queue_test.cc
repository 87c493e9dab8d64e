#include "wslb/accesslog/bounded_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace wslb::accesslog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(BoundedQueueTest, FullQueueDropsAndCountsWithoutWaiting) {
  BoundedQueue<int> queue(3);
  EXPECT_TRUE(queue.tryPush(1));
  EXPECT_TRUE(queue.tryPush(2));
  EXPECT_TRUE(queue.tryPush(3));
  // No consumer is running: these return at once, refused.
  EXPECT_FALSE(queue.tryPush(4));
  EXPECT_FALSE(queue.tryPush(5));
  EXPECT_EQ(queue.dropped(), 2u);

  std::vector<int> out;
  EXPECT_TRUE(queue.popAll(out));
  EXPECT_THAT(out, ElementsAre(1, 2, 3));
  EXPECT_TRUE(queue.tryPush(6));  // room again
  EXPECT_TRUE(queue.popAll(out));
  EXPECT_THAT(out, ElementsAre(6));
  EXPECT_EQ(queue.dropped(), 2u);
}

TEST(BoundedQueueTest, PushIgnoresTheCapacity) {
  BoundedQueue<int> queue(1);
  EXPECT_TRUE(queue.tryPush(1));
  EXPECT_TRUE(queue.push(2));
  EXPECT_FALSE(queue.tryPush(3));
  std::vector<int> out;
  queue.popAll(out);
  EXPECT_THAT(out, ElementsAre(1, 2));
  EXPECT_EQ(queue.dropped(), 1u);
}

TEST(BoundedQueueTest, CloseKeepsWhatIsQueuedAndRefusesMore) {
  BoundedQueue<int> queue(10);
  queue.tryPush(1);
  queue.close();
  EXPECT_FALSE(queue.tryPush(2));
  EXPECT_FALSE(queue.push(3));
  EXPECT_EQ(queue.dropped(), 1u);  // push() of a control entry is not a drop
  std::vector<int> out;
  EXPECT_TRUE(queue.popAll(out));
  EXPECT_THAT(out, ElementsAre(1));
  EXPECT_FALSE(queue.popAll(out));
  EXPECT_THAT(out, IsEmpty());
}

TEST(BoundedQueueTest, PopAllReturnsAtTheDeadline) {
  BoundedQueue<int> queue(10);
  std::vector<int> out;
  EXPECT_TRUE(queue.popAll(out, std::chrono::steady_clock::now() + std::chrono::milliseconds(5)));
  EXPECT_THAT(out, IsEmpty());
}

TEST(BoundedQueueTest, ConsumerWakesForAProducerOnAnotherThread) {
  BoundedQueue<int> queue(10);
  std::thread producer([&] { queue.tryPush(7); });
  std::vector<int> out;
  while (out.empty()) ASSERT_TRUE(queue.popAll(out));
  EXPECT_THAT(out, ElementsAre(7));
  producer.join();
}

}  // namespace
}  // namespace wslb::accesslog
