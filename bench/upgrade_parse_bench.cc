// Cost of accepting a WebSocket upgrade request before any byte goes to a backend, on the path a
// downstream session takes (src/http/downstream_session.cc), without sockets:
//
// BM_ParseUpgradeRequest: Beast's request_parser over a typical browser upgrade request held in
//   one buffer (as one read delivers it), with the session's header and body limits.
// BM_ParseAndCheckUpgrade: the same, then the checks the session makes: Host present, route
//   match, hasUpgradeHeader(), isWebSocketUpgrade(), GET, isSupportedSecWebSocketVersion(),
//   isValidSecWebSocketKey().
// BM_UpgradeToUpstreamBytes: the same, then prepareUpstreamRequest() (hop-by-hop removal,
//   X-Forwarded-*, X-Request-Id) and serialising the request into the bytes written upstream.
// BM_ParseUpgradeRequestSplit: the parse alone with the request arriving in two reads (the head
//   cut in the middle of the headers), as a slow client or a small MSS delivers it.

#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/http/router.h"
#include "wslb/http/upstream_request.h"
#include "wslb/upstream/cluster_manager.h"
#include "wslb/websocket/handshake.h"

namespace wslb::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// What a desktop browser sends when a page opens `new WebSocket("ws://...")` (566 bytes).
constexpr std::string_view kBrowserUpgrade =
    "GET /chat?room=lobby HTTP/1.1\r\n"
    "Host: ws.example.com:10000\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: https://www.example.com\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

// The limits a ListenerContext applies by default.
constexpr uint32_t kHeaderLimit = 60 * 1024;
constexpr uint64_t kBodyLimit = 1024 * 1024;

// Parses kBrowserUpgrade fed in the given pieces; false if the parser did not finish cleanly.
bool parse(const std::vector<std::string_view>& pieces, Request& out) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  std::string held;  // bytes the parser did not consume yet, as the session's flat_buffer keeps
  boost::system::error_code ec;
  for (const std::string_view piece : pieces) {
    held.append(piece);
    const size_t used = parser.put(asio::buffer(held), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
    } else if (ec) {
      return false;
    }
    held.erase(0, used);
  }
  if (!parser.is_done()) return false;
  out = parser.release();
  return true;
}

// A router with one virtual host "*" and route prefix "/" to a one-endpoint cluster, with
// WebSocket upgrades enabled, as conf/demo.yaml has.
struct RouteFixture {
  RouteFixture() : clusters(makeClusters()), router(makeHcm(), clusters) {}

  static std::vector<config::Cluster> makeClusters() {
    config::Cluster cluster;
    cluster.name = "backend";
    config::Endpoint endpoint;
    endpoint.address.address = "127.0.0.1";
    endpoint.address.port = 9001;
    cluster.endpoints.push_back(endpoint);
    return {cluster};
  }
  static config::HttpConnectionManager makeHcm() {
    config::HttpConnectionManager hcm;
    hcm.stat_prefix = "bench";
    hcm.upgrade_configs.push_back(config::UpgradeConfig{"websocket", true});
    config::Route route;
    route.match.kind = config::RouteMatch::Kind::kPrefix;
    route.match.value = "/";
    route.cluster = "backend";
    route.timeout = config::Duration{0};
    route.timeout_set = true;
    config::VirtualHost vhost;
    vhost.name = "all";
    vhost.domains = {"*"};
    vhost.routes.push_back(route);
    hcm.virtual_hosts.push_back(vhost);
    return hcm;
  }

  upstream::ClusterManager clusters;
  Router router;
};

// The checks DownstreamSession::handleRequest() makes before proxying an upgrade.
bool acceptUpgrade(const Router& router, const Request& req) {
  if (req.version() >= 11 && req.find(bhttp::field::host) == req.end()) return false;
  const RouteEntry* route = router.match(req[bhttp::field::host], req.target());
  if (route == nullptr || !hasUpgradeHeader(req)) return false;
  if (!isWebSocketUpgrade(req) || !route->websocket_enabled) return false;
  if (req.method() != bhttp::verb::get) return false;
  if (!websocket::isSupportedSecWebSocketVersion(req[bhttp::field::sec_websocket_version])) {
    return false;
  }
  return websocket::isValidSecWebSocketKey(req[bhttp::field::sec_websocket_key]);
}

// The request as bytes on the upstream socket (what async_write would send).
std::string serialise(Request& req) {
  std::string out;
  bhttp::request_serializer<bhttp::string_body> serializer(req);
  boost::system::error_code ec;
  while (!ec && !serializer.is_done()) {
    serializer.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      const size_t size = asio::buffer_size(buffers);
      out += beast::buffers_to_string(buffers);
      serializer.consume(size);
    });
  }
  return out;
}

void setBytes(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kBrowserUpgrade.size()));
  state.counters["request_bytes"] = static_cast<double>(kBrowserUpgrade.size());
}

void BM_ParseUpgradeRequest(benchmark::State& state) {
  const std::vector<std::string_view> pieces{kBrowserUpgrade};
  for (auto _ : state) {
    Request req;
    if (!parse(pieces, req)) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(req);
  }
  setBytes(state);
}
BENCHMARK(BM_ParseUpgradeRequest);

void BM_ParseUpgradeRequestSplit(benchmark::State& state) {
  const size_t cut = kBrowserUpgrade.size() / 2;
  const std::vector<std::string_view> pieces{kBrowserUpgrade.substr(0, cut),
                                             kBrowserUpgrade.substr(cut)};
  for (auto _ : state) {
    Request req;
    if (!parse(pieces, req)) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(req);
  }
  setBytes(state);
}
BENCHMARK(BM_ParseUpgradeRequestSplit);

void BM_ParseAndCheckUpgrade(benchmark::State& state) {
  const RouteFixture fixture;
  const std::vector<std::string_view> pieces{kBrowserUpgrade};
  for (auto _ : state) {
    Request req;
    if (!parse(pieces, req) || !acceptUpgrade(fixture.router, req)) {
      state.SkipWithError("upgrade not accepted");
      break;
    }
    benchmark::DoNotOptimize(req);
  }
  setBytes(state);
}
BENCHMARK(BM_ParseAndCheckUpgrade);

void BM_UpgradeToUpstreamBytes(benchmark::State& state) {
  const RouteFixture fixture;
  const std::vector<std::string_view> pieces{kBrowserUpgrade};
  size_t upstream_bytes = 0;
  for (auto _ : state) {
    Request req;
    if (!parse(pieces, req) || !acceptUpgrade(fixture.router, req)) {
      state.SkipWithError("upgrade not accepted");
      break;
    }
    prepareUpstreamRequest(req, "127.0.0.2", true);
    const std::string bytes = serialise(req);
    upstream_bytes = bytes.size();
    benchmark::DoNotOptimize(bytes.data());
  }
  setBytes(state);
  state.counters["upstream_bytes"] = static_cast<double>(upstream_bytes);
}
BENCHMARK(BM_UpgradeToUpstreamBytes);

}  // namespace
}  // namespace wslb::http
