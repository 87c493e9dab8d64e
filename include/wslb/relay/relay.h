#pragma once
// The bidirectional pump between a client and a backend after the 101 (the hot path).
//
// Each direction waits for readability, reads into the worker's scratch buffer and writes the
// bytes straight to the other socket. Only when the other side cannot take them all are the
// unsent bytes copied into a pooled buffer; that direction then stops reading until they are
// written (backpressure). An idle connection therefore owns no relay buffer.
// A FrameTracker per direction follows WebSocket frame headers (never the payload) to count
// messages and know frame boundaries. With frame limits (a route's max_frame_bytes /
// max_message_bytes) the trackers also stop an oversized frame before it is forwarded; the relay
// then closes both sides with 1009 as goAway() does. Only then are the bytes of a frame header
// split across reads held back (at most 13 per direction) until the header can be checked.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "wslb/accesslog/access_log.h"
#include "wslb/accesslog/record.h"
#include "wslb/relay/connection_limit.h"
#include "wslb/relay/connection_tracker.h"
#include "wslb/stats/hcm_stats.h"
#include "wslb/tls/transport_socket.h"
#include "wslb/upstream/cluster_state.h"
#include "wslb/upstream/slot.h"
#include "wslb/websocket/frame_tracker.h"

namespace wslb::relay {

struct RelayOptions {
  /// Close both sides when neither has sent anything for this long (0 = never).
  std::chrono::milliseconds idle_timeout{0};
  /// When the backend connection was established (upstream_cx_length_ms).
  std::chrono::steady_clock::time_point connected_at{};
  /// When the 101 went to the client (websocket.duration_ms).
  std::chrono::steady_clock::time_point upgraded_at{};
  /// The listener's access log and this connection's entry (both set, or neither): completed and
  /// logged when the relay ends. Held only when the listener logs.
  const accesslog::AccessLog* access_log = nullptr;
  std::unique_ptr<accesslog::AccessLogRecord> log_record;
  /// Largest data frame / message either side may send (the route's); none by default.
  websocket::FrameLimits frame_limits;
};

class Relay final : public Closable, public std::enable_shared_from_this<Relay> {
 public:
  /// Takes ownership of both connected sockets and of the slot; the slot is released when the
  /// relay ends, whatever ends it. Worker thread only.
  Relay(tls::TransportSocket client, tls::TransportSocket upstream, upstream::Slot slot,
        upstream::ClusterStateSharedPtr cluster, stats::HcmStats& hcm,
        DownstreamCxGuard downstream_active, ConnectionTracker& tracker, RelayOptions options);
  ~Relay() override;

  /// Starts relaying. `to_upstream` / `to_client` are bytes already read past the HTTP headers
  /// on either side (sent first). No callbacks after both sockets are closed.
  void start(std::string to_upstream, std::string to_client);

  // wslb::relay::Closable
  void closeNow() override;
  /// Sends a Close frame with `code` ("going away" for 1001) to both peers, each at the next
  /// frame boundary of the stream it receives (masked toward the backend), then stops relaying
  /// data and half-closes; the relay ends when both peers have closed, or after a grace period.
  /// A direction whose sender already sent its own Close gets none. If frame boundaries are lost
  /// (a protocol error was seen), the connection is closed at once.
  void goAway(uint16_t code) override;
  const upstream::Host* upstreamHost() const override { return slot_ ? &slot_.host() : nullptr; }

  /// Frames/messages seen so far in each direction (for tests and access logs).
  const websocket::FrameTracker& clientToUpstream() const { return dirs_[0].tracker; }
  const websocket::FrameTracker& upstreamToClient() const { return dirs_[1].tracker; }

 private:
  struct Direction {
    Direction(tls::TransportSocket& src, tls::TransportSocket& dst, bool masked);
    tls::TransportSocket& src;
    tls::TransportSocket& dst;
    websocket::FrameTracker tracker;
    std::unique_ptr<uint8_t[]> pending;  ///< pooled; only while a write is blocked.
    size_t pending_size = 0;
    bool read_closed = false;  ///< src sent FIN; dst has been shut down for writing.
    bool close_sent = false;   ///< goAway(): our Close went (or is going) to dst; data stops.
    bool writing_initial =
        false;              ///< start(): the bytes read with the HTTP head are being written.
    bool limited = false;   ///< the tracker enforces frame limits.
    uint8_t held_size = 0;  ///< limited: bytes of an incomplete frame header held back.
    uint8_t held[websocket::FrameTracker::kMaxHeaderSize];
  };

  using Self = std::shared_ptr<Relay>;
  /// Bound to the worker's io_context itself rather than to the type-erased any_io_executor the
  /// sockets carry: the timer is 48 bytes smaller, and so is the wait it keeps pending.
  using IdleTimer =
      boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                        boost::asio::wait_traits<std::chrono::steady_clock>,
                                        boost::asio::io_context::executor_type>;
  void writeInitial(int d, std::string bytes, Self self);
  void waitReadable(int d, Self self);
  void onReadable(int d, const boost::system::error_code& ec, Self self);
  void onPendingWritten(int d, const boost::system::error_code& ec, Self self);
  void onEof(int d);
  void countRead(int d, size_t n);
  /// goAway(): sends the Close toward dirs_[d].dst if that stream is at a frame boundary and no
  /// write is in flight; otherwise the read or write path calls it again later.
  void maybeSendClose(int d, Self self);
  /// Writes `n` bytes of the scratch buffer to dirs_[d].dst; spills what does not fit and waits.
  /// @return false if the relay ended or a write is now pending.
  bool forward(int d, const uint8_t* data, size_t n, Self& self);
  /// Feeds the direction's FrameTracker and adds completed messages to the host's counters.
  void feedTracker(int d, const uint8_t* data, size_t n);
  /// Adds the messages dirs_[d]'s tracker completed since it counted `before` to the host's.
  void countMessages(int d, uint64_t before);
  /// Limited directions: `n` new bytes were read at scratch + held_size after the held header
  /// bytes were copied to scratch. Feeds the tracker (up to the frame boundary if `to_boundary`)
  /// and returns how many bytes from `scratch` may be forwarded now; the bytes of a header still
  /// incomplete are held back; after an oversized frame's header, nothing more is forwarded.
  size_t admitLimited(int d, uint8_t* scratch, size_t n, bool to_boundary);
  /// A frame over the limits arrived on dirs_[d]: Close 1009 to both sides (goAway()).
  void onOverLimit(int d);
  /// The Close code to report for the side dirs_[d] reads from: its own Close frame's, or 1009
  /// when its message was too big.
  std::optional<uint16_t> closeCodeOf(int d) const;
  void armIdleTimer();
  /// Ends the relay, on every path (both EOFs, an error or reset on either side, the idle
  /// timeout, shutdown): closes both sockets (a clean close towards the other side) and releases
  /// the slot. Idempotent.
  void finish();
  /// Which side ended the connection first, for upstream_cx_destroy_local/_remote.
  enum class Closer : uint8_t { kNone, kClient, kUpstream, kLocal };
  /// Records who closed first (the first call wins), then finish().
  void finishBy(Closer closer);
  /// Completes the access log entry (if any) and hands it to the access log.
  void logAccess();
  /// The side whose socket dirs_[d] reads from.
  static Closer sourceOf(int d) { return d == 0 ? Closer::kClient : Closer::kUpstream; }
  /// The side dirs_[d] writes to.
  static Closer destinationOf(int d) { return d == 0 ? Closer::kUpstream : Closer::kClient; }

  tls::TransportSocket client_;
  tls::TransportSocket upstream_;
  upstream::Slot slot_;
  upstream::ClusterStateSharedPtr cluster_;
  stats::HcmStats& hcm_;
  DownstreamCxGuard downstream_active_;
  stats::GaugeGuard upgrades_active_;
  ConnectionTracker& tracker_;
  ConnectionTracker::Handle tracker_handle_;
  bool tracker_registered_ = false;
  RelayOptions options_;
  IdleTimer idle_timer_;
  Direction dirs_[2];
  bool active_since_tick_ = false;
  uint8_t idle_ticks_ = 0;
  bool finished_ = false;
  bool going_away_ = false;
  Closer closer_ = Closer::kNone;
  uint16_t go_away_code_ = 0;
};

}  // namespace wslb::relay
