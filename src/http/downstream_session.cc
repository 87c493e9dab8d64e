#include "wslb/http/downstream_session.h"

#include "wslb/accesslog/record.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <vector>

#include "wslb/http/connection_header.h"
#include "wslb/http/local_reply.h"
#include "wslb/http/request_validation.h"
#include "wslb/http/upstream_request.h"
#include "wslb/relay/relay.h"
#include "wslb/tls/handshake_stats.h"
#include "wslb/tls/transport_socket.h"
#include "wslb/upstream/connect.h"
#include "wslb/upstream/random.h"
#include "wslb/websocket/handshake.h"

namespace wslb::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

// Whether any endpoint could ever take a connection (slow path only: takes the snapshot lock).
bool hasEligibleHost(const upstream::ClusterState& cluster) {
  const auto set = cluster.hostSet();
  for (const auto& host : set->all_hosts) {
    if (host->eligible()) return true;
  }
  return false;
}

// Why the current deadline fired, so the coroutine can answer accordingly.
enum class Phase {
  kNone,
  kIdle,            // waiting for the next request: idle_timeout / max_connection_duration
  kRequestHeaders,  // request_headers_timeout
  kRequestBody,     // the rest of the request body
  kLocalReply,      // writing a reply after a timeout (the client may not be reading)
  kConnect,
  kResponse,
  kTlsHandshake,  // the client's TLS handshake: transport_socket_connect_timeout
};

// Bytes asked of the socket per read while a request head comes in.
constexpr size_t kHeadReadSize = 4096;
// How long a reply to a client that timed out may take to write.
constexpr std::chrono::seconds kTimeoutReplyWrite{5};
// The `allow` header of the 405 that answers CONNECT: wslb proxies the other methods.
constexpr std::string_view kAllowedMethods = "GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH";

// Deletes a relay and cancels its max_connection_duration timer with it, so that the timer
// never outlives the connection it limits. The timer's handler holds only a weak_ptr to the
// relay, so it never keeps the relay alive either.
struct RelayDeleter {
  std::weak_ptr<asio::steady_timer> duration_timer;
  // The relay points into the listener context (its stats and access log), which a config
  // reload may replace while the relay runs: keep the context until the relay is gone.
  mutable std::shared_ptr<const ListenerContext> listener;
  void operator()(relay::Relay* relay) const {
    delete relay;
    listener.reset();
    if (auto timer = duration_timer.lock()) timer->cancel();
  }
};

// The result of reserving and connecting to a backend.
struct UpstreamConnection {
  upstream::Slot slot;
  std::optional<tls::TransportSocket> socket;
  bool overflow = false;           // when !slot: every endpoint full (or the queue)
  bool pending_timed_out = false;  // when overflow: it waited in the queue until the timeout
  bool none_healthy = false;       // when !slot: no eligible endpoint at all
  std::chrono::steady_clock::time_point connected_at{};
};

// The client side of an accepted connection: TLS when the listener has it. `ec`: OpenSSL could
// not make the SSL object (the session then ends at once).
tls::TransportSocket makeClientSocket(tcp::socket socket, const ListenerContext& listener,
                                      error_code& ec) {
  if (!listener.tls) return tls::TransportSocket(std::move(socket));
  return tls::TransportSocket::server(std::move(socket), listener.tls->current(), ec);
}

uint64_t nextConnectionId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

class DownstreamSession final : public relay::Closable,
                                public std::enable_shared_from_this<DownstreamSession> {
 public:
  DownstreamSession(tcp::socket socket, const tcp::endpoint& peer,
                    std::shared_ptr<const ListenerContext> listener,
                    relay::ConnectionTracker& tracker)
      : client_(makeClientSocket(std::move(socket), *listener, tls_setup_error_)),
        listener_(std::move(listener)),
        stats_(&listener_->stats),
        tracker_(tracker),
        deadline_(client_.get_executor()),
        pending_timer_(client_.get_executor()),
        downstream_active_(tracker.takeAcceptedAdmission()) {
    // A TLS connection is counted once the handshake has chosen its filter chain.
    if (!listener_->tls) countConnection();
    // TCP_NODELAY comes from the listening socket (makeAcceptor), and the peer's address from
    // accept(): no system call here.
    client_ip_ = peer.address().to_string();
  }

  ~DownstreamSession() override {
    if (registered_) tracker_.remove(tracker_handle_);
    if (counted_ && !handed_off_) {
      stats_->downstream_cx_destroy.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void start() {
    tracker_handle_ = tracker_.add(weak_from_this());
    registered_ = true;
    asio::co_spawn(client_.get_executor(), run(shared_from_this()), asio::detached);
  }

  // wslb::relay::Closable
  void closeNow() override {
    closed_ = true;
    error_code ec;
    client_.close(ec);
    if (upstream_socket_) upstream_socket_->close(ec);
    deadline_.cancel();
    pending_timer_.cancel();
  }
  /// The drain: a connection waiting for its next request is closed now; one with a request in
  /// flight finishes it (its response says `connection: close`), and a WebSocket it upgrades
  /// meanwhile gets Close `code` as soon as it is relayed.
  void goAway(uint16_t code) override {
    go_away_code_ = code;
    if (awaiting_request_) closeNow();
  }

 private:
  awaitable<void> run(std::shared_ptr<DownstreamSession> self);
  /// The client's TLS handshake, under transport_socket_connect_timeout; then the filter chain
  /// the SNI chose becomes the session's listener context. false: the connection is to end.
  awaitable<bool> handshakeClient();
  /// TLS toward the backend on the connected upstream_socket_ (the cluster has TLS), under the
  /// connect deadline already armed. Counts cluster.<name>.ssl.*.
  awaitable<error_code> handshakeUpstream(const upstream::ClusterState& cluster);
  /// downstream_cx_total and downstream_cx_active of the session's listener context.
  void countConnection() {
    stats_->downstream_cx_total.fetch_add(1, std::memory_order_relaxed);
    downstream_active_.countIn(stats_->downstream_cx_active);
    counted_ = true;
  }
  /// Waits (without a buffer) until the next request's first byte arrives, under the idle
  /// timeout and max_connection_duration. false: the connection is to end.
  awaitable<bool> awaitNextRequest();
  /// Reads and parses a request head into `parser` under request_headers_timeout; also scans the
  /// raw head (scanRequestHead) into `head_check`.
  awaitable<error_code> readRequestHead(bhttp::request_parser<bhttp::string_body>& parser,
                                        Rejection& head_check);
  /// Answers a request whose head could not be read or parsed. Always ends the connection.
  awaitable<void> rejectUnreadableRequest(const error_code& ec, bool header_timeout);
  /// A refused request head: counts it, answers `r.status` and closes.
  awaitable<bool> rejectRequest(const Request& req, Rejection r);
  /// Whether max_connection_duration has passed (counts downstream_cx_max_duration_reached once).
  bool maxDurationReached();
  /// For an upgraded connection: Close 1001 through the relay when max_connection_duration ends.
  void limitRelayDuration(const std::shared_ptr<relay::Relay>& relay,
                          std::shared_ptr<asio::steady_timer> timer);
  awaitable<bool> handleRequest(Request req);
  awaitable<bool> proxy(Request req, const RouteEntry& route, bool upgrade);
  awaitable<UpstreamConnection> connectUpstream(const RouteEntry& route);
  awaitable<upstream::Slot> acquireSlot(const RouteEntry& route,
                                        std::vector<const upstream::Host*>& exclude, bool& overflow,
                                        bool& timed_out);
  awaitable<bool> reply(LocalReply r, bool keep_alive);

  /// Starts the access log entry of a request (if the listener logs).
  void beginLogRecord(const Request* req);
  /// Copies the request headers the access log formats print.
  void captureLogHeaders(const Request& req);
  void logFlag(accesslog::ResponseFlag flag) {
    if (log_record_) log_record_->response_flags.set(flag);
  }
  /// Completes and hands the entry to the access log (the request got its answer).
  void endLogRecord(unsigned status, size_t bytes_sent);

  void armDeadline(std::chrono::milliseconds d, Phase phase) {
    timed_out_ = false;
    phase_ = phase;
    // A timer that fired just before being re-armed still runs its handler; the generation
    // keeps such a stale expiry from ending the next phase.
    const uint64_t generation = ++deadline_generation_;
    deadline_.expires_after(d);
    deadline_.async_wait([weak = weak_from_this(), generation](const error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->deadline_generation_ != generation) return;
      self->onDeadline();
    });
  }
  void cancelDeadline() {
    phase_ = Phase::kNone;
    ++deadline_generation_;
    deadline_.cancel();
  }
  void onDeadline() {
    if (phase_ == Phase::kNone) return;
    timed_out_ = true;
    error_code ec;
    if (phase_ == Phase::kRequestHeaders || phase_ == Phase::kRequestBody) {
      // Reads end (now, and any read started later) but writes still work: a 408 is written.
      client_.cancel(ec);
      client_.shutdown(tcp::socket::shutdown_receive, ec);
    } else if (phase_ == Phase::kIdle || phase_ == Phase::kLocalReply ||
               phase_ == Phase::kTlsHandshake) {
      client_.close(ec);
    } else if (upstream_socket_) {
      upstream_socket_->close(ec);
    }
  }

  error_code tls_setup_error_;  // set while client_ is made (declared first)
  tls::TransportSocket client_;
  std::shared_ptr<const ListenerContext> listener_;
  stats::HcmStats* stats_;  // the listener context's (the chosen filter chain's with TLS)
  relay::ConnectionTracker& tracker_;
  relay::ConnectionTracker::Handle tracker_handle_;
  bool registered_ = false;
  beast::flat_buffer buffer_;
  std::optional<tls::TransportSocket> upstream_socket_;
  asio::steady_timer deadline_;
  asio::steady_timer pending_timer_;
  relay::DownstreamCxGuard downstream_active_;  // downstream_cx_active + global limit unit
  std::string client_ip_ = "0.0.0.0";
  /// When the connection was accepted (max_connection_duration).
  const std::chrono::steady_clock::time_point connection_started_ =
      std::chrono::steady_clock::now();
  bool max_duration_counted_ = false;
  /// When the current request's headers were read (websocket.handshake_ms).
  std::chrono::steady_clock::time_point request_started_{};
  /// The current request's access log entry; only when the listener has an access log.
  std::unique_ptr<accesslog::AccessLogRecord> log_record_;
  /// %CONNECTION_ID%: unique within the process.
  const uint64_t connection_id_ = nextConnectionId();
  Phase phase_ = Phase::kNone;
  uint64_t deadline_generation_ = 0;
  bool timed_out_ = false;
  bool woken_ = false;
  bool closed_ = false;
  bool handed_off_ = false;
  bool counted_ = false;           ///< in downstream_cx_total/active (countConnection()).
  bool awaiting_request_ = false;  ///< between requests (awaitNextRequest).
  uint16_t go_away_code_ = 0;      ///< set by goAway(): no further request on this connection.
};

awaitable<void> DownstreamSession::run(std::shared_ptr<DownstreamSession> self) {
  (void)self;  // keeps the session alive for as long as the coroutine runs
  if (listener_->tls && !co_await handshakeClient()) co_return;
  while (!closed_) {
    timed_out_ = false;
    // Pipelined bytes already buffered start the next request at once.
    if (buffer_.size() == 0 && !co_await awaitNextRequest()) co_return;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(listener_->max_request_headers_bytes));
    parser.body_limit(listener_->max_body_bytes);
    Rejection head_check;
    error_code ec = co_await readRequestHead(parser, head_check);
    if (ec) {
      co_await rejectUnreadableRequest(ec, timed_out_);
      co_return;
    }
    stats_->downstream_rq_total.fetch_add(1, std::memory_order_relaxed);
    request_started_ = std::chrono::steady_clock::now();
    if (!head_check) head_check = validateRequestHead(parser.get(), listener_->max_headers_count);
    if (head_check) {
      co_await rejectRequest(parser.get(), head_check);
      co_return;
    }
    if (!parser.is_done()) {
      if (listener_->request_body_timeout.count() > 0) {
        armDeadline(listener_->request_body_timeout, Phase::kRequestBody);
      }
      auto [bec, n] = co_await bhttp::async_read(client_, buffer_, parser, kAsTuple);
      const bool timed_out = timed_out_;
      cancelDeadline();
      if (bec) {
        beginLogRecord(&parser.get());
        if (timed_out) stats_->downstream_rq_idle_timeout.fetch_add(1, std::memory_order_relaxed);
        co_await rejectUnreadableRequest(bec, false);
        co_return;
      }
    }
    Request req = parser.release();
    useAbsoluteFormAuthority(req);
    beginLogRecord(&req);
    const bool keep_going = co_await handleRequest(std::move(req));
    if (!keep_going) co_return;
  }
}

awaitable<bool> DownstreamSession::handshakeClient() {
  tls::HandshakeStats& tls_stats = *listener_->tls_stats;
  if (tls_setup_error_) {
    tls_stats.countFailure(tls::HandshakeFailure::kConnectionError);
    spdlog::warn("[tls] cannot start a TLS session for {}: {}", client_ip_,
                 tls_setup_error_.message());
    co_return false;
  }
  armDeadline(listener_->tls_handshake_timeout, Phase::kTlsHandshake);
  auto [ec] = co_await client_.async_handshake(kAsTuple);
  const bool timed_out = timed_out_;
  cancelDeadline();
  if (closed_) co_return false;  // closed by wslb (drain, shutdown): not the client's failure
  if (ec) {
    tls_stats.countFailure(tls::classifyHandshakeFailure(client_, ec));
    spdlog::debug("[tls] handshake with {} failed: {}", client_ip_,
                  timed_out ? std::string("timeout") : client_.failureReason(ec));
    co_return false;
  }
  tls_stats.countSuccess(client_, /*server_side=*/true);
  if (const std::optional<size_t> index = client_.filterChain()) {
    if (auto chain = listener_->chain(*index)) listener_ = std::move(chain);
  }
  stats_ = &listener_->stats;
  countConnection();
  co_return true;
}

awaitable<error_code> DownstreamSession::handshakeUpstream(const upstream::ClusterState& cluster) {
  error_code ec;
  tcp::socket connected = std::move(upstream_socket_->socket());
  *upstream_socket_ =
      tls::TransportSocket::client(std::move(connected), cluster.tls()->current(), ec);
  if (ec) {
    cluster.tlsStats().countFailure(tls::HandshakeFailure::kConnectionError);
    co_return ec;
  }
  auto [hec] = co_await upstream_socket_->async_handshake(kAsTuple);
  if (hec) {
    cluster.tlsStats().countFailure(tls::classifyHandshakeFailure(*upstream_socket_, hec));
  } else {
    cluster.tlsStats().countSuccess(*upstream_socket_, /*server_side=*/false);
  }
  co_return hec;
}

awaitable<bool> DownstreamSession::awaitNextRequest() {
  using Clock = std::chrono::steady_clock;
  const auto now = Clock::now();
  std::optional<Clock::time_point> ends;
  if (listener_->idle_timeout.count() > 0) ends = now + listener_->idle_timeout;
  if (listener_->max_connection_duration.count() > 0) {
    if (maxDurationReached()) co_return false;
    const auto max_end = connection_started_ + listener_->max_connection_duration;
    if (!ends || max_end < *ends) ends = max_end;
  }
  if (ends) {
    armDeadline(std::chrono::duration_cast<std::chrono::milliseconds>(*ends - now) +
                    std::chrono::milliseconds(1),
                Phase::kIdle);
  }
  if (go_away_code_ != 0) co_return false;
  if (client_.hasBufferedPlaintext()) {
    // TLS: the next request is already decrypted, waiting inside OpenSSL.
    cancelDeadline();
    co_return !closed_;
  }
  awaiting_request_ = true;
  auto [ec] = co_await client_.async_wait(client_.readWait(), kAsTuple);
  awaiting_request_ = false;
  const bool timed_out = timed_out_;
  cancelDeadline();
  if (timed_out) {
    if (!maxDurationReached()) {
      stats_->downstream_cx_idle_timeout.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("[http] idle timeout: closing the connection from {}", client_ip_);
    }
    co_return false;
  }
  co_return !ec && !closed_;
}

awaitable<error_code> DownstreamSession::readRequestHead(
    bhttp::request_parser<bhttp::string_body>& parser, Rejection& head_check) {
  if (listener_->request_headers_timeout.count() > 0) {
    armDeadline(listener_->request_headers_timeout, Phase::kRequestHeaders);
  }
  error_code ec;
  for (;;) {
    if (buffer_.size() > 0) {
      // Beast parses a head only once all of it is buffered (up to the blank line), so the
      // bytes the parser takes for it are the whole head, still in the buffer to be scanned.
      const auto data = buffer_.data();
      const size_t used = parser.put(data, ec);
      if (!ec && parser.is_header_done()) {
        head_check = scanRequestHead(std::string_view(static_cast<const char*>(data.data()), used));
        buffer_.consume(used);
        break;
      }
      buffer_.consume(used);
      if (ec != bhttp::error::need_more) break;
      ec = {};
    }
    auto [rec, n] = co_await client_.async_read_some(buffer_.prepare(kHeadReadSize), kAsTuple);
    if (rec) {
      ec = rec;
      break;
    }
    buffer_.commit(n);
  }
  cancelDeadline();  // timed_out_ tells a request_headers_timeout apart
  co_return ec;
}

awaitable<void> DownstreamSession::rejectUnreadableRequest(const error_code& ec,
                                                           bool header_timeout) {
  const bool body_timeout = !header_timeout && timed_out_;
  if (header_timeout || body_timeout) {
    if (header_timeout) {
      stats_->downstream_rq_header_timeout.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("[http] request headers timeout from {}", client_ip_);
      beginLogRecord(nullptr);
    } else {
      spdlog::debug("[http] request body timeout from {}", client_ip_);
    }
    if (body_timeout) logFlag(accesslog::ResponseFlag::kStreamIdleTimeout);
    // The client may not be reading either: the reply gets a bounded time.
    armDeadline(kTimeoutReplyWrite, Phase::kLocalReply);
    co_await reply(localReply(408, header_timeout ? "request header timeout" : "stream timeout"),
                   false);
    cancelDeadline();
    co_return;
  }
  if (ec == bhttp::error::header_limit) {
    if (!log_record_) beginLogRecord(nullptr);
    logFlag(accesslog::ResponseFlag::kDownstreamProtocolError);
    co_await reply(localReply(431, "request header fields too large"), false);
  } else if (ec == bhttp::error::body_limit) {
    if (!log_record_) beginLogRecord(nullptr);
    logFlag(accesslog::ResponseFlag::kDownstreamProtocolError);
    co_await reply(localReply(413, "payload too large"), false);
  } else if (!closed_ && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
             ec != asio::error::eof && ec != asio::error::connection_reset &&
             ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor) {
    spdlog::debug("[http] bad request from {}: {}", client_ip_, ec.message());
    if (!log_record_) beginLogRecord(nullptr);
    logFlag(accesslog::ResponseFlag::kDownstreamProtocolError);
    co_await reply(localReply(400, "Bad Request"), false);
  }
  log_record_.reset();  // nothing to answer: the client went away
}

awaitable<bool> DownstreamSession::rejectRequest(const Request& req, Rejection r) {
  spdlog::debug("[http] request from {} refused ({}): {}", client_ip_, r.status, r.reason);
  if (hasUpgradeHeader(req)) stats_->countUpgrade(stats::UpgradeOutcome::kBadRequest);
  beginLogRecord(&req);
  logFlag(accesslog::ResponseFlag::kDownstreamProtocolError);
  LocalReply out = localReply(r.status, std::string(r.reason));
  if (r.status == 405) out.headers.emplace_back("allow", kAllowedMethods);
  co_return co_await reply(std::move(out), false);
}

bool DownstreamSession::maxDurationReached() {
  if (listener_->max_connection_duration.count() <= 0) return false;
  if (max_duration_counted_) return true;
  if (std::chrono::steady_clock::now() - connection_started_ < listener_->max_connection_duration) {
    return false;
  }
  max_duration_counted_ = true;
  stats_->downstream_cx_max_duration_reached.fetch_add(1, std::memory_order_relaxed);
  spdlog::debug("[http] max connection duration reached for the connection from {}", client_ip_);
  return true;
}

void DownstreamSession::limitRelayDuration(const std::shared_ptr<relay::Relay>& relay,
                                           std::shared_ptr<asio::steady_timer> timer) {
  const bool counted = maxDurationReached();
  const auto ends = connection_started_ + listener_->max_connection_duration;
  timer->expires_at(ends);
  timer->async_wait([timer, weak = std::weak_ptr<relay::Relay>(relay), listener = listener_,
                     counted](const error_code& ec) {
    auto relay = weak.lock();
    if (ec || !relay) return;
    if (!counted) {
      listener->stats.downstream_cx_max_duration_reached.fetch_add(1, std::memory_order_relaxed);
    }
    spdlog::debug("[http] max connection duration reached: closing a WebSocket with 1001");
    relay->goAway(1001);
  });
}

awaitable<bool> DownstreamSession::reply(LocalReply r, bool keep_alive) {
  keep_alive = keep_alive && go_away_code_ == 0 && !maxDurationReached();
  stats_->countResponse(r.status);
  auto res = r.toResponse(keep_alive);
  auto [ec, n] = co_await bhttp::async_write(client_, res, kAsTuple);
  if (ec) logFlag(accesslog::ResponseFlag::kDownstreamConnectionTermination);
  endLogRecord(r.status, n);
  if (ec || !keep_alive) {
    error_code ignored;
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    co_return false;
  }
  co_return true;
}

awaitable<bool> DownstreamSession::handleRequest(Request req) {
  const bool keep_alive = requestKeepsAlive(req);
  const bool upgrade = hasUpgradeHeader(req);
  const RouteEntry* route = listener_->router.match(req[bhttp::field::host], req.target());
  if (route == nullptr) {
    logFlag(accesslog::ResponseFlag::kNoRouteFound);
    if (upgrade) stats_->countUpgrade(stats::UpgradeOutcome::kNoRoute);
    co_return co_await reply(localReply(404, ""), keep_alive);
  }

  if (log_record_) {
    log_record_->route_name = route->config.name;
    log_record_->upstream_cluster = route->cluster->name();
  }
  if (upgrade) {
    // Any refusal below is a request that is not a valid WebSocket upgrade here; the checks
    // that pass fall through to proxy(), which counts the other outcomes.
    const auto bad = [this] { stats_->countUpgrade(stats::UpgradeOutcome::kBadRequest); };
    if (!isWebSocketUpgrade(req) || !route->websocket_enabled) {
      bad();
      stats_->downstream_rq_ws_on_non_ws_route.fetch_add(1, std::memory_order_relaxed);
      co_return co_await reply(localReply(403, "upgrade failed"), false);
    }
    if (req.method() != bhttp::verb::get) {
      bad();
      co_return co_await reply(localReply(400, "websocket upgrade requires GET"), false);
    }
    if (!websocket::isSupportedSecWebSocketVersion(req[bhttp::field::sec_websocket_version])) {
      bad();
      auto r = localReply(426, "unsupported websocket version");
      r.headers.emplace_back("sec-websocket-version", "13");
      co_return co_await reply(std::move(r), false);
    }
    if (!websocket::isValidSecWebSocketKey(req[bhttp::field::sec_websocket_key])) {
      bad();
      co_return co_await reply(localReply(400, "invalid sec-websocket-key"), false);
    }
  }
  co_return co_await proxy(std::move(req), *route, upgrade);
}

awaitable<upstream::Slot> DownstreamSession::acquireSlot(
    const RouteEntry& route, std::vector<const upstream::Host*>& exclude, bool& overflow,
    bool& timed_out) {
  auto& cluster = *route.cluster;
  auto& random = upstream::threadRandom();
  upstream::Slot slot = cluster.tryAcquire(random, exclude);
  if (slot || !exclude.empty()) co_return slot;   // after a connect failure: no queueing
  if (!hasEligibleHost(cluster)) co_return slot;  // nothing to wait for: "no healthy upstream"

  overflow = true;
  if (cluster.maxPending() == 0) co_return slot;
  cluster.stats().upstream_rq_pending_total.fetch_add(1, std::memory_order_relaxed);
  const auto deadline = std::chrono::steady_clock::now() + route.pending_timeout;
  // Leaves the queue on every exit, including the coroutine being destroyed while it waits;
  // a wake-up that reached this waiter but will not be used is passed on to the next one.
  struct WaiterGuard {
    upstream::ClusterState& cluster;
    upstream::ClusterState::WaiterId id = 0;
    ~WaiterGuard() {
      if (id != 0 && !cluster.cancelWaiter(id)) cluster.wakeOne();
    }
  } guard{cluster};
  bool at_front = false;
  auto executor = client_.get_executor();
  while (!closed_) {
    woken_ = false;
    auto result = cluster.tryAcquireOrEnqueue(
        random,
        [weak = weak_from_this(), executor] {
          asio::post(executor, [weak] {
            if (auto s = weak.lock()) {
              s->woken_ = true;
              s->pending_timer_.cancel();
            }
          });
        },
        exclude, at_front);
    if (result.slot) {
      slot = std::move(result.slot);
      break;
    }
    if (result.waiter == 0) break;  // the queue is full
    guard.id = result.waiter;
    pending_timer_.expires_at(deadline);
    co_await pending_timer_.async_wait(kAsTuple);
    if (woken_) {
      guard.id = 0;     // a woken waiter has already left the queue
      at_front = true;  // keep the place in line while retrying
      if (std::chrono::steady_clock::now() < deadline) continue;
      slot = cluster.tryAcquire(random, exclude);
      if (!slot) cluster.wakeOne();  // not used: pass the wake-up on
      break;
    }
    timed_out = !closed_;
    break;  // timed out or closed: the guard leaves the queue
  }
  if (slot) {
    overflow = false;
  } else {
    cluster.stats().upstream_rq_pending_overflow.fetch_add(1, std::memory_order_relaxed);
  }
  co_return slot;
}

awaitable<UpstreamConnection> DownstreamSession::connectUpstream(const RouteEntry& route) {
  auto& cluster = *route.cluster;
  UpstreamConnection result;
  std::vector<const upstream::Host*> exclude;
  const uint64_t attempts = uint64_t{1} + cluster.maxRetries();
  for (uint64_t attempt = 0; attempt < attempts && !closed_; ++attempt) {
    bool overflow = false;
    bool pending_timed_out = false;
    upstream::Slot slot = co_await acquireSlot(route, exclude, overflow, pending_timed_out);
    if (!slot) {
      if (exclude.empty() && overflow) {
        result.overflow = true;
        result.pending_timed_out = pending_timed_out;
        cluster.stats().upstream_cx_overflow.fetch_add(1, std::memory_order_relaxed);
      } else if (exclude.empty()) {
        result.none_healthy = true;
        cluster.stats().upstream_cx_none_healthy.fetch_add(1, std::memory_order_relaxed);
      }
      break;
    }
    upstream::Host& host = slot.host();
    if (log_record_) {
      ++log_record_->upstream_attempts;
      log_record_->upstream_hostname = host.hostname();
    }
    error_code ec;
    const auto address = asio::ip::make_address(host.ip(), ec);
    if (ec) {
      exclude.push_back(&host);
      continue;
    }
    if (log_record_) log_record_->upstream_address = tcp::endpoint(address, host.port());
    upstream_socket_.emplace(tcp::socket(client_.get_executor()));
    armDeadline(cluster.config().connect_timeout, Phase::kConnect);
    const auto connect_started = std::chrono::steady_clock::now();
    const tcp::endpoint endpoint(address, host.port());
    error_code cec = upstream::connectStep(upstream_socket_->socket(), endpoint);
    while (cec == asio::error::in_progress) {
      auto [wec] =
          co_await upstream_socket_->socket().async_wait(tcp::socket::wait_write, kAsTuple);
      cec = wec ? wec : upstream::connectStep(upstream_socket_->socket(), endpoint);
    }
    // connect_timeout covers the TLS handshake too: Envoy's connection is "connected" after it.
    if (!cec && cluster.tls() != nullptr) cec = co_await handshakeUpstream(cluster);
    const bool timed_out = timed_out_;
    cancelDeadline();
    if (!cec) {
      result.connected_at = std::chrono::steady_clock::now();
      cluster.stats().upstream_cx_connect_ms.record(
          std::chrono::duration<double, std::milli>(result.connected_at - connect_started).count());
      upstream_socket_->set_option(tcp::no_delay(true), ec);
      host.stats().cx_total.fetch_add(1, std::memory_order_relaxed);
      cluster.stats().upstream_cx_total.fetch_add(1, std::memory_order_relaxed);
      result.slot = std::move(slot);
      result.socket = std::move(upstream_socket_);
      upstream_socket_.reset();
      co_return result;
    }
    const std::string reason =
        timed_out ? std::string("timeout") : upstream_socket_->failureReason(cec);
    spdlog::debug("[upstream] connect to {} failed: {}", host.addressString(), reason);
    if (log_record_) log_record_->upstream_transport_failure_reason = reason;
    host.stats().cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    cluster.stats().upstream_cx_connect_fail.fetch_add(1, std::memory_order_relaxed);
    if (timed_out) {
      cluster.stats().upstream_cx_connect_timeout.fetch_add(1, std::memory_order_relaxed);
    }
    cluster.reportUpstreamResult(host, timed_out ? upstream::UpstreamResult::kTimeout
                                                 : upstream::UpstreamResult::kConnectFailed);
    upstream_socket_.reset();
    exclude.push_back(&host);
  }
  co_return result;
}

awaitable<bool> DownstreamSession::proxy(Request req, const RouteEntry& route, bool upgrade) {
  const bool keep_alive = requestKeepsAlive(req);
  const bool head = req.method() == bhttp::verb::head;
  UpstreamConnection up = co_await connectUpstream(route);
  const auto count = [&](stats::UpgradeOutcome outcome) {
    if (upgrade) stats_->countUpgrade(outcome);
  };
  if (!up.slot) {
    if (up.overflow) {
      logFlag(accesslog::ResponseFlag::kUpstreamOverflow);
      count(up.pending_timed_out ? stats::UpgradeOutcome::kPendingTimeout
                                 : stats::UpgradeOutcome::kOverflow);
      co_return co_await reply(overflowReply(), keep_alive && !upgrade);
    }
    if (up.none_healthy) {
      logFlag(accesslog::ResponseFlag::kNoHealthyUpstream);
      count(stats::UpgradeOutcome::kNoHealthyUpstream);
      co_return co_await reply(localReply(503, "no healthy upstream"), keep_alive && !upgrade);
    }
    logFlag(accesslog::ResponseFlag::kUpstreamConnectionFailure);
    if (log_record_ && log_record_->upstream_attempts > route.cluster->maxRetries()) {
      logFlag(accesslog::ResponseFlag::kUpstreamRetryLimitExceeded);
    }
    count(stats::UpgradeOutcome::kUpstreamConnectFail);
    co_return co_await reply(connectFailureReply(), keep_alive && !upgrade);
  }
  upstream_socket_ = std::move(up.socket);

  prepareUpstreamRequest(req, client_ip_, upgrade);
  captureLogHeaders(req);  // as forwarded: with the X-Request-Id and X-Forwarded-For wslb set
  armDeadline(route.response_timeout, Phase::kResponse);
  auto [wec, wn] = co_await bhttp::async_write(*upstream_socket_, req, kAsTuple);
  beast::flat_buffer upstream_buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(listener_->max_body_bytes);
  if (head) parser.skip(true);
  error_code rec;
  if (!wec) {
    auto [ec, n] =
        co_await bhttp::async_read_header(*upstream_socket_, upstream_buffer, parser, kAsTuple);
    rec = ec;
    const bool switching = upgrade && parser.get().result() == bhttp::status::switching_protocols;
    if (!rec && !switching && !parser.is_done()) {
      auto [ec2, n2] =
          co_await bhttp::async_read(*upstream_socket_, upstream_buffer, parser, kAsTuple);
      rec = ec2;
    }
  }
  const bool timed_out = timed_out_;
  cancelDeadline();
  if (closed_) co_return false;
  if (wec || rec) {
    route.cluster->reportUpstreamResult(
        up.slot.host(),
        timed_out ? upstream::UpstreamResult::kTimeout : upstream::UpstreamResult::kConnectFailed);
    error_code ignored;
    upstream_socket_->close(ignored);
    upstream_socket_.reset();
    up.slot.reset();
    count(timed_out ? stats::UpgradeOutcome::kUpstreamTimeout
                    : stats::UpgradeOutcome::kUpstreamReset);
    logFlag(timed_out ? accesslog::ResponseFlag::kUpstreamRequestTimeout
            : rec == bhttp::error::body_limit
                ? accesslog::ResponseFlag::kUpstreamProtocolError
                : accesslog::ResponseFlag::kUpstreamConnectionTermination);
    if (timed_out) co_return co_await reply(localReply(504, "upstream request timeout"), false);
    if (rec == bhttp::error::body_limit) {
      co_return co_await reply(localReply(502, "upstream response too large"), false);
    }
    co_return co_await reply(upstreamResetReply(), false);
  }

  auto& res = parser.get();
  route.cluster->reportUpstreamResult(up.slot.host(), upstream::UpstreamResult::kResponse,
                                      res.result_int());
  if (upgrade && res.result() == bhttp::status::switching_protocols) {
    // Pass the 101 on as the backend sent it, then relay raw bytes both ways.
    std::string head_bytes = serializeResponseHead(res);
    stats_->countResponse(101);
    if (log_record_) {
      log_record_->response_duration = std::chrono::steady_clock::now() - request_started_;
    }
    auto [ec, n] = co_await asio::async_write(client_, asio::buffer(head_bytes), kAsTuple);
    if (ec || closed_) {
      logFlag(accesslog::ResponseFlag::kDownstreamConnectionTermination);
      endLogRecord(101, n);
      co_return false;
    }
    stats_->downstream_cx_upgrades_total.fetch_add(1, std::memory_order_relaxed);
    stats_->countUpgrade(stats::UpgradeOutcome::kEstablished);
    relay::RelayOptions options;
    options.upgraded_at = std::chrono::steady_clock::now();
    options.connected_at = up.connected_at;
    stats_->websocket_handshake_ms.record(
        std::chrono::duration<double, std::milli>(options.upgraded_at - request_started_).count());
    const auto to_upstream = beast::buffers_to_string(buffer_.data());
    const auto to_client = beast::buffers_to_string(upstream_buffer.data());
    options.idle_timeout = route.idle_timeout;
    options.frame_limits = route.frame_limits;
    if (log_record_) {
      log_record_->response_code = 101;
      log_record_->bytes_sent = n;
      options.access_log = listener_->access_log.get();
      options.log_record = std::move(log_record_);
    }
    std::shared_ptr<asio::steady_timer> duration_timer;
    if (listener_->max_connection_duration.count() > 0) {
      duration_timer = std::make_shared<asio::steady_timer>(client_.get_executor());
    }
    std::shared_ptr<relay::Relay> relay(
        new relay::Relay(std::move(client_), std::move(*upstream_socket_), std::move(up.slot),
                         route.cluster, *stats_, std::move(downstream_active_), tracker_,
                         std::move(options)),
        RelayDeleter{duration_timer, listener_});
    upstream_socket_.reset();
    handed_off_ = true;
    relay->start(to_upstream, to_client);
    if (duration_timer) limitRelayDuration(relay, std::move(duration_timer));
    if (go_away_code_ != 0) relay->goAway(go_away_code_);  // upgraded during a drain
    co_return false;
  }

  // Any other answer goes back unchanged (hop-by-hop fields aside); the slot is released.
  count(stats::UpgradeOutcome::kUpstreamNon101);
  error_code ignored;
  upstream_socket_->close(ignored);
  upstream_socket_.reset();
  up.slot.reset();
  const bool keep = keep_alive && !upgrade && go_away_code_ == 0 && !maxDurationReached();
  Response out = parser.release();
  prepareDownstreamResponse(out, keep, head);
  stats_->countResponse(out.result_int());
  auto [ec, n] = co_await bhttp::async_write(client_, out, kAsTuple);
  if (ec) logFlag(accesslog::ResponseFlag::kDownstreamConnectionTermination);
  endLogRecord(out.result_int(), n);
  if (ec || !keep) {
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    co_return false;
  }
  co_return true;
}

void DownstreamSession::beginLogRecord(const Request* req) {
  const accesslog::AccessLog& log = *listener_->access_log;
  if (!log.enabled()) return;
  log_record_ = std::make_unique<accesslog::AccessLogRecord>();
  accesslog::AccessLogRecord& r = *log_record_;
  r.start_time = std::chrono::system_clock::now();
  r.connection_id = connection_id_;
  error_code ec;
  if (auto remote = client_.remote_endpoint(ec); !ec) r.downstream_remote_address = remote;
  if (auto local = client_.local_endpoint(ec); !ec) r.downstream_local_address = local;
  if (req == nullptr) return;
  r.protocol = req->version() == 10 ? accesslog::Protocol::kHttp10 : accesslog::Protocol::kHttp11;
  captureLogHeaders(*req);
}

void DownstreamSession::captureLogHeaders(const Request& req) {
  if (!log_record_) return;
  listener_->access_log->captureRequestHeaders(
      *log_record_, [&req](std::string_view name) -> std::optional<std::string_view> {
        if (name == ":method") return req.method_string();
        if (name == ":path") return req.target();
        if (name == ":scheme") return std::string_view("http");
        if (name == ":authority") name = "host";
        auto it = req.find(name);
        if (it == req.end()) return std::nullopt;
        return it->value();
      });
}

void DownstreamSession::endLogRecord(unsigned status, size_t bytes_sent) {
  if (!log_record_) return;
  log_record_->response_code = status;
  log_record_->bytes_sent += bytes_sent;
  log_record_->duration = std::chrono::system_clock::now() - log_record_->start_time;
  listener_->access_log->log(std::move(*log_record_));
  log_record_.reset();
}

}  // namespace

void startDownstreamSession(tcp::socket socket, const tcp::endpoint& peer,
                            std::shared_ptr<const ListenerContext> listener,
                            relay::ConnectionTracker& tracker) {
  std::make_shared<DownstreamSession>(std::move(socket), peer, std::move(listener), tracker)
      ->start();
}

}  // namespace wslb::http
