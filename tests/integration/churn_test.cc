// Thousands of connections with random aborts on both sides (client resets, backend crash and
// restart); afterwards every count is back to 0 and agrees with the backends.

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <random>
#include <thread>

#include "test_support.h"

namespace wslb::test {
namespace {

TEST(Churn, ThousandsOfConnectionsWithRandomAbortsLeaveNoSlotBehind) {
  auto backends = startEchoBackends(3);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.per_host_max = 40;
  spec.max_pending = 0;
  InProcessWslb lb(makeConfig(spec), 2);

  constexpr int kThreads = 6;
  constexpr int kPerThread = 400;  // 2,400 connection attempts in all
  std::atomic<int> established{0};
  std::atomic<int> refused{0};
  std::atomic<bool> stop_killer{false};
  // One backend crashes and comes back repeatedly while the churn runs (backend-side aborts).
  std::thread killer([&] {
    for (int i = 0; i < 5 && !stop_killer; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(150));
      backends[2]->stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      echo::EchoServer::Options o;
      o.id = "pod-3";
      o.port = spec.ports[2];
      auto again = std::make_unique<echo::EchoServer>(o);
      try {
        again->start();
        backends[2] = std::move(again);
      } catch (const std::exception&) {
        // The port may briefly be unavailable; the pod then stays down (connect failures).
      }
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
      for (int i = 0; i < kPerThread && std::chrono::steady_clock::now() < deadline; ++i) {
        try {
          WsClient c(lb.port());
          established++;
          switch (rng() % 4) {
            case 0:
              c.abort();
              break;  // client reset without Close
            case 1:
              c.close(1000);
              break;
            case 2:
              c.sendText("ping");
              c.receive();
              c.abort();
              break;
            default:
              break;  // destructor: TCP close without Close frame
          }
        } catch (const std::exception&) {
          refused++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  stop_killer = true;
  killer.join();

  EXPECT_GT(established.load(), kThreads * kPerThread / 2);
  // Everything drains back to zero, and wslb's counts agree with each backend's own.
  EXPECT_TRUE(waitFor(
      [&] {
        return lb.admin("/stats").find("cluster.backend.upstream_cx_active: 0\n") !=
               std::string::npos;
      },
      std::chrono::seconds(30)))
      << lb.admin("/stats");
  const auto stats = lb.admin("/stats");
  EXPECT_NE(stats.find("http.ingress_ws.downstream_cx_active: 0\n"), std::string::npos) << stats;
  EXPECT_NE(stats.find("http.ingress_ws.downstream_cx_upgrades_active: 0\n"), std::string::npos);
  EXPECT_TRUE(waitFor(
      [&] { return backends[0]->active() + backends[1]->active() + backends[2]->active() == 0; }));
  for (const auto& b : backends) {
    EXPECT_NE(stats.find("cluster.backend.endpoint.127.0.0.1_" + std::to_string(b->port()) +
                         ".cx_active: 0\n"),
              std::string::npos);
  }
  // And it still serves.
  WsClient c(lb.port());
  c.sendText("after churn");
  EXPECT_EQ(c.receive(), "after churn");
}

}  // namespace
}  // namespace wslb::test
