#pragma once
// Server name (SNI) -> filter chain, as Envoy's filter_chain_match.server_names selects: an exact
// name first, then wildcards from the longest suffix down ("www.example.com" tries
// "www.example.com", "*.example.com", "*.com"), then the chain without server_names.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace wslb::tls {

class ServerNameTable {
 public:
  /// Adds `name` ("host.example.com" or "*.example.com", lower case) for `chain`.
  /// @return false if the name is already taken.
  bool add(std::string_view name, size_t chain);
  /// Makes `chain` the answer when no name matches. @return false if a default is already set.
  bool setDefault(size_t chain);

  /// The chain for `server_name` (any case; empty when the client sent no SNI).
  /// Any thread; the table must not change meanwhile.
  std::optional<size_t> find(std::string_view server_name) const;

 private:
  std::unordered_map<std::string, size_t> exact_;
  /// "*.example.com" is held as "example.com".
  std::unordered_map<std::string, size_t> wildcard_;
  std::optional<size_t> default_;
};

}  // namespace wslb::tls
