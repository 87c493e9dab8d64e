#pragma once
// Responses wslb writes itself (errors, overflow), in Envoy's form.

#include <string>
#include <utility>
#include <vector>

#include "wslb/http/upstream_request.h"

namespace wslb::http {

struct LocalReply {
  unsigned status = 500;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// A full response: the status, content-type text/plain (when there is a body),
  /// content-length, `server: wslb`, the extra headers, and Connection per `keep_alive`.
  Response toResponse(bool keep_alive) const;
};

LocalReply localReply(unsigned status, std::string body);

/// 503 with `x-envoy-overloaded: true`: every endpoint is at its cap (or the cluster is, or the
/// pending queue is full or timed out). Envoy's body and header.
LocalReply overflowReply();
/// 503 after every connect attempt failed (Envoy's "connection failure" reset reason).
LocalReply connectFailureReply();
/// 503 when the backend closed or reset before answering.
LocalReply upstreamResetReply();

/// The status line and header fields of a response, as they go on the wire.
std::string serializeResponseHead(const Response& res);

}  // namespace wslb::http
