#include "wslb/server/worker.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "wslb/http/downstream_session.h"

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Worker::AcceptorState {
  AcceptorState(tcp::acceptor a, std::shared_ptr<const http::ListenerContext> l)
      : acceptor(std::move(a)), listener(std::move(l)), backoff(acceptor.get_executor()) {}
  tcp::acceptor acceptor;
  std::shared_ptr<const http::ListenerContext> listener;
  asio::steady_timer backoff;
};

Worker::Worker(size_t index) : index_(index), io_(1) {}

Worker::~Worker() {
  stop();
}

void Worker::addListener(tcp::acceptor acceptor,
                         std::shared_ptr<const http::ListenerContext> listener) {
  acceptors_.push_back(std::make_shared<AcceptorState>(std::move(acceptor), std::move(listener)));
}

void Worker::accept(const std::shared_ptr<AcceptorState>& a) {
  a->acceptor.async_accept([this, a](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !a->acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors (EMFILE/ENFILE) or similar: back off instead of spinning; the
      // pending connection stays in the kernel backlog until descriptors free up.
      spdlog::warn("[worker {}] accept on {} failed: {}; retrying in 100ms", index_,
                   a->listener->name, ec.message());
      a->backoff.expires_after(std::chrono::milliseconds(100));
      a->backoff.async_wait([this, a](const boost::system::error_code& wec) {
        if (!wec) accept(a);
      });
      return;
    }
    http::startDownstreamSession(std::move(socket), a->listener, tracker_);
    accept(a);
  });
}

void Worker::start() {
  for (const auto& a : acceptors_) accept(a);
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::stopAccepting() {
  asio::post(io_, [this] {
    for (const auto& a : acceptors_) {
      boost::system::error_code ec;
      a->acceptor.close(ec);
      a->backoff.cancel();
    }
  });
}

void Worker::closeAll() {
  asio::post(io_, [this] { tracker_.closeAll(); });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

}  // namespace wslb::server
