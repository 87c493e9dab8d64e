// Downstream HTTP/1.1 hardening against the real server: strict parsing (request smuggling
// vectors), the header size and count limits, request_headers_timeout, idle_timeout and
// max_connection_duration, and the Connection header. Every refused request must get its exact
// status, end its connection, and never reach a backend.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace wslb::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One client connection driven with raw bytes.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  int nativeHandle() { return socket_.native_handle(); }

  void send(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    send_failed_ = send_failed_ || static_cast<bool>(ec);
  }

  /// Reads one response (bounded: 10 s); status 0 if none came.
  HttpResult readResponse() {
    HttpResult result;
    bhttp::response_parser<bhttp::string_body> parser;
    boost::system::error_code ec = asio::error::timed_out;
    bhttp::async_read(socket_, buffer_, parser,
                      [&ec](const boost::system::error_code& e, size_t) { ec = e; });
    runFor(10s);
    if (ec && !parser.is_header_done()) return result;
    const auto& res = parser.get();
    result.status = res.result_int();
    for (const auto& f : res) result.headers[lower(std::string(f.name_string()))] = f.value();
    result.body = res.body();
    result.ok = !ec;
    return result;
  }

  /// Whether the server ends the connection (EOF or reset) within `timeout`; bytes that still
  /// arrive before that are discarded.
  bool closedWithin(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char scratch[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      boost::system::error_code ec = asio::error::timed_out;
      socket_.async_read_some(asio::buffer(scratch),
                              [&ec](const boost::system::error_code& e, size_t) { ec = e; });
      runFor(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
      if (ec) return false;  // timed out (or cancelled): still open
    }
    return false;
  }

 private:
  /// Runs the pending operation for at most `timeout`; cancels it if it has not completed.
  void runFor(std::chrono::milliseconds timeout) {
    io_.restart();
    io_.run_for(std::max(timeout, std::chrono::milliseconds(1)));
    if (!io_.stopped()) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      io_.restart();
      io_.run_for(1s);
    }
  }

  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  bool send_failed_ = false;
};

/// A backend that answers every request with 200 and, as the body, the request head exactly as
/// it arrived (request line and fields), then closes. Shows what wslb forwards.
class HeaderEchoBackend {
 public:
  HeaderEchoBackend() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~HeaderEchoBackend() {
    stopping_ = true;
    // Wakes the blocking accept with one connection of our own.
    asio::io_context io;
    tcp::socket wake(io);
    boost::system::error_code ec;
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }

 private:
  void serve() {
    while (!stopping_) {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      beast::flat_buffer buffer;
      bhttp::request_parser<bhttp::string_body> parser;
      ec = asio::error::timed_out;
      bhttp::async_read(s, buffer, parser,
                        [&ec](const boost::system::error_code& e, size_t) { ec = e; });
      io_.restart();
      io_.run_for(5s);  // bounded: a request that never completes is dropped
      if (ec) continue;
      ++requests_;
      const auto& req = parser.get();
      std::string head;
      head.append(req.method_string()).append(" ").append(req.target()).append("\n");
      for (const auto& f : req) {
        head.append(f.name_string()).append(": ").append(f.value()).append("\n");
      }
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
      res.set(bhttp::field::content_type, "text/plain");
      res.keep_alive(false);
      res.body() = head;
      res.prepare_payload();
      bhttp::write(s, res, ec);
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

/// makeConfig() with extra keys in the HttpConnectionManager (YAML lines at its indentation).
std::string configWithHcm(const ConfigSpec& spec, const std::string& hcm_lines) {
  std::string yaml = makeConfig(spec);
  const std::string anchor = "          stat_prefix: ingress_ws\n";
  const size_t at = yaml.find(anchor);
  EXPECT_NE(at, std::string::npos);
  std::string extra;
  size_t pos = 0;
  while (pos < hcm_lines.size()) {
    size_t eol = hcm_lines.find('\n', pos);
    if (eol == std::string::npos) eol = hcm_lines.size();
    extra += "          ";
    extra += hcm_lines.substr(pos, eol - pos);
    extra += '\n';
    pos = eol + 1;
  }
  yaml.insert(at + anchor.size(), extra);
  return yaml;
}

const std::string kActive = "http.ingress_ws.downstream_cx_active";
const std::string kUpstreamActive = "cluster.backend.upstream_cx_active";
const std::string kUpstreamTotal = "cluster.backend.upstream_cx_total";

class HttpHardening : public ::testing::Test {
 protected:
  void start(const std::string& hcm_lines = "") {
    ConfigSpec spec;
    spec.ports = {backend_.port()};
    lb_ = std::make_unique<InProcessWslb>(configWithHcm(spec, hcm_lines));
  }

  /// Sends `raw` on a new connection; expects `status` and the connection closed after it.
  void expectRefused(const std::string& raw, unsigned status, const std::string& what) {
    SCOPED_TRACE(what);
    RawClient client(lb_->port());
    client.send(raw);
    const HttpResult r = client.readResponse();
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.headers.count("connection") ? lower(r.headers.at("connection")) : "", "close");
    EXPECT_TRUE(client.closedWithin(3s));
  }

  void expectNothingLeaked() {
    EXPECT_TRUE(waitFor([&] { return lb_->stat(kActive) == 0; }, 5s)) << lb_->stat(kActive);
    EXPECT_EQ(lb_->stat(kUpstreamActive), 0u);
  }

  HeaderEchoBackend backend_;
  std::unique_ptr<InProcessWslb> lb_;
};

const std::string kPost = "POST / HTTP/1.1\r\nHost: test\r\n";

TEST_F(HttpHardening, FramingAmbiguitiesAreRefused) {
  start();
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"CL then TE", kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"TE then CL", kPost + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
      {"duplicate CL, equal", kPost + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx"},
      {"duplicate CL, different", kPost + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy"},
      {"CL list", kPost + "Content-Length: 1, 1\r\n\r\nx"},
      {"CL not a number", kPost + "Content-Length: abc\r\n\r\nx"},
      {"CL with sign", kPost + "Content-Length: +1\r\n\r\nx"},
      {"CL empty", kPost + "Content-Length: \r\n\r\nx"},
      {"TE gzip", kPost + "Transfer-Encoding: gzip\r\n\r\nx"},
      {"TE chunked not final", kPost + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"},
      {"TE gzip, chunked", kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
      {"TE chunked twice", kPost + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"},
      {"TE two lines", kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "0\r\n\r\n"},
      {"TE identity", kPost + "Transfer-Encoding: identity\r\n\r\n"},
      {"TE in HTTP/1.0",
       "POST / HTTP/1.0\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n"},
  };
  for (const auto& [what, raw] : vectors) expectRefused(raw, 400, what);
  EXPECT_EQ(backend_.requests(), 0u);
  EXPECT_EQ(lb_->stat(kUpstreamTotal), 0u);
  EXPECT_EQ(lb_->stat("http.ingress_ws.downstream_rq_4xx"), vectors.size());
  expectNothingLeaked();
}

TEST_F(HttpHardening, MalformedLinesAndBytesAreRefused) {
  start();
  const std::string get = "GET / HTTP/1.1\r\nHost: test\r\n";
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"obs-fold SP", get + "X-A: b\r\n c\r\n\r\n"},
      {"obs-fold HT", get + "X-A: b\r\n\tc\r\n\r\n"},
      {"bare CR", get + "X-A: b\rX-B: c\r\n\r\n"},
      {"bare CR in value", get + "X-A: b\rc\r\n\r\n"},
      {"bare LF everywhere", "GET / HTTP/1.1\nHost: test\n\n"},
      {"bare LF in one line", "GET / HTTP/1.1\r\nHost: test\nX-A: b\r\n\r\n"},
      {"space before colon", "GET / HTTP/1.1\r\nHost : test\r\n\r\n"},
      {"name with (", get + "X(y: z\r\n\r\n"},
      {"name with @", get + "X@y: z\r\n\r\n"},
      {"name with 8-bit byte", get + "X\xc3\xa9: z\r\n\r\n"},
      {"empty name", get + ": z\r\n\r\n"},
      {"value with CTL", get + "X-A: a\x01z\r\n\r\n"},
      {"value with DEL", get + "X-A: a\x7fz\r\n\r\n"},
      {"NUL in value", get + std::string("X-A: a\0z\r\n\r\n", 12)},
      {"NUL in target", std::string("GET /a\0b HTTP/1.1\r\nHost: test\r\n\r\n", 33)},
      {"NUL in name", get + std::string("X\0A: z\r\n\r\n", 10)},
      {"two Host lines", "GET / HTTP/1.1\r\nHost: test\r\nHost: other\r\n\r\n"},
      {"invalid Host", "GET / HTTP/1.1\r\nHost: te st/x\r\n\r\n"},
      {"missing Host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n"},
  };
  for (const auto& [what, raw] : vectors) expectRefused(raw, 400, what);
  EXPECT_EQ(backend_.requests(), 0u);
  EXPECT_EQ(lb_->stat(kUpstreamTotal), 0u);
  expectNothingLeaked();
}

TEST_F(HttpHardening, RequestTargetsAndVersions) {
  start();
  expectRefused("GET * HTTP/1.1\r\nHost: test\r\n\r\n", 400, "asterisk-form with GET");
  expectRefused("GET test:80 HTTP/1.1\r\nHost: test\r\n\r\n", 400, "authority-form with GET");
  expectRefused("GET /a#frag HTTP/1.1\r\nHost: test\r\n\r\n", 400, "fragment");
  expectRefused("GET http://u@other/ HTTP/1.1\r\nHost: test\r\n\r\n", 400, "userinfo");
  expectRefused("GET ftp://other/ HTTP/1.1\r\nHost: test\r\n\r\n", 400, "other scheme");
  expectRefused("GET / HTTP/2.0\r\nHost: test\r\n\r\n", 400, "HTTP/2.0");
  expectRefused("GET / HTTP/1.2\r\nHost: test\r\n\r\n", 400, "HTTP/1.2");
  expectRefused("GET / HTTP/0.9\r\nHost: test\r\n\r\n", 400, "HTTP/0.9");
  expectRefused("GET / HTTP/10.1\r\nHost: test\r\n\r\n", 400, "HTTP/10.1");
  {
    SCOPED_TRACE("CONNECT");
    RawClient client(lb_->port());
    client.send("CONNECT other:443 HTTP/1.1\r\nHost: other:443\r\n\r\n");
    HttpResult r = client.readResponse();
    EXPECT_EQ(r.status, 405u);
    EXPECT_NE(r.headers["allow"].find("GET"), std::string::npos);
    EXPECT_EQ(r.headers["allow"].find("CONNECT"), std::string::npos);
    EXPECT_TRUE(client.closedWithin(3s));
  }
  EXPECT_EQ(backend_.requests(), 0u);
  {
    // asterisk-form with OPTIONS is a valid request; no route matches "*" (404, kept open).
    RawClient client(lb_->port());
    client.send("OPTIONS * HTTP/1.1\r\nHost: test\r\n\r\n");
    EXPECT_EQ(client.readResponse().status, 404u);
    EXPECT_FALSE(client.closedWithin(200ms));
  }

  // absolute-form: the target's authority wins over Host (RFC 9112 §3.2.2); the backend gets
  // origin-form.
  RawClient client(lb_->port());
  client.send(
      "GET http://Other.example:8080/p/q?x=1 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  HttpResult r = client.readResponse();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body.substr(0, r.body.find('\n')), "GET /p/q?x=1");
  EXPECT_NE(r.body.find("\nHost: Other.example:8080\n"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("Host: test"), std::string::npos) << r.body;
  // HTTP/1.0 is served.
  r = rawRequest(lb_->port(), "GET /old HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(backend_.requests(), 2u);
  expectNothingLeaked();
}

TEST_F(HttpHardening, UpgradeRefusalsCountAsBadRequest) {
  start();
  const std::string post = upgradeRequest("/");
  std::string as_post = post;
  as_post.replace(0, 3, "POST");
  expectRefused(as_post, 400, "upgrade with POST");
  std::string folded = upgradeRequest("/", "X-A: b\r\n c\r\n");
  expectRefused(folded, 400, "upgrade with obs-fold");
  std::string smuggled = upgradeRequest("/", "Content-Length: 1\r\nContent-Length: 1\r\n");
  expectRefused(smuggled, 400, "upgrade with two Content-Length");
  EXPECT_EQ(lb_->stat("http.ingress_ws.websocket.upgrades.bad_request"), 3u);
  EXPECT_EQ(backend_.requests(), 0u);
  EXPECT_EQ(lb_->stat(kUpstreamTotal), 0u);
  expectNothingLeaked();
}

TEST_F(HttpHardening, HeaderSizeAndCountLimits) {
  start("max_request_headers_kb: 2\ncommon_http_protocol_options: {max_headers_count: 10}");
  expectRefused("GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + std::string(3000, 'a') + "\r\n\r\n",
                431, "2 KiB head limit");
  std::string fields = "Host: test\r\n";
  for (int i = 0; i < 9; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  // Ten fields pass; eleven get 431.
  HttpResult r =
      rawRequest(lb_->port(), "GET / HTTP/1.1\r\n" + fields + "Connection: close\r\n\r\n");
  EXPECT_EQ(r.status, 431u) << "Connection is the eleventh field";
  r = rawRequest(lb_->port(), "GET / HTTP/1.0\r\n" + fields + "\r\n");
  EXPECT_EQ(r.status, 200u);
  expectRefused("GET / HTTP/1.1\r\n" + fields + "X-10: v\r\n\r\n", 431, "eleven fields");
  // Just under the size limit is fine.
  r = rawRequest(lb_->port(), "GET / HTTP/1.0\r\nX-Big: " + std::string(1800, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(backend_.requests(), 2u);
  expectNothingLeaked();
}

TEST_F(HttpHardening, ConnectionHeaderTokens) {
  start();
  // Fields named in Connection (any line, any case, with whitespace) do not reach the backend;
  // `close` among other tokens still closes after the response.
  RawClient client(lb_->port());
  client.send(
      "GET /h HTTP/1.1\r\nHost: test\r\nConnection: X-Secret ,\tKEEP-ALIVE\r\n"
      "Connection: x-other, Close\r\nX-Secret: s\r\nX-Other: o\r\nX-Kept: k\r\n"
      "Keep-Alive: timeout=5\r\n\r\n");
  HttpResult r = client.readResponse();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(lower(r.headers["connection"]), "close");
  EXPECT_EQ(r.body.find("X-Secret"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("X-Other"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("Keep-Alive"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("X-Kept: k"), std::string::npos) << r.body;
  EXPECT_TRUE(client.closedWithin(3s));

  // Host and framing fields named in Connection are still forwarded.
  RawClient post(lb_->port());
  post.send(
      "POST /p HTTP/1.1\r\nHost: test\r\nConnection: host, content-length\r\n"
      "Content-Length: 3\r\n\r\nabc");
  const HttpResult pr = post.readResponse();
  EXPECT_EQ(pr.status, 200u);
  EXPECT_NE(pr.body.find("Host: test"), std::string::npos) << pr.body;
  EXPECT_NE(pr.body.find("Content-Length: 3"), std::string::npos) << pr.body;

  // Without close the connection stays open for the next request.
  RawClient keep(lb_->port());
  keep.send("GET /1 HTTP/1.1\r\nHost: test\r\nConnection: x-a\r\n\r\n");
  EXPECT_EQ(keep.readResponse().status, 200u);
  keep.send("GET /2 HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(keep.readResponse().status, 200u);
  EXPECT_FALSE(keep.closedWithin(300ms));
}

TEST_F(HttpHardening, SlowlorisIsCutOffByRequestHeadersTimeout) {
  start("request_headers_timeout: 0.3s");
  RawClient client(lb_->port());
  const auto started = std::chrono::steady_clock::now();
  client.send("GET / HTTP/1.1\r\nHost: test\r\n");
  // Trickles one header byte every 50 ms for up to 3 s: the head never completes. The thread
  // writes to the descriptor itself: the socket object is busy with the read below, and an
  // Asio socket may not be used from two threads at once.
  std::atomic<bool> stop{false};
  const int fd = client.nativeHandle();
  std::thread trickle([&stop, fd] {
    for (int i = 0; i < 60 && !stop; ++i) {
      if (::send(fd, "x", 1, MSG_NOSIGNAL) != 1) break;
      std::this_thread::sleep_for(50ms);
    }
  });
  const HttpResult r = client.readResponse();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  stop = true;
  trickle.join();
  EXPECT_EQ(r.status, 408u);
  EXPECT_LT(elapsed, 2500ms);
  EXPECT_GE(elapsed, 250ms);
  EXPECT_TRUE(client.closedWithin(3s));
  EXPECT_EQ(lb_->stat("http.ingress_ws.downstream_rq_header_timeout"), 1u);
  EXPECT_EQ(backend_.requests(), 0u);
  expectNothingLeaked();
}

TEST_F(HttpHardening, RequestHeadersTimeoutZeroDisablesIt) {
  start("request_headers_timeout: 0s\ncommon_http_protocol_options: {idle_timeout: 0s}");
  RawClient client(lb_->port());
  client.send("GET / HTTP/1.1\r\nHost: te");
  EXPECT_FALSE(client.closedWithin(800ms));
  client.send("st\r\n\r\n");
  EXPECT_EQ(client.readResponse().status, 200u);
  EXPECT_EQ(lb_->stat("http.ingress_ws.downstream_rq_header_timeout"), 0u);
}

TEST_F(HttpHardening, IdleKeepAliveConnectionsAreClosed) {
  start("common_http_protocol_options: {idle_timeout: 0.3s}");
  // A connection that never sends anything.
  RawClient silent(lb_->port());
  EXPECT_TRUE(silent.closedWithin(3s));
  // One that goes quiet after a request.
  RawClient client(lb_->port());
  client.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(client.readResponse().status, 200u);
  const auto quiet_since = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closedWithin(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - quiet_since, 250ms);
  EXPECT_TRUE(
      waitFor([&] { return lb_->stat("http.ingress_ws.downstream_cx_idle_timeout") == 2; }, 3s));
  expectNothingLeaked();
}

TEST_F(HttpHardening, IdleTimeoutDoesNotApplyToWebSockets) {
  auto echo = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(echo);
  InProcessWslb lb(configWithHcm(spec, "common_http_protocol_options: {idle_timeout: 0.2s}"));
  WsClient ws(lb.port());
  std::this_thread::sleep_for(800ms);
  ws.sendText("still here");
  EXPECT_EQ(ws.receive(), "still here");
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_idle_timeout"), 0u);
  EXPECT_EQ(ws.close(1000), 1000);
}

TEST_F(HttpHardening, MaxConnectionDurationEndsKeepAliveConnections) {
  start("common_http_protocol_options: {max_connection_duration: 0.5s}");
  // Idle when the duration passes: closed.
  RawClient idle(lb_->port());
  idle.send("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
  HttpResult r = idle.readResponse();
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(lower(r.headers["connection"]), "close");
  EXPECT_TRUE(idle.closedWithin(3s));

  // A request in flight when it passes: answered with `connection: close`, then closed.
  RawClient busy(lb_->port());
  busy.send("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nab");
  std::this_thread::sleep_for(700ms);
  busy.send("cd");
  r = busy.readResponse();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(lower(r.headers["connection"]), "close");
  EXPECT_TRUE(busy.closedWithin(3s));
  EXPECT_TRUE(waitFor(
      [&] { return lb_->stat("http.ingress_ws.downstream_cx_max_duration_reached") == 2; }, 3s));
  expectNothingLeaked();
}

TEST_F(HttpHardening, MaxConnectionDurationClosesWebSocketsWith1001) {
  auto echo = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(echo);
  InProcessWslb lb(configWithHcm(spec,
                                 "common_http_protocol_options: {max_connection_duration: "
                                 "0.5s, idle_timeout: 0.1s}"));
  WsClient ws(lb.port());
  ws.sendText("before");
  EXPECT_EQ(ws.receive(), "before");
  const auto started = std::chrono::steady_clock::now();
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  ws.stream().read(buffer, ec);  // the relay's Close 1001 (the socket timeout bounds the read)
  EXPECT_EQ(ec, beast::websocket::error::closed) << ec.message();
  EXPECT_EQ(ws.stream().reason().code, 1001);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_TRUE(waitFor(
      [&] { return lb.stat("http.ingress_ws.downstream_cx_max_duration_reached") == 1; }, 3s));
  EXPECT_TRUE(waitFor([&] { return lb.stat(kActive) == 0; }, 5s));
  EXPECT_TRUE(waitFor([&] { return lb.stat(kUpstreamActive) == 0; }, 5s));
}

TEST_F(HttpHardening, WebSocketThatEndsFirstLeavesNothingBehind) {
  auto echo = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(echo);
  InProcessWslb lb(
      configWithHcm(spec, "common_http_protocol_options: {max_connection_duration: 0.6s}"));
  {
    WsClient ws(lb.port());
    ws.sendText("x");
    EXPECT_EQ(ws.receive(), "x");
    EXPECT_EQ(ws.close(1000), 1000);
  }
  EXPECT_TRUE(waitFor([&] { return lb.stat(kActive) == 0; }, 5s));
  std::this_thread::sleep_for(900ms);  // past the duration: the cancelled timer does nothing
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_max_duration_reached"), 0u);
  EXPECT_EQ(lb.stat(kUpstreamActive), 0u);
}

}  // namespace
}  // namespace wslb::test
