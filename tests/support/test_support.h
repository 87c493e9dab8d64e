#pragma once
// Helpers for integration tests: a wslb server in-process on ephemeral ports, real WebSocket and
// HTTP clients on 127.0.0.1, child processes, bounded polling.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wslb/echo/echo_server.h"
#include "wslb/server/server.h"

namespace wslb::test {

/// Polls `pred` every 10 ms until it is true or `timeout` passes. Returns the last value.
bool waitFor(const std::function<bool()>& pred,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Envoy v3 YAML for one listener (port 0) routing "/" to cluster "backend" with these endpoint
/// ports, plus an admin listener on port 0. Optional knobs cover what the tests vary.
struct ConfigSpec {
  std::vector<uint16_t> ports;
  std::optional<uint32_t> per_host_max = std::nullopt;
  std::optional<uint32_t> cluster_max = std::nullopt;
  uint32_t max_pending = 0;
  std::string pending_timeout = "";  ///< e.g. "0.5s" (wslb metadata); "" = unset
  std::string lb_policy = "";        ///< "" = default
  std::string idle_timeout = "";     ///< route idle_timeout; "" = unset
  std::string connect_timeout = "1s";
  std::map<uint16_t, uint32_t> endpoint_caps;       ///< per-endpoint metadata caps
  std::map<uint16_t, uint32_t> endpoint_weights;    ///< load_balancing_weight
  std::map<uint16_t, std::string> endpoint_health;  ///< health_status
  /// endpoint.health_check_config.port_value, by serving port.
  std::map<uint16_t, uint16_t> endpoint_health_check_ports;
  uint32_t max_retries = 3;
  std::string extra_route_yaml = "";  ///< raw routes placed before the catch-all
};
std::string makeConfig(const ConfigSpec& spec);

/// wslb running in this process with its own threads, on ephemeral ports.
class InProcessWslb;
/// Loads `yaml` and reloads `lb` with it (Server::reload); a load error is returned as the
/// reload's errors.
server::ReloadResult reloadYaml(InProcessWslb& lb, const std::string& yaml);

class InProcessWslb {
 public:
  /// How the server drains when the test ends or asks for it (see server::ServerOptions).
  struct Drain {
    std::chrono::milliseconds time{std::chrono::seconds(5)};
    std::chrono::milliseconds window{0};
    std::chrono::milliseconds close_grace{std::chrono::seconds(1)};
    server::DrainStrategy strategy = server::DrainStrategy::kGradual;
  };
  explicit InProcessWslb(const std::string& yaml, unsigned concurrency = 2);
  InProcessWslb(const std::string& yaml, unsigned concurrency, const Drain& drain);
  ~InProcessWslb();
  uint16_t port() const { return server_->listenerPort(0); }
  uint16_t adminPort() const { return server_->adminPort(); }
  server::Server& server() { return *server_; }
  /// GET (or POST) on the admin listener; returns the body (status in *status if given).
  std::string admin(const std::string& target, const std::string& method = "GET",
                    unsigned* status = nullptr);
  /// The value of one counter or gauge in /stats (its exact flat name); UINT64_MAX if absent.
  uint64_t stat(const std::string& name);

 private:
  std::unique_ptr<server::Server> server_;
};

/// Starts `n` in-process echo backends with ids pod-1..pod-n.
std::vector<std::unique_ptr<echo::EchoServer>> startEchoBackends(size_t n);
std::vector<uint16_t> portsOf(const std::vector<std::unique_ptr<echo::EchoServer>>& backends);
/// Waits (bounded) until the backend's own count of open WebSockets is `n`. The backend counts a
/// session when its side of the handshake completes, which may be just after the client has read
/// the 101, so tests compare with its count this way.
bool activeBecomes(const echo::EchoServer& backend, uint64_t n);

struct HttpResult {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  ///< lower-cased names
  std::string body;
  bool ok = false;  ///< a complete response was read
};

/// Sends `raw` bytes on a new connection and reads one HTTP response (bounded by 10 s).
HttpResult rawRequest(uint16_t port, const std::string& raw);
/// Waits (up to 10 s) until the admin listener on `admin_port` answers GET /ready with 200.
bool waitUntilReady(uint16_t admin_port);
/// A valid WebSocket upgrade request head for `target`, with `extra` header lines appended.
std::string upgradeRequest(const std::string& target = "/", const std::string& extra = "");

/// A synchronous Beast WebSocket client (test thread only).
class WsClient {
 public:
  /// Connects and upgrades; throws on failure. Every operation is bounded by a socket timeout.
  WsClient(uint16_t port, const std::string& target = "/",
           const std::vector<std::pair<std::string, std::string>>& headers = {});
  ~WsClient();
  /// The X-Backend-Id of the 101 (which pod this connection landed on).
  const std::string& backendId() const { return backend_id_; }
  const boost::beast::websocket::response_type& upgradeResponse() const { return response_; }
  void sendText(const std::string& s);
  void sendBinary(const std::string& s);
  /// Sends a message as `parts` fragments.
  void sendFragmented(const std::string& s, size_t parts, bool binary);
  std::string receive(bool* binary = nullptr);
  void ping(const std::string& payload);
  /// Sends Close(code) and reads until the peer's Close; returns the code the peer sent back.
  uint16_t close(uint16_t code);
  /// Reads (skipping messages) until the server's Close arrives and answers it; returns its
  /// code, or 0 if the connection ended another way. Bounded by the socket timeout.
  uint16_t awaitClose();
  /// Resets the TCP connection (SO_LINGER 0) without a Close frame.
  void abort();
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket>& stream() { return *ws_; }
  std::vector<std::string>& pongs() { return pongs_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<boost::beast::websocket::stream<boost::asio::ip::tcp::socket>> ws_;
  boost::beast::websocket::response_type response_;
  std::string backend_id_;
  std::vector<std::string> pongs_;
};

/// A child process (posix_spawn), stdout and stderr to files; killed (SIGKILL) if still running
/// when destroyed. Only the PID it started is ever signalled.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_prefix);
  ~ChildProcess();
  pid_t pid() const { return pid_; }
  void signal(int signo);
  /// Waits up to `timeout` for exit; returns the exit code, or -1 on timeout, or 128+signal.
  int wait(std::chrono::milliseconds timeout);
  std::string stdoutText() const;
  std::string stderrText() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string out_path_;
  std::string err_path_;
};

/// A fresh temporary directory (removed at exit of the test binary is not guaranteed).
std::string makeTempDir();
void writeFile(const std::string& path, const std::string& text);
/// A TCP port on 127.0.0.1 that nothing listens on right now.
uint16_t unusedPort();
/// True when a TCP connect to 127.0.0.1:`port` is refused right now.
bool connectRefused(uint16_t port);

/// Writes makeConfig(spec) to `path` with the listener on a port that is free now (a child
/// process cannot report an ephemeral listener port back); returns that port.
uint16_t writeConfigOnFreePort(const std::string& path, const ConfigSpec& spec);
/// The admin port a child wslb wrote to its --admin-address-path file (waits for it); 0 if none.
uint16_t readAdminPort(const std::string& path);

/// A plain socket to 127.0.0.1:port with 10 s send/receive timeouts; -1 on failure.
int connectRaw(uint16_t port);
/// Sends all of `bytes` on `fd` in one send(); false if it did not go at once.
bool sendAll(int fd, const std::string& bytes);
/// The status of the response head read from `fd` within `timeout`; 0 on EOF, error or timeout.
unsigned readStatus(int fd, std::chrono::milliseconds timeout);

}  // namespace wslb::test
