#include "wslb/http/request_validation.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <string>

namespace wslb::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr Rejection kAccepted{};

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// uri-host [ ":" port ]: reg-name, IPv4 or IP-literal characters (RFC 3986 §3.2.2).
bool isHostChar(char c) {
  if (isDigit(c) || isAlpha(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case '%':
    case ':':
    case '[':
    case ']':
      return true;
    default:
      return false;
  }
}

bool isValidHost(std::string_view host) {
  for (char c : host) {
    if (!isHostChar(c)) return false;
  }
  return true;
}

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

size_t countLines(const RequestHeader& req, bhttp::field name) {
  const auto [begin, end] = req.equal_range(name);
  size_t n = 0;
  for (auto it = begin; it != end; ++it) ++n;
  return n;
}

// The length of "http://" or "https://" (any case) at the start of `target`, or 0.
size_t absoluteFormSchemeLength(std::string_view target) {
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (target.size() >= scheme.size() &&
        boost::beast::iequals(target.substr(0, scheme.size()), scheme)) {
      return scheme.size();
    }
  }
  return 0;
}

// Splits an absolute-form target after its scheme into authority and the rest.
std::string_view authorityOf(std::string_view after_scheme) {
  return after_scheme.substr(0, after_scheme.find_first_of("/?"));
}

Rejection checkFraming(const RequestHeader& req) {
  const size_t content_lengths = countLines(req, bhttp::field::content_length);
  if (content_lengths > 1) return {400, "multiple content-length"};
  if (content_lengths == 1) {
    const std::string_view value = req[bhttp::field::content_length];
    if (value.empty()) return {400, "invalid content-length"};
    for (char c : value) {
      if (!isDigit(c)) return {400, "invalid content-length"};
    }
  }
  const size_t transfer_encodings = countLines(req, bhttp::field::transfer_encoding);
  if (transfer_encodings == 0) return kAccepted;
  if (req.version() < 11) return {400, "transfer-encoding in HTTP/1.0"};
  if (content_lengths > 0) return {400, "both content-length and transfer-encoding"};
  if (transfer_encodings > 1 ||
      !boost::beast::iequals(trimOws(req[bhttp::field::transfer_encoding]), "chunked")) {
    return {400, "unsupported transfer-encoding"};
  }
  return kAccepted;
}

Rejection checkHost(const RequestHeader& req) {
  const size_t hosts = countLines(req, bhttp::field::host);
  if (hosts == 0) {
    if (req.version() >= 11) return {400, "missing host header"};
    return kAccepted;
  }
  if (hosts > 1) return {400, "multiple host headers"};
  if (!isValidHost(req[bhttp::field::host])) return {400, "invalid host header"};
  return kAccepted;
}

Rejection checkTarget(const RequestHeader& req) {
  if (req.method() == bhttp::verb::connect) return {405, "CONNECT is not supported"};
  const std::string_view target = req.target();
  if (target.find('#') != std::string_view::npos) return {400, "fragment in request target"};
  if (target == "*") {
    if (req.method() != bhttp::verb::options) return {400, "asterisk-form is only for OPTIONS"};
    return kAccepted;
  }
  if (!target.empty() && target.front() == '/') return kAccepted;
  const size_t scheme = absoluteFormSchemeLength(target);
  if (scheme == 0) return {400, "invalid request target"};
  const std::string_view authority = authorityOf(target.substr(scheme));
  // userinfo ("user@host") is not allowed in an http(s) URI (RFC 9110 §4.2.4).
  if (authority.empty() || authority.find('@') != std::string_view::npos ||
      !isValidHost(authority)) {
    return {400, "invalid request target"};
  }
  return kAccepted;
}

}  // namespace

Rejection scanRequestHead(std::string_view head) {
  const size_t n = head.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = head[i];
    if (c == '\0') return {400, "NUL in request head"};
    if (c == '\r') {
      if (i + 1 >= n || head[i + 1] != '\n') return {400, "bare CR in request head"};
    } else if (c == '\n') {
      if (i == 0 || head[i - 1] != '\r') return {400, "bare LF in request head"};
      if (i + 1 < n && (head[i + 1] == ' ' || head[i + 1] == '\t')) {
        return {400, "obsolete line folding"};
      }
    }
  }
  return kAccepted;
}

Rejection validateRequestHead(const RequestHeader& req, size_t max_headers_count) {
  if (req.version() != 10 && req.version() != 11) return {505, "HTTP version not supported"};
  size_t count = 0;
  for (auto it = req.begin(); it != req.end(); ++it) {
    if (++count > max_headers_count) return {431, "too many header fields"};
  }
  if (Rejection r = checkFraming(req)) return r;
  if (Rejection r = checkHost(req)) return r;
  return checkTarget(req);
}

void useAbsoluteFormAuthority(RequestHeader& req) {
  const std::string_view target = req.target();
  const size_t scheme = absoluteFormSchemeLength(target);
  if (scheme == 0) return;
  const std::string_view rest = target.substr(scheme);
  const std::string_view authority = authorityOf(rest);
  std::string path;
  path.reserve(rest.size() - authority.size() + 1);
  if (rest.size() == authority.size() || rest[authority.size()] != '/') path += '/';
  path += rest.substr(authority.size());
  // Both views point into the request's own storage, which the changes below may reuse.
  const std::string host(authority);
  req.target(path);
  req.set(bhttp::field::host, host);
}

}  // namespace wslb::http
