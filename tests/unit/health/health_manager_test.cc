// HealthManager wiring: host-set changes reach the checker, outlier sweeps return hosts,
// unhealthy_endpoint_drain_window asks for a drain, stop() is final.

#include "wslb/health/health_manager.h"

#include <gtest/gtest.h>

#include "health_test_util.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace wslb::health {
namespace {

using test::endpointAt;
using test::StatusServer;
using test::waitFor;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

config::HealthCheck fastCheck() {
  config::HealthCheck hc;
  hc.timeout = 500ms;
  hc.interval = 50ms;
  hc.no_traffic_interval = 50ms;
  hc.unhealthy_threshold = 1;
  hc.healthy_threshold = 1;
  hc.path = "/";
  return hc;
}

bool failedHc(const upstream::Host& host) {
  return (host.healthFlags() & upstream::kFailedActiveHealthCheck) != 0;
}

TEST(HealthManager, NothingToDoWithoutHealthChecksOrOutlierDetection) {
  config::Cluster c;
  c.name = "plain";
  upstream::ClusterManager clusters({c});
  HealthManager manager(clusters, nullptr);
  EXPECT_FALSE(manager.active());
  manager.start();
  manager.stop();
}

TEST(HealthManager, EndpointsAddedLaterAreCheckedThroughTheObserver) {
  StatusServer a;
  StatusServer b;
  config::Cluster c;
  c.name = "svc";
  c.health_check = fastCheck();
  c.endpoints = {endpointAt(a.port())};
  upstream::ClusterManager clusters({c});
  HealthManager manager(clusters, nullptr);
  manager.start();
  const auto cluster = clusters.find("svc");
  ASSERT_TRUE(waitFor([&] { return !failedHc(*cluster->hostSet()->all_hosts.at(0)); }));
  cluster->updateEndpoints({endpointAt(a.port()), endpointAt(b.port())});
  // The new host starts failed (buildHostSet(), see ClusterHealthChecker's tests), but the
  // observer may already have had it checked and cleared by the time this thread reads it: only
  // the outcome is certain.
  const auto added = cluster->hostSet()->all_hosts.at(1);
  EXPECT_TRUE(waitFor([&] { return !failedHc(*added); }));
  manager.stop();
  manager.stop();  // idempotent
}

TEST(HealthManager, EjectedHostIsDrainedAndReturnedBySweeps) {
  config::Cluster c;
  c.name = "od";
  config::OutlierDetection od;
  od.consecutive_5xx = 2;
  od.interval = 50ms;
  od.base_ejection_time = 200ms;
  od.max_ejection_percent = 100;
  c.outlier_detection = od;
  c.unhealthy_endpoint_drain_window = 100ms;
  c.endpoints = {endpointAt(1), endpointAt(2)};
  upstream::ClusterManager clusters({c});
  std::mutex mutex;
  std::vector<upstream::HostSharedPtr> drained;
  std::chrono::milliseconds drain_window{0};
  HealthManager manager(
      clusters, [&](std::vector<upstream::HostSharedPtr> hosts, std::chrono::milliseconds window) {
        std::lock_guard lock(mutex);
        drained.insert(drained.end(), hosts.begin(), hosts.end());
        drain_window = window;
      });
  manager.start();
  const auto cluster = clusters.find("od");
  const auto host = cluster->hostSet()->all_hosts.at(0);
  ASSERT_TRUE(host->tryAcquire());  // one live connection to drain
  cluster->reportUpstreamResult(*host, upstream::UpstreamResult::kConnectFailed);
  cluster->reportUpstreamResult(*host, upstream::UpstreamResult::kConnectFailed);
  EXPECT_FALSE(host->eligible());
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mutex);
    return drained.size() == 1;
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(drained.at(0), host);
    EXPECT_EQ(drain_window, 100ms);
  }
  EXPECT_TRUE(waitFor([&] { return host->eligible(); }, 5s));
  EXPECT_EQ(cluster->outlierDetector()->stats().ejections_active.load(), 0u);
  manager.stop();
  host->release();
}

// The ejection listener belongs to the cluster's detector and calls into the manager: it must
// neither keep the cluster alive (a cycle: the cluster would never be freed, e.g. after a reload
// removes it) nor outlive the manager.
TEST(HealthManager, ClusterWithOutlierDetectionOutlivesTheManagerAndIsFreed) {
  config::Cluster c;
  c.name = "od";
  config::OutlierDetection od;
  od.consecutive_5xx = 1;
  od.interval = 50ms;
  od.max_ejection_percent = 100;
  c.outlier_detection = od;
  c.unhealthy_endpoint_drain_window = 100ms;
  c.endpoints = {endpointAt(1), endpointAt(2)};
  auto clusters = std::make_unique<upstream::ClusterManager>(std::vector<config::Cluster>{c});
  std::atomic<int> drains{0};
  {
    HealthManager manager(*clusters, [&](std::vector<upstream::HostSharedPtr>,
                                         std::chrono::milliseconds) { ++drains; });
    manager.start();
  }
  std::weak_ptr<upstream::ClusterState> weak = clusters->find("od");
  {
    const auto cluster = weak.lock();
    const auto host = cluster->hostSet()->all_hosts.at(0);
    ASSERT_TRUE(host->tryAcquire());
    // Ejected after the manager is gone: the detector no longer calls it.
    cluster->reportUpstreamResult(*host, upstream::UpstreamResult::kConnectFailed);
    EXPECT_FALSE(host->eligible());
    host->release();
  }
  EXPECT_EQ(drains.load(), 0);
  clusters.reset();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace wslb::health
