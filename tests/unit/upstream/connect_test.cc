// connectStep: a non-blocking connect that completes within the call on loopback, reports a
// refusal, and otherwise asks the caller to wait for writability.

#include "wslb/upstream/connect.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace wslb::upstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

const auto kLoopback = asio::ip::make_address("127.0.0.1");

// What DownstreamSession::connectUpstream does: step, wait for writability while in progress,
// step again. Gives up after `limit` of waiting.
error_code connectFully(asio::io_context& io, tcp::socket& socket, const tcp::endpoint& to,
                        int& waits, std::chrono::seconds limit = 20s) {
  error_code ec = connectStep(socket, to);
  asio::steady_timer deadline(io, limit);
  while (ec == asio::error::in_progress) {
    ++waits;
    bool done = false;
    error_code wait_ec;
    socket.async_wait(tcp::socket::wait_write, [&](const error_code& e) {
      wait_ec = e;
      done = true;
    });
    deadline.async_wait([&](const error_code& e) {
      if (!e) socket.cancel();
    });
    io.restart();
    while (!done && io.run_one() > 0) {
    }
    deadline.cancel();
    io.restart();
    io.poll();
    ec = wait_ec ? wait_ec : connectStep(socket, to);
  }
  return ec;
}

TEST(ConnectStep, LoopbackConnectsWithinTheCall) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(kLoopback, 0));
  tcp::socket socket(io);
  EXPECT_FALSE(connectStep(socket, acceptor.local_endpoint()));
  EXPECT_TRUE(socket.native_non_blocking());
  // Connected for real: the listener has it, and bytes go through.
  tcp::socket accepted = acceptor.accept();
  EXPECT_EQ(socket.local_endpoint(), accepted.remote_endpoint());
  const char byte = 'x';
  EXPECT_EQ(::send(socket.native_handle(), &byte, 1, MSG_NOSIGNAL), 1);
  char got = 0;
  EXPECT_EQ(asio::read(accepted, asio::buffer(&got, 1)), 1u);
  EXPECT_EQ(got, 'x');
}

TEST(ConnectStep, RefusedPortReportsConnectionRefused) {
  asio::io_context io;
  tcp::endpoint closed;
  {
    tcp::acceptor probe(io, tcp::endpoint(kLoopback, 0));
    closed = probe.local_endpoint();
  }
  tcp::socket socket(io);
  int waits = 0;
  EXPECT_EQ(connectFully(io, socket, closed, waits), asio::error::connection_refused);
}

// A listener whose accept queue is full drops the SYN, so the connect stays in progress until
// the SYN is sent again (after about a second) and finds room: the wait-and-step path.
TEST(ConnectStep, InProgressUntilWritableThenConnected) {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  acceptor.open(tcp::v4());
  acceptor.bind(tcp::endpoint(kLoopback, 0));
  acceptor.listen(0);  // room for one connection waiting to be accepted
  tcp::socket first(io);
  first.connect(acceptor.local_endpoint());

  tcp::socket socket(io);
  EXPECT_EQ(connectStep(socket, acceptor.local_endpoint()), asio::error::in_progress);
  tcp::socket first_accepted = acceptor.accept();  // room again for the retransmitted SYN
  int waits = 0;
  EXPECT_FALSE(connectFully(io, socket, acceptor.local_endpoint(), waits));
  EXPECT_GE(waits, 1);
  tcp::socket accepted = acceptor.accept();
  EXPECT_EQ(socket.local_endpoint(), accepted.remote_endpoint());
}

}  // namespace
}  // namespace wslb::upstream
