#include "wslb/http/upstream_request.h"

#include <boost/beast/http/field.hpp>
#include <vector>

#include "wslb/upstream/random.h"
#include "wslb/websocket/handshake.h"

namespace wslb::http {

namespace bhttp = boost::beast::http;

namespace {

template <class Fields>
void removeHopByHop(Fields& fields) {
  std::vector<std::string> named;
  for (auto it = fields.find(bhttp::field::connection);
       it != fields.end() && it->name() == bhttp::field::connection; ++it) {
    std::string_view v = it->value();
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t comma = v.find(',', pos);
      if (comma == std::string_view::npos) comma = v.size();
      std::string_view tok = v.substr(pos, comma - pos);
      while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
      while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
      if (!tok.empty()) named.emplace_back(tok);
      pos = comma + 1;
    }
  }
  for (const auto& n : named) fields.erase(n);
  fields.erase(bhttp::field::connection);
  fields.erase(bhttp::field::keep_alive);
  fields.erase(bhttp::field::proxy_connection);
  fields.erase(bhttp::field::te);
  fields.erase(bhttp::field::trailer);
  fields.erase(bhttp::field::upgrade);
}

}  // namespace

bool hasUpgradeHeader(const Request& req) {
  return req.find(bhttp::field::upgrade) != req.end() &&
         websocket::headerHasToken(req[bhttp::field::connection], "upgrade");
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
}

void prepareDownstreamResponse(Response& res, bool keep_alive, bool head_request) {
  removeHopByHop(res);
  if (!head_request && !res.chunked() && res.result_int() / 100 != 1 && res.result_int() != 204 &&
      res.result_int() != 304) {
    res.prepare_payload();
  }
  res.keep_alive(keep_alive);
}

}  // namespace wslb::http
