// Configuration reload (Server::reload(), SIGHUP): what changes applies to new connections, live
// connections keep going, a bad configuration changes nothing.

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "hcm_yaml.h"
#include "test_paths.h"
#include "test_support.h"
#include "wslb/config/loader.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;

struct ClusterSpec {
  std::string name;
  std::vector<uint16_t> ports;
  std::optional<uint32_t> per_host_max = std::nullopt;
  std::string lb_policy = "";
};
struct RouteSpec {
  std::string prefix;
  std::string cluster;
};
struct ListenerSpec {
  std::string name;
  uint16_t port = 0;
  std::vector<RouteSpec> routes;
  std::string stat_prefix = "";  ///< "" = the name
};

// Envoy v3 YAML with these listeners and clusters (and an admin listener on port 0).
std::string yamlOf(const std::vector<ListenerSpec>& listeners,
                   const std::vector<ClusterSpec>& clusters) {
  std::ostringstream y;
  y << "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
    << "static_resources:\n  listeners:\n";
  for (const auto& l : listeners) {
    y << "  - name: " << l.name << "\n"
      << "    address: {socket_address: {address: 127.0.0.1, port_value: " << l.port << "}}\n"
      << "    filter_chains:\n    - filters:\n";
    std::string routes;
    for (const auto& r : l.routes) routes += routeYaml(r.prefix, r.cluster);
    y << hcmFilterYaml(l.stat_prefix.empty() ? l.name : l.stat_prefix, routes);
  }
  y << "  clusters:\n";
  for (const auto& c : clusters) {
    y << "  - name: " << c.name << "\n    connect_timeout: 1s\n";
    if (!c.lb_policy.empty()) y << "    lb_policy: " << c.lb_policy << "\n";
    y << "    circuit_breakers:\n      thresholds:\n      - priority: DEFAULT\n"
      << "        max_pending_requests: 0\n";
    if (c.per_host_max) {
      y << "      per_host_thresholds:\n      - max_connections: " << *c.per_host_max << "\n";
    }
    y << "    load_assignment:\n      cluster_name: " << c.name << "\n      endpoints:\n"
      << "      - lb_endpoints:\n";
    for (auto port : c.ports) {
      y << "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: "
        << port << "}}}\n";
    }
  }
  return y.str();
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += s;
    out += '\n';
  }
  return out;
}

// The first "last_updated" timestamp of a /config_dump body ("" if none).
std::string lastUpdated(const std::string& dump) {
  const std::string key = "\"last_updated\": \"";
  const size_t at = dump.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return dump.substr(start, dump.find('"', start) - start);
}

void expectEcho(WsClient& c, const std::string& text) {
  c.sendText(text);
  EXPECT_EQ(c.receive(), text);
}

TEST(Reload, LiveWebSocketSurvivesAndNewConnectionsTakeTheNewRoute) {
  auto pods = startEchoBackends(2);
  const std::vector<ClusterSpec> clusters{{"a", {pods[0]->port()}}, {"b", {pods[1]->port()}}};
  InProcessWslb lb(yamlOf({{"ws", 0, {{"/", "a"}}}}, clusters));
  const uint16_t port = lb.port();
  WsClient before(port);
  EXPECT_EQ(before.backendId(), pods[0]->id());
  expectEcho(before, "one");
  EXPECT_EQ(lb.stat("http.ws.downstream_cx_total"), 1u);
  const std::string loaded_at = lastUpdated(lb.admin("/config_dump"));
  std::this_thread::sleep_for(5ms);  // config_dump's timestamps have milliseconds

  auto r = reloadYaml(lb, yamlOf({{"ws", 0, {{"/", "b"}}}}, clusters));
  ASSERT_TRUE(r.ok) << joined(r.errors);
  EXPECT_GT(lastUpdated(lb.admin("/config_dump")), loaded_at);  // ISO 8601 UTC: ordered as text
  EXPECT_EQ(lb.port(), port);                                   // the same socket goes on accepting

  expectEcho(before, "still there");
  WsClient after(port);
  EXPECT_EQ(after.backendId(), pods[1]->id());
  expectEcho(after, "two");
  // The listener's counters go on across the reload.
  EXPECT_EQ(lb.stat("http.ws.downstream_cx_total"), 2u);
  EXPECT_EQ(lb.stat("http.ws.downstream_cx_active"), 2u);
  EXPECT_EQ(lb.stat("server.reload_success"), 1u);
  EXPECT_EQ(lb.stat("server.reload_attempt"), 1u);
  EXPECT_EQ(lb.stat("server.reload_failed"), 0u);
  EXPECT_GT(lb.stat("server.reload_last_success_time"), 0u);

  EXPECT_EQ(before.close(1000), 1000);
  EXPECT_EQ(after.close(1000), 1000);
  EXPECT_TRUE(waitFor([&] { return lb.stat("http.ws.downstream_cx_active") == 0; }));
  EXPECT_EQ(lb.server().activeDownstreamConnections(), 0);
}

TEST(Reload, AddedClusterAndRouteWorkRemovedClusterKeepsItsLiveConnection) {
  auto pods = startEchoBackends(2);
  const ClusterSpec a{"a", {pods[0]->port()}};
  const ClusterSpec c{"c", {pods[1]->port()}};
  InProcessWslb lb(yamlOf({{"ws", 0, {{"/", "a"}}}}, {a}));
  EXPECT_EQ(lb.admin("/clusters").find("c::"), std::string::npos);

  auto r = reloadYaml(lb, yamlOf({{"ws", 0, {{"/c", "c"}, {"/", "a"}}}}, {a, c}));
  ASSERT_TRUE(r.ok) << joined(r.errors);
  WsClient on_c(lb.port(), "/c");
  EXPECT_EQ(on_c.backendId(), pods[1]->id());
  expectEcho(on_c, "hello c");
  EXPECT_NE(lb.admin("/clusters").find("c::"), std::string::npos);
  EXPECT_NE(lb.admin("/config_dump").find("\"c\""), std::string::npos);

  // Cluster c goes away: its live WebSocket goes on; /c now falls through to "/".
  r = reloadYaml(lb, yamlOf({{"ws", 0, {{"/", "a"}}}}, {a}));
  ASSERT_TRUE(r.ok) << joined(r.errors);
  expectEcho(on_c, "still c");
  EXPECT_TRUE(activeBecomes(*pods[1], 1));
  WsClient now(lb.port(), "/c");
  EXPECT_EQ(now.backendId(), pods[0]->id());
  EXPECT_EQ(lb.admin("/clusters").find("c::"), std::string::npos);
  EXPECT_EQ(on_c.close(1000), 1000);
  EXPECT_TRUE(activeBecomes(*pods[1], 0));
}

TEST(Reload, LoweredCapAppliesToNewPicksOnlyAndCountsStayExact) {
  auto pods = startEchoBackends(2);
  InProcessWslb lb(yamlOf({{"ws", 0, {{"/", "a"}}}}, {{"a", {pods[0]->port()}, 3}}));
  std::vector<std::unique_ptr<WsClient>> old;
  for (int i = 0; i < 2; ++i) {
    old.push_back(std::make_unique<WsClient>(lb.port()));
    EXPECT_EQ(old.back()->backendId(), pods[0]->id());
  }
  // Cap 3 -> 1 with a second pod: pod-1 keeps its 2 connections but gets no new one.
  auto r = reloadYaml(
      lb, yamlOf({{"ws", 0, {{"/", "a"}}}}, {{"a", {pods[0]->port(), pods[1]->port()}, 1}}));
  ASSERT_TRUE(r.ok) << joined(r.errors);
  WsClient fresh(lb.port());
  EXPECT_EQ(fresh.backendId(), pods[1]->id());
  auto full = rawRequest(lb.port(), upgradeRequest());
  EXPECT_EQ(full.status, 503u);
  for (auto& c : old) expectEcho(*c, "untouched");
  EXPECT_TRUE(activeBecomes(*pods[0], 2));
  EXPECT_TRUE(activeBecomes(*pods[1], 1));
  EXPECT_EQ(lb.stat("cluster.a.upstream_cx_active"), 3u);
  const std::string pod1 = "a::127.0.0.1:" + std::to_string(pods[0]->port());
  EXPECT_NE(lb.admin("/clusters").find(pod1 + "::cx_active::2"), std::string::npos)
      << lb.admin("/clusters");
  EXPECT_NE(lb.admin("/clusters").find(pod1 + "::max_connections::1"), std::string::npos)
      << lb.admin("/clusters");

  // One of pod-1's closes: 1 left, still at its new cap.
  EXPECT_EQ(old[0]->close(1000), 1000);
  old.erase(old.begin());
  EXPECT_TRUE(waitFor([&] { return lb.stat("cluster.a.upstream_cx_active") == 2; }));
  EXPECT_EQ(rawRequest(lb.port(), upgradeRequest()).status, 503u);
  // The last one closes: pod-1 has room again.
  EXPECT_EQ(old[0]->close(1000), 1000);
  old.clear();
  EXPECT_TRUE(waitFor([&] { return lb.stat("cluster.a.upstream_cx_active") == 1; }));
  WsClient again(lb.port());
  EXPECT_EQ(again.backendId(), pods[0]->id());
}

TEST(Reload, RemovedListenerStopsAcceptingAddedListenerAccepts) {
  auto pods = startEchoBackends(1);
  const std::vector<ClusterSpec> clusters{{"a", {pods[0]->port()}}};
  InProcessWslb lb(yamlOf({{"ws", 0, {{"/", "a"}}}, {"extra", 0, {{"/", "a"}}}}, clusters));
  const uint16_t extra_port = lb.server().listenerPort("extra");
  ASSERT_NE(extra_port, 0);
  WsClient on_extra(extra_port);
  expectEcho(on_extra, "x");

  auto r = reloadYaml(lb, yamlOf({{"ws", 0, {{"/", "a"}}}, {"third", 0, {{"/", "a"}}}}, clusters));
  ASSERT_TRUE(r.ok) << joined(r.errors);
  EXPECT_EQ(lb.server().listenerPort("extra"), 0);
  EXPECT_TRUE(waitFor([&] { return connectRefused(extra_port); }));
  expectEcho(on_extra, "still here");
  const uint16_t third = lb.server().listenerPort("third");
  ASSERT_NE(third, 0);
  WsClient on_third(third);
  expectEcho(on_third, "new listener");
  EXPECT_EQ(lb.stat("http.third.downstream_cx_total"), 1u);
  // The removed listener's connection still counts toward what a drain waits for.
  EXPECT_EQ(lb.server().activeDownstreamConnections(), 2);
  EXPECT_EQ(on_extra.close(1000), 1000);
  EXPECT_TRUE(waitFor([&] { return lb.server().activeDownstreamConnections() == 1; }));
}

TEST(Reload, InvalidConfigurationsChangeNothing) {
  auto pods = startEchoBackends(2);
  const std::vector<ClusterSpec> clusters{{"a", {pods[0]->port()}}};
  InProcessWslb lb(yamlOf({{"ws", 0, {{"/", "a"}}}}, clusters));
  WsClient live(lb.port());

  // A cluster cannot change its lb_policy in place: rejected, naming the field.
  auto r = reloadYaml(
      lb, yamlOf({{"ws", 0, {{"/", "b"}}}},
                 {{"a", {pods[0]->port()}, std::nullopt, "RANDOM"}, {"b", {pods[1]->port()}}}));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(joined(r.errors).find("static_resources.clusters[0].lb_policy"), std::string::npos)
      << joined(r.errors);

  // A new listener on a port something else holds: rejected before anything changed.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor holder(
      io, {boost::asio::ip::make_address("127.0.0.1"), 0});  // no SO_REUSEPORT
  const uint16_t taken = holder.local_endpoint().port();
  r = reloadYaml(lb, yamlOf({{"ws", 0, {{"/", "b"}}}, {"clash", taken, {{"/", "b"}}}},
                            {clusters[0], {"b", {pods[1]->port()}}}));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(joined(r.errors).find("cannot bind listener 'clash'"), std::string::npos)
      << joined(r.errors);

  EXPECT_EQ(lb.stat("server.reload_failed"), 2u);
  EXPECT_EQ(lb.stat("server.reload_success"), 0u);
  EXPECT_EQ(lb.server().listenerPort("clash"), 0);
  EXPECT_EQ(lb.admin("/clusters").find("b::"), std::string::npos);  // b was never added
  // The old configuration serves on, the live connection too.
  expectEcho(live, "unchanged");
  WsClient next(lb.port());
  EXPECT_EQ(next.backendId(), pods[0]->id());
}

// The server started from a file: a bad file is rejected with YAML paths, a good one applies.
TEST(Reload, ReloadRereadsTheStartupFile) {
  auto pods = startEchoBackends(2);
  const std::string dir = makeTempDir();
  const std::string path = dir + "/wslb.yaml";
  const std::vector<ClusterSpec> clusters{{"a", {pods[0]->port()}}, {"b", {pods[1]->port()}}};
  writeFile(path, yamlOf({{"ws", 0, {{"/", "a"}}}}, clusters));
  auto loaded = config::loadBootstrap(path, "");
  ASSERT_TRUE(loaded.ok());
  server::ServerOptions options;
  options.bootstrap = std::move(*loaded.bootstrap);
  options.config_path = path;
  options.handle_signals = false;
  options.drain_time = 1s;
  server::Server server(std::move(options));
  server.start();
  {
    WsClient live(server.listenerPort(0));
    EXPECT_EQ(live.backendId(), pods[0]->id());

    writeFile(path, "static_resources: {clusters: [{name: a, connect_timeout: nonsense}]}\n");
    auto r = server.reload();
    EXPECT_FALSE(r.ok);
    EXPECT_NE(joined(r.errors).find("static_resources.clusters[0].connect_timeout"),
              std::string::npos)
        << joined(r.errors);
    EXPECT_EQ(server.reloadStats().failed.load(), 1u);

    writeFile(path, yamlOf({{"ws", 0, {{"/", "b"}}}}, clusters));
    r = server.reload();
    EXPECT_TRUE(r.ok) << joined(r.errors);
    WsClient after(server.listenerPort(0));
    EXPECT_EQ(after.backendId(), pods[1]->id());
    expectEcho(live, "old route, still open");
  }
  server.shutdown();
  server.wait();
}

std::string adminGet(uint16_t port, const std::string& target) {
  return rawRequest(port, "GET " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
      .body;
}

TEST(Reload, SighupOnTheBinary) {
  auto pods = startEchoBackends(2);
  const std::string dir = makeTempDir();
  const std::string path = dir + "/wslb.yaml";
  const std::vector<ClusterSpec> clusters{{"a", {pods[0]->port()}}, {"b", {pods[1]->port()}}};
  const uint16_t port = unusedPort();
  writeFile(path, yamlOf({{"ws", port, {{"/", "a"}}}}, clusters));
  ChildProcess p({wslbBinary(), "-c", path, "--concurrency", "2", "--drain-time-s", "5",
                  "--admin-address-path", dir + "/admin.txt"},
                 dir + "/wslb");
  const uint16_t admin = readAdminPort(dir + "/admin.txt");
  ASSERT_NE(admin, 0) << p.stderrText();
  ASSERT_TRUE(waitUntilReady(admin)) << p.stderrText();
  WsClient live(port);
  EXPECT_EQ(live.backendId(), pods[0]->id());

  // A broken file: rejected and logged; the old configuration serves on.
  writeFile(path, "static_resources: [not, a, mapping\n");
  p.signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] {
    return adminGet(admin, "/stats").find("server.reload_failed: 1\n") != std::string::npos;
  })) << p.stderrText();
  EXPECT_NE(p.stderrText().find("[error][reload]"), std::string::npos) << p.stderrText();
  EXPECT_EQ(WsClient(port).backendId(), pods[0]->id());

  writeFile(path, yamlOf({{"ws", port, {{"/", "b"}}}}, clusters));
  p.signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] {
    return adminGet(admin, "/stats").find("server.reload_success: 1\n") != std::string::npos;
  })) << p.stderrText();
  WsClient after(port);
  EXPECT_EQ(after.backendId(), pods[1]->id());
  expectEcho(live, "survived SIGHUP");
  expectEcho(after, "new route");
  EXPECT_NE(adminGet(admin, "/stats/prometheus").find("envoy_server_reload_success 1"),
            std::string::npos);

  live.close(1000);
  after.close(1000);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(15s), 0) << p.stderrText();
}

}  // namespace
}  // namespace wslb::test
