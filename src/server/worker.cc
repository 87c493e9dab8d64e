#include "wslb/server/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "wslb/http/downstream_session.h"
#include "wslb/stats/collect.h"

namespace wslb::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string listenerStatAddress(const tcp::acceptor& acceptor) {
  boost::system::error_code ec;
  return listenerStatAddress(acceptor.local_endpoint(ec));
}

std::string listenerStatAddress(const tcp::endpoint& endpoint) {
  std::string address;
  if (endpoint.address().is_v6()) {
    address += '[';
    address += endpoint.address().to_string();
    address += ']';
  } else {
    address += endpoint.address().to_string();
  }
  address += ':';
  address += std::to_string(endpoint.port());
  return stats::sanitizeForStatName(address);
}

struct Worker::AcceptorState {
  AcceptorState(tcp::acceptor a, std::shared_ptr<const http::ListenerContext> l)
      : acceptor(std::move(a)), listener(std::move(l)), backoff(acceptor.get_executor()) {}
  tcp::acceptor acceptor;
  std::shared_ptr<const http::ListenerContext> listener;
  asio::steady_timer backoff;
  /// The peer address of the connection being accepted (filled in by accept()).
  tcp::endpoint peer;
  /// listener.<address>.downstream_global_cx_overflow; set when there is a connection limit.
  std::atomic<uint64_t>* global_overflow = nullptr;
};

Worker::Worker(size_t index, std::shared_ptr<relay::DownstreamConnectionLimit> connection_limit)
    : index_(index), connection_limit_(std::move(connection_limit)), io_(1) {}

Worker::~Worker() {
  stop();
}

void Worker::addListener(tcp::acceptor acceptor,
                         std::shared_ptr<const http::ListenerContext> listener) {
  auto state = std::make_shared<AcceptorState>(std::move(acceptor), std::move(listener));
  if (connection_limit_) {
    state->global_overflow =
        &connection_limit_->listenerOverflowCounter(listenerStatAddress(state->acceptor));
  }
  acceptors_.push_back(std::move(state));
}

void Worker::applyListeners(std::vector<ListenerUpdate> listeners, std::function<void()> done) {
  asio::post(io_, [this, listeners = std::move(listeners), done = std::move(done)]() mutable {
    std::vector<std::shared_ptr<AcceptorState>> kept;
    std::vector<std::shared_ptr<AcceptorState>> added;
    for (auto& update : listeners) {
      if (update.acceptor) {
        addListener(std::move(*update.acceptor), update.context);
        added.push_back(acceptors_.back());
        acceptors_.pop_back();
        continue;
      }
      for (const auto& a : acceptors_) {
        if (a->listener->name == update.context->name) {
          // Only this thread reads a->listener (in accept()), so a plain store is enough.
          a->listener = update.context;
          kept.push_back(a);
          break;
        }
      }
    }
    for (const auto& a : acceptors_) {
      if (std::find(kept.begin(), kept.end(), a) != kept.end()) continue;
      boost::system::error_code ec;
      a->acceptor.close(ec);  // its pending accept completes with operation_aborted
      a->backoff.cancel();
    }
    acceptors_ = std::move(kept);
    for (auto& a : added) {
      if (accepting_) {
        accept(a);
      } else {
        boost::system::error_code ec;
        a->acceptor.close(ec);
      }
      acceptors_.push_back(std::move(a));
    }
    if (done) done();
  });
}

bool Worker::admit(AcceptorState& a) {
  if (!connection_limit_) return true;
  auto [admission, admitted] = relay::ConnectionAdmission::tryTake(*connection_limit_);
  if (!admitted) {
    a.global_overflow->fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  tracker_.setAcceptedAdmission(std::move(admission));
  return true;
}

void Worker::accept(const std::shared_ptr<AcceptorState>& a) {
  a->acceptor.async_accept(
      a->peer, [this, a](const boost::system::error_code& ec, tcp::socket socket) {
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
        if (admit(*a)) {
          http::startDownstreamSession(std::move(socket), a->peer, a->listener, tracker_);
        } else {
          // Over the global connection limit: accepted and closed at once, as Envoy does.
          boost::system::error_code ignored;
          socket.close(ignored);
        }
        accept(a);
      });
}

void Worker::start() {
  for (const auto& a : acceptors_) accept(a);
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::stopAccepting() {
  asio::post(io_, [this] {
    accepting_ = false;
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

// Connections to close gradually: `per_tick` of them every `tick`.
struct Worker::GoAwayBatch {
  explicit GoAwayBatch(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::vector<std::weak_ptr<relay::Closable>> connections;
  size_t next = 0;
  size_t per_tick = 1;
  std::chrono::milliseconds tick{0};
  uint16_t code = 0;
};

void Worker::goAwayHosts(std::vector<upstream::HostSharedPtr> hosts,
                         std::chrono::milliseconds window, uint16_t code) {
  asio::post(io_, [this, hosts = std::move(hosts), window, code] {
    std::vector<const upstream::Host*> targets;
    for (const auto& host : hosts) targets.push_back(host.get());
    goAwaySpread(tracker_.connectionsTo(targets), window, code);
  });
}

void Worker::goAwayAll(std::chrono::milliseconds window, uint16_t code) {
  asio::post(io_, [this, window, code] { goAwaySpread(tracker_.all(), window, code); });
}

void Worker::goAwaySpread(std::vector<std::shared_ptr<relay::Closable>> connections,
                          std::chrono::milliseconds window, uint16_t code) {
  if (connections.empty()) return;
  auto batch = std::make_shared<GoAwayBatch>(io_);
  for (auto& connection : connections) batch->connections.push_back(connection);
  batch->code = code;
  // At most one timer tick per 10 ms; several connections per tick when the window is short.
  constexpr std::chrono::milliseconds kMinTick{10};
  const size_t count = batch->connections.size();
  if (window.count() > 0) {
    batch->tick = std::max(kMinTick, window / static_cast<int64_t>(count));
    const auto ticks = static_cast<size_t>(std::max<int64_t>(1, window / batch->tick));
    batch->per_tick = (count + ticks - 1) / ticks;
  } else {
    batch->per_tick = count;
  }
  spdlog::info("[worker {}] closing {} connection(s) with code {} over {} ms", index_, count, code,
               window.count());
  goAwayNext(batch);
}

void Worker::goAwayNext(const std::shared_ptr<GoAwayBatch>& batch) {
  for (size_t i = 0; i < batch->per_tick && batch->next < batch->connections.size(); ++i) {
    if (auto connection = batch->connections[batch->next++].lock()) connection->goAway(batch->code);
  }
  if (batch->next >= batch->connections.size()) return;
  batch->timer.expires_after(batch->tick);
  batch->timer.async_wait([this, batch](const boost::system::error_code& ec) {
    if (!ec) goAwayNext(batch);
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

}  // namespace wslb::server
