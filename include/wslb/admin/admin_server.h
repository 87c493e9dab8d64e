#pragma once
// The admin HTTP listener. Runs on its own io_context/thread so it never blocks a worker.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "wslb/admin/admin_handler.h"

namespace wslb::admin {

class AdminServer {
 public:
  /// Binds at once (throws boost::system::system_error on failure: start-up only).
  AdminServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
              AdminContext context);
  ~AdminServer();

  /// Starts accepting. Call once, then run the io_context.
  void start();
  /// Replaces what the endpoints read (config reload). Requests already being handled finish with
  /// the old context; later ones see the new one. Any thread.
  void setContext(AdminContext context);
  /// Stops accepting (posts to the io_context; any thread).
  void stop();
  uint16_t port() const { return port_; }

 private:
  struct State;
  std::shared_ptr<State> state_;
  uint16_t port_ = 0;
};

}  // namespace wslb::admin
