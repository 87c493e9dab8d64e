#pragma once
// How a client's request is rewritten before it goes to the backend.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

namespace wslb::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// True when the request asks for a WebSocket upgrade: `Connection` lists "upgrade" and
/// `Upgrade` lists "websocket" (tokens, case-insensitive).
bool isWebSocketUpgrade(const Request& req);
/// True when the request carries any Upgrade (websocket or another protocol).
bool hasUpgradeHeader(const Request& req);

/// Removes hop-by-hop fields (RFC 9110 §7.6.1: Connection and the fields it names, Keep-Alive,
/// Proxy-Connection, TE, Trailer, Upgrade) and adds X-Forwarded-For (appended), X-Forwarded-Proto
/// and X-Request-Id (kept if present, else a new UUID v4). For an upgrade, `Connection: Upgrade`
/// and the original `Upgrade` are put back; the Sec-WebSocket-* fields are kept as they are.
/// Plain requests get `Connection: close` (one backend connection per request).
void prepareUpstreamRequest(Request& req, std::string_view client_ip, bool upgrade);

/// Removes hop-by-hop fields from a backend's non-101 response before it goes to the client.
void prepareDownstreamResponse(Response& res, bool keep_alive, bool head_request);

/// A random UUID v4 string ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx").
std::string newRequestId();

}  // namespace wslb::http
