// The request path of a downstream connection up to the point where wslb proxies it: Beast's
// request parser with the limits DownstreamSession sets (header_limit from
// max_request_headers_bytes, body_limit from max_body_bytes, the whole buffer fed as async_read
// does), then the checks DownstreamSession::handleRequest() applies (Upgrade/Connection tokens,
// Host, route match, WebSocket version and key), the Sec-WebSocket-Accept computation and the
// rewrite for the backend (prepareUpstreamRequest), whose output must parse again as one
// complete request with the same method, target and body.

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wslb/config/loader.h"
#include "wslb/http/listener_context.h"
#include "wslb/http/request_validation.h"
#include "wslb/http/upstream_request.h"
#include "wslb/upstream/cluster_manager.h"
#include "wslb/websocket/handshake.h"

namespace {

namespace bhttp = boost::beast::http;
using wslb::http::Request;

// Virtual hosts of every match kind, some routes with WebSocket upgrades and some without.
constexpr std::string_view kConfig = R"(
static_resources:
  listeners:
  - name: fuzz
    address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: fuzz
          upgrade_configs: [{ upgrade_type: websocket }]
          route_config:
            virtual_hosts:
            - name: exact
              domains: ["api.example.com", "api.example.com:8080"]
              routes:
              - match: { path: "/ws" }
                route: { cluster: a, timeout: 0s }
              - match: { prefix: "/plain" }
                route: { cluster: b, upgrade_configs: [{ upgrade_type: websocket, enabled: false }] }
            - name: suffix
              domains: ["*.example.com"]
              routes: [{ match: { prefix: "/" }, route: { cluster: b } }]
            - name: prefix
              domains: ["example.*"]
              routes: [{ match: { prefix: "/chat" }, route: { cluster: a } }]
            - name: any
              domains: ["*"]
              routes: [{ match: { prefix: "/" }, route: { cluster: a } }]
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: a
    type: STATIC
    load_assignment:
      cluster_name: a
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9001 } } } }] }]
  - name: b
    type: STATIC
    load_assignment:
      cluster_name: b
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9002 } } } }] }]
)";

struct Listener {
  Listener() {
    auto loaded = wslb::config::loadBootstrapFromString(kConfig);
    if (!loaded.ok()) {
      for (const auto& e : loaded.errors)
        std::fprintf(stderr, "fuzz config: %s\n", e.str().c_str());
      std::abort();
    }
    bootstrap = std::move(*loaded.bootstrap);
    clusters = std::make_unique<wslb::upstream::ClusterManager>(bootstrap.clusters);
    context = std::make_unique<wslb::http::ListenerContext>(
        bootstrap.listeners.at(0).name, bootstrap.listeners.at(0).hcm, *clusters);
  }
  wslb::config::Bootstrap bootstrap;
  std::unique_ptr<wslb::upstream::ClusterManager> clusters;
  std::unique_ptr<wslb::http::ListenerContext> context;
};

const Listener& listener() {
  static const Listener instance;
  return instance;
}

// Parses `bytes` the way DownstreamSession::run() does. False when the request is incomplete or
// rejected (wslb answers 400/413/431 or closes).
bool parseRequest(std::string_view bytes, size_t header_limit, size_t body_limit, Request& out,
                  size_t* consumed = nullptr) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(header_limit));
  parser.body_limit(body_limit);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < bytes.size() && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (n == 0) break;  // the buffer holds no complete element: wait for more bytes
      continue;
    }
    if (ec) return false;
  }
  if (!parser.is_done()) {
    // The client closed: async_read reports end_of_stream or partial_message, or completes a
    // message whose body runs to the end of the connection.
    if (!parser.got_some()) return false;
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return false;
  }
  if (consumed != nullptr) *consumed = used;
  out = parser.release();
  return true;
}

std::string serialize(Request& req) {
  std::string out;
  bhttp::serializer<true, bhttp::string_body> sr(req);
  boost::beast::error_code ec;
  while (!sr.is_done()) {
    sr.next(ec, [&](boost::beast::error_code&, const auto& buffers) {
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        out.append(static_cast<const char*>(b.data()), b.size());
      }
      sr.consume(boost::beast::buffer_bytes(buffers));
    });
    WSLB_FUZZ_CHECK(!ec);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& ctx = *listener().context;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Request req;
  if (!parseRequest(bytes, ctx.max_request_headers_bytes, ctx.max_body_bytes, req)) return 0;
  // DownstreamSession::readRequestHead() and run(): the raw head is scanned, the parsed head
  // validated, and an absolute-form target's authority replaces Host, before any routing.
  const size_t head_end = bytes.find("\r\n\r\n");
  const std::string_view head =
      head_end == std::string_view::npos ? bytes : bytes.substr(0, head_end + 4);
  if (wslb::http::scanRequestHead(head)) return 0;
  if (wslb::http::validateRequestHead(req, ctx.max_headers_count)) return 0;
  wslb::http::useAbsoluteFormAuthority(req);

  // DownstreamSession::handleRequest().
  const bool keep_alive = req.keep_alive();
  (void)keep_alive;
  const bool upgrade = wslb::http::hasUpgradeHeader(req);
  const bool websocket = wslb::http::isWebSocketUpgrade(req);
  WSLB_FUZZ_CHECK(!websocket || upgrade);
  if (req.version() >= 11 && req.find(bhttp::field::host) == req.end()) return 0;
  const wslb::http::RouteEntry* route = ctx.router.match(req[bhttp::field::host], req.target());
  if (route == nullptr) return 0;
  WSLB_FUZZ_CHECK(route->cluster != nullptr);
  bool proxied = true;
  if (upgrade) {
    const auto version = req[bhttp::field::sec_websocket_version];
    const auto key = req[bhttp::field::sec_websocket_key];
    if (!websocket || !route->websocket_enabled || req.method() != bhttp::verb::get ||
        !wslb::websocket::isSupportedSecWebSocketVersion(version) ||
        !wslb::websocket::isValidSecWebSocketKey(key)) {
      proxied = false;
    } else {
      WSLB_FUZZ_CHECK(wslb::websocket::trimOws(version) == "13");
      const auto trimmed = wslb::websocket::trimOws(key);
      WSLB_FUZZ_CHECK(trimmed.size() == 24 && trimmed.ends_with("=="));
      const std::string accept = wslb::websocket::computeSecWebSocketAccept(key);
      WSLB_FUZZ_CHECK(accept.size() == wslb::websocket::kSecWebSocketAcceptSize);
    }
  }
  if (!proxied) return 0;

  // DownstreamSession::proxy(): the request as the backend receives it.
  const auto method = req.method_string();
  const std::string method_copy(method);
  const std::string target(req.target());
  const std::string body = req.body();
  wslb::http::prepareUpstreamRequest(req, "127.0.0.1", upgrade);
  WSLB_FUZZ_CHECK(req.find(bhttp::field::connection) != req.end());
  WSLB_FUZZ_CHECK(!upgrade || wslb::http::hasUpgradeHeader(req));
  WSLB_FUZZ_CHECK(!websocket || wslb::http::isWebSocketUpgrade(req));
  const std::string wire = serialize(req);

  // The backend must read exactly one request, the same one, with nothing left over (anything
  // else would let a client smuggle a second request past the router).
  Request again;
  size_t consumed = 0;
  WSLB_FUZZ_CHECK(parseRequest(wire, wire.size() + 1, wire.size() + 1, again, &consumed));
  WSLB_FUZZ_CHECK(consumed == wire.size());
  WSLB_FUZZ_CHECK(again.method_string() == method_copy);
  WSLB_FUZZ_CHECK(again.target() == target);
  WSLB_FUZZ_CHECK(again.body() == body);
  WSLB_FUZZ_CHECK(wslb::http::hasUpgradeHeader(again) == upgrade);
  return 0;
}
