// WebSocket stats through the real server: upgrades by outcome, close codes by side, who closed
// first, and the handshake / duration / connect histograms.

#include <gtest/gtest.h>

#include "test_support.h"
#include "wslb/echo/echo_server.h"

namespace wslb::test {
namespace {

// A sample of the Prometheus exposition, e.g. `envoy_x_count{labels}`; -1 if absent.
double promValue(InProcessWslb& wslb, const std::string& series) {
  const std::string body = wslb.admin("/stats/prometheus");
  const size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + series.size() + 2));
}

const std::string kUpgrades = "http.ingress_ws.websocket.upgrades.";

TEST(WebSocketStatsTest, OutcomesOfEveryKindAreCounted) {
  auto backends = startEchoBackends(1);
  echo::EchoServer::Options reject;
  reject.reject_status = 403;
  echo::EchoServer rejecting(reject);
  rejecting.start();

  ConfigSpec spec;
  spec.ports = {backends[0]->port()};
  spec.per_host_max = 1;
  spec.max_pending = 1;
  spec.pending_timeout = "0.2s";
  std::string yaml = makeConfig(spec);
  // Only /ws routes to the pods; /other matches nothing (404), /rejecting goes to a backend that
  // refuses every upgrade, /dead to a port nothing listens on.
  const std::string catch_all = "- match: {prefix: \"/\"}";
  yaml.replace(yaml.find(catch_all), catch_all.size(), "- match: {prefix: \"/ws\"}");
  InProcessWslb wslb(yaml);

  WsClient open(wslb.port(), "/ws");  // established
  EXPECT_EQ(rawRequest(wslb.port(), upgradeRequest("/other")).status, 404u);
  EXPECT_EQ(rawRequest(wslb.port(), upgradeRequest("/ws")).status, 503u);  // waits, times out
  EXPECT_EQ(rawRequest(wslb.port(),
                       "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: "
                       "Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .status,
            400u);
  EXPECT_EQ(wslb.stat(kUpgrades + "established"), 1u);
  EXPECT_EQ(wslb.stat(kUpgrades + "no_route"), 1u);
  EXPECT_EQ(wslb.stat(kUpgrades + "pending_timeout"), 1u);
  EXPECT_EQ(wslb.stat(kUpgrades + "bad_request"), 1u);
  EXPECT_EQ(wslb.stat(kUpgrades + "overflow"), 0u);
  EXPECT_EQ(promValue(wslb,
                      "envoy_http_websocket_upgrades{envoy_http_conn_manager_prefix="
                      "\"ingress_ws\",outcome=\"established\"}"),
            1);
  EXPECT_EQ(promValue(wslb,
                      "envoy_http_websocket_handshake_ms_count{envoy_http_conn_manager_"
                      "prefix=\"ingress_ws\"}"),
            1);
  EXPECT_EQ(promValue(wslb,
                      "envoy_cluster_upstream_cx_connect_ms_count{envoy_cluster_name="
                      "\"backend\"}"),
            1);
}

TEST(WebSocketStatsTest, BackendFailuresHaveTheirOwnOutcomes) {
  echo::EchoServer::Options reject;
  reject.reject_status = 403;
  echo::EchoServer rejecting(reject);
  rejecting.start();
  {
    ConfigSpec spec;
    spec.ports = {rejecting.port()};
    InProcessWslb wslb(makeConfig(spec));
    EXPECT_EQ(rawRequest(wslb.port(), upgradeRequest("/")).status, 403u);
    EXPECT_EQ(wslb.stat(kUpgrades + "upstream_non_101"), 1u);
  }
  {
    ConfigSpec spec;
    spec.ports = {unusedPort()};
    spec.max_retries = 0;
    InProcessWslb wslb(makeConfig(spec));
    EXPECT_EQ(rawRequest(wslb.port(), upgradeRequest("/")).status, 503u);
    EXPECT_EQ(wslb.stat(kUpgrades + "upstream_connect_fail"), 1u);
  }
  {
    auto backends = startEchoBackends(1);
    ConfigSpec spec;
    spec.ports = {backends[0]->port()};
    spec.per_host_max = 1;  // no pending queue (max_pending 0): the second is an overflow
    InProcessWslb wslb(makeConfig(spec));
    WsClient first(wslb.port());
    EXPECT_EQ(rawRequest(wslb.port(), upgradeRequest("/")).status, 503u);
    EXPECT_EQ(wslb.stat(kUpgrades + "overflow"), 1u);
  }
}

TEST(WebSocketStatsTest, CloseCodesAndWhoClosedFirst) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = {backends[0]->port()};
  InProcessWslb wslb(makeConfig(spec));
  {
    WsClient client(wslb.port());
    client.sendText("hello");
    ASSERT_EQ(client.receive(), "hello");
    EXPECT_EQ(client.close(4001), 4001);  // the echo backend answers with the same code
  }
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.backend.upstream_cx_destroy") == 1; }));
  EXPECT_EQ(wslb.stat("http.ingress_ws.websocket.closes.client.4xxx"), 1u);
  EXPECT_EQ(wslb.stat("http.ingress_ws.websocket.closes.upstream.4xxx"), 1u);
  {
    WsClient client(wslb.port());
    client.abort();  // the client resets: wslb ends the backend side (local)
  }
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.backend.upstream_cx_destroy") == 2; }));
  EXPECT_EQ(wslb.stat("http.ingress_ws.websocket.closes.client.none"), 1u);
  EXPECT_EQ(wslb.stat("cluster.backend.upstream_cx_destroy_local") +
                wslb.stat("cluster.backend.upstream_cx_destroy_remote"),
            2u);
  const uint64_t local_before = wslb.stat("cluster.backend.upstream_cx_destroy_local");
  EXPECT_GE(local_before, 1u);
  {
    WsClient client(wslb.port());
    ASSERT_TRUE(activeBecomes(*backends[0], 1));
    backends[0]->stop();  // the backend goes away first: remote
    // The relay passes the backend's FIN on and ends when the client closes too.
    bool ended = false;
    try {
      client.receive();
    } catch (const std::exception&) {
      ended = true;
    }
    EXPECT_TRUE(ended);
  }
  ASSERT_TRUE(waitFor([&] { return wslb.stat("cluster.backend.upstream_cx_destroy") == 3; }));
  EXPECT_EQ(wslb.stat("cluster.backend.upstream_cx_destroy_local"), local_before);
  EXPECT_GE(wslb.stat("cluster.backend.upstream_cx_destroy_remote"), 1u);
  EXPECT_EQ(promValue(wslb,
                      "envoy_http_websocket_duration_ms_count{envoy_http_conn_manager_"
                      "prefix=\"ingress_ws\"}"),
            3);
  EXPECT_EQ(promValue(wslb,
                      "envoy_cluster_upstream_cx_length_ms_count{envoy_cluster_name="
                      "\"backend\"}"),
            3);
}

}  // namespace
}  // namespace wslb::test
