#pragma once
// The request headers that access log formats print, so a record keeps only those.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wslb/accesslog/record.h"

namespace wslb::accesslog {

/// The set of request header names that formats reference through %REQ(...)%, each with a stable
/// index into AccessLogRecord::request_headers. Names are lower case. HTTP/1.1's request line and
/// Host header appear as Envoy's pseudo-headers: ":method", ":path" (the request target),
/// ":authority" (the Host header; %REQ(HOST)% means the same) and ":scheme".
///
/// Thread safety: add() is for start-up; after that, every const method may be called from any
/// thread.
class HeaderRegistry {
 public:
  /// The index of `name` (compared case-insensitively), adding it if it is new.
  size_t add(std::string_view name);

  /// Every name, in the order of their indexes.
  const std::vector<std::string>& names() const noexcept { return names_; }

  /// Replaces record.request_headers with the value of each name in names(), in order.
  /// @param lookup callable as `lookup(std::string_view lower_case_name)` returning
  ///        std::optional<std::string_view>: the header's value, or nullopt when the request has
  ///        no such header. Pseudo-headers (":method", ":path", ":authority", ":scheme") must be
  ///        answered from the request line and the Host header.
  template <typename Lookup>
  void capture(AccessLogRecord& record, Lookup&& lookup) const {
    record.request_headers.clear();
    record.request_headers.reserve(names_.size());
    for (const std::string& name : names_) {
      std::optional<std::string_view> value = lookup(std::string_view(name));
      if (value) {
        record.request_headers.emplace_back(std::in_place, *value);
      } else {
        record.request_headers.emplace_back(std::nullopt);
      }
    }
  }

 private:
  std::vector<std::string> names_;
};

}  // namespace wslb::accesslog
