#pragma once
// ClusterLoadAssignment (EDS resource) -> wslb endpoints, with the checks that decide between
// applying an update and NACKing it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"

namespace envoy::config::endpoint::v3 {
class ClusterLoadAssignment;
}
namespace google::protobuf {
class Any;
}

namespace wslb::xds {

/// The type URL of EDS resources (go-control-plane's resource.EndpointType).
inline constexpr std::string_view kEndpointTypeUrl =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

/// A validated ClusterLoadAssignment.
struct Assignment {
  std::string cluster_name;
  std::vector<config::Endpoint> endpoints;  ///< flattened, priority from the locality group.
};

/// Outcome of decoding: ok() or a message saying what is wrong and where.
struct DecodeResult {
  std::string error;  ///< empty: success.
  bool ok() const { return error.empty(); }
};

/// Converts `cla` into `out`, validating every endpoint: an IP literal address (TCP
/// socket_address with port_value 1-65535), no endpoint twice, load_balancing_weight >= 1 when
/// set, priority <= 128, health_status a known value, wslb's max_connections metadata a
/// non-negative integer. On error `out` is unspecified and the message names the field path
/// ("endpoints[0].lb_endpoints[2].endpoint.address.socket_address.port_value: ...").
DecodeResult decodeAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& cla,
                              Assignment& out);

/// Unpacks a ClusterLoadAssignment from `any` (checking its type URL) and decodes it.
DecodeResult unpackAssignment(const google::protobuf::Any& any, Assignment& out);

/// 64-bit FNV-1a of `version_info`: the value of the cluster.<name>.version stat (Envoy reports a
/// hash of the version too; the text itself is in logs and /clusters).
uint64_t versionHash(std::string_view version_info);

}  // namespace wslb::xds
