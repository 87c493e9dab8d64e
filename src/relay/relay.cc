#include "wslb/relay/relay.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <random>
#include <stdexcept>

#include "relay/buffer_pool.h"
#include "wslb/relay/handler_memory.h"

namespace wslb::relay {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr int kToUpstream = 0;
constexpr int kToClient = 1;
// Reads per readiness event before yielding to other connections of this worker.
constexpr int kMaxReadsPerEvent = 16;
// The idle timeout is checked in this many ticks per period, so it fires within 1.25x.
constexpr int kIdleTicksPerTimeout = 4;
// After goAway(), how long peers get to answer our Close before the relay closes the sockets.
constexpr std::chrono::seconds kGoAwayGrace{5};

// Masking keys for Close frames toward backends (RFC 6455 §5.3: unpredictable per frame).
uint32_t maskKey() {
  thread_local std::mt19937 random{std::random_device{}()};
  return static_cast<uint32_t>(random());
}

// The io_context a relay's sockets run on (a worker's); the relay is built on no other.
asio::io_context::executor_type ioContextExecutor(tls::TransportSocket& socket) {
  auto executor = socket.get_executor();
  const auto* io = executor.target<asio::io_context::executor_type>();
  if (io == nullptr) throw std::logic_error("a relay's sockets must run on an io_context");
  return *io;
}
}  // namespace

Relay::Direction::Direction(tls::TransportSocket& s, tls::TransportSocket& d, bool masked)
    : src(s),
      dst(d),
      tracker(masked ? websocket::FrameTracker::Masking::kMasked
                     : websocket::FrameTracker::Masking::kUnmasked) {}

Relay::Relay(tls::TransportSocket client, tls::TransportSocket upstream, upstream::Slot slot,
             upstream::ClusterStateSharedPtr cluster, stats::HcmStats& hcm,
             DownstreamCxGuard downstream_active, ConnectionTracker& tracker, RelayOptions options)
    : client_(std::move(client)),
      upstream_(std::move(upstream)),
      slot_(std::move(slot)),
      cluster_(std::move(cluster)),
      hcm_(hcm),
      downstream_active_(std::move(downstream_active)),
      upgrades_active_(hcm.downstream_cx_upgrades_active),
      tracker_(tracker),
      options_(std::move(options)),
      idle_timer_(ioContextExecutor(client_)),
      dirs_{Direction(client_, upstream_, /*masked=*/true),
            Direction(upstream_, client_, /*masked=*/false)} {
  if (options_.frame_limits.any()) {
    for (Direction& dir : dirs_) {
      dir.tracker.setLimits(options_.frame_limits);
      dir.limited = true;
    }
  }
}

Relay::~Relay() {
  finish();
  if (tracker_registered_) tracker_.remove(tracker_handle_);
}

void Relay::start(std::string to_upstream, std::string to_client) {
  tracker_handle_ = tracker_.add(weak_from_this());
  tracker_registered_ = true;
  armIdleTimer();
  writeInitial(kToUpstream, std::move(to_upstream), shared_from_this());
  writeInitial(kToClient, std::move(to_client), shared_from_this());
}

void Relay::writeInitial(int d, std::string bytes, Self self) {
  if (bytes.empty()) {
    waitReadable(d, std::move(self));
    return;
  }
  Direction& dir = dirs_[d];
  countRead(d, bytes.size());
  auto* data = reinterpret_cast<uint8_t*>(bytes.data());
  if (dir.limited) {
    bytes.resize(admitLimited(d, data, bytes.size(), /*to_boundary=*/false));
  } else {
    feedTracker(d, data, bytes.size());
  }
  auto holder = std::make_unique<std::string>(std::move(bytes));
  auto buf = asio::buffer(*holder);
  dir.writing_initial = true;
  asio::async_write(dir.dst, buf,
                    [this, d, holder = std::move(holder), self = std::move(self)](
                        const error_code& ec, size_t) mutable {
                      dirs_[d].writing_initial = false;
                      if (finished_) return;
                      if (ec) {
                        finishBy(destinationOf(d));
                        return;
                      }
                      if (dirs_[d].tracker.overLimit()) onOverLimit(d);
                      if (going_away_) maybeSendClose(d, self);  // held back while writing
                      waitReadable(d, std::move(self));
                    });
}

void Relay::waitReadable(int d, Self self) {
  if (finished_) return;
  tls::TransportSocket& src = dirs_[d].src;
  if (src.hasBufferedPlaintext()) {
    // TLS: decrypted bytes (or the end of the stream) already wait inside OpenSSL; the socket
    // may never become readable for them.
    asio::post(src.get_executor(), [this, d, self = std::move(self)]() mutable {
      onReadable(d, error_code(), std::move(self));
    });
    return;
  }
  // The wait an idle connection keeps pending: in a block of its own size (handler_memory.h).
  src.async_wait(src.readWait(),
                 sized([this, d, self = std::move(self)](const error_code& ec) mutable {
                   onReadable(d, ec, std::move(self));
                 }));
}

void Relay::countRead(int d, size_t n) {
  active_since_tick_ = true;
  if (options_.log_record) {
    (d == kToUpstream ? options_.log_record->bytes_received : options_.log_record->bytes_sent) += n;
  }
  auto& host_stats = slot_.host().stats();
  auto& cluster_stats = cluster_->stats();
  if (d == kToUpstream) {
    hcm_.downstream_cx_rx_bytes_total.fetch_add(n, std::memory_order_relaxed);
    host_stats.tx_bytes.fetch_add(n, std::memory_order_relaxed);
    cluster_stats.upstream_cx_tx_bytes_total.fetch_add(n, std::memory_order_relaxed);
  } else {
    hcm_.downstream_cx_tx_bytes_total.fetch_add(n, std::memory_order_relaxed);
    host_stats.rx_bytes.fetch_add(n, std::memory_order_relaxed);
    cluster_stats.upstream_cx_rx_bytes_total.fetch_add(n, std::memory_order_relaxed);
  }
}

void Relay::countMessages(int d, uint64_t before) {
  if (const uint64_t done = dirs_[d].tracker.messages() - before; done != 0) {
    auto& host_stats = slot_.host().stats();
    (d == kToUpstream ? host_stats.tx_messages : host_stats.rx_messages)
        .fetch_add(done, std::memory_order_relaxed);
  }
}

void Relay::feedTracker(int d, const uint8_t* data, size_t n) {
  auto& tracker = dirs_[d].tracker;
  const uint64_t before = tracker.messages();
  tracker.feed(data, n);
  countMessages(d, before);
}

size_t Relay::admitLimited(int d, uint8_t* scratch, size_t n, bool to_boundary) {
  Direction& dir = dirs_[d];
  auto& tracker = dir.tracker;
  const size_t held = dir.held_size;
  dir.held_size = 0;
  const uint64_t before = tracker.messages();
  const size_t accepted = to_boundary ? tracker.feedToBoundary(scratch + held, n)
                                      : tracker.feedUntilLimit(scratch + held, n);
  countMessages(d, before);
  // Past an oversized frame's header nothing goes out; held bytes are that header's if it began
  // in an earlier read (accepted is then 0).
  if (tracker.overLimit()) return accepted > 0 ? held + accepted : 0;
  const size_t ready = held + accepted;
  const size_t pending = tracker.pendingHeaderBytes();  // the tail of `ready`, at most 13 bytes
  std::memcpy(dir.held, scratch + ready - pending, pending);
  dir.held_size = static_cast<uint8_t>(pending);
  return ready - pending;
}

void Relay::onOverLimit(int d) {
  spdlog::debug("[relay] the {} sent a frame over the route's size limits; closing with 1009",
                d == kToUpstream ? "client" : "backend");
  goAway(websocket::kCloseTooBig);
}

std::optional<uint16_t> Relay::closeCodeOf(int d) const {
  const auto& tracker = dirs_[d].tracker;
  return tracker.overLimit() ? std::optional<uint16_t>(websocket::kCloseTooBig)
                             : tracker.closeCode();
}

void Relay::onReadable(int d, const error_code& wait_ec, Self self) {
  if (finished_) return;
  if (wait_ec) {
    if (wait_ec != asio::error::operation_aborted) finish();
    return;
  }
  Direction& dir = dirs_[d];
  uint8_t* scratch = threadScratch();
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    // Limited directions only: a header split across reads goes out once it is complete.
    const size_t held = dir.held_size;
    if (held != 0) std::memcpy(scratch, dir.held, held);
    error_code ec;
    const size_t n = dir.src.read_some(asio::buffer(scratch + held, kRelayChunk - held), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec == asio::error::eof) {
      onEof(d);
      return;
    }
    if (ec) {
      finishBy(sourceOf(d));
      return;
    }
    countRead(d, n);
    if (going_away_) {
      // Our Close is due at the next frame boundary: forward only the rest of the current frame
      // and drop what follows (the sender is about to get our Close). After the Close, drop
      // everything; reading goes on only to see the sender close.
      if (dir.close_sent) continue;
      const size_t take = dir.limited ? admitLimited(d, scratch, n, /*to_boundary=*/true)
                                      : dir.tracker.feedToBoundary(scratch, n);
      if (take > 0 && !forward(d, scratch, take, self)) return;
      maybeSendClose(d, self);
      continue;
    }
    if (dir.limited) {
      const size_t ready = admitLimited(d, scratch, n, /*to_boundary=*/false);
      const bool wrote_all = ready == 0 || forward(d, scratch, ready, self);
      if (dir.tracker.overLimit()) {
        onOverLimit(d);  // its Close waits for a spilled write, if any
        if (!wrote_all) return;
        continue;  // reading goes on only to see the sender close
      }
      if (!wrote_all) return;
    } else {
      feedTracker(d, scratch, n);
      if (!forward(d, scratch, n, self)) return;
    }
    if (n < kRelayChunk - held) break;  // a short read: the socket is (almost surely) drained
  }
  waitReadable(d, std::move(self));
}

bool Relay::forward(int d, const uint8_t* data, size_t n, Self& self) {
  Direction& dir = dirs_[d];
  error_code ec;
  size_t written = dir.dst.write_some(asio::buffer(data, n), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    written = 0;
  } else if (ec) {
    finishBy(destinationOf(d));
    return false;
  }
  if (written < n) {
    // The other side is slow: keep the rest in a pooled buffer and stop reading this direction
    // until it has been written (backpressure).
    dir.pending = takeSpillBuffer();
    dir.pending_size = n - written;
    std::memcpy(dir.pending.get(), data + written, dir.pending_size);
    asio::async_write(dir.dst, asio::buffer(dir.pending.get(), dir.pending_size),
                      [this, d, self = std::move(self)](const error_code& wec, size_t) mutable {
                        onPendingWritten(d, wec, std::move(self));
                      });
    return false;
  }
  return true;
}

void Relay::onPendingWritten(int d, const error_code& ec, Self self) {
  Direction& dir = dirs_[d];
  giveSpillBuffer(std::move(dir.pending));
  dir.pending_size = 0;
  if (finished_) return;
  if (ec) {
    if (ec != asio::error::operation_aborted) finishBy(destinationOf(d));
    return;
  }
  if (going_away_) maybeSendClose(d, self);
  waitReadable(d, std::move(self));
}

void Relay::goAway(uint16_t code) {
  if (finished_ || going_away_) return;
  if (!dirs_[0].tracker.ok() || !dirs_[1].tracker.ok()) {
    finishBy(Closer::kLocal);  // frame boundaries are unknown: a Close could land inside a frame
    return;
  }
  going_away_ = true;
  go_away_code_ = code;
  if (closer_ == Closer::kNone) closer_ = Closer::kLocal;
  // The grace period replaces the idle timeout: peers that never answer our Close are cut off.
  idle_timer_.cancel();
  idle_timer_.expires_after(kGoAwayGrace);
  idle_timer_.async_wait(sized([weak = weak_from_this()](const error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->finish();
  }));
  Self self = shared_from_this();
  maybeSendClose(kToUpstream, self);
  maybeSendClose(kToClient, self);
}

void Relay::maybeSendClose(int d, Self self) {
  Direction& dir = dirs_[d];
  if (finished_ || dir.close_sent || dir.pending || dir.writing_initial ||
      !dir.tracker.atFrameBoundary()) {
    return;
  }
  dir.close_sent = true;
  auto shutdown_dst = [this, d] {
    error_code ec;
    dirs_[d].dst.shutdown(asio::socket_base::shutdown_send, ec);
    if (dirs_[0].close_sent && dirs_[1].close_sent && dirs_[0].read_closed &&
        dirs_[1].read_closed) {
      finish();
    }
  };
  // The sender already closed (its Close went through, or it sent FIN): nothing to add.
  if (dir.tracker.closes() > 0 || dir.read_closed) {
    shutdown_dst();
    return;
  }
  auto frame = std::make_unique<std::array<uint8_t, websocket::kMaxCloseFrameSize>>();
  const std::optional<uint32_t> mask =
      d == kToUpstream ? std::optional<uint32_t>(maskKey()) : std::nullopt;
  std::string_view reason;
  if (go_away_code_ == websocket::kCloseGoingAway) reason = "going away";
  if (go_away_code_ == websocket::kCloseTooBig) reason = "message too big";
  const size_t size = websocket::writeCloseFrame(frame->data(), go_away_code_, reason, mask);
  auto buffer = asio::buffer(frame->data(), size);
  asio::async_write(dir.dst, buffer,
                    [this, frame = std::move(frame), shutdown_dst, self = std::move(self)](
                        const error_code& ec, size_t) {
                      if (finished_) return;
                      if (ec) {
                        finish();
                        return;
                      }
                      shutdown_dst();
                    });
}

void Relay::onEof(int d) {
  Direction& dir = dirs_[d];
  dir.read_closed = true;
  if (closer_ == Closer::kNone) closer_ = sourceOf(d);
  const bool both_closed = dirs_[0].read_closed && dirs_[1].read_closed;
  // With both ends closed, close() sends our FIN after what is still queued: a TCP shutdown
  // first would be one more system call for nothing. TLS sends its close_notify first.
  if (!both_closed || dir.dst.isTls()) {
    error_code ec;
    dir.dst.shutdown(asio::socket_base::shutdown_send, ec);
  }
  if (both_closed) {
    finish();
  } else if (going_away_) {
    maybeSendClose(d, shared_from_this());
  }
}

void Relay::closeNow() {
  finishBy(Closer::kLocal);
}

void Relay::finishBy(Closer closer) {
  if (closer_ == Closer::kNone) closer_ = closer;
  finish();
}

void Relay::logAccess() {
  if (!options_.log_record || options_.access_log == nullptr) return;
  accesslog::AccessLogRecord& r = *options_.log_record;
  r.duration = std::chrono::system_clock::now() - r.start_time;
  r.messages_received = dirs_[kToUpstream].tracker.messages();
  r.messages_sent = dirs_[kToClient].tracker.messages();
  r.downstream_close_code = closeCodeOf(kToUpstream);
  r.upstream_close_code = closeCodeOf(kToClient);
  switch (closer_) {
    case Closer::kUpstream:
      r.response_flags.set(accesslog::ResponseFlag::kUpstreamConnectionTermination);
      break;
    case Closer::kClient:
      r.response_flags.set(accesslog::ResponseFlag::kDownstreamConnectionTermination);
      break;
    case Closer::kLocal:
      if (!r.response_flags.has(accesslog::ResponseFlag::kStreamIdleTimeout)) {
        r.response_flags.set(accesslog::ResponseFlag::kLocalReset);
      }
      break;
    case Closer::kNone:
      break;
  }
  options_.access_log->log(std::move(r));
  options_.log_record.reset();
}

void Relay::armIdleTimer() {
  if (options_.idle_timeout.count() <= 0 || finished_ || going_away_) return;
  auto tick = options_.idle_timeout / kIdleTicksPerTimeout;
  if (tick.count() <= 0) tick = std::chrono::milliseconds(1);
  idle_timer_.expires_after(tick);
  idle_timer_.async_wait(sized([weak = weak_from_this()](const error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->finished_) return;
    if (self->active_since_tick_) {
      self->active_since_tick_ = false;
      self->idle_ticks_ = 0;
    } else if (++self->idle_ticks_ >= kIdleTicksPerTimeout) {
      self->hcm_.downstream_rq_idle_timeout.fetch_add(1, std::memory_order_relaxed);
      if (self->options_.log_record) {
        self->options_.log_record->response_flags.set(accesslog::ResponseFlag::kStreamIdleTimeout);
      }
      spdlog::debug("[relay] idle timeout, closing");
      self->finishBy(Closer::kLocal);
      return;
    }
    if (!self->going_away_) self->armIdleTimer();
  }));
}

void Relay::finish() {
  if (finished_) return;
  finished_ = true;
  error_code ec;
  idle_timer_.cancel();
  client_.close(ec);
  upstream_.close(ec);
  const auto now = std::chrono::steady_clock::now();
  if (slot_) {
    auto& stats = cluster_->stats();
    stats.upstream_cx_destroy.fetch_add(1, std::memory_order_relaxed);
    (closer_ == Closer::kUpstream ? stats.upstream_cx_destroy_remote
                                  : stats.upstream_cx_destroy_local)
        .fetch_add(1, std::memory_order_relaxed);
    if (options_.connected_at != std::chrono::steady_clock::time_point{}) {
      stats.upstream_cx_length_ms.record(
          std::chrono::duration<double, std::milli>(now - options_.connected_at).count());
    }
    slot_.reset();
  }
  if (options_.upgraded_at != std::chrono::steady_clock::time_point{}) {
    hcm_.websocket_duration_ms.record(
        std::chrono::duration<double, std::milli>(now - options_.upgraded_at).count());
  }
  logAccess();
  hcm_.client_close_codes[stats::closeCodeBucket(closeCodeOf(kToUpstream))].fetch_add(
      1, std::memory_order_relaxed);
  hcm_.upstream_close_codes[stats::closeCodeBucket(closeCodeOf(kToClient))].fetch_add(
      1, std::memory_order_relaxed);
  hcm_.downstream_cx_destroy.fetch_add(1, std::memory_order_relaxed);
  downstream_active_.reset();
  upgrades_active_.reset();
}

}  // namespace wslb::relay
