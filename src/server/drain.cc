// The drain sequence: SIGTERM, POST /quitquitquit and POST /drain_listeners.
//
//   1. Readiness fails (/ready 503 DRAINING) and the listeners stop accepting (with
//      /drain_listeners?graceful, only when step 2 begins).
//   2. Open connections go on for up to --drain-time-s; clients and backends may close them.
//   3. What is still open then gets WebSocket Close 1001 "going away" at frame boundaries, spread
//      evenly over --drain-window-s (--drain-strategy gradual) or all at once (immediate), so the
//      clients do not all reconnect elsewhere in the same instant.
//   4. The process stops once every connection has ended, or close_grace after the last Close.
// Envoy never closes WebSockets on a drain; this is what wslb adds.

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "wslb/server/server.h"
#include "wslb/websocket/close_frame.h"

namespace wslb::server {

namespace asio = boost::asio;
using std::chrono::steady_clock;

void Server::shutdown() {
  requestDrain(/*keep_accepting=*/false);
}

void Server::drainListeners(const admin::DrainListenersOptions& options) {
  listeners_draining_ = true;
  if (options.skip_exit) {
    spdlog::info("[main] drain_listeners: readiness fails; listeners keep accepting (skip_exit)");
    return;
  }
  requestDrain(options.graceful);
}

void Server::requestDrain(bool keep_accepting) {
  const bool first = !shutdown_requested_.exchange(true);
  asio::post(control_io_, [this, first, keep_accepting] {
    if (first) {
      beginDrain(keep_accepting);
    } else if (!keep_accepting && state_.load() == ServerState::kDraining) {
      // A drain under way only gets stricter: SIGTERM during a graceful drain stops the
      // listeners now; the timeline stays.
      stopAccepting();
    }
  });
}

void Server::beginDrain(bool keep_accepting) {
  state_ = ServerState::kDraining;
  if (!keep_accepting) stopAccepting();
  spdlog::info(
      "[main] draining: {} connection(s) open may go on for {} ms; then Close 1001 to those "
      "left{}",
      activeDownstreamConnections(), options_.drain_time.count(),
      options_.drain_strategy == DrainStrategy::kGradual
          ? fmt::format(", spread over {} ms", options_.drain_window.count())
          : std::string(", all at once"));
  waitForConnections(steady_clock::now() + options_.drain_time, [this] { closeRemaining(); });
}

void Server::stopAccepting() {
  if (!accepting_) return;
  accepting_ = false;
  spdlog::info("[main] listeners stop accepting; {} connection(s) open",
               activeDownstreamConnections());
  for (auto& w : workers_) w->stopAccepting();
}

void Server::waitForConnections(steady_clock::time_point deadline, std::function<void()> then) {
  // With the listeners still accepting (a graceful drain), connections may yet come: wait for
  // the deadline.
  if (!accepting_ && activeDownstreamConnections() <= 0) {
    finishShutdown();
    return;
  }
  if (steady_clock::now() >= deadline) {
    then();
    return;
  }
  drain_timer_.expires_after(std::chrono::milliseconds(50));
  drain_timer_.async_wait(
      [this, deadline, then = std::move(then)](const boost::system::error_code& ec) mutable {
        if (!ec) waitForConnections(deadline, std::move(then));
      });
}

void Server::closeRemaining() {
  stopAccepting();
  const std::chrono::milliseconds window = options_.drain_strategy == DrainStrategy::kGradual
                                               ? options_.drain_window
                                               : std::chrono::milliseconds(0);
  spdlog::info("[main] drain time over: Close 1001 to {} connection(s) over {} ms",
               activeDownstreamConnections(), window.count());
  for (auto& w : workers_) w->goAwayAll(window, websocket::kCloseGoingAway);
  waitForConnections(steady_clock::now() + window + options_.close_grace,
                     [this] { finishShutdown(); });
}

}  // namespace wslb::server
