#include "wslb/echo/echo_server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace wslb::echo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kIoTimeout = std::chrono::seconds(20);
constexpr auto kPollTimeout = std::chrono::seconds(10);

// Runs `ioc` until the operations started just before finish; on timeout closes `socket`, drains
// the aborted handlers and returns false.
bool runWithTimeout(asio::io_context& ioc, tcp::socket& socket) {
  ioc.restart();
  ioc.run_for(kIoTimeout);
  if (ioc.stopped()) {
    return true;
  }
  error_code ignored;
  socket.close(ignored);
  ioc.restart();
  ioc.run_for(std::chrono::seconds(1));
  return false;
}

// Polls `done` until it holds or kPollTimeout passes. Server-side counters change on the
// server's thread, so there is no event to wait on from here.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kPollTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// A WebSocket client on its own io_context; every call is bounded by kIoTimeout.
class WsClient {
 public:
  error_code connect(uint16_t port, const std::string& offered_protocols = "",
                     const std::string& target = "/") {
    error_code result = asio::error::timed_out;
    ws_.read_message_max(64u * 1024 * 1024);
    if (!offered_protocols.empty()) {
      ws_.set_option(websocket::stream_base::decorator([offered_protocols](auto& req) {
        req.set(http::field::sec_websocket_protocol, offered_protocols);
      }));
    }
    socket().async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                           [&](error_code ec) {
                             if (ec) {
                               result = ec;
                               return;
                             }
                             ws_.async_handshake(response_, "127.0.0.1", target,
                                                 [&](error_code hec) { result = hec; });
                           });
    if (!runWithTimeout(ioc_, socket())) {
      return asio::error::timed_out;
    }
    return result;
  }

  error_code write(const std::string& payload, bool text) {
    ws_.text(text);
    return run([&](auto handler) { ws_.async_write(asio::buffer(payload), handler); });
  }

  error_code writeFrame(const std::string& payload, bool fin) {
    return run([&](auto handler) { ws_.async_write_some(fin, asio::buffer(payload), handler); });
  }

  error_code read(std::string& payload, bool& text) {
    beast::flat_buffer buffer;
    const error_code ec = run([&](auto handler) { ws_.async_read(buffer, handler); });
    payload = beast::buffers_to_string(buffer.data());
    text = ws_.got_text();
    return ec;
  }

  error_code ping(const std::string& payload) {
    return run([&](auto handler) { ws_.async_ping(websocket::ping_data(payload), handler); });
  }

  error_code close(uint16_t code) {
    return run([&](auto handler) { ws_.async_close(websocket::close_reason(code), handler); });
  }

  // Sends RST instead of FIN.
  void reset() {
    error_code ignored;
    socket().set_option(asio::socket_base::linger(true, 0), ignored);
    socket().close(ignored);
  }

  websocket::stream<tcp::socket>& ws() { return ws_; }
  const websocket::response_type& response() const { return response_; }

 private:
  tcp::socket& socket() { return ws_.next_layer(); }

  template <class Initiate>
  error_code run(Initiate&& initiate) {
    error_code result = asio::error::timed_out;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    if (!runWithTimeout(ioc_, socket())) {
      return asio::error::timed_out;
    }
    return result;
  }

  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_{ioc_};
  websocket::response_type response_;
};

// Sends `raw` as-is over a new connection and reads `count` responses.
std::vector<http::response<http::string_body>> rawHttp(uint16_t port, const std::string& raw,
                                                       std::size_t count = 1) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::flat_buffer buffer;
  std::vector<http::response<http::string_body>> responses(count);
  std::size_t received = 0;
  std::function<void()> readNext = [&] {
    if (received == count) {
      return;
    }
    http::async_read(socket, buffer, responses[received], [&](error_code ec, std::size_t) {
      if (!ec) {
        ++received;
        readNext();
      }
    });
  };
  socket.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), [&](error_code ec) {
    if (ec) {
      return;
    }
    asio::async_write(socket, asio::buffer(raw), [&](error_code wec, std::size_t) {
      if (!wec) {
        readNext();
      }
    });
  });
  runWithTimeout(ioc, socket);
  responses.resize(received);
  return responses;
}

std::string get(uint16_t port, const std::string& target) {
  auto responses = rawHttp(port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  return responses.empty() ? std::string{} : responses.front().body();
}

struct Stats {
  std::string id;
  uint64_t active = 0;
  uint64_t total = 0;
};

std::optional<Stats> fetchStats(uint16_t port) {
  const std::string body = get(port, "/stats");
  static const std::regex kStats(R"re(^\{"id":"([^"]*)","active":(\d+),"total":(\d+)\}$)re");
  std::smatch m;
  if (!std::regex_match(body, m, kStats)) {
    return std::nullopt;
  }
  return Stats{m[1].str(), std::stoull(m[2].str()), std::stoull(m[3].str())};
}

EchoServer::Options withId(std::string id) {
  EchoServer::Options options;
  options.id = std::move(id);
  return options;
}

class EchoServerTest : public ::testing::Test {
 protected:
  void startServer(EchoServer::Options options) {
    server_ = std::make_unique<EchoServer>(std::move(options));
    server_->start();
    ASSERT_NE(server_->port(), 0);
  }
  uint16_t port() const { return server_->port(); }

  std::unique_ptr<EchoServer> server_;
};

TEST_F(EchoServerTest, EchoesTextMessage) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  ASSERT_FALSE(client.write("hello, echo", true));
  std::string echoed;
  bool text = false;
  ASSERT_FALSE(client.read(echoed, text));
  EXPECT_EQ(echoed, "hello, echo");
  EXPECT_TRUE(text);
}

TEST_F(EchoServerTest, EchoesBinaryMessage) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  const std::string payload("\x00\x01\xff\xfe binary\x00", 12);
  ASSERT_FALSE(client.write(payload, false));
  std::string echoed;
  bool text = true;
  ASSERT_FALSE(client.read(echoed, text));
  EXPECT_EQ(echoed, payload);
  EXPECT_FALSE(text);
}

TEST_F(EchoServerTest, EchoesLargeMessagesUpTo16MiB) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  for (const std::size_t size : {std::size_t{1} << 20, std::size_t{16} << 20}) {
    const std::string payload = pattern(size);
    ASSERT_FALSE(client.write(payload, false));
    std::string echoed;
    bool text = true;
    ASSERT_FALSE(client.read(echoed, text));
    EXPECT_EQ(echoed.size(), size);
    EXPECT_TRUE(echoed == payload);
    EXPECT_FALSE(text);
  }
}

TEST_F(EchoServerTest, ClosesWith1009AboveMessageLimit) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  ASSERT_FALSE(client.write(pattern((std::size_t{16} << 20) + 1), false));
  std::string echoed;
  bool text = false;
  EXPECT_EQ(client.read(echoed, text), websocket::error::closed);
  EXPECT_EQ(client.ws().reason().code, websocket::close_code::too_big);
  EXPECT_TRUE(eventually([&] { return server_->active() == 0; }));
}

TEST_F(EchoServerTest, EchoesFragmentedMessageAsOneMessage) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  client.ws().text(true);
  ASSERT_FALSE(client.writeFrame("frag", false));
  ASSERT_FALSE(client.writeFrame("mented ", false));
  ASSERT_FALSE(client.writeFrame("message", true));
  ASSERT_FALSE(client.write("next", true));

  std::string echoed;
  bool text = false;
  ASSERT_FALSE(client.read(echoed, text));
  EXPECT_EQ(echoed, "fragmented message");
  EXPECT_TRUE(text);
  ASSERT_FALSE(client.read(echoed, text));
  EXPECT_EQ(echoed, "next");
}

TEST_F(EchoServerTest, AnswersPingWithPong) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  std::vector<std::string> pongs;
  client.ws().control_callback([&](websocket::frame_type kind, std::string_view payload) {
    if (kind == websocket::frame_type::pong) {
      pongs.emplace_back(payload);
    }
  });
  ASSERT_FALSE(client.ping("probe"));
  ASSERT_FALSE(client.write("after ping", true));
  std::string echoed;
  bool text = false;
  ASSERT_FALSE(client.read(echoed, text));
  EXPECT_EQ(echoed, "after ping");
  EXPECT_EQ(pongs, std::vector<std::string>{"probe"});
}

TEST_F(EchoServerTest, AnswersCloseWithSameCode) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  ASSERT_TRUE(eventually([&] { return server_->active() == 1; }));
  ASSERT_FALSE(client.close(4001));
  EXPECT_EQ(client.ws().reason().code, 4001);
  EXPECT_TRUE(eventually([&] { return server_->active() == 0; }));
  EXPECT_EQ(server_->total(), 1u);
}

TEST_F(EchoServerTest, UpgradeResponseCarriesBackendId) {
  startServer(withId("pod-7"));
  WsClient client;
  ASSERT_FALSE(client.connect(port(), "", "/some/path?q=1"));
  EXPECT_EQ(client.response().result(), http::status::switching_protocols);
  EXPECT_EQ(client.response()["X-Backend-Id"], "pod-7");
  EXPECT_EQ(client.response().count(http::field::sec_websocket_protocol), 0u);
}

TEST_F(EchoServerTest, DefaultIdIsEchoDashPort) {
  startServer(EchoServer::Options{});
  EXPECT_EQ(server_->id(), "echo-" + std::to_string(port()));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  EXPECT_EQ(client.response()["X-Backend-Id"], server_->id());
}

TEST_F(EchoServerTest, SelectsConfiguredSubprotocolOnlyWhenOffered) {
  auto options = withId("pod-1");
  options.subprotocol = "chat.v2";
  startServer(options);
  {
    WsClient client;
    ASSERT_FALSE(client.connect(port(), "chat.v1, chat.v2"));
    EXPECT_EQ(client.response()[http::field::sec_websocket_protocol], "chat.v2");
  }
  {
    WsClient client;
    ASSERT_FALSE(client.connect(port(), "chat.v1"));
    EXPECT_EQ(client.response().count(http::field::sec_websocket_protocol), 0u);
  }
  {
    WsClient client;
    ASSERT_FALSE(client.connect(port()));
    EXPECT_EQ(client.response().count(http::field::sec_websocket_protocol), 0u);
  }
}

TEST_F(EchoServerTest, AnswersUpgradeWithRejectStatus) {
  auto options = withId("pod-r");
  options.reject_status = 503;
  startServer(options);
  const std::string upgrade =
      "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  auto responses = rawHttp(port(), upgrade);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].result_int(), 503u);
  EXPECT_EQ(responses[0].body(), "rejected by pod-r");
  EXPECT_EQ(responses[0][http::field::content_length], "17");
  EXPECT_EQ(responses[0]["X-Backend-Id"], "pod-r");

  WsClient client;
  EXPECT_EQ(client.connect(port()), websocket::error::upgrade_declined);
  EXPECT_EQ(client.response().result_int(), 503u);
  EXPECT_EQ(server_->total(), 0u);
  EXPECT_EQ(server_->active(), 0u);
}

TEST_F(EchoServerTest, StatsFollowSessionsIncludingAbruptReset) {
  startServer(withId("pod-1"));
  auto initial = fetchStats(port());
  ASSERT_TRUE(initial);
  EXPECT_EQ(initial->id, "pod-1");
  EXPECT_EQ(initial->active, 0u);
  EXPECT_EQ(initial->total, 0u);

  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<WsClient>());
    ASSERT_FALSE(clients.back()->connect(port()));
  }
  ASSERT_TRUE(eventually([&] {
    auto s = fetchStats(port());
    return s && s->active == 3 && s->total == 3;
  }));

  ASSERT_FALSE(clients[0]->close(1000));
  clients[1]->reset();
  ASSERT_TRUE(eventually([&] {
    auto s = fetchStats(port());
    return s && s->active == 1 && s->total == 3;
  }));
  EXPECT_EQ(server_->active(), 1u);

  clients[2]->reset();
  ASSERT_TRUE(eventually([&] {
    auto s = fetchStats(port());
    return s && s->active == 0 && s->total == 3;
  }));
  EXPECT_EQ(server_->active(), 0u);
  EXPECT_EQ(server_->total(), 3u);
}

TEST_F(EchoServerTest, ResetDuringLargeEchoIsHarmless) {
  startServer(withId("pod-1"));
  for (int i = 0; i < 5; ++i) {
    WsClient client;
    ASSERT_FALSE(client.connect(port()));
    ASSERT_FALSE(client.write(pattern(std::size_t{4} << 20), false));
    client.reset();
  }
  EXPECT_TRUE(eventually([&] { return server_->active() == 0; }));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  ASSERT_FALSE(client.write("still alive", true));
  std::string echoed;
  bool text = false;
  ASSERT_FALSE(client.read(echoed, text));
  EXPECT_EQ(echoed, "still alive");
}

TEST_F(EchoServerTest, PlainHttpEchoesChunkedBodyWithKeepAlive) {
  startServer(withId("pod-h"));
  const std::string requests =
      "POST /upload?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "PUT /second HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc"
      "DELETE /third HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  auto responses = rawHttp(port(), requests, 3);
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].result(), http::status::ok);
  EXPECT_EQ(responses[0].body(), "POST /upload?x=1\nhello world");
  EXPECT_EQ(responses[0]["X-Backend-Id"], "pod-h");
  EXPECT_EQ(responses[0][http::field::content_type], "text/plain");
  EXPECT_TRUE(responses[0].keep_alive());
  EXPECT_EQ(responses[1].body(), "PUT /second\nabc");
  EXPECT_EQ(responses[2].body(), "DELETE /third\n");
  EXPECT_FALSE(responses[2].keep_alive());
}

TEST_F(EchoServerTest, StatsIsJson) {
  startServer(withId("pod-1"));
  auto responses = rawHttp(port(), "GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0][http::field::content_type], "application/json");
  EXPECT_EQ(responses[0].body(), R"({"id":"pod-1","active":0,"total":0})");
}

TEST_F(EchoServerTest, StopClosesSessionsAndIsIdempotent) {
  startServer(withId("pod-1"));
  WsClient client;
  ASSERT_FALSE(client.connect(port()));
  ASSERT_TRUE(eventually([&] { return server_->active() == 1; }));
  server_->stop();
  EXPECT_EQ(server_->active(), 0u);
  server_->stop();
  std::string echoed;
  bool text = false;
  EXPECT_TRUE(client.read(echoed, text));
  server_.reset();
}

TEST_F(EchoServerTest, SpreadsConnectionsOverThreads) {
  auto options = withId("pod-1");
  options.threads = 3;
  startServer(options);
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<WsClient>());
    ASSERT_FALSE(clients.back()->connect(port()));
    ASSERT_FALSE(clients.back()->write("m" + std::to_string(i), true));
  }
  for (int i = 0; i < 12; ++i) {
    std::string echoed;
    bool text = false;
    ASSERT_FALSE(clients[i]->read(echoed, text));
    EXPECT_EQ(echoed, "m" + std::to_string(i));
  }
  EXPECT_TRUE(eventually([&] { return server_->active() == 12; }));
  clients.clear();
  EXPECT_TRUE(eventually([&] { return server_->active() == 0; }));
}

// Thousands of sessions on one server thread, driven by one client io_context.
TEST_F(EchoServerTest, HoldsThousandsOfConnectionsOnOneThread) {
  constexpr std::size_t kWanted = 3000;
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  const std::size_t count = std::min<std::size_t>(kWanted, (limit.rlim_cur - 100) / 2);
  ASSERT_GE(count, 400u) << "RLIMIT_NOFILE too low for this test";

  startServer(withId("pod-1"));
  asio::io_context ioc;
  struct Conn {
    explicit Conn(asio::io_context& ioc) : ws(ioc) {}
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    std::string sent;
    bool ok = false;
  };
  std::vector<std::unique_ptr<Conn>> conns;
  std::size_t done = 0;
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port());
  for (std::size_t i = 0; i < count; ++i) {
    auto& c = *conns.emplace_back(std::make_unique<Conn>(ioc));
    c.sent = "conn-" + std::to_string(i);
    c.ws.next_layer().async_connect(endpoint, [&c, &done](error_code ec) {
      if (ec) {
        ++done;
        return;
      }
      c.ws.async_handshake("127.0.0.1", "/", [&c, &done](error_code hec) {
        if (hec) {
          ++done;
          return;
        }
        c.ws.async_write(asio::buffer(c.sent), [&c, &done](error_code wec, std::size_t) {
          if (wec) {
            ++done;
            return;
          }
          c.ws.async_read(c.buffer, [&c, &done](error_code rec, std::size_t) {
            c.ok = !rec && beast::buffers_to_string(c.buffer.data()) == c.sent;
            ++done;
          });
        });
      });
    });
  }
  ioc.run_for(std::chrono::seconds(60));
  ASSERT_EQ(done, count);
  std::size_t ok = 0;
  for (auto& c : conns) {
    ok += c->ok ? 1 : 0;
  }
  EXPECT_EQ(ok, count);
  EXPECT_TRUE(eventually([&] { return server_->active() == count; }));
  EXPECT_EQ(server_->total(), count);
  conns.clear();
  EXPECT_TRUE(eventually([&] { return server_->active() == 0; }));
}

TEST(EchoServerOptionsTest, RejectsInvalidRejectStatus) {
  EchoServer::Options options;
  options.reject_status = 42;
  EXPECT_THROW(EchoServer{options}, std::invalid_argument);
  options.reject_status = 600;
  EXPECT_THROW(EchoServer{options}, std::invalid_argument);
  options.reject_status = 429;
  EXPECT_NO_THROW(EchoServer{options});
}

TEST(EchoServerOptionsTest, StartFailsOnPortInUse) {
  EchoServer first(EchoServer::Options{});
  first.start();
  EchoServer::Options options;
  options.port = first.port();
  EchoServer second(options);
  EXPECT_THROW(second.start(), std::system_error);
}

}  // namespace
}  // namespace wslb::echo
