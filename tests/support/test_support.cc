#include "test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "hcm_yaml.h"
#include "wslb/config/loader.h"

extern char** environ;

namespace wslb::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace bws = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {

void setSocketTimeouts(tcp::socket& s, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

std::string makeConfig(const ConfigSpec& spec) {
  std::string routes = spec.extra_route_yaml +
                       "              - match: {prefix: \"/\"}\n"
                       "                route:\n"
                       "                  cluster: backend\n"
                       "                  timeout: 0s\n";
  if (!spec.idle_timeout.empty()) {
    routes += "                  idle_timeout: " + spec.idle_timeout + "\n";
  }
  std::ostringstream y;
  y << "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n"
    << "static_resources:\n"
    << "  listeners:\n"
    << "  - name: ws\n"
    << "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n"
    << "    filter_chains:\n"
    << "    - filters:\n"
    << hcmFilterYaml("ingress_ws", routes) << "  clusters:\n"
    << "  - name: backend\n"
    << "    connect_timeout: " << spec.connect_timeout << "\n";
  if (!spec.lb_policy.empty()) y << "    lb_policy: " << spec.lb_policy << "\n";
  if (!spec.pending_timeout.empty()) {
    y << "    metadata: {filter_metadata: {wslb: {pending_timeout: " << spec.pending_timeout
      << "}}}\n";
  }
  y << "    circuit_breakers:\n"
    << "      thresholds:\n"
    << "      - priority: DEFAULT\n"
    << "        max_pending_requests: " << spec.max_pending << "\n"
    << "        max_retries: " << spec.max_retries << "\n"
    << "        track_remaining: true\n";
  if (spec.cluster_max) y << "        max_connections: " << *spec.cluster_max << "\n";
  if (spec.per_host_max) {
    y << "      per_host_thresholds:\n"
      << "      - max_connections: " << *spec.per_host_max << "\n";
  }
  y << "    load_assignment:\n"
    << "      cluster_name: backend\n"
    << "      endpoints:\n"
    << "      - lb_endpoints:\n";
  int i = 0;
  for (auto port : spec.ports) {
    ++i;
    y << "        - endpoint:\n"
      << "            hostname: pod-" << i << "\n"
      << "            address: {socket_address: {address: 127.0.0.1, port_value: " << port
      << "}}\n";
    if (auto it = spec.endpoint_health_check_ports.find(port);
        it != spec.endpoint_health_check_ports.end()) {
      y << "            health_check_config: {port_value: " << it->second << "}\n";
    }
    if (auto it = spec.endpoint_health.find(port); it != spec.endpoint_health.end()) {
      y << "          health_status: " << it->second << "\n";
    }
    if (auto it = spec.endpoint_weights.find(port); it != spec.endpoint_weights.end()) {
      y << "          load_balancing_weight: " << it->second << "\n";
    }
    if (auto it = spec.endpoint_caps.find(port); it != spec.endpoint_caps.end()) {
      y << "          metadata: {filter_metadata: {wslb: {max_connections: " << it->second
        << "}}}\n";
    }
  }
  return y.str();
}

InProcessWslb::InProcessWslb(const std::string& yaml, unsigned concurrency)
    : InProcessWslb(yaml, concurrency, Drain{}) {}

InProcessWslb::InProcessWslb(const std::string& yaml, unsigned concurrency, const Drain& drain) {
  auto result = config::loadBootstrapFromString(yaml);
  if (!result.ok()) {
    std::string all;
    for (const auto& e : result.errors) all += e.str() + "\n";
    throw std::runtime_error("test config invalid:\n" + all + yaml);
  }
  server::ServerOptions options;
  options.bootstrap = std::move(*result.bootstrap);
  options.concurrency = concurrency;
  options.drain_time = drain.time;
  options.drain_window = drain.window;
  options.close_grace = drain.close_grace;
  options.drain_strategy = drain.strategy;
  options.handle_signals = false;
  server_ = std::make_unique<server::Server>(std::move(options));
  server_->start();
}

InProcessWslb::~InProcessWslb() {
  server_->shutdown();
  server_->wait();
}

uint64_t InProcessWslb::stat(const std::string& name) {
  const std::string body = admin("/stats?filter=^" + name + "$");
  const size_t colon = body.find(": ");
  return colon == std::string::npos ? UINT64_MAX : std::stoull(body.substr(colon + 2));
}

std::string InProcessWslb::admin(const std::string& target, const std::string& method,
                                 unsigned* status) {
  auto r = rawRequest(adminPort(), method + " " + target +
                                       " HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n"
                                       "Connection: close\r\n\r\n");
  if (status != nullptr) *status = r.status;
  return r.body;
}

std::vector<std::unique_ptr<echo::EchoServer>> startEchoBackends(size_t n) {
  std::vector<std::unique_ptr<echo::EchoServer>> out;
  for (size_t i = 0; i < n; ++i) {
    echo::EchoServer::Options o;
    o.id = "pod-" + std::to_string(i + 1);
    auto s = std::make_unique<echo::EchoServer>(o);
    s->start();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<uint16_t> portsOf(const std::vector<std::unique_ptr<echo::EchoServer>>& backends) {
  std::vector<uint16_t> ports;
  for (const auto& b : backends) ports.push_back(b->port());
  return ports;
}

bool activeBecomes(const echo::EchoServer& backend, uint64_t n) {
  return waitFor([&] { return backend.active() == n; });
}

bool waitUntilReady(uint16_t admin_port) {
  return waitFor([admin_port] {
    return rawRequest(admin_port, "GET /ready HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
               .status == 200;
  });
}

HttpResult rawRequest(uint16_t port, const std::string& raw) {
  HttpResult result;
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return result;
  setSocketTimeouts(s, 10);
  asio::write(s, asio::buffer(raw), ec);
  if (ec) return result;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  bhttp::read(s, buffer, parser, ec);
  if (ec && !parser.is_header_done()) return result;
  const auto& res = parser.get();
  result.status = res.result_int();
  for (const auto& f : res) result.headers[lower(std::string(f.name_string()))] = f.value();
  result.body = res.body();
  result.ok = !ec;
  return result;
}

std::string upgradeRequest(const std::string& target, const std::string& extra) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
         extra + "\r\n";
}

WsClient::WsClient(uint16_t port, const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
  ws_ = std::make_unique<bws::stream<tcp::socket>>(io_);
  auto& sock = ws_->next_layer();
  sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  sock.set_option(tcp::no_delay(true));
  setSocketTimeouts(sock, 15);
  ws_->set_option(bws::stream_base::decorator([headers](bws::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  ws_->read_message_max(64 * 1024 * 1024);
  ws_->control_callback([this](bws::frame_type kind, beast::string_view payload) {
    if (kind == bws::frame_type::pong) pongs_.emplace_back(payload);
  });
  ws_->handshake(response_, "127.0.0.1", target);
  backend_id_ = std::string(response_["X-Backend-Id"]);
}

WsClient::~WsClient() {
  boost::system::error_code ec;
  ws_->next_layer().close(ec);
}

void WsClient::sendText(const std::string& s) {
  ws_->text(true);
  ws_->write(asio::buffer(s));
}

void WsClient::sendBinary(const std::string& s) {
  ws_->binary(true);
  ws_->write(asio::buffer(s));
}

void WsClient::sendFragmented(const std::string& s, size_t parts, bool binary) {
  ws_->binary(binary);
  const size_t step = (s.size() + parts - 1) / parts;
  for (size_t off = 0; off < s.size(); off += step) {
    const size_t n = std::min(step, s.size() - off);
    ws_->write_some(off + n >= s.size(), asio::buffer(s.data() + off, n));
  }
}

std::string WsClient::receive(bool* binary) {
  beast::flat_buffer buffer;
  ws_->read(buffer);
  if (binary != nullptr) *binary = ws_->got_binary();
  return beast::buffers_to_string(buffer.data());
}

void WsClient::ping(const std::string& payload) {
  ws_->ping(bws::ping_data(payload));
}

uint16_t WsClient::close(uint16_t code) {
  ws_->close(bws::close_reason(code));
  // Beast's close() reads until the peer's Close arrives.
  return ws_->reason().code;
}

uint16_t WsClient::awaitClose() {
  for (int i = 0; i < 1000; ++i) {
    boost::beast::flat_buffer buffer;
    boost::system::error_code ec;
    ws_->read(buffer, ec);
    if (ec == bws::error::closed) return ws_->reason().code;
    if (ec) return 0;
  }
  return 0;
}

void WsClient::abort() {
  auto& sock = ws_->next_layer();
  ::linger l{1, 0};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  boost::system::error_code ec;
  sock.close(ec);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_prefix)
    : out_path_(log_prefix + ".stdout"), err_path_(log_prefix + ".stderr") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed");
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void ChildProcess::signal(int signo) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, signo);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string ChildProcess::stdoutText() const {
  return readAll(out_path_);
}
std::string ChildProcess::stderrText() const {
  return readAll(err_path_);
}

std::string makeTempDir() {
  char tmpl[] = "/tmp/wslb-test-XXXXXX";
  const char* dir = ::mkdtemp(tmpl);
  if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
  return dir;
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

uint16_t unusedPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

bool connectRefused(uint16_t port) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  return ec == asio::error::connection_refused;
}

server::ReloadResult reloadYaml(InProcessWslb& lb, const std::string& yaml) {
  auto loaded = config::loadBootstrapFromString(yaml);
  if (!loaded.ok()) {
    server::ReloadResult r;
    for (const auto& e : loaded.errors) r.errors.push_back(e.str());
    return r;
  }
  return lb.server().reload(std::move(*loaded.bootstrap));
}

uint16_t writeConfigOnFreePort(const std::string& path, const ConfigSpec& spec) {
  auto yaml = makeConfig(spec);
  const uint16_t port = unusedPort();
  yaml.replace(yaml.find("port_value: 0}}\n    filter_chains"), 13,
               "port_value: " + std::to_string(port));
  writeFile(path, yaml);
  return port;
}

uint16_t readAdminPort(const std::string& path) {
  std::string line;
  waitFor([&] {
    std::ifstream in(path);
    return static_cast<bool>(std::getline(in, line)) && !line.empty();
  });
  const size_t colon = line.rfind(':');
  return colon == std::string::npos ? 0 : static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
}

int connectRaw(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const std::string& bytes) {
  return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

unsigned readStatus(int fd, std::chrono::milliseconds timeout) {
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return 0;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return 0;
    head.append(buf, static_cast<size_t>(n));
  }
  if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12) return 0;
  return static_cast<unsigned>(std::stoul(head.substr(9, 3)));
}

}  // namespace wslb::test
