// The memory target for idle WebSockets, end to end: RSS growth of the real binary per idle
// proxied WebSocket (docs/benchmarks.md, "RSS per idle proxied WebSocket", target <= 2 KiB,
// measured there with 9,900 connections opened 128 at a time). Opened one after another, as
// here, 1,000 connections cost about 1,630 bytes each when this test was written (1,978 before
// the relay's pending waits got blocks of their own size, which the unit tests HandlerMemory.*
// check exactly). The bound is the target itself: page-granular RSS of a
// process sharing the machine is not a figure to hold within a few percent, but an idle
// connection that kept a buffer (16 KiB or more) or doubled its objects fails it. A fresh
// process: memory an earlier run left in the allocator would hide the growth.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "test_paths.h"
#include "test_support.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;

// Resident set size of `pid` in bytes (VmRSS), 0 if unknown.
size_t residentBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// Opens a WebSocket through `port` with a raw socket (no client-side state but the descriptor);
// -1 if the upgrade did not get its 101.
int openIdleWebSocket(uint16_t port) {
  const int fd = connectRaw(port);
  if (fd < 0) return -1;
  if (!sendAll(fd, upgradeRequest()) || readStatus(fd, 10s) != 101) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST(IdleRelayMemory, ProxiedWebSocketStaysWithinItsBudget) {
// (The TSan tree compiles with __SANITIZE_THREAD__ undefined: cmake/wslb_sanitizers.cmake.)
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(WSLB_TSAN)
  GTEST_SKIP() << "a sanitizer's allocator and shadow memory are not what is measured";
#endif
  constexpr int kWarmUp = 100;
  constexpr int kConnections = 1000;
  // This process holds a client and a backend side per connection; wslb (which inherits the
  // limit) two sockets per connection.
  constexpr rlim_t kDescriptors = 2 * (kWarmUp + kConnections) + 256;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < kDescriptors) {
    if (limit.rlim_max < kDescriptors) GTEST_SKIP() << "needs " << kDescriptors << " descriptors";
    const rlimit raised{kDescriptors, limit.rlim_max};
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &raised), 0);
  }

  auto backends = startEchoBackends(2);
  const std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.idle_timeout = "3600s";  // as in the benchmark: every relay arms its idle timer
  spec.cluster_max = 100000;    // above the default circuit breaker (1,024 connections)
  const uint16_t port = writeConfigOnFreePort(dir + "/wslb.yaml", spec);
  ChildProcess wslb({wslbBinary(), "-c", dir + "/wslb.yaml", "--concurrency", "1", "-l", "warning",
                     "--drain-time-s", "1", "--admin-address-path", dir + "/admin.txt"},
                    dir + "/wslb");
  const uint16_t admin = readAdminPort(dir + "/admin.txt");
  ASSERT_NE(admin, 0) << wslb.stderrText();
  ASSERT_TRUE(waitUntilReady(admin)) << wslb.stderrText();

  std::vector<int> open;
  const auto openMany = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const int fd = openIdleWebSocket(port);
      if (fd < 0) return false;
      open.push_back(fd);
    }
    return true;
  };
  // The first connections set up per-thread caches and the allocator's arenas.
  ASSERT_TRUE(openMany(kWarmUp)) << wslb.stderrText();
  std::this_thread::sleep_for(200ms);
  const size_t before = residentBytes(wslb.pid());
  ASSERT_TRUE(openMany(kConnections)) << wslb.stderrText();
  std::this_thread::sleep_for(200ms);
  const size_t after = residentBytes(wslb.pid());
  ASSERT_GT(before, 0u);
  const double per_connection = static_cast<double>(after - before) / kConnections;
  std::cout << "RSS per idle proxied WebSocket: " << per_connection << " bytes (" << kConnections
            << " connections)\n";
  EXPECT_LE(per_connection, 2048.0);

  for (int fd : open) ::close(fd);
  wslb.signal(SIGTERM);
  EXPECT_EQ(wslb.wait(15s), 0) << wslb.stderrText();
}

}  // namespace
}  // namespace wslb::test
