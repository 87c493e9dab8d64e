// File-based EDS: every encoding Envoy accepts decodes to the same DiscoveryResponse.

#include "wslb/xds/discovery_file.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "wslb/xds/assignment.h"

namespace wslb::xds {
namespace {

using envoy::service::discovery::v3::DiscoveryResponse;

constexpr const char* kYaml = R"(
version_info: "7"
resources:
- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
  cluster_name: pods
  policy: {overprovisioning_factor: 140}
  endpoints:
  - locality: {zone: a}
    lb_endpoints:
    - endpoint:
        address: {socket_address: {address: 127.0.0.1, port_value: 9001}}
        hostname: pod-a
        health_check_config: {port_value: 8080}
      load_balancing_weight: 2
      metadata: {filter_metadata: {wslb: {max_connections: 5}, other: {x: "y"}}}
)";

void expectDecoded(const DiscoveryResponse& response) {
  EXPECT_EQ(response.version_info(), "7");
  ASSERT_EQ(response.resources_size(), 1);
  Assignment assignment;
  ASSERT_TRUE(unpackAssignment(response.resources(0), assignment).ok());
  EXPECT_EQ(assignment.cluster_name, "pods");
  ASSERT_EQ(assignment.endpoints.size(), 1u);
  EXPECT_EQ(assignment.endpoints[0].address.port, 9001u);
  EXPECT_EQ(assignment.endpoints[0].hostname, "pod-a");
  EXPECT_EQ(assignment.endpoints[0].weight, 2u);
  EXPECT_EQ(assignment.endpoints[0].max_connections, 5u);
  EXPECT_EQ(assignment.endpoints[0].health_check_port, 8080u);
}

TEST(DiscoveryFileTest, YamlWithFieldsWslbDoesNotModel) {
  DiscoveryResponse response;
  ASSERT_EQ(parseDiscoveryFile("/x/eds.yaml", kYaml, response), "");
  expectDecoded(response);
}

TEST(DiscoveryFileTest, JsonBinaryAndTextEncodings) {
  DiscoveryResponse from_yaml;
  ASSERT_EQ(parseDiscoveryFile("eds.yml", kYaml, from_yaml), "");

  DiscoveryResponse from_json;
  ASSERT_EQ(parseDiscoveryFile("eds.json", yamlToJson(kYaml), from_json), "");
  expectDecoded(from_json);

  DiscoveryResponse from_binary;
  ASSERT_EQ(parseDiscoveryFile("eds.pb", from_yaml.SerializeAsString(), from_binary), "");
  expectDecoded(from_binary);

  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(from_yaml, &text));
  DiscoveryResponse from_text;
  ASSERT_EQ(parseDiscoveryFile("eds.pb_text", text, from_text), "");
  expectDecoded(from_text);
}

TEST(DiscoveryFileTest, ErrorsSayWhatIsWrong) {
  DiscoveryResponse response;
  // The unclosed flow sequence is found where the input ends.
  EXPECT_THAT(parseDiscoveryFile("eds.yaml", "resources: [\n", response),
              ::testing::StartsWith("invalid YAML at line 2, column 1: "));
  EXPECT_THAT(parseDiscoveryFile("eds.yaml", "a: 1\n  b: 2\n", response),
              ::testing::StartsWith("invalid YAML at line 2"));
  EXPECT_THAT(parseDiscoveryFile("eds.yaml", "version_info: [1, 2]", response),
              ::testing::StartsWith("invalid DiscoveryResponse:"));
  EXPECT_THAT(parseDiscoveryFile("eds.json", "{", response),
              ::testing::StartsWith("invalid DiscoveryResponse:"));
  EXPECT_EQ(parseDiscoveryFile("eds.pb", "\xff\xff\xff", response),
            "invalid binary DiscoveryResponse");
  EXPECT_EQ(parseDiscoveryFile("eds.txt", "", response),
            "unsupported file extension: expected .yaml, .yml, .json, .pb or .pb_text");
}

TEST(YamlToJsonTest, PlainScalarsAreTypedQuotedOnesAreStrings) {
  EXPECT_EQ(yamlToJson("{a: 1, b: '1', c: true, d: ~, e: x, f: -2.5e3, g: [\"y\", 01]}"),
            R"({"a":1,"b":"1","c":true,"d":null,"e":"x","f":-2.5e3,"g":["y","01"]})");
  EXPECT_EQ(yamlToJson("s: \"a\\\"b\\n\""), R"({"s":"a\"b\n"})");
}

TEST(YamlToJsonTest, BlockStylesNullsAndYaml11Words) {
  EXPECT_EQ(yamlToJson("a:\n  - 1\n  - x: y\n    z:\nb: |\n  two\n  lines\nc: TRUE\nd: Null\n"),
            R"({"a":[1,{"x":"y","z":null}],"b":"two\nlines\n","c":true,"d":null})");
  EXPECT_EQ(yamlToJson("n: [0, -0, 1.5, 1e3, 1., .5, 0x1f, 1_000, +1]"),
            R"({"n":[0,-0,1.5,1e3,"1.",".5","0x1f","1_000","+1"]})");
  EXPECT_EQ(yamlToJson(""), "null");
  EXPECT_EQ(yamlToJson("{}"), "{}");
  EXPECT_EQ(yamlToJson("- []\n- {}\n"), "[[],{}]");
}

TEST(YamlToJsonTest, AnchorsAndAliasesAreExpanded) {
  EXPECT_EQ(yamlToJson("base: &b {port_value: 80, address: x}\nother: *b\nname: &n pod\n"
                       "again: *n\nlist: [*n, *b]\n"),
            R"({"base":{"port_value":80,"address":"x"},"other":{"port_value":80,"address":"x"},)"
            R"("name":"pod","again":"pod","list":["pod",{"port_value":80,"address":"x"}]})");
}

TEST(YamlToJsonTest, WhatYamlCppAcceptsIsAcceptedToo) {
  // A value on the next line at its key's indentation: outside the YAML spec, but Envoy's
  // yaml-cpp reads it, so such files exist.
  EXPECT_EQ(yamlToJson("endpoints:\n- lb_endpoints:\n  []\n"),
            R"({"endpoints":[{"lb_endpoints":[]}]})");
}

TEST(YamlToJsonTest, OnlyTheFirstDocumentCounts) {
  EXPECT_EQ(yamlToJson("a: 1\n---\nb: 2\n"), R"({"a":1})");
}

TEST(YamlToJsonTest, ErrorsNameLineAndColumn) {
  try {
    yamlToJson("a: 1\nb: [1, 2\n");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("invalid YAML at line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(yamlToJson("a: *missing\n"), std::runtime_error);
  EXPECT_THROW(yamlToJson("? [1, 2]\n: v\n"), std::runtime_error);  // a collection as a key
}

}  // namespace
}  // namespace wslb::xds
