#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config_test_util.h"
#include "test_paths.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::errorsOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using testing::warningsOf;

namespace fs = std::filesystem;

class LoadBootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           (std::string("wslb_config_") + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& contents) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << contents;
    return path.string();
  }

  fs::path dir_;
};

constexpr std::string_view kBase = R"(
node: { id: from-file, cluster: file-cluster }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
static_resources:
  clusters:
  - name: a
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 10.0.0.1, port_value: 80 } } }
)";

TEST_F(LoadBootstrapTest, ReadsAYamlFile) {
  LoadResult r = loadBootstrap(write("bootstrap.yaml", std::string(kBase)), "");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->node.id, "from-file");
  ASSERT_THAT(r.bootstrap->clusters, SizeIs(1));
  EXPECT_EQ(r.bootstrap->clusters[0].endpoints[0].address.address, "10.0.0.1");
}

TEST_F(LoadBootstrapTest, ReadsYmlAndJsonFiles) {
  EXPECT_TRUE(loadBootstrap(write("b.yml", "node: {id: x}"), "").ok());
  LoadResult r = loadBootstrap(
      write("b.json", R"({"node": {"id": "j"}, "static_resources": {"clusters": [{"name": "c",
        "connect_timeout": "2s", "circuit_breakers": {"thresholds": [{"max_connections": "7"}]}}]}})"),
      "");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->node.id, "j");
  EXPECT_EQ(r.bootstrap->clusters[0].connect_timeout, Duration(2000));
  EXPECT_EQ(r.bootstrap->clusters[0].default_thresholds.max_connections, 7u);
}

TEST_F(LoadBootstrapTest, MissingFileIsAnErrorWithoutPath) {
  LoadResult r = loadBootstrap((dir_ / "nope.yaml").string(), "");
  ASSERT_THAT(r.errors, SizeIs(1));
  EXPECT_EQ(r.errors[0].path, "");
  EXPECT_THAT(r.errors[0].message, HasSubstr("cannot read config file"));
  EXPECT_THAT(r.errors[0].message, HasSubstr("nope.yaml"));
  EXPECT_FALSE(r.bootstrap.has_value());
}

TEST_F(LoadBootstrapTest, UnsupportedExtension) {
  const std::string path = write("b.pb", "node: {id: x}");
  EXPECT_THAT(errorsOf(loadBootstrap(path, "")),
              ElementsAre("config file \"" + path +
                          "\": unsupported extension; expected .yaml, .yml or .json"));
}

TEST_F(LoadBootstrapTest, NothingGivenIsAnError) {
  EXPECT_THAT(errorsOf(loadBootstrap("", "")),
              ElementsAre("no configuration: give a config file, --config-yaml, or both"));
}

TEST_F(LoadBootstrapTest, EmptyFileIsAnError) {
  EXPECT_THAT(errorsOf(loadBootstrap(write("empty.yaml", ""), "")),
              ElementsAre("the configuration is empty"));
}

TEST_F(LoadBootstrapTest, OverlayAlone) {
  LoadResult r = loadBootstrap("", "node: {id: inline}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.bootstrap->node.id, "inline");
}

TEST_F(LoadBootstrapTest, ParseErrorsNameTheirSource) {
  const std::string path = write("bad.yaml", "node: {id: [}\n");
  LoadResult r = loadBootstrap(path, "admin: [");
  ASSERT_THAT(r.errors, SizeIs(2));
  EXPECT_THAT(r.errors[0].message, HasSubstr("invalid YAML in \"" + path + "\" at line 1"));
  EXPECT_THAT(r.errors[1].message, HasSubstr("invalid YAML in --config-yaml at line 1"));
}

TEST_F(LoadBootstrapTest, OverlayMergesLikeProtobufMergeFrom) {
  const std::string path = write("base.yaml", std::string(kBase));
  LoadResult r = loadBootstrap(path, R"(
node: { cluster: overlay-cluster }
admin: { address: { socket_address: { port_value: 9902 } } }
static_resources:
  clusters:
  - name: b
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 10.0.0.2, port_value: 80 } } }
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  // Mappings merge key by key: the file's id stays, the overlay's cluster replaces the file's.
  EXPECT_EQ(r.bootstrap->node.id, "from-file");
  EXPECT_EQ(r.bootstrap->node.cluster, "overlay-cluster");
  // Scalars deep inside are replaced; their siblings stay.
  ASSERT_TRUE(r.bootstrap->admin.address.has_value());
  EXPECT_EQ(r.bootstrap->admin.address->address, "127.0.0.1");
  EXPECT_EQ(r.bootstrap->admin.address->port, 9902u);
  // Sequences are appended.
  ASSERT_THAT(r.bootstrap->clusters, SizeIs(2));
  EXPECT_EQ(r.bootstrap->clusters[0].name, "a");
  EXPECT_EQ(r.bootstrap->clusters[1].name, "b");
}

TEST_F(LoadBootstrapTest, MergedSequencesAreValidatedTogether) {
  const std::string path = write("base.yaml", std::string(kBase));
  EXPECT_THAT(errorsOf(loadBootstrap(path, "static_resources: {clusters: [{name: a}]}")),
              ElementsAre("static_resources.clusters[1].name: duplicate cluster name \"a\""));
}

TEST_F(LoadBootstrapTest, OverlayCanReplaceAValueOfAnotherKind) {
  const std::string path = write("base.yaml",
                                 "node: {id: x}\nadmin: {address: {socket_address: "
                                 "{address: 127.0.0.1, port_value: 1}}}\n");
  LoadResult r = loadBootstrap(path, "node: {id: [1]}");
  EXPECT_THAT(errorsOf(r), ElementsAre("node.id: expected a string"));
  // A null in the overlay leaves the base value alone.
  LoadResult kept = loadBootstrap(path, "admin: ~");
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept.bootstrap->admin.address.has_value());
  EXPECT_EQ(kept.bootstrap->admin.address->port, 1u);
}

TEST_F(LoadBootstrapTest, OverlayKeepsDuplicateKeysVisible) {
  const std::string path = write("base.yaml", "node: {id: a, id: b}\n");
  EXPECT_THAT(errorsOf(loadBootstrap(path, "node: {cluster: c}")),
              ElementsAre("node.id: duplicate key"));
}

TEST_F(LoadBootstrapTest, SelfReferencingAliasesTerminate) {
  // YAML aliases can make a mapping contain itself; merging and converting must still end.
  const std::string path = write("cycle.yaml", "node: &n {id: a, self: *n}\n");
  LoadResult r = loadBootstrap(path, "node: &m {cluster: b, self: *m}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(r.bootstrap->node.id, "a");
  EXPECT_EQ(r.bootstrap->node.cluster, "b");
  EXPECT_THAT(warningsOf(r), ElementsAre("node.self: unknown key; ignored"));
}

// Every shipped configuration must load cleanly.
TEST(ShippedConfigTest, EveryConfYamlLoadsWithoutErrors) {
  const fs::path conf = fs::path(wslb::test::sourceDir()) / "conf";
  int count = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(conf)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    ++count;
    LoadResult r = loadBootstrap(entry.path().string(), "");
    EXPECT_THAT(errorsOf(r), IsEmpty()) << entry.path();
    EXPECT_TRUE(r.bootstrap.has_value()) << entry.path();
  }
  EXPECT_GE(count, 1) << "no YAML files in " << conf;
}

TEST(ShippedConfigTest, DemoIsWhatItsCommentsSay) {
  LoadResult r = loadBootstrap(std::string(wslb::test::sourceDir()) + "/conf/demo.yaml", "");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const Bootstrap& b = *r.bootstrap;
  ASSERT_TRUE(b.admin.address.has_value());
  EXPECT_EQ(b.admin.address->address, "127.0.0.1");
  EXPECT_EQ(b.admin.address->port, 9901u);

  ASSERT_THAT(b.listeners, SizeIs(1));
  const Listener& l = b.listeners[0];
  EXPECT_EQ(l.name, "ws_listener");
  EXPECT_EQ(l.address.address, "127.0.0.1");
  EXPECT_EQ(l.address.port, 10000u);
  EXPECT_EQ(l.hcm.stat_prefix, "ingress_ws");
  ASSERT_THAT(l.hcm.upgrade_configs, SizeIs(1));
  EXPECT_EQ(l.hcm.upgrade_configs[0].upgrade_type, "websocket");
  ASSERT_THAT(l.hcm.virtual_hosts, SizeIs(1));
  EXPECT_THAT(l.hcm.virtual_hosts[0].domains, ElementsAre("*"));
  ASSERT_THAT(l.hcm.virtual_hosts[0].routes, SizeIs(1));
  const Route& route = l.hcm.virtual_hosts[0].routes[0];
  EXPECT_EQ(route.match.kind, RouteMatch::Kind::kPrefix);
  EXPECT_EQ(route.match.value, "/");
  EXPECT_EQ(route.cluster, "echo");
  EXPECT_TRUE(route.timeout_set);
  EXPECT_EQ(route.timeout, Duration(0));

  ASSERT_THAT(b.clusters, SizeIs(1));
  const Cluster& c = b.clusters[0];
  EXPECT_EQ(c.name, "echo");
  EXPECT_EQ(c.lb_policy, LbPolicy::kLeastRequest);
  EXPECT_EQ(c.connect_timeout, Duration(1000));
  EXPECT_EQ(c.default_thresholds.max_connections, 10000u);
  EXPECT_EQ(c.default_thresholds.max_pending_requests, 100u);
  EXPECT_EQ(c.per_host_max_connections, 100u);
  ASSERT_THAT(c.endpoints, SizeIs(3));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c.endpoints[i].address.address, "127.0.0.1");
    EXPECT_EQ(c.endpoints[i].address.port, 9001u + i);
    EXPECT_EQ(c.endpoints[i].hostname, "pod-" + std::to_string(i + 1));
  }
  EXPECT_FALSE(c.endpoints[0].max_connections.has_value());
  EXPECT_FALSE(c.endpoints[1].max_connections.has_value());
  EXPECT_EQ(c.endpoints[2].max_connections, 50u);
}

}  // namespace
}  // namespace wslb::config
