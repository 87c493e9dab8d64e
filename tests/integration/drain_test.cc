// The drain (SIGTERM, /quitquitquit, /drain_listeners): listeners stop, open WebSockets go on
// for the drain time, then get Close 1001 — spread over the window or all at once — and the
// server stops; every slot is released.

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "test_support.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

size_t totalActive(const std::vector<std::unique_ptr<echo::EchoServer>>& backends) {
  size_t n = 0;
  for (const auto& b : backends) n += b->active();
  return n;
}

TEST(Drain, OpenWebSocketsGoOnForTheDrainTimeThenGet1001) {
  auto backends = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 1500ms;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  ASSERT_TRUE(waitFor([&] { return totalActive(backends) == 4; }));

  const auto start = Clock::now();
  lb.server().shutdown();
  ASSERT_TRUE(waitFor([&] { return connectRefused(lb.port()); }, 5s));
  EXPECT_EQ(lb.server().state(), server::ServerState::kDraining);
  for (auto& c : clients) {  // still relaying during the drain time
    c->sendText("during");
    EXPECT_EQ(c->receive(), "during");
  }
  for (auto& c : clients) EXPECT_EQ(c->awaitClose(), 1001);
  EXPECT_GE(Clock::now() - start, 1200ms);  // not before the drain time (generous)
  EXPECT_TRUE(waitFor([&] { return totalActive(backends) == 0; }, 10s));
  lb.server().wait();
  EXPECT_EQ(lb.server().state(), server::ServerState::kStopped);
}

// Gradual: the Closes are spread over the window; immediate: they all go at once.
std::chrono::milliseconds closeSpread(server::DrainStrategy strategy) {
  auto backends = startEchoBackends(2);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 200ms;
  drain.window = 2400ms;
  drain.strategy = strategy;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  constexpr int kClients = 12;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<WsClient>(lb.port()));
  std::vector<Clock::time_point> closed_at(kClients);
  std::vector<uint16_t> codes(kClients);
  lb.server().shutdown();
  std::vector<std::thread> readers;
  for (int i = 0; i < kClients; ++i) {
    readers.emplace_back([&, i] {
      codes[i] = clients[i]->awaitClose();
      closed_at[i] = Clock::now();
    });
  }
  for (auto& t : readers) t.join();
  for (uint16_t code : codes) EXPECT_EQ(code, 1001);
  EXPECT_TRUE(waitFor([&] { return totalActive(backends) == 0; }, 10s));
  lb.server().wait();
  const auto [first, last] = std::minmax_element(closed_at.begin(), closed_at.end());
  return std::chrono::duration_cast<std::chrono::milliseconds>(*last - *first);
}

TEST(Drain, GradualSpreadsTheClosesOverTheWindow) {
  // 12 connections over 2.4 s: the last goes about 2.2 s after the first.
  EXPECT_GE(closeSpread(server::DrainStrategy::kGradual), 1200ms);
}

TEST(Drain, ImmediateSendsThemAllAtOnce) {
  EXPECT_LT(closeSpread(server::DrainStrategy::kImmediate), 1000ms);
}

TEST(Drain, StopsAsSoonAsTheLastConnectionHasClosed) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 60s;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  WsClient client(lb.port());
  const auto start = Clock::now();
  lb.server().shutdown();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(lb.server().state(), server::ServerState::kDraining);
  EXPECT_EQ(client.close(1000), 1000);
  auto stopped = std::async(std::launch::async, [&] { lb.server().wait(); });
  EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready);
  EXPECT_LT(Clock::now() - start, 20s);
  EXPECT_EQ(lb.server().state(), server::ServerState::kStopped);
}

TEST(Drain, DrainListenersStopsAcceptingThenSends1001AndExits) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 1s;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  WsClient client(lb.port());
  unsigned status = 0;
  EXPECT_EQ(lb.admin("/drain_listeners", "POST", &status), "OK\n");
  EXPECT_EQ(status, 200u);
  ASSERT_TRUE(waitFor([&] { return connectRefused(lb.port()); }, 5s));
  client.sendText("still relayed");
  EXPECT_EQ(client.receive(), "still relayed");
  EXPECT_EQ(client.awaitClose(), 1001);
  auto stopped = std::async(std::launch::async, [&] { lb.server().wait(); });
  EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready);
  EXPECT_EQ(backends[0]->active(), 0u);
}

TEST(Drain, GracefulDrainListenersAcceptsUntilTheDrainTimeEnds) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 1500ms;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  unsigned status = 0;
  EXPECT_EQ(lb.admin("/drain_listeners?graceful", "POST", &status), "OK\n");
  WsClient during(lb.port());  // still accepted
  during.sendText("accepted while draining");
  EXPECT_EQ(during.receive(), "accepted while draining");
  EXPECT_EQ(during.awaitClose(), 1001);
  // Each worker closes its own acceptor on its thread: the one that sent the Close may have
  // done so before another.
  EXPECT_TRUE(waitFor([&] { return connectRefused(lb.port()); }, 5s));
  auto stopped = std::async(std::launch::async, [&] { lb.server().wait(); });
  EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready);
}

// Answers one plain HTTP request `delay` after reading it.
class SlowHttpBackend {
 public:
  explicit SlowHttpBackend(std::chrono::milliseconds delay)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, delay] {
      try {
        asio::ip::tcp::socket s(io_);
        acceptor_.accept(s);
        asio::streambuf head;
        asio::read_until(s, head, "\r\n\r\n");
        std::this_thread::sleep_for(delay);
        asio::write(s,
                    asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")));
        boost::system::error_code ec;
        s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      } catch (const std::exception&) {
      }
    });
  }
  ~SlowHttpBackend() { thread_.join(); }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST(Drain, ARequestInFlightFinishesWithConnectionClose) {
  SlowHttpBackend backend(1500ms);
  ConfigSpec spec;
  spec.ports = {backend.port()};
  InProcessWslb::Drain drain;
  drain.time = 200ms;
  drain.close_grace = 5s;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  auto response = std::async(std::launch::async, [&] {
    return rawRequest(lb.port(), "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  });
  std::this_thread::sleep_for(300ms);  // the request is at the backend
  lb.server().shutdown();              // its drain time ends while the backend still thinks
  const HttpResult r = response.get();
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "slow");
  EXPECT_EQ(r.headers.count("connection") ? r.headers.at("connection") : "", "close");
  auto stopped = std::async(std::launch::async, [&] { lb.server().wait(); });
  EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready);
}

TEST(Drain, AnIdleKeepAliveConnectionIsClosedWhenTheDrainTimeEnds) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 300ms;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), lb.port()});
  timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(s, asio::buffer(std::string("GET /plain HTTP/1.1\r\nHost: a\r\n\r\n")));
  asio::streambuf head;
  asio::read_until(s, head, "\r\n\r\n");  // an answer; the connection stays open
  lb.server().shutdown();
  // The rest of that answer's body, if any, then the end of the connection.
  boost::system::error_code ec;
  char buf[4096];
  for (int i = 0; i < 100 && !ec; ++i) s.read_some(asio::buffer(buf), ec);
  EXPECT_EQ(ec, asio::error::eof);
  auto stopped = std::async(std::launch::async, [&] { lb.server().wait(); });
  EXPECT_EQ(stopped.wait_for(20s), std::future_status::ready);
}

TEST(Drain, SkipExitOnlyFailsReadiness) {
  auto backends = startEchoBackends(1);
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  InProcessWslb::Drain drain;
  drain.time = 300ms;
  InProcessWslb lb(makeConfig(spec), 2, drain);
  WsClient client(lb.port());
  unsigned status = 0;
  EXPECT_EQ(lb.admin("/drain_listeners?graceful&skip_exit", "POST", &status), "OK\n");
  lb.admin("/ready", "GET", &status);
  EXPECT_EQ(status, 503u);
  std::this_thread::sleep_for(1s);  // well past the drain time: nothing happens
  EXPECT_FALSE(connectRefused(lb.port()));
  client.sendText("untouched");
  EXPECT_EQ(client.receive(), "untouched");
  EXPECT_EQ(lb.server().state(), server::ServerState::kLive);
  EXPECT_EQ(client.close(1000), 1000);
}

}  // namespace
}  // namespace wslb::test
