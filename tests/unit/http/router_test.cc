#include "wslb/http/router.h"

#include <gtest/gtest.h>

namespace wslb::http {
namespace {

config::Cluster cluster(const std::string& name) {
  config::Cluster c;
  c.name = name;
  c.endpoints.push_back(config::Endpoint{{"127.0.0.1", 9}, "", 1, {}, {}, 0});
  return c;
}

config::Route route(config::RouteMatch::Kind kind, const std::string& value,
                    const std::string& cluster_name) {
  config::Route r;
  r.match = {kind, value};
  r.cluster = cluster_name;
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : clusters_({cluster("a"), cluster("b"), cluster("c"), cluster("d")}) {}
  upstream::ClusterManager clusters_;
};

TEST_F(RouterTest, DomainPrecedenceExactSuffixPrefixThenStar) {
  config::HttpConnectionManager hcm;
  auto vh = [](std::vector<std::string> domains, const std::string& cluster_name) {
    config::VirtualHost v;
    v.domains = std::move(domains);
    v.routes.push_back(route(config::RouteMatch::Kind::kPrefix, "/", cluster_name));
    return v;
  };
  hcm.virtual_hosts = {vh({"*"}, "d"), vh({"example.*"}, "c"), vh({"*.example.com"}, "b"),
                       vh({"api.example.com"}, "a")};
  Router router(hcm, clusters_);
  EXPECT_EQ(router.match("api.example.com", "/")->cluster->name(), "a");
  EXPECT_EQ(router.match("API.Example.com", "/")->cluster->name(), "a");
  // As Envoy: the Host header is matched with its port, so "*" catches it ...
  EXPECT_EQ(router.match("api.example.com:8080", "/")->cluster->name(), "d");
  EXPECT_EQ(router.match("www.example.com", "/")->cluster->name(), "b");
  EXPECT_EQ(router.match("example.org", "/")->cluster->name(), "c");
  EXPECT_EQ(router.match("other.net", "/")->cluster->name(), "d");
}

TEST_F(RouterTest, NoVirtualHostIsNoRoute) {
  config::HttpConnectionManager hcm;
  config::VirtualHost v;
  v.domains = {"only.example.com"};
  v.routes.push_back(route(config::RouteMatch::Kind::kPrefix, "/", "a"));
  hcm.virtual_hosts = {v};
  Router router(hcm, clusters_);
  EXPECT_EQ(router.match("elsewhere", "/"), nullptr);
  // ... and only when nothing matches with the port is it matched without it.
  EXPECT_EQ(router.match("only.example.com:8080", "/")->cluster->name(), "a");
}

TEST_F(RouterTest, FirstMatchingRouteWinsPathIsExactQueryIgnored) {
  config::HttpConnectionManager hcm;
  config::VirtualHost v;
  v.domains = {"*"};
  v.routes = {route(config::RouteMatch::Kind::kPath, "/ws", "a"),
              route(config::RouteMatch::Kind::kPrefix, "/ws", "b"),
              route(config::RouteMatch::Kind::kPrefix, "/", "c")};
  hcm.virtual_hosts = {v};
  Router router(hcm, clusters_);
  EXPECT_EQ(router.match("h", "/ws?token=1")->cluster->name(), "a");
  EXPECT_EQ(router.match("h", "/ws/room")->cluster->name(), "b");
  EXPECT_EQ(router.match("h", "/other")->cluster->name(), "c");
}

TEST_F(RouterTest, UpgradeConfigsRouteOverridesHcmAndTimeoutsDefault) {
  config::HttpConnectionManager hcm;
  hcm.upgrade_configs = {{"websocket", true}};
  config::VirtualHost v;
  v.domains = {"*"};
  auto off = route(config::RouteMatch::Kind::kPrefix, "/off", "a");
  off.upgrade_configs = {{"websocket", false}};
  auto idle = route(config::RouteMatch::Kind::kPrefix, "/idle", "a");
  idle.idle_timeout = std::chrono::milliseconds(2500);
  idle.timeout = std::chrono::milliseconds(7000);
  idle.timeout_set = true;
  v.routes = {off, idle, route(config::RouteMatch::Kind::kPrefix, "/", "a")};
  hcm.virtual_hosts = {v};
  Router router(hcm, clusters_);
  EXPECT_FALSE(router.match("h", "/off")->websocket_enabled);
  const auto* r = router.match("h", "/idle");
  EXPECT_TRUE(r->websocket_enabled);
  EXPECT_EQ(r->idle_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(r->pending_timeout, std::chrono::milliseconds(7000));  // the route timeout
  const auto* d = router.match("h", "/");
  EXPECT_EQ(d->idle_timeout, kDefaultUpgradedIdleTimeout);
  EXPECT_EQ(d->pending_timeout, kDefaultPendingTimeout);  // route timeout unset: 5 s

  hcm.upgrade_configs.clear();
  hcm.stream_idle_timeout = std::chrono::milliseconds(0);
  Router no_ws(hcm, clusters_);
  EXPECT_FALSE(no_ws.match("h", "/")->websocket_enabled);
  EXPECT_EQ(no_ws.match("h", "/")->idle_timeout, std::chrono::milliseconds(0));
}

TEST_F(RouterTest, UnknownClusterThrowsAtStartUp) {
  config::HttpConnectionManager hcm;
  config::VirtualHost v;
  v.domains = {"*"};
  v.routes = {route(config::RouteMatch::Kind::kPrefix, "/", "missing")};
  hcm.virtual_hosts = {v};
  EXPECT_THROW(Router(hcm, clusters_), std::invalid_argument);
}

}  // namespace
}  // namespace wslb::http
