#pragma once
// transport_socket (envoy.transport_sockets.tls) -> DownstreamTls / UpstreamTls, and
// filter_chain_match -> FilterChainMatch. Called by the listener and cluster sections.

#include <optional>

#include "config/context.h"
#include "wslb/config/tls.h"

namespace wslb::config {

/// A listener filter chain's transport_socket. nullopt: plain TCP (raw_buffer), or errors
/// (reported in `ctx`).
std::optional<DownstreamTls> readDownstreamTransportSocket(Context& ctx, const Field& field);
/// A cluster's transport_socket. nullopt: plain TCP (raw_buffer), or errors.
std::optional<UpstreamTls> readUpstreamTransportSocket(Context& ctx, const Field& field);

/// A DownstreamTlsContext typed_config mapping ("@type" checked when present).
std::optional<DownstreamTls> readDownstreamTlsContext(Context& ctx, const Field& field);
/// An UpstreamTlsContext typed_config mapping ("@type" checked when present).
std::optional<UpstreamTls> readUpstreamTlsContext(Context& ctx, const Field& field);

/// A filter chain's filter_chain_match: server_names and transport_protocol are read; the
/// address and port criteria are refused (one listener address per chain set in wslb).
FilterChainMatch readFilterChainMatch(Context& ctx, const Field& field);
/// filter_chain_match.server_names alone: each name lower-cased, "*.suffix" wildcards only.
std::vector<std::string> readServerNames(Context& ctx, const Field& field);

}  // namespace wslb::config
