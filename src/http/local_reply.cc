#include "wslb/http/local_reply.h"

#include <boost/beast/http/field.hpp>

namespace wslb::http {

namespace bhttp = boost::beast::http;

Response LocalReply::toResponse(bool keep_alive) const {
  Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::server, "wslb");
  if (!body.empty()) res.set(bhttp::field::content_type, "text/plain");
  for (const auto& [name, value] : headers) res.set(name, value);
  res.body() = body;
  res.prepare_payload();
  res.keep_alive(keep_alive);
  return res;
}

LocalReply localReply(unsigned status, std::string body) {
  return LocalReply{status, std::move(body), {}};
}

LocalReply overflowReply() {
  LocalReply r{503,
               "upstream connect error or disconnect/reset before headers. reset reason: overflow",
               {{"x-envoy-overloaded", "true"}}};
  return r;
}

LocalReply connectFailureReply() {
  return localReply(503,
                    "upstream connect error or disconnect/reset before headers. reset reason: "
                    "connection failure");
}

LocalReply upstreamResetReply() {
  return localReply(503,
                    "upstream connect error or disconnect/reset before headers. reset reason: "
                    "connection termination");
}

std::string serializeResponseHead(const Response& res) {
  std::string out = "HTTP/1.1 ";
  out += std::to_string(res.result_int());
  out += ' ';
  out += res.reason();
  out += "\r\n";
  for (const auto& f : res) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace wslb::http
