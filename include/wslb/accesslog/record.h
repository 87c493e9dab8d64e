#pragma once
// What the access log knows about one finished WebSocket connection, or one request that was
// answered (by a backend or by wslb itself): everything a format can print.

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wslb/accesslog/response_flags.h"

namespace wslb::accesslog {

/// The downstream request's HTTP version (%PROTOCOL%).
enum class Protocol : uint8_t { kUnknown, kHttp10, kHttp11 };

/// One access log entry, filled by the data path when a connection or request ends and handed to
/// AccessLog::log(). Every field has a "not known" state, which formats print as "-" (or null in
/// typed JSON). "Downstream" is the client side, "upstream" the backend side; "received" and
/// "sent" are as the client sees wslb: received = from the client, sent = to the client.
///
/// Thread safety: a plain value. It is built on one worker thread and moved to the access log's
/// writer thread; nothing in it is shared.
struct AccessLogRecord {
  /// %START_TIME%: when the request's first byte arrived (wall clock).
  std::chrono::system_clock::time_point start_time{};
  /// %DURATION%: from start_time until the connection (or the response) ended.
  std::optional<std::chrono::nanoseconds> duration;
  /// %REQUEST_DURATION%: from start_time until the request head was complete.
  std::optional<std::chrono::nanoseconds> request_duration;
  /// %RESPONSE_DURATION%: from start_time until the first byte of the backend's answer (the 101
  /// head for a WebSocket). Unset for local replies.
  std::optional<std::chrono::nanoseconds> response_duration;

  /// %RESPONSE_CODE%: 101 for an upgraded connection, the status sent otherwise (the backend's
  /// or a local reply's); 0 when no response was sent (the client went away first).
  uint32_t response_code = 0;
  /// %RESPONSE_FLAGS%.
  ResponseFlags response_flags;

  /// %BYTES_RECEIVED%: bytes from the client after the request head (for a WebSocket: every frame
  /// byte the client sent).
  uint64_t bytes_received = 0;
  /// %BYTES_SENT%: bytes to the client; for a WebSocket this includes the 101 response head, as
  /// in Envoy.
  uint64_t bytes_sent = 0;
  /// %WS_MESSAGES_RECEIVED%: WebSocket data messages from the client.
  uint64_t messages_received = 0;
  /// %WS_MESSAGES_SENT%: WebSocket data messages to the client.
  uint64_t messages_sent = 0;
  /// %WS_CLOSE_CODE_DOWNSTREAM%: the code in the first Close frame the client sent (1005 for a
  /// Close without a code); unset if it sent none.
  std::optional<uint16_t> downstream_close_code;
  /// %WS_CLOSE_CODE_UPSTREAM%: the same for the backend.
  std::optional<uint16_t> upstream_close_code;

  /// %UPSTREAM_HOST% and %UPSTREAM_REMOTE_ADDRESS%: the endpoint that served the request (or the
  /// last one tried). Unset when no endpoint was picked.
  std::optional<boost::asio::ip::tcp::endpoint> upstream_address;
  /// %UPSTREAM_HOSTNAME%: that endpoint's hostname (endpoint.hostname); empty if none.
  std::string upstream_hostname;
  /// %UPSTREAM_CLUSTER%: the route's cluster; empty if no route matched.
  std::string upstream_cluster;
  /// %UPSTREAM_REQUEST_ATTEMPT_COUNT%: connection attempts to endpoints (0: none was tried).
  uint32_t upstream_attempts = 0;
  /// %UPSTREAM_TRANSPORT_FAILURE_REASON%: why the last connection attempt failed (e.g. the
  /// system error's message); empty if none failed.
  std::string upstream_transport_failure_reason;

  /// %DOWNSTREAM_REMOTE_ADDRESS%: the client's address (the TCP peer).
  std::optional<boost::asio::ip::tcp::endpoint> downstream_remote_address;
  /// %DOWNSTREAM_LOCAL_ADDRESS%: the listener address the client connected to.
  std::optional<boost::asio::ip::tcp::endpoint> downstream_local_address;
  /// %CONNECTION_ID%: the downstream connection's id, unique within the process.
  uint64_t connection_id = 0;
  /// %PROTOCOL%.
  Protocol protocol = Protocol::kUnknown;
  /// %ROUTE_NAME%: the matched route's name; empty if it has none or nothing matched.
  std::string route_name;

  /// %REQ(...)%: the values of the request headers the formats use, indexed like
  /// AccessLog::referencedHeaders() (nullopt: not present). Fill it with
  /// AccessLog::captureRequestHeaders(); shorter than referencedHeaders() means "not present".
  std::vector<std::optional<std::string>> request_headers;
};

}  // namespace wslb::accesslog
