#include "wslb/echo/echo_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <exception>
#include <future>
#include <list>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace wslb::echo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxMessageBytes = 16u * 1024 * 1024;
constexpr std::size_t kMaxHttpBodyBytes = 16u * 1024 * 1024;
// A session keeps at most this much buffer capacity between messages, so thousands of idle
// sessions stay small after an occasional large message.
constexpr std::size_t kRetainedBufferBytes = 64u * 1024;
constexpr auto kHttpIdleTimeout = std::chrono::seconds(60);
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);
constexpr auto kStopGrace = std::chrono::seconds(3);
constexpr std::string_view kServerName = "wslb-echo";
constexpr std::string_view kBackendIdHeader = "X-Backend-Id";

// Shared by every coroutine of one server; immutable except for the counters.
struct State {
  std::string id;
  unsigned reject_status = 0;
  std::string subprotocol;
  std::atomic<uint64_t> active{0};
  std::atomic<uint64_t> total{0};
  std::atomic<bool> stopping{false};
};

// One event loop and thread. Only that thread touches `streams` while the loop runs.
struct Worker {
  // Declared before `ioc`: destroying the io_context may destroy suspended coroutine frames,
  // whose Registrations then erase themselves from this list.
  std::list<beast::tcp_stream*> streams;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  std::optional<tcp::acceptor> acceptor;  // Only on the first worker.
};

// Keeps a connection's stream in its worker's list so stop() can close it.
class Registration {
 public:
  Registration(std::list<beast::tcp_stream*>& list, beast::tcp_stream* stream)
      : list_(list), it_(list.insert(list.end(), stream)) {}
  ~Registration() { list_.erase(it_); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // The stream object moves when the connection is upgraded.
  void rebind(beast::tcp_stream* stream) { *it_ = stream; }

 private:
  std::list<beast::tcp_stream*>& list_;
  std::list<beast::tcp_stream*>::iterator it_;
};

// Counts one open WebSocket session for its lifetime.
class ActiveSession {
 public:
  explicit ActiveSession(State& state) : state_(state) {
    state_.total.fetch_add(1, std::memory_order_relaxed);
    state_.active.fetch_add(1, std::memory_order_relaxed);
  }
  ~ActiveSession() { state_.active.fetch_sub(1, std::memory_order_relaxed); }
  ActiveSession(const ActiveSession&) = delete;
  ActiveSession& operator=(const ActiveSession&) = delete;

 private:
  State& state_;
};

void throwIfError(const error_code& ec, const std::string& what) {
  if (ec) {
    throw std::system_error(std::error_code(ec), what);
  }
}

void logCoroutineEnd(std::exception_ptr error) noexcept {
  if (!error) {
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("echo: connection ended by exception: {}", e.what());
  } catch (...) {
    spdlog::error("echo: connection ended by unknown exception");
  }
}

bool isExpectedDisconnect(const error_code& ec) {
  return ec == asio::error::operation_aborted || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::bad_descriptor || ec == asio::error::not_connected ||
         ec == http::error::end_of_stream || ec == websocket::error::closed ||
         ec == beast::error::timeout;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Returns `wanted` if the client offered it in any Sec-WebSocket-Protocol header, else "".
std::string selectSubprotocol(const http::request<http::string_body>& req,
                              const std::string& wanted) {
  if (wanted.empty()) {
    return {};
  }
  auto [first, last] = req.equal_range(http::field::sec_websocket_protocol);
  for (auto it = first; it != last; ++it) {
    std::string_view list = it->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      const auto token = trim(list.substr(0, comma));
      if (token == wanted) {
        return wanted;
      }
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
  }
  return {};
}

std::string jsonEscape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string statsJson(const State& state) {
  return "{\"id\":\"" + jsonEscape(state.id) +
         "\",\"active\":" + std::to_string(state.active.load(std::memory_order_relaxed)) +
         ",\"total\":" + std::to_string(state.total.load(std::memory_order_relaxed)) + "}";
}

http::response<http::string_body> makeResponse(const http::request<http::string_body>& req,
                                               unsigned status, std::string_view content_type,
                                               std::string body, const State& state) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.result(status);
  res.set(http::field::server, kServerName);
  res.set(kBackendIdHeader, state.id);
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  if (req.method() == http::verb::head) {
    const auto length = res.body().size();
    res.body().clear();
    res.content_length(length);
  }
  return res;
}

http::response<http::string_body> plainResponse(const http::request<http::string_body>& req,
                                                const State& state) {
  if (req.method() == http::verb::get && req.target() == "/stats") {
    return makeResponse(req, 200, "application/json", statsJson(state), state);
  }
  std::string body;
  body.reserve(req.method_string().size() + req.target().size() + 2 + req.body().size());
  body.append(req.method_string()).append(" ").append(req.target()).append("\n");
  body.append(req.body());
  return makeResponse(req, 200, "text/plain", std::move(body), state);
}

asio::awaitable<void> serveWebSocket(beast::tcp_stream stream, http::request<http::string_body> req,
                                     Registration& registration, std::shared_ptr<State> state) {
  websocket::stream<beast::tcp_stream> ws(std::move(stream));
  registration.rebind(&ws.next_layer());

  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws.read_message_max(kMaxMessageBytes);
  ws.auto_fragment(false);
  const std::string selected = selectSubprotocol(req, state->subprotocol);
  ws.set_option(websocket::stream_base::decorator([&state = *state, selected](auto& res) {
    res.set(http::field::server, kServerName);
    res.set(kBackendIdHeader, state.id);
    if (!selected.empty()) {
      res.set(http::field::sec_websocket_protocol, selected);
    }
  }));

  auto [accept_ec] = co_await ws.async_accept(req, kNoThrow);
  if (accept_ec) {
    spdlog::debug("echo {}: handshake failed: {}", state->id, accept_ec.message());
    co_return;
  }
  ActiveSession counted(*state);

  beast::flat_buffer buffer;
  for (;;) {
    auto [read_ec, read_bytes] = co_await ws.async_read(buffer, kNoThrow);
    if (read_ec) {
      // A client Close was already answered with the same code inside async_read.
      if (!isExpectedDisconnect(read_ec)) {
        spdlog::debug("echo {}: read failed: {}", state->id, read_ec.message());
      }
      co_return;
    }
    ws.text(ws.got_text());
    auto [write_ec, written] = co_await ws.async_write(buffer.data(), kNoThrow);
    if (write_ec) {
      if (!isExpectedDisconnect(write_ec)) {
        spdlog::debug("echo {}: write failed: {}", state->id, write_ec.message());
      }
      co_return;
    }
    buffer.consume(buffer.size());
    if (buffer.capacity() > kRetainedBufferBytes) {
      buffer.shrink_to_fit();
    }
  }
}

asio::awaitable<void> serveConnection(tcp::socket socket, Worker& worker,
                                      std::shared_ptr<State> state) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  Registration registration(worker.streams, &stream);
  // stop() sets `stopping` before it sweeps the list on this thread, so a connection that
  // registers after the sweep sees the flag here.
  if (state->stopping.load()) {
    co_return;
  }

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxHttpBodyBytes);
    stream.expires_after(kHttpIdleTimeout);
    auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (read_ec) {
      if (read_ec == http::error::end_of_stream) {
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      } else if (!isExpectedDisconnect(read_ec)) {
        spdlog::debug("echo {}: http read failed: {}", state->id, read_ec.message());
      }
      co_return;
    }
    http::request<http::string_body> req = parser.release();

    if (websocket::is_upgrade(req) && state->reject_status == 0) {
      stream.expires_never();
      // The session reads through its own buffer; drop this one's memory for its lifetime.
      buffer.clear();
      buffer.shrink_to_fit();
      co_await serveWebSocket(std::move(stream), std::move(req), registration, state);
      co_return;
    }

    http::response<http::string_body> res =
        websocket::is_upgrade(req) ? makeResponse(req, state->reject_status, "text/plain",
                                                  "rejected by " + state->id, *state)
                                   : plainResponse(req, *state);
    stream.expires_after(kHttpIdleTimeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, kNoThrow);
    if (write_ec) {
      if (!isExpectedDisconnect(write_ec)) {
        spdlog::debug("echo {}: http write failed: {}", state->id, write_ec.message());
      }
      co_return;
    }
    if (!res.keep_alive()) {
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor, std::vector<Worker*> workers,
                                 std::shared_ptr<State> state) {
  for (std::size_t next = 0;; ++next) {
    Worker& target = *workers[next % workers.size()];
    tcp::socket socket(target.ioc);
    auto [ec] = co_await acceptor.async_accept(socket, kNoThrow);
    if (state->stopping.load() || !acceptor.is_open()) {
      co_return;
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      // Typically EMFILE: back off so a full descriptor table does not spin the loop.
      spdlog::warn("echo {}: accept failed: {}", state->id, ec.message());
      asio::steady_timer timer(co_await asio::this_coro::executor, kAcceptBackoff);
      co_await timer.async_wait(kNoThrow);
      continue;
    }
    asio::co_spawn(target.ioc, serveConnection(std::move(socket), target, state), logCoroutineEnd);
  }
}

}  // namespace

class EchoServer::Impl {
 public:
  std::shared_ptr<State> state = std::make_shared<State>();
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  std::vector<std::future<void>> finished;
  bool started = false;
  bool stopped = false;
};

EchoServer::EchoServer(Options options) : options_(std::move(options)), impl_(new Impl) {
  if (options_.reject_status != 0 &&
      (options_.reject_status < 200 || options_.reject_status > 599)) {
    throw std::invalid_argument("reject_status must be 0 or in 200..599");
  }
  if (options_.threads == 0) {
    options_.threads = 1;
  }
}

EchoServer::~EchoServer() {
  stop();
}

void EchoServer::start() {
  if (impl_->started) {
    throw std::logic_error("EchoServer::start called twice");
  }
  for (unsigned i = 0; i < options_.threads; ++i) {
    impl_->workers.push_back(std::make_unique<Worker>());
  }
  Worker& first = *impl_->workers.front();
  tcp::acceptor& acceptor = first.acceptor.emplace(first.ioc);
  error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  throwIfError(ec, "invalid address " + options_.address);
  const tcp::endpoint endpoint(address, options_.port);
  const std::string where = options_.address + ":" + std::to_string(options_.port);
  acceptor.open(endpoint.protocol(), ec);
  throwIfError(ec, "socket for " + where);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  throwIfError(ec, "SO_REUSEADDR on " + where);
  acceptor.bind(endpoint, ec);
  throwIfError(ec, "bind " + where);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  throwIfError(ec, "listen on " + where);
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  throwIfError(ec, "local address of " + where);
  port_ = bound.port();
  id_ = options_.id.empty() ? "echo-" + std::to_string(port_) : options_.id;

  State& state = *impl_->state;
  state.id = id_;
  state.reject_status = options_.reject_status;
  state.subprotocol = options_.subprotocol;

  std::vector<Worker*> targets;
  for (auto& worker : impl_->workers) {
    targets.push_back(worker.get());
  }
  asio::co_spawn(first.ioc, acceptLoop(acceptor, std::move(targets), impl_->state),
                 logCoroutineEnd);

  impl_->started = true;
  for (auto& worker : impl_->workers) {
    std::promise<void> done;
    impl_->finished.push_back(done.get_future());
    impl_->threads.emplace_back([ioc = &worker->ioc, done = std::move(done)]() mutable {
      try {
        ioc->run();
      } catch (const std::exception& e) {
        spdlog::error("echo: event loop ended by exception: {}", e.what());
      }
      done.set_value();
    });
  }
}

void EchoServer::stop() {
  if (!impl_->started || impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  impl_->state->stopping.store(true);

  // Total cancellation: close the listener and every connection on its own thread.
  for (auto& worker : impl_->workers) {
    asio::post(worker->ioc, [w = worker.get()] {
      error_code ignored;
      if (w->acceptor) {
        w->acceptor->close(ignored);
      }
      for (beast::tcp_stream* stream : w->streams) {
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->close();
      }
    });
    worker->guard.reset();
  }

  // Bounded wait for the loops to run out of work, then terminal cancellation.
  const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  for (std::size_t i = 0; i < impl_->workers.size(); ++i) {
    if (impl_->finished[i].wait_until(deadline) != std::future_status::ready) {
      impl_->workers[i]->ioc.stop();
    }
  }
  for (auto& thread : impl_->threads) {
    thread.join();
  }
  impl_->threads.clear();
  impl_->finished.clear();
  // Destroys whatever the terminal cancellation left suspended; their counters drop with them.
  impl_->workers.clear();
}

uint64_t EchoServer::active() const {
  return impl_->state->active.load(std::memory_order_relaxed);
}

uint64_t EchoServer::total() const {
  return impl_->state->total.load(std::memory_order_relaxed);
}

}  // namespace wslb::echo
