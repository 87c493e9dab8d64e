#include "wslb/xds/assignment.h"

#include <google/protobuf/arena.h>

#include <cmath>
#include <unordered_map>
#include <utility>

#include <google/protobuf/any.pb.h>

#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "wslb/upstream/host.h"
#include "wslb/upstream/host_set.h"

namespace wslb::xds {
namespace {

namespace endpoint_v3 = envoy::config::endpoint::v3;
namespace core_v3 = envoy::config::core::v3;

constexpr uint32_t kMaxPriority = 128;  // LocalityLbEndpoints.priority: lte 128

DecodeResult fail(const std::string& path, const std::string& message) {
  return DecodeResult{path + ": " + message};
}

bool toHealth(int value, config::HealthStatus& out) {
  switch (value) {
    case core_v3::UNKNOWN:
      out = config::HealthStatus::kUnknown;
      return true;
    case core_v3::HEALTHY:
      out = config::HealthStatus::kHealthy;
      return true;
    case core_v3::UNHEALTHY:
      out = config::HealthStatus::kUnhealthy;
      return true;
    case core_v3::DRAINING:
      out = config::HealthStatus::kDraining;
      return true;
    case core_v3::TIMEOUT:
      out = config::HealthStatus::kTimeout;
      return true;
    case core_v3::DEGRADED:
      out = config::HealthStatus::kDegraded;
      return true;
    default:
      return false;
  }
}

// metadata.filter_metadata.wslb.max_connections: a number (or a string of digits, as YAML
// writers sometimes quote numbers) in 0..2^32-1.
DecodeResult readCap(const core_v3::Metadata& metadata, const std::string& path,
                     std::optional<uint32_t>& out) {
  const auto wslb = metadata.filter_metadata().find("wslb");
  if (wslb == metadata.filter_metadata().end()) return {};
  const auto& fields = wslb->second.fields();
  const auto max = fields.find("max_connections");
  if (max == fields.end()) return {};
  const std::string field_path = path + ".filter_metadata.wslb.max_connections";
  double value = -1;
  if (max->second.has_number_value()) {
    value = max->second.number_value();
  } else if (max->second.has_string_value()) {
    const std::string& text = max->second.string_value();
    if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != text.npos) {
      return fail(field_path, "expected a whole number, got \"" + text + "\"");
    }
    value = std::stod(text);
  } else {
    return fail(field_path, "expected a number");
  }
  if (!(value >= 0) || value > 4294967295.0 || std::floor(value) != value) {
    return fail(field_path, "must be a whole number from 0 to 4294967295");
  }
  out = static_cast<uint32_t>(value);
  return {};
}

// Where an endpoint sits in the assignment, for error messages only: built on failure, so a
// valid update of 10,000 endpoints does not format 30,000 paths it never shows.
struct EndpointPlace {
  int group;
  int index;
  std::string path() const {
    return "endpoints[" + std::to_string(group) + "].lb_endpoints[" + std::to_string(index) + "]";
  }
};

DecodeResult readEndpoint(const endpoint_v3::LbEndpoint& lb, const EndpointPlace& place,
                          uint32_t priority, config::Endpoint& out) {
  const auto path = [&place] { return place.path(); };
  const auto socket_path = [&place] { return place.path() + ".endpoint.address.socket_address"; };
  if (lb.has_endpoint_name()) {
    return fail(path() + ".endpoint_name", "named endpoints are not supported by wslb");
  }
  if (!lb.has_endpoint()) return fail(path() + ".endpoint", "required field is missing");
  const endpoint_v3::Endpoint& endpoint = lb.endpoint();
  if (endpoint.address().has_pipe()) {
    return fail(path() + ".endpoint.address.pipe", "pipe addresses are not supported by wslb");
  }
  if (!endpoint.address().has_socket_address()) {
    return fail(path() + ".endpoint.address", "a socket_address is required");
  }
  const core_v3::SocketAddress& socket = endpoint.address().socket_address();
  if (socket.protocol() != core_v3::SocketAddress::TCP) {
    return fail(socket_path() + ".protocol", "only TCP is supported");
  }
  if (socket.has_named_port()) {
    return fail(socket_path() + ".named_port", "named ports are not supported by wslb");
  }
  if (!socket.resolver_name().empty()) {
    return fail(socket_path() + ".resolver_name", "custom resolvers are not supported by wslb");
  }
  if (socket.port_value() == 0 || socket.port_value() > 65535) {
    return fail(socket_path() + ".port_value",
                "port " + std::to_string(socket.port_value()) + " is not allowed (1-65535)");
  }
  std::optional<std::string> ip = upstream::canonicalIp(socket.address());
  if (!ip) {
    return fail(socket_path() + ".address",
                "expected an IP address (v4 or v6), got \"" + socket.address() + "\"");
  }
  out = config::Endpoint{};
  out.address = config::SocketAddress{std::move(*ip), socket.port_value()};
  out.hostname = endpoint.hostname();
  if (endpoint.has_health_check_config()) {
    const endpoint_v3::Endpoint::HealthCheckConfig& hc = endpoint.health_check_config();
    if (hc.port_value() > 65535) {
      return fail(path() + ".endpoint.health_check_config.port_value",
                  "port " + std::to_string(hc.port_value()) + " is not allowed (0-65535)");
    }
    out.health_check_port = hc.port_value();
  }
  out.priority = priority;
  if (lb.has_load_balancing_weight()) {
    if (lb.load_balancing_weight().value() == 0) {
      return fail(path() + ".load_balancing_weight", "must be at least 1, got 0");
    }
    out.weight = lb.load_balancing_weight().value();
  }
  if (!toHealth(lb.health_status(), out.health)) {
    return fail(path() + ".health_status",
                "unknown value " + std::to_string(static_cast<int>(lb.health_status())));
  }
  if (lb.has_metadata()) return readCap(lb.metadata(), path() + ".metadata", out.max_connections);
  return {};
}

}  // namespace

DecodeResult decodeAssignment(const endpoint_v3::ClusterLoadAssignment& cla, Assignment& out) {
  out.cluster_name = cla.cluster_name();
  out.endpoints.clear();
  if (cla.cluster_name().empty()) return fail("cluster_name", "required field is missing");
  if (!cla.named_endpoints().empty()) {
    return fail("named_endpoints", "named endpoints are not supported by wslb");
  }
  size_t count = 0;
  for (const auto& group : cla.endpoints()) count += group.lb_endpoints_size();
  out.endpoints.reserve(count);
  // "ip:port" -> where the first endpoint with it is, to name both ends of a duplicate.
  std::unordered_map<std::string, EndpointPlace> seen;
  seen.reserve(count);
  for (int g = 0; g < cla.endpoints_size(); ++g) {
    const endpoint_v3::LocalityLbEndpoints& group = cla.endpoints(g);
    if (group.priority() > kMaxPriority) {
      return fail("endpoints[" + std::to_string(g) + "].priority",
                  "must be at most " + std::to_string(kMaxPriority));
    }
    for (int e = 0; e < group.lb_endpoints_size(); ++e) {
      const EndpointPlace place{g, e};
      config::Endpoint& endpoint = out.endpoints.emplace_back();
      if (DecodeResult r = readEndpoint(group.lb_endpoints(e), place, group.priority(), endpoint);
          !r.ok()) {
        return r;
      }
      std::string key = upstream::formatAddress(endpoint.address.address,
                                                static_cast<uint16_t>(endpoint.address.port));
      auto [it, inserted] = seen.try_emplace(std::move(key), place);
      if (!inserted) {
        return fail(place.path() + ".endpoint.address",
                    "duplicate endpoint " + it->first + " (also at " + it->second.path() + ")");
      }
    }
  }
  return {};
}

DecodeResult unpackAssignment(const google::protobuf::Any& any, Assignment& out) {
  if (any.type_url() != kEndpointTypeUrl) {
    return DecodeResult{"resource of type \"" + any.type_url() + "\", expected " +
                        std::string(kEndpointTypeUrl)};
  }
  // On an arena: the message is read once and dropped whole, so its tens of thousands of strings
  // and sub-messages (10,000 endpoints) cost neither a malloc nor a free each.
  google::protobuf::Arena arena;
  auto* cla = google::protobuf::Arena::CreateMessage<endpoint_v3::ClusterLoadAssignment>(&arena);
  if (!any.UnpackTo(cla)) return DecodeResult{"cannot decode ClusterLoadAssignment"};
  DecodeResult result = decodeAssignment(*cla, out);
  if (!result.ok()) {
    result.error = "ClusterLoadAssignment \"" + cla->cluster_name() + "\": " + result.error;
  }
  return result;
}

uint64_t versionHash(std::string_view version_info) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : version_info) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace wslb::xds
