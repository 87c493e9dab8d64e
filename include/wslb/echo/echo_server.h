#pragma once
// A WebSocket echo backend ("pod") for the demo, the tests and the benchmarks.

#include <cstdint>
#include <memory>
#include <string>

namespace wslb::echo {

/// Serves one TCP port on its own thread(s):
///  - WebSocket upgrades are accepted and every message is echoed with the same type (text or
///    binary), one message per message; pings are answered, and a Close is answered with the
///    same code. The 101 response carries `X-Backend-Id: <id>`; if `subprotocol` is set and the
///    client offers it in Sec-WebSocket-Protocol, the 101 selects it.
///  - With `reject_status != 0`, every upgrade is answered with that HTTP status and the body
///    "rejected by <id>" instead of a 101.
///  - Plain HTTP: `GET /stats` returns `{"id":"<id>","active":N,"total":M}`; any other request
///    returns 200 text/plain "<METHOD> <target>\n<request body>". Keep-alive is honoured.
///
/// Each thread runs its own io_context; accepted connections are spread over them round-robin
/// and stay on one thread for their life.
class EchoServer {
 public:
  struct Options {
    std::string address = "127.0.0.1";
    uint16_t port = 0;  ///< 0 = pick a free port; read it back with port().
    std::string id;     ///< "" = "echo-<port>".
    unsigned reject_status = 0;
    std::string subprotocol;  ///< "" = never select a subprotocol.
    unsigned threads = 1;     ///< 0 is treated as 1.
  };

  /// Does not bind yet; see start().
  /// @throws std::invalid_argument if reject_status is neither 0 nor in 200..599.
  explicit EchoServer(Options options);
  /// Calls stop().
  ~EchoServer();

  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  /// Binds and listens, then starts the worker threads. Call once, from the owning thread.
  /// @throws std::system_error if the address cannot be bound; std::logic_error on a second call.
  void start();

  /// Stops accepting, closes every open connection, joins the threads. No callbacks run after it
  /// returns; active() is 0 afterwards. Idempotent; call from the owning thread (not from a
  /// worker).
  void stop();

  /// @return the bound port (valid after start()). Any thread after start() returned.
  uint16_t port() const { return port_; }
  /// @return WebSocket sessions open now. Any thread.
  uint64_t active() const;
  /// @return WebSocket sessions accepted since start(). Any thread.
  uint64_t total() const;
  /// @return the backend id (the default "echo-<port>" is known only after start()).
  const std::string& id() const { return id_; }

 private:
  class Impl;

  Options options_;
  std::string id_;
  uint16_t port_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wslb::echo
