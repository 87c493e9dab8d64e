#include "wslb/accesslog/access_log.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <system_error>
#include <thread>

#include "accesslog_test_util.h"

namespace wslb::accesslog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::readFile;
using testing::readLines;
using testing::TempDir;
using namespace std::chrono_literals;

config::AccessLogConfig fileEntry(const std::string& path, std::string_view format) {
  config::AccessLogConfig entry;
  entry.path = path;
  entry.format = testing::textFormat(format);
  return entry;
}

AccessLogRecord numbered(uint64_t producer, uint64_t sequence) {
  AccessLogRecord r;
  r.connection_id = producer;
  r.bytes_sent = sequence;
  return r;
}

TEST(AccessLogTest, WithoutEntriesItIsDisabled) {
  AccessLog log(std::vector<config::AccessLogConfig>{});
  EXPECT_FALSE(log.enabled());
  EXPECT_THAT(log.referencedHeaders(), IsEmpty());
  log.log(AccessLogRecord{});
  log.reopen();
  log.flush();
  log.stop();
  EXPECT_EQ(log.counters().logged, 0u);
  EXPECT_EQ(log.counters().dropped, 0u);
}

TEST(AccessLogTest, BuiltFromTheConnectionManager) {
  TempDir dir;
  config::HttpConnectionManager hcm;
  hcm.access_logs.push_back(fileEntry(dir.file("a.log"), "%RESPONSE_CODE% %UPSTREAM_HOST%\n"));
  AccessLog log(hcm);
  EXPECT_TRUE(log.enabled());
  log.log(testing::webSocketRecord());
  log.flush();
  EXPECT_EQ(readFile(dir.file("a.log")), "101 10.0.2.1:8080\n");
  const AccessLogCounters counters = log.counters();
  EXPECT_EQ(counters.logged, 1u);
  EXPECT_EQ(counters.lines, 1u);
  EXPECT_EQ(counters.dropped, 0u);
  EXPECT_EQ(counters.write_failures, 0u);
}

TEST(AccessLogTest, AppendsToAnExistingFile) {
  TempDir dir;
  { std::ofstream(dir.file("a.log")) << "earlier line\n"; }
  AccessLog log({fileEntry(dir.file("a.log"), "%RESPONSE_CODE%\n")});
  log.log(testing::webSocketRecord());
  log.stop();
  EXPECT_THAT(readLines(dir.file("a.log")), ElementsAre("earlier line", "101"));
}

TEST(AccessLogTest, ReferencedHeadersAreOnlyThoseTheFormatsPrint) {
  TempDir dir;
  AccessLog log({fileEntry(dir.file("a.log"), "%REQ(User-Agent)% %REQ(:PATH)% %REQ(HOST)%\n"),
                 fileEntry(dir.file("b.log"), "%REQ(user-agent)% %REQ(X-A?X-B):3%\n")});
  EXPECT_THAT(log.referencedHeaders(),
              ElementsAre("user-agent", ":path", ":authority", "x-a", "x-b"));

  const std::map<std::string, std::string> request = {{"user-agent", "wscat"},
                                                      {":path", "/chat"},
                                                      {":authority", "chat.local"},
                                                      {"x-b", "bravo"},
                                                      {"cookie", "secret"}};
  std::vector<std::string> asked;
  AccessLogRecord record;
  log.captureRequestHeaders(record, [&](std::string_view name) -> std::optional<std::string_view> {
    asked.emplace_back(name);
    auto it = request.find(std::string(name));
    if (it == request.end()) return std::nullopt;
    return std::string_view(it->second);
  });
  EXPECT_THAT(asked, ElementsAre("user-agent", ":path", ":authority", "x-a", "x-b"));
  ASSERT_EQ(record.request_headers.size(), 5u);
  EXPECT_EQ(record.request_headers[3], std::nullopt);
  log.log(std::move(record));
  log.stop();
  EXPECT_EQ(readFile(dir.file("a.log")), "wscat /chat chat.local\n");
  EXPECT_EQ(readFile(dir.file("b.log")), "wscat bra\n");
}

TEST(AccessLogTest, FiltersAndSharedFiles) {
  TempDir dir;
  const std::string path = dir.file("shared.log");
  config::AccessLogConfig websockets = fileEntry(path, "ws %RESPONSE_CODE%\n");
  config::AccessLogFilter upgraded;
  upgraded.kind = config::AccessLogFilter::Kind::kStatusCode;
  upgraded.value = 101;
  websockets.filter = upgraded;
  config::AccessLogConfig everything = fileEntry(path, "all %RESPONSE_CODE%\n");
  config::AccessLogConfig json;
  json.path = dir.file("json.log");
  json.format = testing::jsonFormat({testing::jsonLeaf("code", "%RESPONSE_CODE%")});

  AccessLog log({websockets, everything, json});
  AccessLogRecord upgrade;
  upgrade.response_code = 101;
  AccessLogRecord refused;
  refused.response_code = 503;
  log.log(upgrade);
  log.log(refused);
  log.log(upgrade);
  log.stop();
  EXPECT_THAT(readLines(path), ElementsAre("ws 101", "all 101", "all 503", "ws 101", "all 101"));
  EXPECT_THAT(readLines(dir.file("json.log")),
              ElementsAre("{\"code\":101}", "{\"code\":503}", "{\"code\":101}"));
  EXPECT_EQ(log.counters().lines, 8u);
}

TEST(AccessLogTest, ConcurrentProducersEachLineOnceInOrder) {
  TempDir dir;
  const std::string path = dir.file("a.log");
  AccessLogOptions options;
  options.queue_capacity = 1 << 20;  // nothing is dropped in this test
  options.buffer_bytes = 4096;       // many writes
  AccessLog log({fileEntry(path, "%CONNECTION_ID% %BYTES_SENT%\n")}, options);

  constexpr uint64_t kProducers = 4;
  constexpr uint64_t kPerProducer = 20000;
  std::vector<std::thread> producers;
  for (uint64_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&log, p] {
      for (uint64_t i = 0; i < kPerProducer; ++i) log.log(numbered(p, i));
    });
  }
  for (std::thread& t : producers) t.join();
  log.stop();

  EXPECT_EQ(log.counters().dropped, 0u);
  EXPECT_EQ(log.counters().logged, kProducers * kPerProducer);
  std::vector<uint64_t> next(kProducers, 0);
  size_t lines = 0;
  for (const std::string& line : readLines(path)) {
    uint64_t producer = 0;
    uint64_t sequence = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%lu %lu", &producer, &sequence), 2) << line;
    ASSERT_LT(producer, kProducers) << line;
    // Each producer's lines appear once each, in the order it logged them.
    ASSERT_EQ(sequence, next[producer]) << "producer " << producer;
    ++next[producer];
    ++lines;
  }
  EXPECT_EQ(lines, kProducers * kPerProducer);
  for (uint64_t p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
}

TEST(AccessLogTest, StopDrainsEverythingQueued) {
  TempDir dir;
  const std::string path = dir.file("a.log");
  AccessLogOptions options;
  options.flush_interval = 1h;  // only stop() writes
  options.buffer_bytes = 1 << 30;
  AccessLog log({fileEntry(path, "%BYTES_SENT%\n")}, options);
  for (uint64_t i = 0; i < 5000; ++i) log.log(numbered(0, i));
  log.stop();
  const std::vector<std::string> lines = readLines(path);
  ASSERT_EQ(lines.size(), 5000u);
  EXPECT_EQ(lines.front(), "0");
  EXPECT_EQ(lines.back(), "4999");

  // After stop() nothing more is written; records are counted as dropped.
  log.log(numbered(0, 1));
  log.flush();
  log.stop();
  EXPECT_EQ(readLines(path).size(), 5000u);
  EXPECT_EQ(log.counters().dropped, 1u);
}

TEST(AccessLogTest, ReopenAfterRenameWritesANewFile) {
  TempDir dir;
  const std::string path = dir.file("a.log");
  const std::string rotated = dir.file("a.log.1");
  AccessLog log({fileEntry(path, "%BYTES_SENT%\n")});
  log.log(numbered(0, 1));
  log.flush();
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  log.log(numbered(0, 2));  // still the old file: reopen() has not been asked for
  log.reopen();
  log.log(numbered(0, 3));
  log.stop();
  EXPECT_THAT(readLines(rotated), ElementsAre("1", "2"));
  EXPECT_THAT(readLines(path), ElementsAre("3"));
  EXPECT_EQ(log.counters().reopen_failures, 0u);
}

TEST(AccessLogTest, ReopenKeepsTheOrderOfRecordsWithoutAFlush) {
  TempDir dir;
  const std::string path = dir.file("a.log");
  const std::string rotated = dir.file("a.log.1");
  AccessLogOptions options;
  options.flush_interval = 1h;
  AccessLog log({fileEntry(path, "%BYTES_SENT%\n")}, options);
  for (uint64_t i = 0; i < 100; ++i) log.log(numbered(0, i));
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  log.reopen();
  for (uint64_t i = 100; i < 200; ++i) log.log(numbered(0, i));
  log.stop();
  const std::vector<std::string> old_lines = readLines(rotated);
  const std::vector<std::string> new_lines = readLines(path);
  ASSERT_EQ(old_lines.size(), 100u);
  ASSERT_EQ(new_lines.size(), 100u);
  EXPECT_EQ(old_lines.back(), "99");
  EXPECT_EQ(new_lines.front(), "100");
}

TEST(AccessLogTest, FailedReopenKeepsWritingToTheOldFile) {
  TempDir dir;
  const std::string sub = dir.file("sub");
  ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
  const std::string path = sub + "/a.log";
  AccessLog log({fileEntry(path, "%BYTES_SENT%\n")});
  log.log(numbered(0, 1));
  log.flush();
  const std::string moved = dir.file("moved");
  ASSERT_EQ(std::rename(sub.c_str(), moved.c_str()), 0);  // the path's directory is gone
  log.reopen();
  log.log(numbered(0, 2));
  log.stop();
  EXPECT_EQ(log.counters().reopen_failures, 1u);
  EXPECT_THAT(readLines(moved + "/a.log"), ElementsAre("1", "2"));
}

TEST(AccessLogTest, WritesWithinTheFlushIntervalWithoutBeingAsked) {
  TempDir dir;
  const std::string path = dir.file("a.log");
  AccessLogOptions options;
  options.flush_interval = 20ms;
  AccessLog log({fileEntry(path, "%BYTES_SENT%\n")}, options);
  log.log(numbered(0, 7));
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (readFile(path).empty() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(readFile(path), "7\n");
}

// A FIFO that nobody reads stalls the writer thread in write(): producers must still return at
// once, dropping and counting what does not fit in the queue.
TEST(AccessLogTest, StalledWriterNeverBlocksProducers) {
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);

  AccessLogOptions options;
  options.queue_capacity = 8;
  options.buffer_bytes = 4096;
  auto log = std::make_unique<AccessLog>(
      std::vector<config::AccessLogConfig>{
          fileEntry(fifo,
                    "0123456789012345678901234567890123456789012345678901234567890123456789 "
                    "%BYTES_SENT%\n")},
      options);

  constexpr uint64_t kRecords = 50000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 0; i < kRecords; ++i) log->log(numbered(0, i));
    done = true;
  });
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!done && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(done) << "log() blocked while the writer was stalled";

  // Unblock the writer: read everything until the writer closes its end (stop()).
  ASSERT_EQ(fcntl(reader, F_SETFL, 0), 0);
  std::string received;
  std::thread drain([&] {
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(reader, buffer, sizeof(buffer));
      if (n <= 0) break;
      received.append(buffer, static_cast<size_t>(n));
    }
  });
  producer.join();
  log->stop();
  drain.join();
  close(reader);

  const AccessLogCounters counters = log->counters();
  EXPECT_GT(counters.dropped, 0u);
  EXPECT_EQ(counters.logged + counters.dropped, kRecords);
  EXPECT_EQ(static_cast<uint64_t>(std::count(received.begin(), received.end(), '\n')),
            counters.logged);
}

TEST(AccessLogTest, StandardOutput) {
  config::AccessLogConfig entry;
  entry.sink = config::AccessLogConfig::Sink::kStdout;
  entry.format = testing::textFormat("stdout line %RESPONSE_CODE%\n");
  AccessLog log({entry});
  ::testing::internal::CaptureStdout();
  log.log(testing::webSocketRecord());
  log.flush();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "stdout line 101\n");
}

TEST(AccessLogTest, UnopenableFileThrowsAtStartUp) {
  TempDir dir;
  EXPECT_THROW(AccessLog({fileEntry(dir.file("missing/dir/a.log"), "x\n")}), std::system_error);
}

}  // namespace
}  // namespace wslb::accesslog
