#include "wslb/http/connection_header.h"

#include <boost/beast/core/string.hpp>

namespace wslb::http {

ConnectionTokens connectionTokens(const boost::beast::http::fields& fields) {
  ConnectionTokens out;
  forEachConnectionToken(fields, [&out](std::string_view token) {
    if (boost::beast::iequals(token, "close")) {
      out.close = true;
    } else if (boost::beast::iequals(token, "keep-alive")) {
      out.keep_alive = true;
    } else if (boost::beast::iequals(token, "upgrade")) {
      out.upgrade = true;
    }
  });
  return out;
}

bool requestKeepsAlive(const RequestHeader& req) {
  const ConnectionTokens tokens = connectionTokens(req);
  if (tokens.close) return false;
  return req.version() >= 11 || tokens.keep_alive;
}

}  // namespace wslb::http
