#pragma once
// One worker: a thread running its own io_context, with its own acceptor per listener
// (SO_REUSEPORT), so a connection lives on one thread for its whole life: no locks, no strands.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "wslb/http/listener_context.h"
#include "wslb/relay/connection_limit.h"
#include "wslb/relay/connection_tracker.h"
#include "wslb/upstream/host.h"

namespace wslb::server {

/// Envoy's listener stat name for a bound address: "127.0.0.1_10000", "[__1]_10000".
std::string listenerStatAddress(const boost::asio::ip::tcp::acceptor& acceptor);
std::string listenerStatAddress(const boost::asio::ip::tcp::endpoint& endpoint);

class Worker {
 public:
  /// `connection_limit`: the global cap on downstream connections shared by all workers (none
  /// when null). A connection over the cap is accepted and closed at once, and counted in its
  /// listener's downstream_global_cx_overflow.
  explicit Worker(size_t index,
                  std::shared_ptr<relay::DownstreamConnectionLimit> connection_limit = nullptr);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Adds a bound, listening acceptor for `listener`. Before start() only.
  void addListener(boost::asio::ip::tcp::acceptor acceptor,
                   std::shared_ptr<const http::ListenerContext> listener);

  /// One listener after a config reload, as this worker is to run it.
  struct ListenerUpdate {
    std::shared_ptr<const http::ListenerContext> context;  ///< its name identifies the listener.
    /// Set (bound and listening, on io()) for a listener this worker does not run yet: added, or
    /// its address changed (the old acceptor of that name is closed). Unset: the acceptor of that
    /// name stays and the connections it accepts from now on get `context`.
    std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  };
  /// Config reload: makes `listeners` this worker's whole set. Acceptors whose listener is not in
  /// it are closed; the connections they accepted go on with the context they started with.
  /// After stopAccepting() new acceptors are closed instead of started. Any thread, after
  /// start(); the work runs on the worker thread, which then calls `done`.
  void applyListeners(std::vector<ListenerUpdate> listeners, std::function<void()> done);
  boost::asio::io_context& io() { return io_; }

  /// Starts the thread (accepting begins).
  void start();
  /// Stops accepting new connections; live ones go on. Any thread.
  void stopAccepting();
  /// Closes every live connection of this worker. Any thread.
  void closeAll();
  /// Sends WebSocket Close `code` (see relay::Relay::goAway()) to every connection of this
  /// worker relayed to one of `hosts`, spread evenly over `window` (0 = all at once) so their
  /// clients do not reconnect in one burst. Any thread; the hosts are kept alive meanwhile.
  void goAwayHosts(std::vector<upstream::HostSharedPtr> hosts, std::chrono::milliseconds window,
                   uint16_t code);
  /// The same for every connection of this worker (the drain): upgraded ones get Close `code`,
  /// the others are closed. Any thread.
  void goAwayAll(std::chrono::milliseconds window, uint16_t code);
  /// Stops the loop and joins the thread. Any thread but the worker's.
  void stop();

 private:
  struct AcceptorState;
  void accept(const std::shared_ptr<AcceptorState>& a);
  /// Takes a unit of the connection limit for a connection just accepted on `a` and hands it to
  /// the session about to start; false (counted as an overflow) when the limit is reached.
  bool admit(AcceptorState& a);
  struct GoAwayBatch;
  /// Worker thread: starts sending Close `code` to `connections`, spread over `window`.
  void goAwaySpread(std::vector<std::shared_ptr<relay::Closable>> connections,
                    std::chrono::milliseconds window, uint16_t code);
  void goAwayNext(const std::shared_ptr<GoAwayBatch>& batch);

  // Order matters for destruction: acceptors before the io_context they use; the tracker after
  // it, since sessions destroyed with the io_context's pending handlers unregister from it.
  const size_t index_;
  const std::shared_ptr<relay::DownstreamConnectionLimit> connection_limit_;
  relay::ConnectionTracker tracker_;
  boost::asio::io_context io_;
  std::vector<std::shared_ptr<AcceptorState>> acceptors_;
  bool accepting_ = true;  ///< worker thread (after start()): stopAccepting() not yet run.
  std::thread thread_;
};

}  // namespace wslb::server
