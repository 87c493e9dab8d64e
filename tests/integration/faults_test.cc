// Faults on the backend side and a long churn with resets: each test ends with every count
// (wslb's and the backends') equal to what is really open.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <random>
#include <thread>

#include "test_support.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Accepts connections and reads whatever comes, never answering; closes them when destroyed.
class SilentBackend {
 public:
  SilentBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { run(); });
  }
  ~SilentBackend() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);  // wakes accept()
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_; }

 private:
  void run() {
    std::vector<tcp::socket> held;
    while (!stop_) {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stop_) break;
      ++accepted_;
      held.push_back(std::move(s));  // the request is left unread and unanswered
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
};

std::string slowRoute() {
  return "              - match: {prefix: \"/slow\"}\n"
         "                route: {cluster: backend, timeout: 0.5s}\n";
}

TEST(Faults, BackendThatNeverAnswersTheUpgradeIs504AndReleasesTheSlot) {
  SilentBackend silent;
  ConfigSpec spec;
  spec.ports = {silent.port()};
  spec.per_host_max = 1;  // a leaked slot would turn the next attempt into a 503
  spec.extra_route_yaml = slowRoute();
  InProcessWslb lb(makeConfig(spec));
  for (int i = 0; i < 3; ++i) {
    auto r = rawRequest(lb.port(), upgradeRequest("/slow"));
    EXPECT_EQ(r.status, 504u) << r.body;
    EXPECT_EQ(r.body, "upstream request timeout");
  }
  EXPECT_EQ(silent.accepted(), 3);
  EXPECT_EQ(lb.stat("http.ingress_ws.websocket.upgrades.upstream_timeout"), 3u);
  EXPECT_TRUE(waitFor([&] { return lb.stat("cluster.backend.upstream_cx_active") == 0; }));
  EXPECT_EQ(lb.stat("cluster.backend.upstream_cx_overflow"), 0u);
  EXPECT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 0; }));
}

// A backend that completes the handshake, echoes one message, then resets the connection.
class ResettingBackend {
 public:
  ResettingBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~ResettingBackend() { thread_.join(); }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void serve() {
    try {
      tcp::socket socket(io_);
      acceptor_.accept(socket);
      timeval tv{20, 0};
      ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      boost::beast::websocket::stream<tcp::socket> ws(std::move(socket));
      ws.accept();
      boost::beast::flat_buffer buffer;
      ws.read(buffer);
      ws.text(true);
      ws.write(buffer.data());
      linger l{1, 0};  // close with RST
      ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ws.next_layer().close();
    } catch (const std::exception&) {
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST(Faults, BackendResetMidStreamEndsTheClientAndReleasesTheSlot) {
  ResettingBackend backend;
  ConfigSpec spec;
  spec.ports = {backend.port()};
  InProcessWslb lb(makeConfig(spec));
  WsClient client(lb.port());
  client.sendText("one");
  EXPECT_EQ(client.receive(), "one");
  // The backend's RST ends the relay: the client sees its connection end (a clean TCP close).
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  client.stream().read(buffer, ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(waitFor([&] { return lb.stat("cluster.backend.upstream_cx_active") == 0; }));
  EXPECT_EQ(lb.stat("cluster.backend.endpoint.127.0.0.1_" + std::to_string(backend.port()) +
                    ".cx_active"),
            0u);
  EXPECT_EQ(lb.stat("cluster.backend.upstream_cx_destroy_remote"), 1u);
  EXPECT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 0; }));
}

// Completes every upgrade, then resets the connection: at once, or after echoing one message.
class ResetAfterUpgradeBackend {
 public:
  ResetAfterUpgradeBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    acceptNext();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ResetAfterUpgradeBackend() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int resets() const { return resets_; }

 private:
  using Ws = boost::beast::websocket::stream<tcp::socket>;
  void acceptNext() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto ws = std::make_shared<Ws>(std::move(socket));
      const bool echo_first = (++accepted_ % 2) == 0;
      ws->async_accept([this, ws, echo_first](boost::system::error_code ec) {
        if (ec) return;
        if (!echo_first) return reset(*ws);
        auto buffer = std::make_shared<boost::beast::flat_buffer>();
        ws->async_read(*buffer, [this, ws, buffer](boost::system::error_code ec, size_t) {
          if (ec) return;
          ws->async_write(buffer->data(),
                          [this, ws, buffer](boost::system::error_code, size_t) { reset(*ws); });
        });
      });
      acceptNext();
    });
  }
  void reset(Ws& ws) {
    linger l{1, 0};
    ::setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    boost::system::error_code ec;
    ws.next_layer().close(ec);
    ++resets_;
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  unsigned accepted_ = 0;  // io thread only
  std::atomic<int> resets_{0};
};

// One raw client connection of the churn: upgrade, then one of several ends.
enum class Outcome { kEstablished, kRefused };

void resetNow(tcp::socket& s) {
  linger l{1, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  boost::system::error_code ec;
  s.close(ec);
}

Outcome churnOnce(asio::io_context& io, uint16_t port, const std::string& request,
                  unsigned action) {
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return Outcome::kRefused;
  timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(s, asio::buffer(request), ec);
  asio::streambuf head;
  if (!ec) asio::read_until(s, head, "\r\n\r\n", ec);
  if (ec) return Outcome::kRefused;
  std::string text(asio::buffers_begin(head.data()), asio::buffers_end(head.data()));
  if (text.rfind("HTTP/1.1 101", 0) != 0) {
    resetNow(s);
    return Outcome::kRefused;
  }
  // Masked frames (mask key 0: the payload is unchanged).
  static const std::string kText{"\x81\x82\0\0\0\0hi", 8};
  static const std::string kClose{"\x88\x82\0\0\0\0\x03\xe8", 8};
  switch (action % 4) {
    case 0:  // reset right after the 101
      resetNow(s);
      break;
    case 1: {  // one message echoed, then reset
      asio::write(s, asio::buffer(kText), ec);
      char echo[4];
      if (!ec) asio::read(s, asio::buffer(echo), ec);
      resetNow(s);
      break;
    }
    case 2: {  // Close handshake, then FIN
      asio::write(s, asio::buffer(kClose), ec);
      char reply[4];
      if (!ec) asio::read(s, asio::buffer(reply), ec);
      s.close(ec);
      break;
    }
    default:  // FIN without a Close frame
      s.close(ec);
      break;
  }
  return Outcome::kEstablished;
}

TEST(Faults, FiftyThousandConnectionsWithResetsOnBothSidesLeaveNothingBehind) {
  auto backends = startEchoBackends(3);
  ResetAfterUpgradeBackend resetting;  // backend-side resets
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  spec.ports.push_back(resetting.port());
  spec.per_host_max = 50;
  InProcessWslb lb(makeConfig(spec), 2);
  const char* env = std::getenv("WSLB_CHURN_CONNECTIONS");
  const int total = env != nullptr ? std::atoi(env) : 50000;
  constexpr int kThreads = 8;
  const std::string request = upgradeRequest("/");
  std::atomic<int> established{0};
  std::atomic<int> refused{0};
  std::atomic<bool> done{false};
  const auto deadline = std::chrono::steady_clock::now() + 240s;

  // Backend side: one pod crashes (its connections end abruptly) and comes back, repeatedly.
  std::thread crasher([&] {
    for (int i = 0; i < 200 && !done; ++i) {
      std::this_thread::sleep_for(500ms);
      if (done) break;
      backends[2]->stop();
      echo::EchoServer::Options o;
      o.id = "pod-3";
      o.port = spec.ports[2];
      auto again = std::make_unique<echo::EchoServer>(o);
      for (int attempt = 0; attempt < 20; ++attempt) {
        try {
          again->start();
          break;
        } catch (const std::exception&) {
          std::this_thread::sleep_for(50ms);
        }
      }
      backends[2] = std::move(again);
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      asio::io_context io;
      std::mt19937 rng(4321 + t);
      for (int i = t; i < total && std::chrono::steady_clock::now() < deadline; i += kThreads) {
        if (churnOnce(io, lb.port(), request, rng()) == Outcome::kEstablished) {
          ++established;
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  done = true;
  crasher.join();
  std::printf("churn: %d established, %d refused or failed, %d reset by a backend\n",
              established.load(), refused.load(), resetting.resets());
  EXPECT_GT(resetting.resets(), total / 10);
  EXPECT_EQ(established + refused, total) << "the churn did not finish within its time bound";
  EXPECT_GT(established.load(), total / 2);

  EXPECT_TRUE(waitFor([&] { return lb.stat("cluster.backend.upstream_cx_active") == 0; }, 30s))
      << lb.admin("/stats");
  EXPECT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 0; }, 30s));
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_upgrades_active"), 0u);
  EXPECT_TRUE(waitFor([&] {
    size_t open = 0;
    for (const auto& b : backends) open += b->active();
    return open == 0;
  }));
  for (const uint16_t port : spec.ports) {
    EXPECT_EQ(lb.stat("cluster.backend.endpoint.127.0.0.1_" + std::to_string(port) + ".cx_active"),
              0u);
  }
  for (int i = 0; i < 4; ++i) {  // one of the pods resets every connection: try a few
    try {
      WsClient after(lb.port());
      after.sendText("still serving");
      if (after.receive() == "still serving") return;
    } catch (const std::exception&) {
    }
  }
  ADD_FAILURE() << "no connection echoed after the churn";
}

}  // namespace
}  // namespace wslb::test
