// Overload protection: the overload manager's global cap on downstream connections, and running
// out of file descriptors (accept() failing with EMFILE) under a low open-files limit.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "test_paths.h"
#include "test_support.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;

std::string overloadYaml(uint32_t max_connections) {
  return "overload_manager:\n"
         "  refresh_interval: 0.25s\n"
         "  resource_monitors:\n"
         "  - name: envoy.resource_monitors.global_downstream_max_connections\n"
         "    typed_config:\n"
         "      \"@type\": type.googleapis.com/"
         "envoy.extensions.resource_monitors.downstream_connections.v3."
         "DownstreamConnectionsConfig\n"
         "      max_active_downstream_connections: " +
         std::to_string(max_connections) + "\n";
}

std::string cappedConfig(const std::vector<uint16_t>& ports, uint32_t max_connections) {
  ConfigSpec spec;
  spec.ports = ports;
  return makeConfig(spec) + overloadYaml(max_connections);
}

std::string overflowStat(uint16_t port) {
  return "listener.127.0.0.1_" + std::to_string(port) + ".downstream_global_cx_overflow";
}

// Tries to open a WebSocket; nullptr if the connection was refused or closed.
std::unique_ptr<WsClient> tryWebSocket(uint16_t port) {
  try {
    return std::make_unique<WsClient>(port);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// CPU time (user + system) of a process so far, in clock ticks.
uint64_t cpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  uint64_t utime = 0;
  uint64_t stime = 0;
  // After the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

TEST(Overload, GlobalCapClosesNewConnectionsAtOnce) {
  auto backends = startEchoBackends(2);
  InProcessWslb lb(cappedConfig(portsOf(backends), 3), 2);
  const std::string overflow = overflowStat(lb.port());
  EXPECT_EQ(lb.stat(overflow), 0u);

  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(tryWebSocket(lb.port()), nullptr);
  // Closed at once, not left waiting for a timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(lb.stat(overflow), 1u);
  // Plain HTTP connections count and are refused the same way.
  EXPECT_FALSE(rawRequest(lb.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").ok);
  EXPECT_EQ(lb.stat(overflow), 2u);
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_active"), 3u);
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_total"), 3u);  // refused ones never start

  // The connections at the cap keep working; closing one makes room for one.
  clients[0]->sendText("still here");
  EXPECT_EQ(clients[0]->receive(), "still here");
  clients.back()->close(1000);
  clients.pop_back();
  ASSERT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 2; }));
  clients.push_back(std::make_unique<WsClient>(lb.port()));
  clients.back()->sendText("new");
  EXPECT_EQ(clients.back()->receive(), "new");
  EXPECT_EQ(tryWebSocket(lb.port()), nullptr);
  EXPECT_EQ(lb.stat(overflow), 3u);
}

TEST(Overload, ConcurrentConnectsNeverExceedTheCap) {
  constexpr size_t kCap = 5;
  constexpr int kThreads = 8;
  constexpr int kAttemptsPerThread = 3;
  auto backends = startEchoBackends(2);
  InProcessWslb lb(cappedConfig(portsOf(backends), kCap), 2);

  std::mutex mutex;
  std::vector<std::unique_ptr<WsClient>> held;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttemptsPerThread; ++i) {
        if (auto c = tryWebSocket(lb.port())) {
          std::lock_guard lock(mutex);
          held.push_back(std::move(c));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(held.size(), kCap);
  EXPECT_EQ(lb.stat(overflowStat(lb.port())), kThreads * kAttemptsPerThread - kCap);
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_active"), kCap);

  // Every slot comes back: exactly kCap new connections fit again.
  for (auto& c : held) c->close(1000);
  held.clear();
  ASSERT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 0; }));
  for (size_t i = 0; i < kCap; ++i) {
    auto c = tryWebSocket(lb.port());
    ASSERT_NE(c, nullptr) << i;
    held.push_back(std::move(c));
  }
  EXPECT_EQ(tryWebSocket(lb.port()), nullptr);
}

TEST(Overload, SlotsAreReleasedOnEveryClosePath) {
  constexpr size_t kCap = 2;
  auto backends = startEchoBackends(2);
  InProcessWslb lb(cappedConfig(portsOf(backends), kCap), 2);
  auto drained = [&] {
    return waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 0; });
  };
  for (int round = 0; round < 3; ++round) {
    // A connection that never sends a request.
    const int idle = connectRaw(lb.port());
    ASSERT_GE(idle, 0);
    ASSERT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 1; }));
    ::close(idle);
    ASSERT_TRUE(drained());
    // Plain HTTP, proxied and closed.
    EXPECT_EQ(
        rawRequest(lb.port(), "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").status,
        200u);
    // A bad upgrade (no Sec-WebSocket-Version or key) answered locally.
    EXPECT_EQ(rawRequest(lb.port(),
                         "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\n\r\n")
                      .status /
                  100,
              4u);
    // A WebSocket reset by the client.
    WsClient(lb.port()).abort();
    ASSERT_TRUE(drained());
  }
  // WebSockets whose backend goes away.
  {
    WsClient a(lb.port());
    WsClient b(lb.port());
    ASSERT_TRUE(waitFor([&] { return backends[0]->active() + backends[1]->active() == 2; }));
    auto& victim = backends[0]->active() > 0 ? backends[0] : backends[1];
    victim->stop();  // the backend closes first; the clients close when they leave the scope
  }
  ASSERT_TRUE(drained());
  std::vector<std::unique_ptr<WsClient>> held;
  for (size_t i = 0; i < kCap; ++i) {
    auto c = tryWebSocket(lb.port());
    ASSERT_NE(c, nullptr) << i;
    held.push_back(std::move(c));
  }
  EXPECT_EQ(tryWebSocket(lb.port()), nullptr);
}

uint64_t childStat(uint16_t admin_port, const std::string& name) {
  const auto r = rawRequest(admin_port, "GET /stats?filter=^" + name +
                                            "$ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  const size_t colon = r.body.find(": ");
  return colon == std::string::npos ? UINT64_MAX : std::stoull(r.body.substr(colon + 2));
}

// The real binary under `prlimit --nofile=64:64`: it runs out of descriptors, backs off instead
// of spinning, and serves again once connections close, with exact gauges.
TEST(Overload, OutOfFileDescriptorsBacksOffAndRecovers) {
  auto backends = startEchoBackends(2);
  const std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  const uint16_t port = writeConfigOnFreePort(dir + "/wslb.yaml", spec);
  ChildProcess p(
      {"/usr/bin/prlimit", "--nofile=64:64", "--", wslbBinary(), "-c", dir + "/wslb.yaml",
       "--concurrency", "1", "--admin-address-path", dir + "/admin.txt"},
      dir + "/wslb");
  const uint16_t admin_port = readAdminPort(dir + "/admin.txt");
  ASSERT_NE(admin_port, 0) << p.stderrText();
  ASSERT_TRUE(waitUntilReady(admin_port)) << p.stderrText();

  // Open WebSockets (2 descriptors each in wslb) until one is not upgraded.
  std::vector<int> open;
  bool saturated = false;
  for (int i = 0; i < 64 && !saturated; ++i) {
    const int fd = connectRaw(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendAll(fd, upgradeRequest()));
    if (readStatus(fd, 3s) == 101) {
      open.push_back(fd);
    } else {
      ::close(fd);
      saturated = true;
    }
  }
  ASSERT_TRUE(saturated) << "wslb never ran out of descriptors";
  ASSERT_GT(open.size(), 5u);
  // More connections wait in the kernel's backlog: accept() now fails with EMFILE.
  std::vector<int> waiting;
  for (int i = 0; i < 3; ++i) {
    const int fd = connectRaw(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendAll(fd, upgradeRequest()));
    waiting.push_back(fd);
  }
  ASSERT_TRUE(waitFor([&] {
    return p.stderrText().find("Too many open files") != std::string::npos;
  })) << p.stderrText();

  // Saturated, it does not spin: well under half a CPU over a second (a busy loop takes all).
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  const uint64_t before = cpuTicks(p.pid());
  std::this_thread::sleep_for(1s);
  const uint64_t used = cpuTicks(p.pid()) - before;
  EXPECT_LT(used, static_cast<uint64_t>(ticks_per_second / 2)) << "CPU ticks in 1 s: " << used;
  EXPECT_EQ(p.wait(0ms), -1) << "wslb exited: " << p.stderrText();

  // Close half: the waiting connections are served, and new upgrades succeed again.
  const size_t to_close = open.size() / 2;
  for (size_t i = 0; i < to_close; ++i) ::close(open[i]);
  open.erase(open.begin(), open.begin() + static_cast<std::ptrdiff_t>(to_close));
  for (int fd : waiting) {
    if (readStatus(fd, 10s) == 101) {
      open.push_back(fd);
    } else {
      ::close(fd);
    }
  }
  std::unique_ptr<WsClient> fresh;
  ASSERT_TRUE(waitFor([&] { return (fresh = tryWebSocket(port)) != nullptr; }, 15s));
  fresh->sendText("again");
  EXPECT_EQ(fresh->receive(), "again");

  // The gauges equal what is really open: our sockets, and the backends' own counts.
  const uint64_t expected = open.size() + 1;
  EXPECT_TRUE(waitFor([&] { return backends[0]->active() + backends[1]->active() == expected; }))
      << backends[0]->active() + backends[1]->active() << " != " << expected;
  EXPECT_TRUE(waitFor(
      [&] { return childStat(admin_port, "http.ingress_ws.downstream_cx_active") == expected; }));
  EXPECT_EQ(childStat(admin_port, "cluster.backend.upstream_cx_active"), expected);
  uint64_t per_endpoint = 0;
  for (const auto& backend : backends) {
    const uint64_t active =
        childStat(admin_port, "cluster.backend.endpoint.127.0.0.1_" +
                                  std::to_string(backend->port()) + ".cx_active");
    EXPECT_EQ(active, backend->active());
    per_endpoint += active;
  }
  EXPECT_EQ(per_endpoint, expected);

  fresh.reset();
  for (int fd : open) ::close(fd);
  EXPECT_TRUE(waitFor([&] {
    return childStat(admin_port, "http.ingress_ws.downstream_cx_active") == 0 &&
           childStat(admin_port, "cluster.backend.upstream_cx_active") == 0;
  }));
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(15s), 0) << p.stderrText();
}

}  // namespace
}  // namespace wslb::test
