#pragma once
// Envoy's ssl.* counters of one listener or cluster (listener.<address>.ssl.*,
// cluster.<name>.ssl.*), and how a handshake's outcome is counted in them.

#include <atomic>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "wslb/stats/stat.h"

namespace wslb::tls {

class TransportSocket;

/// Why a handshake failed, as far as the counters tell apart.
enum class HandshakeFailure {
  kVerifyError,      ///< the peer's certificate did not verify (ssl.fail_verify_error).
  kVerifySan,        ///< it verified but no SAN matched (ssl.fail_verify_san).
  kNoCertificate,    ///< a client certificate was required and none was sent
                     ///< (ssl.fail_verify_no_cert).
  kConnectionError,  ///< anything else: protocol error, reset, timeout (ssl.connection_error).
};

/// Classifies a failed handshake of `socket` ended with `ec`.
HandshakeFailure classifyHandshakeFailure(const TransportSocket& socket,
                                          const boost::system::error_code& ec);

/// Atomics only: any thread may count or read.
struct HandshakeStats {
  std::atomic<uint64_t> handshake{0};         ///< handshakes completed.
  std::atomic<uint64_t> connection_error{0};  ///< handshakes failed (all reasons).
  std::atomic<uint64_t> fail_verify_error{0};
  std::atomic<uint64_t> fail_verify_san{0};
  std::atomic<uint64_t> fail_verify_no_cert{0};
  /// Completed handshakes where the peer presented no certificate (server side, when client
  /// certificates are optional).
  std::atomic<uint64_t> no_certificate{0};
  /// Completed handshakes that resumed a session.
  std::atomic<uint64_t> session_reused{0};

  /// Counts a completed handshake of `socket`.
  void countSuccess(const TransportSocket& socket, bool server_side);
  /// Counts a failed handshake (connection_error plus the verify counter that applies).
  void countFailure(HandshakeFailure failure);
};

/// Appends `<scope>.ssl.<name>` counters, and `<scope>.ssl.context_update_by_file` /
/// `context_update_failure` from the context provider's reloads: `scope` is "listener" or
/// "cluster", `tag` its Prometheus label (envoy_listener_address / envoy_cluster_name) and
/// `tag_value` the address or cluster name.
void appendHandshakeStats(const HandshakeStats& stats, uint64_t reload_success,
                          uint64_t reload_failure, const std::string& scope, const std::string& tag,
                          const std::string& tag_value, std::vector<stats::Stat>& out);

}  // namespace wslb::tls
