// The admin endpoints beyond /stats and /clusters text: the POST-only rule, /clusters?format=json,
// /server_info, /config_dump, /healthcheck/*, /drain_listeners, /reset_counters, /logging,
// /live.json and the live page. Pure request -> response over real ClusterStates.

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <regex>

#include "wslb/admin/admin_handler.h"
#include "wslb/admin/views.h"
#include "wslb/upstream/random.h"

namespace wslb::admin {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;

config::Cluster staticCluster() {
  config::Cluster c;
  c.name = "ws";
  c.connect_timeout = 250ms;
  c.per_host_max_connections = 3;
  c.pending_timeout = 1500ms;
  c.default_thresholds.max_pending_requests = 7;
  c.endpoints.push_back(config::Endpoint{{"10.0.0.1", 80}, "pod-a", 2, {}, {}, 0});
  c.endpoints.push_back(
      config::Endpoint{{"10.0.0.2", 80}, "", 1, config::HealthStatus::kUnhealthy, 7, 0});
  c.endpoints.push_back(config::Endpoint{{"10.0.0.3", 81}, "pod-c", 1, {}, {}, 1});
  return c;
}

config::Cluster edsCluster() {
  config::Cluster c;
  c.name = "live";
  c.type = config::Cluster::Type::kEds;
  c.eds.eds_config.kind = config::ConfigSource::Kind::kApi;
  c.eds.eds_config.api.api_type = config::ApiConfigSource::ApiType::kDeltaGrpc;
  c.eds.eds_config.api.cluster_name = "xds";
  c.eds.service_name = "live-service";
  return c;
}

config::Bootstrap makeBootstrap() {
  config::Bootstrap b;
  b.node = {"node-7", "fleet-a"};
  b.admin.address = config::SocketAddress{"127.0.0.1", 9901};
  config::Listener l;
  l.name = "ingress";
  l.address = {"0.0.0.0", 10000};
  l.hcm.stat_prefix = "ingress_ws";
  l.hcm.upgrade_configs.push_back({"websocket", true});
  l.hcm.route_config_name = "routes";
  config::VirtualHost vh;
  vh.name = "all";
  vh.domains = {"*"};
  config::Route r;
  r.match = {config::RouteMatch::Kind::kPrefix, "/"};
  r.cluster = "ws";
  r.timeout = 0ms;
  r.idle_timeout = 90s;
  vh.routes.push_back(r);
  l.hcm.virtual_hosts.push_back(vh);
  b.listeners.push_back(l);
  b.clusters = {staticCluster(), edsCluster()};
  return b;
}

/// A context over real cluster state; the callbacks record what they were asked.
struct Fixture {
  config::Bootstrap bootstrap = makeBootstrap();
  upstream::ClusterManager clusters{bootstrap.clusters};
  stats::HcmStats hcm{"ingress_ws"};
  std::string state = "LIVE";
  int quits = 0;
  std::vector<bool> healthchecks;
  std::vector<DrainListenersOptions> drains;
  AdminContext context;

  Fixture() {
    context.clusters = &clusters;
    context.hcm_stats.push_back(&hcm);
    context.hcm_listener_names.push_back(bootstrap.listeners.at(0).name);
    context.bootstrap = &bootstrap;
    context.state = [this] { return state; };
    context.quit = [this] { ++quits; };
    context.set_healthcheck_failed = [this](bool failed) { healthchecks.push_back(failed); };
    context.drain_listeners = [this](const DrainListenersOptions& o) { drains.push_back(o); };
  }

  http::Response request(const std::string& target, bhttp::verb verb = bhttp::verb::get) {
    http::Request req{verb, target, 11};
    return handleAdminRequest(context, req);
  }
  http::Response post(const std::string& target) { return request(target, bhttp::verb::post); }

  upstream::ClusterState& ws() { return *clusters.find("ws"); }
};

json::value parseJson(const http::Response& res) {
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  boost::system::error_code ec;
  auto value = json::parse(res.body(), ec);
  EXPECT_FALSE(ec) << res.body();
  return value;
}

const json::object& hostNamed(const json::array& hosts, const std::string& ip, int64_t port) {
  for (const auto& h : hosts) {
    const auto& sa = h.at("address").at("socket_address");
    if (sa.at("address").as_string() == ip && sa.at("port_value").to_number<int64_t>() == port) {
      return h.as_object();
    }
  }
  throw std::runtime_error("no host " + ip + ":" + std::to_string(port));
}

/// The SimpleMetric called `name`: {value (a string, as protobuf prints uint64), type}.
std::pair<std::string, std::string> metric(const json::object& host, const std::string& name) {
  for (const auto& m : host.at("stats").as_array()) {
    if (m.at("name").as_string() == name) {
      return {std::string(m.at("value").as_string()), std::string(m.at("type").as_string())};
    }
  }
  return {"<absent>", ""};
}

TEST(AdminEndpoints, MutationsNeedPostAndChangeNothingOtherwise) {
  Fixture f;
  f.ws().stats().upstream_cx_total = 5;
  const auto level = spdlog::default_logger()->level();
  for (const std::string target :
       {"/quitquitquit", "/healthcheck/fail", "/healthcheck/ok", "/drain_listeners",
        "/drain_listeners?graceful", "/reset_counters", "/logging?level=trace"}) {
    for (const auto verb : {bhttp::verb::get, bhttp::verb::put, bhttp::verb::head}) {
      const auto res = f.request(target, verb);
      EXPECT_EQ(res.result_int(), 405u) << target;
      EXPECT_EQ(res.body(),
                "Method " + std::string(bhttp::to_string(verb)) + " not allowed, POST required.")
          << target;
    }
  }
  EXPECT_EQ(f.quits, 0);
  EXPECT_TRUE(f.healthchecks.empty());
  EXPECT_TRUE(f.drains.empty());
  EXPECT_EQ(f.ws().stats().upstream_cx_total.load(), 5u);
  EXPECT_EQ(spdlog::default_logger()->level(), level);

  // Reading endpoints answer any method.
  EXPECT_EQ(f.request("/logging").result_int(), 200u);
  EXPECT_EQ(f.post("/clusters").result_int(), 200u);
}

TEST(AdminEndpoints, HelpListsEveryEndpointAndMarksMutations) {
  Fixture f;
  const auto help = f.request("/help").body();
  for (const char* line :
       {"  /clusters: ", "  /config_dump: ", "  /drain_listeners (POST): ",
        "  /healthcheck/fail (POST): ", "  /healthcheck/ok (POST): ", "  /live.json: ",
        "  /logging: ", "  /quitquitquit (POST): ", "  /ready: ", "  /reset_counters (POST): ",
        "  /server_info: ", "  /stats: ", "  /stats/prometheus: "}) {
    EXPECT_NE(help.find(line), std::string::npos) << line << "\n" << help;
  }
  const auto missing = f.request("/nope");
  EXPECT_EQ(missing.result_int(), 404u);
  EXPECT_EQ(missing.body().rfind("invalid path. admin commands are:\n", 0), 0u);
}

TEST(AdminEndpoints, HealthcheckFailAndOkReachTheServer) {
  Fixture f;
  // As the server does: a failed health check makes the state DRAINING.
  f.context.set_healthcheck_failed = [&](bool failed) { f.state = failed ? "DRAINING" : "LIVE"; };
  EXPECT_EQ(f.request("/ready").result_int(), 200u);
  auto res = f.post("/healthcheck/fail");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "OK\n");
  res = f.request("/ready");
  EXPECT_EQ(res.result_int(), 503u);
  EXPECT_EQ(res.body(), "DRAINING\n");
  EXPECT_EQ(f.post("/healthcheck/ok").result_int(), 200u);
  res = f.request("/ready");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "LIVE\n");
}

TEST(AdminEndpoints, DrainListenersPassesEnvoysFlags) {
  Fixture f;
  EXPECT_EQ(f.post("/drain_listeners").body(), "OK\n");
  EXPECT_EQ(f.post("/drain_listeners?graceful&inboundonly").result_int(), 200u);
  EXPECT_EQ(f.post("/drain_listeners?graceful&skip_exit").result_int(), 200u);
  ASSERT_EQ(f.drains.size(), 3u);
  EXPECT_FALSE(f.drains[0].graceful || f.drains[0].skip_exit || f.drains[0].inbound_only);
  EXPECT_TRUE(f.drains[1].graceful && f.drains[1].inbound_only && !f.drains[1].skip_exit);
  EXPECT_TRUE(f.drains[2].graceful && f.drains[2].skip_exit);

  AdminContext bare;
  bare.clusters = &f.clusters;
  http::Request req{bhttp::verb::post, "/drain_listeners", 11};
  EXPECT_EQ(handleAdminRequest(bare, req).result_int(), 501u);
}

TEST(AdminEndpoints, ResetCountersZeroesCountersButNotGauges) {
  Fixture f;
  auto& ws = f.ws();
  auto slot = ws.tryAcquire(upstream::threadRandom());
  ASSERT_TRUE(slot);
  auto& cs = ws.stats();
  for (auto* c : {&cs.upstream_cx_total, &cs.upstream_cx_connect_fail, &cs.upstream_cx_overflow,
                  &cs.upstream_cx_destroy, &cs.upstream_rq_pending_total, &cs.update_attempt,
                  &cs.update_success, &cs.update_rejected, &cs.init_fetch_timeout}) {
    *c = 9;
  }
  cs.version = 1234;
  auto& host_stats = slot.host().stats();
  host_stats.cx_total = 4;
  host_stats.rx_bytes = 100;
  host_stats.tx_messages = 3;
  f.hcm.downstream_cx_total = 11;
  f.hcm.downstream_rq_2xx = 2;
  f.hcm.downstream_cx_active = 1;
  f.hcm.downstream_cx_upgrades_active = 1;
  f.hcm.upgrades[0] = 6;
  f.hcm.client_close_codes[0] = 2;

  // An endpoint removed while it holds a connection keeps its counters until reset too.
  auto live = f.clusters.find("live");
  live->updateEndpoints({config::Endpoint{{"10.1.0.1", 80}, "", 1, {}, {}, 0}});
  auto removed_slot = live->tryAcquire(upstream::threadRandom());
  ASSERT_TRUE(removed_slot);
  removed_slot.host().stats().cx_total = 8;
  live->updateEndpoints({config::Endpoint{{"10.1.0.2", 80}, "", 1, {}, {}, 0}});
  ASSERT_EQ(live->hostSet()->removed_hosts.size(), 1u);

  const auto res = f.post("/reset_counters");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "OK\n");

  for (auto* c : {&cs.upstream_cx_total, &cs.upstream_cx_connect_fail, &cs.upstream_cx_overflow,
                  &cs.upstream_cx_destroy, &cs.upstream_rq_pending_total, &cs.update_attempt,
                  &cs.update_success, &cs.update_rejected, &cs.init_fetch_timeout}) {
    EXPECT_EQ(c->load(), 0u);
  }
  EXPECT_EQ(cs.version.load(), 1234u);
  EXPECT_EQ(host_stats.cx_total.load(), 0u);
  EXPECT_EQ(host_stats.rx_bytes.load(), 0u);
  EXPECT_EQ(host_stats.tx_messages.load(), 0u);
  EXPECT_EQ(removed_slot.host().stats().cx_total.load(), 0u);
  EXPECT_EQ(f.hcm.downstream_cx_total.load(), 0u);
  EXPECT_EQ(f.hcm.downstream_rq_2xx.load(), 0u);
  EXPECT_EQ(f.hcm.upgrades[0].load(), 0u);
  EXPECT_EQ(f.hcm.client_close_codes[0].load(), 0u);
  EXPECT_EQ(f.hcm.downstream_cx_active.load(), 1);
  EXPECT_EQ(f.hcm.downstream_cx_upgrades_active.load(), 1);

  const auto text = f.request("/stats").body();
  EXPECT_NE(text.find("cluster.ws.upstream_cx_active: 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cluster.ws.upstream_cx_total: 0\n"), std::string::npos);
  EXPECT_NE(text.find("http.ingress_ws.downstream_cx_active: 1\n"), std::string::npos);
  EXPECT_NE(text.find("cluster.live.version: 0\n"), std::string::npos);
}

TEST(AdminEndpoints, ClustersJsonIsEnvoysShapeWithCapsAndRemovedHosts) {
  Fixture f;
  auto slot = f.ws().tryAcquire(upstream::threadRandom());
  ASSERT_TRUE(slot);
  ASSERT_EQ(slot.host().addressString(), "10.0.0.1:80");  // the only healthy priority-0 pod
  slot.host().stats().cx_total = 3;

  auto live = f.clusters.find("live");
  live->updateEndpoints({config::Endpoint{{"10.1.0.1", 80}, "gone", 1, {}, {}, 0},
                         config::Endpoint{{"10.1.0.9", 80}, "idle", 1, {}, {}, 0}});
  auto held = live->tryAcquire(upstream::threadRandom());
  ASSERT_TRUE(held);
  const std::string held_ip = held.host().ip();
  live->updateEndpoints({config::Endpoint{{"10.1.0.2", 80}, "new", 1, {}, {}, 0}});

  const auto doc = parseJson(f.request("/clusters?format=json"));
  const auto& statuses = doc.at("cluster_statuses").as_array();
  ASSERT_EQ(statuses.size(), 2u);
  const auto& ws = statuses[0].as_object();
  EXPECT_EQ(ws.at("name").as_string(), "ws");
  EXPECT_EQ(ws.at("observability_name").as_string(), "ws");
  EXPECT_FALSE(ws.at("added_via_api").as_bool());
  const auto& thresholds = ws.at("circuit_breakers").at("thresholds").as_array();
  ASSERT_EQ(thresholds.size(), 2u);
  EXPECT_EQ(thresholds[0].at("priority").as_string(), "DEFAULT");
  EXPECT_EQ(thresholds[0].at("max_connections").to_number<int64_t>(), 1024);
  EXPECT_EQ(thresholds[0].at("max_pending_requests").to_number<int64_t>(), 7);
  EXPECT_EQ(thresholds[1].at("priority").as_string(), "HIGH");

  const auto& hosts = ws.at("host_statuses").as_array();
  ASSERT_EQ(hosts.size(), 3u);
  const auto& a = hostNamed(hosts, "10.0.0.1", 80);
  EXPECT_EQ(metric(a, "cx_active"), (std::pair<std::string, std::string>{"1", "GAUGE"}));
  EXPECT_EQ(metric(a, "rq_active"), (std::pair<std::string, std::string>{"1", "GAUGE"}));
  EXPECT_EQ(metric(a, "cx_total"), (std::pair<std::string, std::string>{"3", "COUNTER"}));
  EXPECT_EQ(metric(a, "cx_connect_fail"), (std::pair<std::string, std::string>{"0", "COUNTER"}));
  EXPECT_EQ(metric(a, "max_connections"), (std::pair<std::string, std::string>{"3", "GAUGE"}));
  EXPECT_EQ(metric(a, "remaining_cx"), (std::pair<std::string, std::string>{"2", "GAUGE"}));
  EXPECT_EQ(a.at("hostname").as_string(), "pod-a");
  EXPECT_EQ(a.at("weight").to_number<int64_t>(), 2);
  EXPECT_EQ(a.at("priority").to_number<int64_t>(), 0);
  EXPECT_EQ(a.at("health_status").at("eds_health_status").as_string(), "HEALTHY");
  EXPECT_FALSE(a.at("health_status").at("failed_active_health_check").as_bool());

  const auto& b = hostNamed(hosts, "10.0.0.2", 80);
  EXPECT_EQ(b.at("health_status").at("eds_health_status").as_string(), "UNHEALTHY");
  EXPECT_EQ(metric(b, "max_connections").first, "7");
  EXPECT_EQ(hostNamed(hosts, "10.0.0.3", 81).at("priority").to_number<int64_t>(), 1);

  const auto& eds = statuses[1].as_object();
  EXPECT_EQ(eds.at("eds_service_name").as_string(), "live-service");
  const auto& eds_hosts = eds.at("host_statuses").as_array();
  // The new endpoint, plus the removed one that still holds a connection; not the idle one.
  ASSERT_EQ(eds_hosts.size(), 2u) << json::serialize(eds_hosts);
  EXPECT_FALSE(hostNamed(eds_hosts, "10.1.0.2", 80)
                   .at("health_status")
                   .at("pending_dynamic_removal")
                   .as_bool());
  const auto& gone = hostNamed(eds_hosts, held_ip, 80);
  EXPECT_TRUE(gone.at("health_status").at("pending_dynamic_removal").as_bool());
  EXPECT_EQ(metric(gone, "cx_active").first, "1");
  EXPECT_EQ(metric(gone, "max_connections").first, "<absent>");  // uncapped

  // The text form is unchanged by the JSON one.
  EXPECT_NE(f.request("/clusters").body().find("ws::10.0.0.1:80::cx_active::1\n"),
            std::string::npos);
}

TEST(AdminEndpoints, ServerInfoReportsStateUptimeOptionsAndNode) {
  Fixture f;
  f.context.start_time = std::chrono::system_clock::now() - 125s;
  f.context.command_line.concurrency = 4;
  f.context.command_line.config_path = "/etc/wslb/envoy.yaml";
  f.context.command_line.log_level = "debug";
  f.context.command_line.drain_time = 45s;
  f.context.command_line.service_node = "node-7";
  f.context.command_line.mode = "Serve";
  f.state = "PRE_INITIALIZING";
  const auto doc = parseJson(f.request("/server_info"));
  EXPECT_EQ(doc.at("version").as_string(), WSLB_VERSION "/RELEASE");
  EXPECT_EQ(doc.at("state").as_string(), "PRE_INITIALIZING");
  const std::regex uptime("12[5-7]s");
  EXPECT_TRUE(std::regex_match(std::string(doc.at("uptime_current_epoch").as_string()), uptime))
      << doc.at("uptime_current_epoch");
  EXPECT_EQ(doc.at("uptime_all_epochs"), doc.at("uptime_current_epoch"));
  EXPECT_EQ(doc.at("hot_restart_version").as_string(), "disabled");
  const auto& cli = doc.at("command_line_options");
  EXPECT_EQ(cli.at("concurrency").to_number<int64_t>(), 4);
  EXPECT_EQ(cli.at("config_path").as_string(), "/etc/wslb/envoy.yaml");
  EXPECT_EQ(cli.at("log_level").as_string(), "debug");
  EXPECT_EQ(cli.at("drain_time").as_string(), "45s");
  EXPECT_EQ(cli.at("parent_shutdown_time").as_string(), "900s");
  EXPECT_EQ(cli.at("service_node").as_string(), "node-7");
  EXPECT_EQ(cli.at("mode").as_string(), "Serve");
  EXPECT_EQ(cli.at("drain_strategy").as_string(), "Gradual");
  EXPECT_EQ(cli.at("base_id").as_string(), "0");
  EXPECT_EQ(doc.at("node").at("id").as_string(), "node-7");
  EXPECT_EQ(doc.at("node").at("cluster").as_string(), "fleet-a");
  EXPECT_EQ(doc.at("node").at("user_agent_name").as_string(), "wslb");
}

TEST(AdminEndpoints, ConfigDumpHasEnvoysSectionsBuiltFromTheEffectiveConfig) {
  Fixture f;
  f.clusters.find("live")->updateEndpoints(
      {config::Endpoint{{"10.1.0.1", 8080}, "eds-pod", 3, config::HealthStatus::kDegraded, 5, 0},
       config::Endpoint{{"10.1.0.2", 8080}, "", 1, {}, {}, 2}});
  const auto doc = parseJson(f.request("/config_dump"));
  const auto& configs = doc.at("configs").as_array();
  ASSERT_EQ(configs.size(), 5u);
  const char* types[] = {"BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump",
                         "RoutesConfigDump", "EndpointsConfigDump"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(configs[i].at("@type").as_string(),
              std::string("type.googleapis.com/envoy.admin.v3.") + types[i]);
  }

  const auto& bootstrap = configs[0].at("bootstrap");
  EXPECT_EQ(bootstrap.at("node").at("id").as_string(), "node-7");
  EXPECT_EQ(bootstrap.at("admin").at("address").at("socket_address").at("port_value"), 9901);
  EXPECT_EQ(bootstrap.at("static_resources").at("clusters").as_array().size(), 2u);
  EXPECT_TRUE(configs[0].at("last_updated").is_string());

  const auto& clusters = configs[1].at("static_clusters").as_array();
  ASSERT_EQ(clusters.size(), 2u);
  const auto& ws = clusters[0].at("cluster");
  EXPECT_EQ(ws.at("@type").as_string(), "type.googleapis.com/envoy.config.cluster.v3.Cluster");
  EXPECT_EQ(ws.at("name").as_string(), "ws");
  EXPECT_EQ(ws.at("type").as_string(), "STATIC");
  EXPECT_EQ(ws.at("connect_timeout").as_string(), "0.250s");
  EXPECT_EQ(ws.at("lb_policy").as_string(), "LEAST_REQUEST");
  EXPECT_EQ(ws.at("circuit_breakers").at("per_host_thresholds").at(0).at("max_connections"), 3);
  EXPECT_EQ(ws.at("metadata").at("filter_metadata").at("wslb").at("pending_timeout").as_string(),
            "1.500s");
  const auto& lb = ws.at("load_assignment").at("endpoints").as_array();
  ASSERT_EQ(lb.size(), 2u);  // priorities 0 and 1
  EXPECT_EQ(lb[0].at("lb_endpoints").as_array().size(), 2u);
  EXPECT_EQ(lb[1].at("priority"), 1);
  const auto& unhealthy = lb[0].at("lb_endpoints").at(1);
  EXPECT_EQ(unhealthy.at("health_status").as_string(), "UNHEALTHY");
  EXPECT_EQ(unhealthy.at("metadata").at("filter_metadata").at("wslb").at("max_connections"), 7);
  const auto& eds = clusters[1].at("cluster");
  EXPECT_EQ(eds.at("type").as_string(), "EDS");
  const auto& source = eds.at("eds_cluster_config").at("eds_config");
  EXPECT_EQ(source.at("api_config_source").at("api_type").as_string(), "DELTA_GRPC");
  EXPECT_EQ(source.at("api_config_source")
                .at("grpc_services")
                .at(0)
                .at("envoy_grpc")
                .at("cluster_name")
                .as_string(),
            "xds");
  EXPECT_EQ(source.at("initial_fetch_timeout").as_string(), "15s");

  const auto& listener = configs[2].at("static_listeners").at(0).at("listener");
  EXPECT_EQ(listener.at("name").as_string(), "ingress");
  const auto& hcm = listener.at("filter_chains").at(0).at("filters").at(0).at("typed_config");
  EXPECT_EQ(hcm.at("@type").as_string(),
            "type.googleapis.com/"
            "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager");
  EXPECT_EQ(hcm.at("stat_prefix").as_string(), "ingress_ws");
  EXPECT_EQ(hcm.at("upgrade_configs").at(0).at("upgrade_type").as_string(), "websocket");
  const auto& route = hcm.at("route_config").at("virtual_hosts").at(0).at("routes").at(0);
  EXPECT_EQ(route.at("match").at("prefix").as_string(), "/");
  EXPECT_EQ(route.at("route").at("timeout").as_string(), "0s");
  EXPECT_EQ(route.at("route").at("idle_timeout").as_string(), "90s");
  EXPECT_EQ(configs[3].at("static_route_configs").at(0).at("route_config").at("name").as_string(),
            "routes");

  const auto& endpoints = configs[4].as_object();
  const auto& statics = endpoints.at("static_endpoint_configs").as_array();
  ASSERT_EQ(statics.size(), 1u);
  EXPECT_EQ(statics[0].at("endpoint_config").at("cluster_name").as_string(), "ws");
  const auto& dynamics = endpoints.at("dynamic_endpoint_configs").as_array();
  ASSERT_EQ(dynamics.size(), 1u);
  const auto& cla = dynamics[0].at("endpoint_config");
  EXPECT_EQ(cla.at("@type").as_string(),
            "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
  EXPECT_EQ(cla.at("cluster_name").as_string(), "live-service");
  const auto& p0 = cla.at("endpoints").at(0).at("lb_endpoints").at(0);
  EXPECT_EQ(p0.at("endpoint").at("address").at("socket_address").at("port_value"), 8080);
  EXPECT_EQ(p0.at("endpoint").at("hostname").as_string(), "eds-pod");
  EXPECT_EQ(p0.at("health_status").as_string(), "DEGRADED");
  EXPECT_EQ(p0.at("load_balancing_weight"), 3);
  EXPECT_EQ(p0.at("metadata").at("filter_metadata").at("wslb").at("max_connections"), 5);
  const auto& last = cla.at("endpoints").as_array().back();
  EXPECT_EQ(last.at("priority"), 2);
}

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = spdlog::default_logger()->level(); }
  void TearDown() override { spdlog::default_logger()->set_level(saved_); }
  spdlog::level::level_enum saved_ = spdlog::level::info;
};

TEST_F(LoggingTest, ListsAndChangesTheOneLogger) {
  Fixture f;
  spdlog::default_logger()->set_level(spdlog::level::info);
  EXPECT_EQ(f.request("/logging").body(), "active loggers:\n  wslb: info\n\n");

  auto res = f.post("/logging?level=debug");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "active loggers:\n  wslb: debug\n\n");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);

  EXPECT_EQ(f.post("/logging?wslb=warning").result_int(), 200u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  EXPECT_EQ(f.post("/logging?level=warn").result_int(), 200u);
  EXPECT_EQ(f.post("/logging?paths=wslb:error").result_int(), 200u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::err);
  EXPECT_EQ(f.post("/logging?level=off").result_int(), 200u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::off);
  EXPECT_EQ(f.post("/logging?level=trace").result_int(), 200u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::trace);
}

TEST_F(LoggingTest, BadRequestsAre400AndChangeNothing) {
  Fixture f;
  spdlog::default_logger()->set_level(spdlog::level::info);
  for (const auto& [target, message] : std::vector<std::pair<std::string, std::string>>{
           {"/logging?level=loud", "error: unknown logger level\n"},
           {"/logging?upstream=debug", "error: unknown logger name\n"},
           {"/logging?paths=wslb", "error: empty logger name or empty logger level\n"},
           {"/logging?paths=http:debug", "error: unknown logger name\n"},
           {"/logging?paths=wslb:loud,wslb:debug", "error: unknown logger level\n"},
           {"/logging?level=debug&wslb=debug", "error: invalid number of parameters\n"}}) {
    const auto res = f.post(target);
    EXPECT_EQ(res.result_int(), 400u) << target;
    EXPECT_EQ(res.body().rfind(message, 0), 0u) << target << ": " << res.body();
    EXPECT_NE(res.body().find("usage: /logging?level=<level>"), std::string::npos);
    EXPECT_NE(res.body().find("levels: trace debug info warning error critical off"),
              std::string::npos)
        << res.body();
  }
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
}

TEST(AdminEndpoints, LiveJsonHasThePagesNumbers) {
  Fixture f;
  auto& ws = f.ws();
  auto s1 = ws.tryAcquire(upstream::threadRandom());
  auto s2 = ws.tryAcquire(upstream::threadRandom());
  ASSERT_TRUE(s1 && s2);
  ws.stats().upstream_cx_overflow = 4;
  f.hcm.downstream_cx_active = 3;
  f.hcm.downstream_cx_upgrades_active = 2;
  f.context.start_time = std::chrono::system_clock::now() - 61s;
  f.state = "DRAINING";
  f.clusters.find("live")->updateEndpoints({config::Endpoint{{"10.1.0.1", 80}, "", 1, {}, {}, 0}});

  const auto doc = parseJson(f.request("/live.json"));
  EXPECT_EQ(doc.at("server").at("state").as_string(), "DRAINING");
  EXPECT_GE(doc.at("server").at("uptime_s").to_number<int64_t>(), 61);
  const auto& c = doc.at("clusters").at(0).as_object();
  EXPECT_EQ(c.at("name").as_string(), "ws");
  EXPECT_EQ(c.at("active"), 2);
  EXPECT_EQ(c.at("max_connections"), 1024);
  EXPECT_EQ(c.at("pending"), 0);
  EXPECT_EQ(c.at("max_pending"), 7);
  EXPECT_EQ(c.at("overflow_total"), 4);
  const auto& eps = c.at("endpoints").as_array();
  ASSERT_EQ(eps.size(), 3u);
  const auto& a = eps[0].as_object();
  EXPECT_EQ(a.at("address").as_string(), "10.0.0.1:80");
  EXPECT_EQ(a.at("hostname").as_string(), "pod-a");
  EXPECT_EQ(a.at("cap"), 3);
  EXPECT_EQ(a.at("active").to_number<int64_t>() + a.at("remaining").to_number<int64_t>(), 3);
  EXPECT_TRUE(a.at("healthy").as_bool());
  EXPECT_FALSE(a.at("removed").as_bool());
  EXPECT_EQ(eps[1].at("healthy").as_bool(), false);  // UNHEALTHY
  EXPECT_EQ(eps[1].at("cap"), 7);
  uint64_t active_sum = 0;
  for (const auto& e : eps) active_sum += e.at("active").to_number<uint64_t>();
  EXPECT_EQ(active_sum, 2u);
  const auto& uncapped = doc.at("clusters").at(1).at("endpoints").at(0);
  EXPECT_TRUE(uncapped.at("cap").is_null());
  EXPECT_TRUE(uncapped.at("remaining").is_null());
  const auto& l = doc.at("listeners").at(0);
  EXPECT_EQ(l.at("name").as_string(), "ingress");
  EXPECT_EQ(l.at("stat_prefix").as_string(), "ingress_ws");
  EXPECT_EQ(l.at("downstream_cx_active"), 3);
  EXPECT_EQ(l.at("upgrades_active"), 2);
}

TEST(AdminEndpoints, LivePageIsSelfContainedAndPollsLiveJson) {
  Fixture f;
  const auto res = f.request("/");
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=UTF-8");
  const auto& html = res.body();
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("fetch('/live.json'"), std::string::npos);
  EXPECT_NE(html.find("<style>"), std::string::npos);
  // Nothing loaded from elsewhere: no URLs, no external scripts or stylesheets.
  for (const char* external : {"http://", "https://", "<script src", "<link", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_EQ(html.find("innerHTML"), std::string::npos);
}

}  // namespace
}  // namespace wslb::admin
