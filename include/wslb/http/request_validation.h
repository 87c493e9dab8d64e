#pragma once
// Strict HTTP/1.1 request checks (RFC 9110 / RFC 9112) on top of what Beast's parser enforces,
// so that wslb and the backend can never disagree on where a request ends (request smuggling)
// or whom it is for. docs/configuration.md ("HTTP/1.1 parsing") lists every rule.

#include <cstddef>
#include <string_view>

#include "wslb/http/connection_header.h"

namespace wslb::http {

/// Why a request is refused: the status to answer with and a short body. status 0 = accepted.
struct Rejection {
  unsigned status = 0;
  std::string_view reason;
  explicit operator bool() const { return status != 0; }
};

/// Scans a raw request head (request line to the blank line that ends it, inclusive) for what
/// the parser would otherwise tolerate or fold away: NUL, a CR not followed by LF, an LF not
/// preceded by CR, and obs-fold (a line that starts with SP or HT). No allocation.
Rejection scanRequestHead(std::string_view head);

/// Checks a parsed request head:
///  - at most `max_headers_count` field lines (else 431);
///  - framing: at most one Content-Length line, all digits; Transfer-Encoding only in HTTP/1.1,
///    on one line, exactly `chunked` (case-insensitive, surrounding whitespace allowed), never
///    together with Content-Length;
///  - Host: required in HTTP/1.1, at most one line, only host[:port] characters;
///  - request target: origin-form ("/..."), absolute-form ("http://authority/..." or https),
///    or "*" with OPTIONS; no fragment; CONNECT is refused with 405.
Rejection validateRequestHead(const RequestHeader& req, size_t max_headers_count);

/// For an absolute-form target ("http://host:port/path?q"): RFC 9112 §3.2.2, the target's
/// authority wins over Host. Sets Host to the authority and the target to origin-form ("/path?q",
/// "/" when the path is empty). Other targets are left as they are. Call after
/// validateRequestHead() accepted the request.
void useAbsoluteFormAuthority(RequestHeader& req);

}  // namespace wslb::http
