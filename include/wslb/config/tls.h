#pragma once
// Stand-alone parsers for Envoy's TLS transport socket and filter_chain_match (the types are in
// tls_types.h). See docs/tls.md.

#include <optional>
#include <string_view>
#include <vector>

#include "wslb/config/loader.h"
#include "wslb/config/tls_types.h"

namespace wslb::config {

/// The result of one of the stand-alone load*() functions below.
template <typename T>
struct TlsLoadResult {
  std::optional<T> value;  ///< set iff errors is empty.
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  bool ok() const { return errors.empty(); }
};

/// Parses one transport_socket mapping (YAML or JSON text) found at `path`, as the listener
/// section does for filter_chains[].transport_socket. The value is nullopt for a raw_buffer
/// (plain TCP) socket. Never throws; diagnostics name YAML paths under `path`.
TlsLoadResult<std::optional<DownstreamTls>> loadDownstreamTransportSocket(std::string_view text,
                                                                          std::string_view path);
/// As loadDownstreamTransportSocket(), for a cluster's transport_socket.
TlsLoadResult<std::optional<UpstreamTls>> loadUpstreamTransportSocket(std::string_view text,
                                                                      std::string_view path);
/// Parses a filter_chain_match mapping found at `path`.
TlsLoadResult<FilterChainMatch> loadFilterChainMatch(std::string_view text, std::string_view path);

}  // namespace wslb::config
