#include "wslb/http/upstream_request.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <vector>

#include "wslb/http/connection_header.h"
#include "wslb/upstream/random.h"
#include "wslb/websocket/handshake.h"

namespace wslb::http {

namespace bhttp = boost::beast::http;

namespace {

// Fields a client may list in Connection that are never removed for it: Host (routing) and the
// message framing, which wslb re-serialises from what it parsed (dropping them would send the
// body unframed), and what a WebSocket handshake needs (wslb sets Connection/Upgrade itself).
bool isProtectedField(std::string_view name) {
  for (std::string_view kept :
       {"host", "content-length", "transfer-encoding", "sec-websocket-key", "sec-websocket-version",
        "sec-websocket-protocol", "sec-websocket-extensions", "sec-websocket-accept"}) {
    if (boost::beast::iequals(name, kept)) return true;
  }
  return false;
}

template <class Fields>
void removeHopByHop(Fields& fields) {
  // Field names cannot be erased while the Connection lines are walked; a request names few.
  std::vector<std::string> named;
  forEachConnectionToken(fields, [&named](std::string_view token) {
    if (!isProtectedField(token)) named.emplace_back(token);
  });
  for (const auto& n : named) fields.erase(n);
  fields.erase(bhttp::field::connection);
  fields.erase(bhttp::field::keep_alive);
  fields.erase(bhttp::field::proxy_connection);
  fields.erase(bhttp::field::te);
  fields.erase(bhttp::field::trailer);
  fields.erase(bhttp::field::upgrade);
}

// Beast 1.81 serialises an empty chunked string body as two last-chunks ("0\r\n\r\n0\r\n\r\n"),
// and the peer would read the second as the start of another message. The body is complete in
// memory, so an empty one goes out with Content-Length: 0 instead.
template <class Message>
void frameEmptyChunkedBody(Message& msg) {
  if (msg.chunked() && msg.body().empty()) {
    msg.erase(bhttp::field::transfer_encoding);
    msg.content_length(0);
  }
}

}  // namespace

bool hasUpgradeHeader(const Request& req) {
  return req.find(bhttp::field::upgrade) != req.end() && connectionTokens(req).upgrade;
}

bool isWebSocketUpgrade(const Request& req) {
  return hasUpgradeHeader(req) &&
         websocket::headerHasToken(req[bhttp::field::upgrade], "websocket");
}

std::string newRequestId() {
  auto& rng = upstream::threadRandom();
  uint64_t hi = rng.next();
  uint64_t lo = rng.next();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

void prepareUpstreamRequest(Request& req, std::string_view client_ip, bool upgrade) {
  const std::string upgrade_value(req[bhttp::field::upgrade]);
  removeHopByHop(req);
  if (upgrade) {
    req.set(bhttp::field::connection, "Upgrade");
    req.set(bhttp::field::upgrade, upgrade_value);
  } else {
    req.set(bhttp::field::connection, "close");
  }
  const auto xff = req.find("x-forwarded-for");
  if (xff != req.end() && !xff->value().empty()) {
    std::string v(xff->value());
    v += ", ";
    v += client_ip;
    req.set("x-forwarded-for", v);
  } else {
    req.set("x-forwarded-for", std::string(client_ip));
  }
  req.set("x-forwarded-proto", "http");
  if (req.find("x-request-id") == req.end()) req.set("x-request-id", newRequestId());
  frameEmptyChunkedBody(req);
}

void prepareDownstreamResponse(Response& res, bool keep_alive, bool head_request) {
  removeHopByHop(res);
  if (!head_request && res.result_int() / 100 != 1 && res.result_int() != 204 &&
      res.result_int() != 304) {
    if (res.chunked()) {
      frameEmptyChunkedBody(res);
    } else {
      res.prepare_payload();
    }
  }
  res.keep_alive(keep_alive);
}

}  // namespace wslb::http
