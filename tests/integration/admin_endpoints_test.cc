// Admin endpoints against real connections: /clusters?format=json against the backends' own
// counts, /healthcheck/fail and /ok as a readiness probe sees them, /drain_listeners with an open
// WebSocket, /reset_counters, and /logging, /server_info and /config_dump of the real binary.

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <regex>

#include "test_paths.h"
#include "test_support.h"

namespace wslb::test {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string adminRequest(const std::string& method, const std::string& target) {
  return method + " " + target + " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n" +
         "Connection: close\r\n\r\n";
}

/// GETs `target` and parses it as JSON (the Content-Type must say so).
json::value getJson(uint16_t admin_port, const std::string& target) {
  const auto r = rawRequest(admin_port, adminRequest("GET", target));
  EXPECT_EQ(r.status, 200u) << target << ": " << r.body;
  EXPECT_EQ(r.headers.count("content-type") ? r.headers.at("content-type") : "",
            "application/json");
  boost::system::error_code ec;
  auto value = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << target << " is not JSON: " << r.body;
  return value;
}

/// The host_statuses entry of 127.0.0.1:`port` in /clusters?format=json, or null.
const json::object* hostStatus(const json::value& clusters, uint16_t port) {
  for (const auto& cluster : clusters.at("cluster_statuses").as_array()) {
    for (const auto& host : cluster.at("host_statuses").as_array()) {
      const auto& sa = host.at("address").at("socket_address");
      if (sa.at("address").as_string() == "127.0.0.1" &&
          sa.at("port_value").to_number<uint16_t>() == port) {
        return &host.as_object();
      }
    }
  }
  return nullptr;
}

/// A SimpleMetric's value (proto3 JSON prints uint64 as a string), or -1 if absent.
int64_t metric(const json::object& host, const std::string& name) {
  for (const auto& m : host.at("stats").as_array()) {
    if (m.at("name").as_string() == name) return std::stoll(std::string(m.at("value").as_string()));
  }
  return -1;
}

std::string statLine(InProcessWslb& lb, const std::string& name) {
  const auto text = lb.admin("/stats?filter=" + name + "$");
  return text;
}

TEST(AdminEndpoints, ClustersJsonCountsMatchTheBackends) {
  auto backends = startEchoBackends(3);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.endpoint_caps[backends[0]->port()] = 2;
  InProcessWslb lb(makeConfig(spec));
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 7; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  clients[6]->close(1000);
  clients.pop_back();
  ASSERT_TRUE(waitFor(
      [&] { return backends[0]->active() + backends[1]->active() + backends[2]->active() == 6; }));
  ASSERT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_cx_active: 6\n") != std::string::npos;
  }));

  const auto doc = getJson(lb.adminPort(), "/clusters?format=json");
  const auto& cluster = doc.at("cluster_statuses").at(0);
  EXPECT_EQ(cluster.at("name").as_string(), "backend");
  EXPECT_EQ(cluster.at("host_statuses").as_array().size(), 3u);
  int64_t total = 0;
  for (const auto& b : backends) {
    const auto* host = hostStatus(doc, b->port());
    ASSERT_NE(host, nullptr) << b->port();
    EXPECT_EQ(metric(*host, "cx_active"), static_cast<int64_t>(b->active())) << b->port();
    EXPECT_EQ(metric(*host, "rq_active"), static_cast<int64_t>(b->active()));
    EXPECT_EQ(host->at("health_status").at("eds_health_status").as_string(), "HEALTHY");
    total += metric(*host, "cx_total");
  }
  EXPECT_EQ(total, 7);
  const auto* pod1 = hostStatus(doc, backends[0]->port());
  EXPECT_EQ(backends[0]->active(), 2u);
  EXPECT_EQ(metric(*pod1, "max_connections"), 2);
  EXPECT_EQ(metric(*pod1, "remaining_cx"), 0);
  EXPECT_EQ(pod1->at("hostname").as_string(), "pod-1");
  EXPECT_EQ(metric(*hostStatus(doc, backends[1]->port()), "max_connections"), -1);  // uncapped

  // The live page's document says the same.
  const auto live = getJson(lb.adminPort(), "/live.json");
  const auto& lc = live.at("clusters").at(0);
  EXPECT_EQ(lc.at("active").to_number<int64_t>(), 6);
  for (const auto& e : lc.at("endpoints").as_array()) {
    const std::string address(e.at("address").as_string());
    for (const auto& b : backends) {
      if (address == "127.0.0.1:" + std::to_string(b->port())) {
        EXPECT_EQ(e.at("active").to_number<uint64_t>(), b->active()) << address;
      }
    }
  }
  EXPECT_EQ(live.at("listeners").at(0).at("upgrades_active").to_number<int64_t>(), 6);
}

TEST(AdminEndpoints, HealthcheckFailTurnsReadinessOffUntilOk) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  unsigned status = 0;
  EXPECT_EQ(lb.admin("/ready", "GET", &status), "LIVE\n");
  EXPECT_EQ(status, 200u);

  lb.admin("/healthcheck/fail", "GET", &status);
  EXPECT_EQ(status, 405u);
  lb.admin("/ready", "GET", &status);
  EXPECT_EQ(status, 200u);

  EXPECT_EQ(lb.admin("/healthcheck/fail", "POST", &status), "OK\n");
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(lb.admin("/ready", "GET", &status), "DRAINING\n");
  EXPECT_EQ(status, 503u);
  EXPECT_EQ(getJson(lb.adminPort(), "/server_info").at("state").as_string(), "DRAINING");
  // Only readiness changes: the listener still takes connections (as Envoy's does).
  WsClient during(lb.port());
  during.sendText("still served");
  EXPECT_EQ(during.receive(), "still served");

  EXPECT_EQ(lb.admin("/healthcheck/ok", "POST", &status), "OK\n");
  EXPECT_EQ(lb.admin("/ready", "GET", &status), "LIVE\n");
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(lb.server().state(), server::ServerState::kLive);
}

TEST(AdminEndpoints, DrainListenersRefusesNewConnectionsWhileOpenOnesEcho) {
  auto backends = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  WsClient open1(lb.port());
  WsClient open2(lb.port());
  open1.sendText("before");
  EXPECT_EQ(open1.receive(), "before");

  unsigned status = 0;
  lb.admin("/drain_listeners", "GET", &status);
  EXPECT_EQ(status, 405u);
  EXPECT_FALSE(connectRefused(lb.port()));

  EXPECT_EQ(lb.admin("/drain_listeners", "POST", &status), "OK\n");
  EXPECT_EQ(status, 200u);
  EXPECT_EQ(lb.admin("/ready", "GET", &status), "DRAINING\n");
  EXPECT_EQ(status, 503u);
  ASSERT_TRUE(waitFor([&] { return connectRefused(lb.port()); }, 5s));
  EXPECT_THROW(WsClient{lb.port()}, std::exception);

  // Open WebSockets go on for the drain time (5 s here; drain_test.cc covers what follows).
  for (int i = 0; i < 3; ++i) {
    open1.sendText("after " + std::to_string(i));
    EXPECT_EQ(open1.receive(), "after " + std::to_string(i));
  }
  open2.sendBinary(std::string(70000, 'x'));
  EXPECT_EQ(open2.receive().size(), 70000u);
  EXPECT_EQ(backends[0]->active() + backends[1]->active(), 2u);
  EXPECT_NE(statLine(lb, "http.ingress_ws.downstream_cx_active").find(": 2\n"), std::string::npos);
  EXPECT_EQ(lb.server().state(), server::ServerState::kDraining);
  // /healthcheck/ok does not make a drained server ready again.
  lb.admin("/healthcheck/ok", "POST", &status);
  lb.admin("/ready", "GET", &status);
  EXPECT_EQ(status, 503u);
  EXPECT_EQ(open1.close(1000), 1000);
}

TEST(AdminEndpoints, GracefulDrainKeepsAcceptingForTheDrainTime) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));  // drain time 5 s
  unsigned status = 0;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(lb.admin("/drain_listeners?graceful", "POST", &status), "OK\n");
  lb.admin("/ready", "GET", &status);
  EXPECT_EQ(status, 503u);
  // Not refused yet: the drain time lets whatever balances over us notice readiness first.
  WsClient during(lb.port());
  during.sendText("accepted while draining");
  EXPECT_EQ(during.receive(), "accepted while draining");
  ASSERT_TRUE(waitFor([&] { return connectRefused(lb.port()); }, 15s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 4s);
}

TEST(AdminEndpoints, ResetCountersZeroesCountersButNotActiveConnections) {
  auto backends = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb lb(makeConfig(spec));
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  clients.back()->close(1000);
  clients.pop_back();
  ASSERT_TRUE(waitFor([&] { return backends[0]->active() + backends[1]->active() == 3; }));
  ASSERT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_cx_destroy: 1\n") != std::string::npos;
  }));
  auto before = lb.admin("/stats");
  EXPECT_NE(before.find("cluster.backend.upstream_cx_total: 4\n"), std::string::npos) << before;

  unsigned status = 0;
  lb.admin("/reset_counters", "GET", &status);
  EXPECT_EQ(status, 405u);
  EXPECT_NE(lb.admin("/stats").find("cluster.backend.upstream_cx_total: 4\n"), std::string::npos);

  EXPECT_EQ(lb.admin("/reset_counters", "POST", &status), "OK\n");
  EXPECT_EQ(status, 200u);
  const auto after = lb.admin("/stats");
  for (const char* zero :
       {"cluster.backend.upstream_cx_total: 0\n", "cluster.backend.upstream_cx_destroy: 0\n",
        "cluster.backend.upstream_cx_tx_bytes_total: 0\n",
        "http.ingress_ws.downstream_cx_total: 0\n",
        "http.ingress_ws.downstream_cx_upgrades_total: 0\n",
        "http.ingress_ws.downstream_rq_total: 0\n", "http.ingress_ws.downstream_rq_1xx: 0\n"}) {
    EXPECT_NE(after.find(zero), std::string::npos) << zero << "\n" << after;
  }
  for (const char* kept :
       {"cluster.backend.upstream_cx_active: 3\n", "http.ingress_ws.downstream_cx_active: 3\n",
        "http.ingress_ws.downstream_cx_upgrades_active: 3\n",
        "cluster.backend.membership_total: 2\n"}) {
    EXPECT_NE(after.find(kept), std::string::npos) << kept << "\n" << after;
  }
  const auto doc = getJson(lb.adminPort(), "/clusters?format=json");
  for (const auto& b : backends) {
    const auto* host = hostStatus(doc, b->port());
    ASSERT_NE(host, nullptr);
    EXPECT_EQ(metric(*host, "cx_total"), 0);
    EXPECT_EQ(metric(*host, "cx_active"), static_cast<int64_t>(b->active()));
  }
  // Counting goes on from zero.
  WsClient more(lb.port());
  ASSERT_TRUE(waitFor([&] {
    return lb.admin("/stats").find("cluster.backend.upstream_cx_total: 1\n") != std::string::npos;
  }));
}

// ---- the real binary: what main.cc passes through ----

class RunningBinary : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& extra_args) {
    backends_ = startEchoBackends(2);
    dir_ = makeTempDir();
    ConfigSpec spec;
    spec.ports = portsOf(backends_);
    spec.endpoint_caps[backends_[1]->port()] = 5;
    config_path_ = dir_ + "/wslb.yaml";
    listener_port_ = writeConfigOnFreePort(config_path_, spec);
    std::vector<std::string> argv{wslbBinary(), "-c", config_path_, "--admin-address-path",
                                  dir_ + "/admin.txt"};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<ChildProcess>(argv, dir_ + "/wslb");
    admin_port_ = readAdminPort(dir_ + "/admin.txt");
    ASSERT_NE(admin_port_, 0) << process_->stderrText();
    ASSERT_TRUE(waitFor(
        [&] { return rawRequest(admin_port_, adminRequest("GET", "/ready")).status == 200; }));
  }
  void TearDown() override {
    if (process_) {
      process_->signal(SIGTERM);
      EXPECT_EQ(process_->wait(15s), 0) << process_->stderrText();
    }
  }
  HttpResult admin(const std::string& method, const std::string& target) {
    return rawRequest(admin_port_, adminRequest(method, target));
  }

  std::vector<std::unique_ptr<echo::EchoServer>> backends_;
  std::string dir_;
  std::string config_path_;
  uint16_t listener_port_ = 0;
  uint16_t admin_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

TEST_F(RunningBinary, LoggingChangesTheLevelOfTheRunningServer) {
  start({"--concurrency", "1", "-l", "info", "--drain-time-s", "5"});
  const std::string bad_request = "GARBAGE\r\n\r\n";
  const std::string debug_line = "[debug][http] bad request from 127.0.0.1";

  EXPECT_EQ(admin("GET", "/logging").body, "active loggers:\n  wslb: info\n\n");
  rawRequest(listener_port_, bad_request);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(process_->stderrText().find(debug_line), std::string::npos);

  auto r = admin("GET", "/logging?level=debug");
  EXPECT_EQ(r.status, 405u);
  r = admin("POST", "/logging?level=loud");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body.rfind("error: unknown logger level\n", 0), 0u) << r.body;
  rawRequest(listener_port_, bad_request);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(process_->stderrText().find(debug_line), std::string::npos);

  r = admin("POST", "/logging?level=debug");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "active loggers:\n  wslb: debug\n\n");
  EXPECT_TRUE(waitFor(
      [&] {
        rawRequest(listener_port_, bad_request);
        return process_->stderrText().find(debug_line) != std::string::npos;
      },
      5s))
      << process_->stderrText();
  EXPECT_NE(process_->stderrText().find("[admin] change all log levels: level='debug'"),
            std::string::npos);

  EXPECT_EQ(admin("POST", "/logging?wslb=error").status, 200u);
  EXPECT_EQ(admin("GET", "/logging").body, "active loggers:\n  wslb: error\n\n");
}

TEST_F(RunningBinary, ServerInfoAndConfigDumpDescribeTheRunningServer) {
  start({"--concurrency", "2", "--drain-time-s", "7", "--service-node", "node-x",
         "--service-cluster", "fleet-y", "-l", "warning", "--drain-strategy", "immediate"});
  auto r = admin("GET", "/server_info");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  const auto info = json::parse(r.body);
  EXPECT_EQ(info.at("state").as_string(), "LIVE");
  EXPECT_EQ(info.at("hot_restart_version").as_string(), "disabled");
  EXPECT_TRUE(std::regex_match(std::string(info.at("uptime_current_epoch").as_string()),
                               std::regex("[0-9]+s")));
  EXPECT_NE(std::string(info.at("version").as_string()).find(WSLB_VERSION), std::string::npos);
  const auto& cli = info.at("command_line_options");
  EXPECT_EQ(cli.at("config_path").as_string(), config_path_);
  EXPECT_EQ(cli.at("concurrency").to_number<int64_t>(), 2);
  EXPECT_EQ(cli.at("drain_time").as_string(), "7s");
  EXPECT_EQ(cli.at("drain_strategy").as_string(), "Immediate");
  EXPECT_EQ(cli.at("log_level").as_string(), "warning");
  EXPECT_EQ(cli.at("service_node").as_string(), "node-x");
  EXPECT_EQ(cli.at("service_cluster").as_string(), "fleet-y");
  EXPECT_EQ(cli.at("admin_address_path").as_string(), dir_ + "/admin.txt");
  EXPECT_EQ(cli.at("mode").as_string(), "Serve");
  EXPECT_EQ(info.at("node").at("id").as_string(), "node-x");
  EXPECT_EQ(info.at("node").at("cluster").as_string(), "fleet-y");

  r = admin("GET", "/config_dump");
  ASSERT_EQ(r.status, 200u);
  const auto dump = json::parse(r.body);
  const auto& configs = dump.at("configs").as_array();
  ASSERT_EQ(configs.size(), 5u);
  const auto& bootstrap = configs[0].at("bootstrap");
  EXPECT_EQ(bootstrap.at("node").at("id").as_string(), "node-x");
  const auto& listener = bootstrap.at("static_resources").at("listeners").at(0);
  EXPECT_EQ(listener.at("address").at("socket_address").at("port_value").to_number<uint16_t>(),
            listener_port_);
  const auto& cluster = configs[1].at("static_clusters").at(0).at("cluster");
  EXPECT_EQ(cluster.at("name").as_string(), "backend");
  EXPECT_EQ(cluster.at("connect_timeout").as_string(), "1s");
  EXPECT_TRUE(
      cluster.at("circuit_breakers").at("thresholds").at(0).at("track_remaining").as_bool());
  const auto& lb_endpoints = configs[4]
                                 .at("static_endpoint_configs")
                                 .at(0)
                                 .at("endpoint_config")
                                 .at("endpoints")
                                 .at(0)
                                 .at("lb_endpoints")
                                 .as_array();
  ASSERT_EQ(lb_endpoints.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(lb_endpoints[i]
                  .at("endpoint")
                  .at("address")
                  .at("socket_address")
                  .at("port_value")
                  .to_number<uint16_t>(),
              backends_[i]->port());
  }
  EXPECT_EQ(lb_endpoints[1].at("metadata").at("filter_metadata").at("wslb").at("max_connections"),
            5);
  const auto& hcm = configs[2]
                        .at("static_listeners")
                        .at(0)
                        .at("listener")
                        .at("filter_chains")
                        .at(0)
                        .at("filters")
                        .at(0)
                        .at("typed_config");
  EXPECT_EQ(hcm.at("stat_prefix").as_string(), "ingress_ws");
}

}  // namespace
}  // namespace wslb::test
