#include "config/address.h"

#include <string>

namespace wslb::config {
namespace {

enum class Protocol { kTcp };

std::optional<SocketAddress> readSocketAddress(Context& ctx, const Field& field,
                                               PortRule port_rule) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  const size_t errors_before = ctx.errorCount();
  SocketAddress out;

  if (std::optional<Field> protocol = map.take("protocol")) {
    ctx.readEnum<Protocol>(*protocol, {{"TCP", 0, Protocol::kTcp}, {"UDP", 1, std::nullopt}});
  }
  if (std::optional<Field> address = map.require("address")) {
    if (std::optional<std::string> text = ctx.readString(*address)) {
      if (std::optional<std::string> ip = canonicalIp(*text)) {
        out.address = *ip;
      } else {
        ctx.error(address->path, "expected an IP address (v4 or v6), got \"" + *text + "\"");
      }
    }
  }
  const bool port_required = port_rule == PortRule::kNonZero && !map.has("named_port");
  std::optional<Field> port = port_required ? map.require("port_value") : map.take("port_value");
  if (port) {
    if (std::optional<uint32_t> value = ctx.readUint32(*port)) {
      const uint32_t min_port = port_rule == PortRule::kNonZero ? 1 : 0;
      if (*value < min_port || *value > 65535) {
        ctx.error(port->path,
                  "expected a port number from " + std::to_string(min_port) + " to 65535");
      } else {
        out.port = *value;
      }
    }
  }
  map.reject({"named_port", "resolver_name", "network_namespace_filepath"});
  map.ignore({"ipv4_compat"});
  map.finish();
  if (ctx.errorCount() != errors_before) return std::nullopt;
  return out;
}

}  // namespace

std::optional<SocketAddress> readAddress(Context& ctx, const Field& field, PortRule port_rule) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  std::optional<SocketAddress> out;
  if (map.has("pipe") || map.has("envoy_internal_address")) {
    map.reject({"pipe", "envoy_internal_address"});
    map.take("socket_address");
  } else if (std::optional<Field> socket = map.require("socket_address")) {
    out = readSocketAddress(ctx, *socket, port_rule);
  }
  map.finish();
  return out;
}

}  // namespace wslb::config
