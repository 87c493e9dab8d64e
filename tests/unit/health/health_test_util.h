#pragma once
// Helpers shared by the health unit tests.

#include <atomic>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "wslb/config/bootstrap.h"

namespace wslb::health::test {

/// Polls `pred` every 10 ms until it holds or `timeout` passes; the last answer.
inline bool waitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

/// An endpoint at 127.0.0.1:`port`.
inline config::Endpoint endpointAt(uint16_t port) {
  config::Endpoint e;
  e.address = {"127.0.0.1", port};
  return e;
}

/// A blocking HTTP server on its own thread: answers every request with `status` and records
/// the last request head.
class StatusServer {
 public:
  StatusServer()
      : acceptor_(io_,
                  boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~StatusServer() {
    stop_ = true;
    boost::system::error_code ec;
    // Wake the blocking accept.
    boost::asio::ip::tcp::socket poke(io_);
    poke.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_),
                 ec);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::atomic<unsigned> status{200};
  std::atomic<int> requests{0};
  std::string lastRequest() {
    std::lock_guard lock(mutex_);
    return last_;
  }

 private:
  void serve() {
    while (!stop_) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) continue;
      boost::asio::streambuf buf;
      boost::asio::read_until(socket, buf, "\r\n\r\n", ec);
      if (ec) continue;
      {
        std::lock_guard lock(mutex_);
        last_.assign(boost::asio::buffers_begin(buf.data()), boost::asio::buffers_end(buf.data()));
      }
      ++requests;
      const std::string reply = "HTTP/1.1 " + std::to_string(status.load()) +
                                " X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
      boost::asio::write(socket, boost::asio::buffer(reply), ec);
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string last_;
  std::thread thread_;
};

}  // namespace wslb::health::test
