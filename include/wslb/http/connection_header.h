#pragma once
// The Connection header field (RFC 9110 §7.6.1): comma-separated, case-insensitive tokens with
// optional whitespace, possibly spread over several field lines.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <string_view>

namespace wslb::http {

using RequestHeader = boost::beast::http::request_header<>;

/// The connection options wslb acts on.
struct ConnectionTokens {
  bool close = false;
  bool keep_alive = false;
  bool upgrade = false;
};

/// Calls `f(token)` for every non-empty token of every Connection field line, whitespace trimmed.
template <typename F>
void forEachConnectionToken(const boost::beast::http::fields& fields, F&& f) {
  const auto [begin, end] = fields.equal_range(boost::beast::http::field::connection);
  for (auto it = begin; it != end; ++it) {
    const std::string_view value = it->value();
    size_t pos = 0;
    while (pos <= value.size()) {
      size_t comma = value.find(',', pos);
      if (comma == std::string_view::npos) comma = value.size();
      std::string_view token = value.substr(pos, comma - pos);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
      }
      if (!token.empty()) f(token);
      pos = comma + 1;
    }
  }
}

/// close / keep-alive / upgrade among the Connection tokens (any field line, any case).
ConnectionTokens connectionTokens(const boost::beast::http::fields& fields);

/// Whether the client lets the connection stay open after the response: HTTP/1.1 unless it says
/// `close`; HTTP/1.0 only with `keep-alive` (and no `close`).
bool requestKeepsAlive(const RequestHeader& req);

}  // namespace wslb::http
