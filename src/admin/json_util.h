#pragma once
// Helpers for the admin JSON documents: Envoy's proto3 JSON conventions on top of Boost.JSON.

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "wslb/config/bootstrap.h"

namespace wslb::admin {

/// `value` as text indented the way Envoy's pretty-printed admin JSON is (one space per level,
/// "key": value), ending with a newline.
std::string prettyJson(const boost::json::value& value);

/// A proto3 JSON google.protobuf.Duration: "5s", "0.250s".
std::string durationJson(std::chrono::milliseconds duration);

/// A proto3 JSON google.protobuf.Timestamp in UTC: "2026-01-01T12:00:00.123Z".
std::string timestampJson(std::chrono::system_clock::time_point time);

/// A proto3 JSON uint64 (a string, as protobuf prints 64-bit integers).
inline boost::json::value uint64Json(uint64_t value) {
  return boost::json::value(std::to_string(value));
}

/// envoy.config.core.v3.Address: {"socket_address": {"address", "port_value"}}.
boost::json::object addressJson(const std::string& ip, uint32_t port);

}  // namespace wslb::admin
