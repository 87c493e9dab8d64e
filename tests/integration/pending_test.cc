// The pending queue: when every pod is full, an upgrade waits for room (bounded, timed).

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "test_support.h"

namespace wslb::test {
namespace {

TEST(Pending, WaitsThenSucceedsWhenASlotFrees) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.per_host_max = 1;
  spec.max_pending = 4;
  spec.pending_timeout = "20s";
  InProcessWslb lb(makeConfig(spec));

  auto first = std::make_unique<WsClient>(lb.port());
  auto waiting = std::async(std::launch::async, [&] {
    WsClient c(lb.port());
    c.sendText("after wait");
    return c.receive();
  });
  ASSERT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_rq_pending_active: 1\n") !=
           std::string::npos;
  }));
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  first->close(1000);
  EXPECT_EQ(waiting.get(), "after wait");
  const auto stats = lb.admin("/stats");
  EXPECT_NE(stats.find("cluster.backend.upstream_rq_pending_total: 1\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_overflow: 0\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_rq_pending_active: 0\n"), std::string::npos);
}

TEST(Pending, TimesOutInto503) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.per_host_max = 1;
  spec.max_pending = 4;
  spec.pending_timeout = "0.3s";
  InProcessWslb lb(makeConfig(spec));
  WsClient first(lb.port());
  auto r = rawRequest(lb.port(), upgradeRequest());
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.headers["x-envoy-overloaded"], "true");
  const auto stats = lb.admin("/stats");
  EXPECT_NE(stats.find("cluster.backend.upstream_cx_overflow: 1\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_rq_pending_overflow: 1\n"), std::string::npos);
  EXPECT_NE(stats.find("cluster.backend.upstream_rq_pending_active: 0\n"), std::string::npos);
  EXPECT_TRUE(activeBecomes(*backends[0], 1));
}

TEST(Pending, FullQueueIs503AtOnce) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.per_host_max = 1;
  spec.max_pending = 1;
  spec.pending_timeout = "3s";
  InProcessWslb lb(makeConfig(spec));
  WsClient first(lb.port());
  auto queued =
      std::async(std::launch::async, [&] { return rawRequest(lb.port(), upgradeRequest()); });
  ASSERT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("upstream_rq_pending_active: 1\n") != std::string::npos;
  }));
  const auto start = std::chrono::steady_clock::now();
  auto r = rawRequest(lb.port(), upgradeRequest());
  EXPECT_EQ(r.status, 503u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(queued.get().status, 503u);  // the queued one times out after 3 s
}

}  // namespace
}  // namespace wslb::test
