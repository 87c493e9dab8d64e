// overload_manager's global downstream connection limit and the routes' WebSocket size limits
// (metadata.filter_metadata.wslb.max_frame_bytes / max_message_bytes).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::errorsOf;
using ::testing::IsEmpty;
using testing::kRoutePath;
using testing::loadRoute;
using testing::warningsOf;

constexpr std::string_view kTypeUrl =
    "type.googleapis.com/"
    "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig";

LoadResult loadOverload(const std::string& overload_manager) {
  return loadBootstrapFromString("overload_manager: " + overload_manager);
}

std::string globalMonitor(const std::string& typed_config_body) {
  return "{name: envoy.resource_monitors.global_downstream_max_connections, typed_config: {" +
         typed_config_body + "}}";
}

TEST(OverloadManagerTest, GlobalDownstreamConnectionLimitIsRead) {
  LoadResult r = loadOverload("{refresh_interval: 0.25s, resource_monitors: [" +
                              globalMonitor("'@type': " + std::string(kTypeUrl) +
                                            ", max_active_downstream_connections: 1000") +
                              "]}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  EXPECT_EQ(r.bootstrap->max_active_downstream_connections, 1000u);
}

TEST(OverloadManagerTest, Int64AsAStringIsAccepted) {
  LoadResult r = loadOverload("{resource_monitors: [" +
                              globalMonitor("max_active_downstream_connections: '64'") + "]}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->max_active_downstream_connections, 64u);
}

TEST(OverloadManagerTest, NoMonitorMeansNoLimit) {
  LoadResult r = loadOverload("{}");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.bootstrap->max_active_downstream_connections.has_value());
  EXPECT_FALSE(loadBootstrapFromString("{}").bootstrap->max_active_downstream_connections);
}

TEST(OverloadManagerTest, InvalidLimitsAreErrorsWithTheirPath) {
  const std::string path = "overload_manager.resource_monitors[0].typed_config";
  EXPECT_THAT(errorsOf(loadOverload("{resource_monitors: [" +
                                    globalMonitor("max_active_downstream_connections: 0") + "]}")),
              ElementsAre(path + ".max_active_downstream_connections: must be greater than 0"));
  EXPECT_THAT(errorsOf(loadOverload("{resource_monitors: [" + globalMonitor("") + "]}")),
              ElementsAre(path + ".max_active_downstream_connections: required field is missing"));
  EXPECT_THAT(errorsOf(loadOverload("{resource_monitors: [" +
                                    globalMonitor("'@type': type.googleapis.com/x.Y, "
                                                  "max_active_downstream_connections: 5") +
                                    "]}")),
              ElementsAre(path + ".@type: expected \"" + std::string(kTypeUrl) + "\""));
  EXPECT_THAT(
      errorsOf(loadOverload("{resource_monitors: [{name: "
                            "envoy.resource_monitors.global_downstream_max_connections}]}")),
      ElementsAre(path + ": required field is missing"));
  const std::string twice = globalMonitor("max_active_downstream_connections: 5");
  EXPECT_THAT(errorsOf(loadOverload("{resource_monitors: [" + twice + ", " + twice + "]}")),
              ElementsAre("overload_manager.resource_monitors[1]: "
                          "envoy.resource_monitors.global_downstream_max_connections is listed "
                          "twice"));
}

TEST(OverloadManagerTest, OtherMonitorsAndActionsAreIgnoredWithAWarning) {
  LoadResult r = loadOverload(
      "{resource_monitors: [{name: envoy.resource_monitors.fixed_heap, typed_config: "
      "{max_heap_size_bytes: 1000}}, " +
      globalMonitor("max_active_downstream_connections: 7") +
      "], actions: [{name: envoy.overload_actions.stop_accepting_requests, triggers: []}]}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->max_active_downstream_connections, 7u);
  EXPECT_THAT(warningsOf(r),
              ElementsAre("overload_manager.resource_monitors[0]: "
                          "envoy.resource_monitors.fixed_heap is not supported by wslb; ignored",
                          "overload_manager.actions: not supported by wslb; ignored"));
}

TEST(RouteFrameLimitsTest, MetadataLimitsAreRead) {
  LoadResult r = loadRoute(
      "{match: {prefix: /}, route: {cluster: c}, metadata: {filter_metadata: {wslb: "
      "{max_frame_bytes: 65536, max_message_bytes: '1048576'}, other: {x: 1}}}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Route& route = r.bootstrap->listeners.at(0).hcm.virtual_hosts.at(0).routes.at(0);
  EXPECT_EQ(route.max_frame_bytes, 65536u);
  EXPECT_EQ(route.max_message_bytes, 1048576u);
}

TEST(RouteFrameLimitsTest, UnsetMeansNoLimit) {
  LoadResult r = loadRoute("{match: {prefix: /}, route: {cluster: c}, metadata: {}}");
  ASSERT_TRUE(r.ok());
  const Route& route = r.bootstrap->listeners.at(0).hcm.virtual_hosts.at(0).routes.at(0);
  EXPECT_FALSE(route.max_frame_bytes.has_value());
  EXPECT_FALSE(route.max_message_bytes.has_value());
}

TEST(RouteFrameLimitsTest, InvalidLimitsAreErrorsWithTheirPath) {
  const std::string path = kRoutePath + ".metadata.filter_metadata.wslb";
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: c}, metadata: "
                                 "{filter_metadata: {wslb: {max_frame_bytes: 0}}}}")),
              ElementsAre(path + ".max_frame_bytes: must be at least 1"));
  EXPECT_THAT(errorsOf(loadRoute("{match: {prefix: /}, route: {cluster: c}, metadata: "
                                 "{filter_metadata: {wslb: {max_message_bytes: -3}}}}")),
              ::testing::Contains(::testing::StartsWith(path + ".max_message_bytes")));
  EXPECT_THAT(warningsOf(loadRoute("{match: {prefix: /}, route: {cluster: c}, metadata: "
                                   "{filter_metadata: {wslb: {max_frame_byte: 5}}}}")),
              ElementsAre(path + ".max_frame_byte: unknown key; ignored"));
}

}  // namespace
}  // namespace wslb::config
