// ClusterLoadAssignment decoding and the validation that decides ACK or NACK.

#include "wslb/xds/assignment.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "envoy/config/endpoint/v3/endpoint.pb.h"

namespace wslb::xds {
namespace {

using envoy::config::endpoint::v3::ClusterLoadAssignment;

ClusterLoadAssignment parse(const std::string& text) {
  ClusterLoadAssignment cla;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &cla)) << text;
  return cla;
}

std::string endpointText(const std::string& address, int port, const std::string& extra = "") {
  return "lb_endpoints { endpoint { address { socket_address { address: '" + address +
         "' port_value: " + std::to_string(port) + " } } } " + extra + " }";
}

TEST(AssignmentTest, DecodesEveryFieldWslbUses) {
  const ClusterLoadAssignment cla = parse(R"(
    cluster_name: 'pods'
    endpoints {
      lb_endpoints {
        endpoint { address { socket_address { address: '10.0.0.1' port_value: 9001 } }
                   hostname: 'pod-a' }
        health_status: HEALTHY
        load_balancing_weight { value: 3 }
        metadata { filter_metadata { key: 'wslb' value { fields { key: 'max_connections'
                                                                  value { number_value: 25 } } } } }
      }
      lb_endpoints {
        endpoint { address { socket_address { address: '0:0::1' port_value: 9002 } }
                   health_check_config { port_value: 8002 } }
        health_status: DEGRADED
      }
    }
    endpoints { priority: 1 lb_endpoints {
        endpoint { address { socket_address { address: '10.0.0.3' port_value: 9003 } } }
        health_status: DRAINING } })");
  Assignment out;
  ASSERT_TRUE(decodeAssignment(cla, out).ok());
  EXPECT_EQ(out.cluster_name, "pods");
  ASSERT_EQ(out.endpoints.size(), 3u);
  EXPECT_EQ(out.endpoints[0].address.address, "10.0.0.1");
  EXPECT_EQ(out.endpoints[0].address.port, 9001u);
  EXPECT_EQ(out.endpoints[0].hostname, "pod-a");
  EXPECT_EQ(out.endpoints[0].weight, 3u);
  EXPECT_EQ(out.endpoints[0].max_connections, 25u);
  EXPECT_EQ(out.endpoints[0].health, config::HealthStatus::kHealthy);
  EXPECT_EQ(out.endpoints[1].address.address, "::1");  // canonical form
  EXPECT_EQ(out.endpoints[1].weight, 1u);
  EXPECT_FALSE(out.endpoints[1].max_connections.has_value());
  EXPECT_EQ(out.endpoints[1].health, config::HealthStatus::kDegraded);
  EXPECT_EQ(out.endpoints[0].health_check_port, 0u);
  EXPECT_EQ(out.endpoints[1].health_check_port, 8002u);
  EXPECT_EQ(out.endpoints[2].priority, 1u);
  EXPECT_EQ(out.endpoints[2].health, config::HealthStatus::kDraining);
}

TEST(AssignmentTest, AnEmptyAssignmentIsValid) {
  Assignment out;
  EXPECT_TRUE(decodeAssignment(parse("cluster_name: 'pods'"), out).ok());
  EXPECT_TRUE(out.endpoints.empty());
}

struct BadCase {
  std::string endpoints;
  std::string error;
};

class AssignmentErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(AssignmentErrorTest, NamesTheFieldAndTheProblem) {
  Assignment out;
  const DecodeResult r =
      decodeAssignment(parse("cluster_name: 'pods' " + GetParam().endpoints), out);
  EXPECT_EQ(r.error, GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AssignmentErrorTest,
    ::testing::Values(
        BadCase{"endpoints { " + endpointText("10.0.0.1", 0) + " }",
                "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: port 0 "
                "is not allowed (1-65535)"},
        BadCase{"endpoints { " + endpointText("10.0.0.1", 70000) + " }",
                "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value: port "
                "70000 is not allowed (1-65535)"},
        BadCase{"endpoints { " + endpointText("pod.example", 80) + " }",
                "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: expected "
                "an IP address (v4 or v6), got \"pod.example\""},
        BadCase{"endpoints { " + endpointText("10.0.0.1", 80) + " } endpoints { " +
                    endpointText("10.0.0.2", 80) + endpointText("10.0.0.1", 80) + " }",
                "endpoints[1].lb_endpoints[1].endpoint.address: duplicate endpoint 10.0.0.1:80 "
                "(also at endpoints[0].lb_endpoints[0])"},
        BadCase{"endpoints { " + endpointText("10.0.0.1", 80, "load_balancing_weight {}") + " }",
                "endpoints[0].lb_endpoints[0].load_balancing_weight: must be at least 1, got 0"},
        BadCase{"endpoints { priority: 129 }", "endpoints[0].priority: must be at most 128"},
        BadCase{"endpoints { lb_endpoints { endpoint_name: 'x' } }",
                "endpoints[0].lb_endpoints[0].endpoint_name: named endpoints are not supported "
                "by wslb"},
        BadCase{"endpoints { lb_endpoints { endpoint { address { pipe { path: '/s' } } } } }",
                "endpoints[0].lb_endpoints[0].endpoint.address.pipe: pipe addresses are not "
                "supported by wslb"},
        BadCase{"endpoints { lb_endpoints { endpoint { address { socket_address { address: "
                "'10.0.0.1' protocol: UDP port_value: 53 } } } } }",
                "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.protocol: only TCP "
                "is supported"},
        BadCase{"endpoints { lb_endpoints { endpoint { address { socket_address { address: "
                "'10.0.0.1' named_port: 'http' } } } } }",
                "endpoints[0].lb_endpoints[0].endpoint.address.socket_address.named_port: named "
                "ports are not supported by wslb"},
        BadCase{"endpoints { lb_endpoints { endpoint { } } }",
                "endpoints[0].lb_endpoints[0].endpoint.address: a socket_address is required"},
        BadCase{"endpoints { " +
                    endpointText("10.0.0.1", 80,
                                 "metadata { filter_metadata { key: 'wslb' value { fields { key: "
                                 "'max_connections' value { number_value: 2.5 } } } } }") +
                    " }",
                "endpoints[0].lb_endpoints[0].metadata.filter_metadata.wslb.max_connections: must "
                "be a whole number from 0 to 4294967295"},
        BadCase{"endpoints { " +
                    endpointText("10.0.0.1", 80,
                                 "metadata { filter_metadata { key: 'wslb' value { fields { key: "
                                 "'max_connections' value { bool_value: true } } } } }") +
                    " }",
                "endpoints[0].lb_endpoints[0].metadata.filter_metadata.wslb.max_connections: "
                "expected a number"},
        BadCase{"endpoints { lb_endpoints { endpoint { address { socket_address { address: "
                "'10.0.0.1' port_value: 80 } } health_check_config { port_value: 65536 } } } }",
                "endpoints[0].lb_endpoints[0].endpoint.health_check_config.port_value: port "
                "65536 is not allowed (0-65535)"},
        BadCase{"endpoints { " + endpointText("10.0.0.1", 80, "health_status: 9") + " }",
                "endpoints[0].lb_endpoints[0].health_status: unknown value 9"}));

TEST(AssignmentTest, AQuotedCapIsAccepted) {
  Assignment out;
  const auto cla =
      parse("cluster_name: 'p' endpoints { " +
            endpointText("10.0.0.1", 80,
                         "metadata { filter_metadata { key: 'wslb' value { fields { "
                         "key: 'max_connections' value { string_value: '7' } } } } }") +
            " }");
  ASSERT_TRUE(decodeAssignment(cla, out).ok());
  EXPECT_EQ(out.endpoints[0].max_connections, 7u);
}

TEST(AssignmentTest, UnpackChecksTheTypeUrlAndPrefixesTheName) {
  google::protobuf::Any any;
  any.PackFrom(parse("cluster_name: 'pods' endpoints { " + endpointText("10.0.0.1", 0) + " }"));
  EXPECT_EQ(any.type_url(), kEndpointTypeUrl);
  Assignment out;
  EXPECT_EQ(unpackAssignment(any, out).error,
            "ClusterLoadAssignment \"pods\": endpoints[0].lb_endpoints[0].endpoint.address."
            "socket_address.port_value: port 0 is not allowed (1-65535)");
  any.set_type_url("type.googleapis.com/envoy.config.cluster.v3.Cluster");
  EXPECT_EQ(unpackAssignment(any, out).error,
            "resource of type \"type.googleapis.com/envoy.config.cluster.v3.Cluster\", expected "
            "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
}

TEST(AssignmentTest, VersionHashIsStableAndDistinguishesVersions) {
  EXPECT_EQ(versionHash("v1"), versionHash("v1"));
  EXPECT_NE(versionHash("v1"), versionHash("v2"));
  EXPECT_EQ(versionHash(""), 14695981039346656037ull);  // FNV-1a offset basis
}

}  // namespace
}  // namespace wslb::xds
