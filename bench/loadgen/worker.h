#pragma once
// One load-generator thread: its own epoll instance, its own connections, its own counters.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "frames.h"
#include "histogram.h"
#include "options.h"
#include "wslb/websocket/frame_tracker.h"

namespace wslb::loadgen {

enum class Phase : int { kSetup, kWarmup, kMeasure, kStop };

/// Written by the main thread, read by the workers once per event-loop iteration.
struct Control {
  std::atomic<int> phase{static_cast<int>(Phase::kSetup)};
  std::atomic<unsigned> setup_done{0};  ///< workers whose connections are all upgraded (or failed)
  std::atomic<unsigned> quota_done{0};  ///< workers that reached their share of --count
};

/// Read by the main thread only after the worker's thread has been joined.
struct WorkerStats {
  uint64_t messages = 0;    ///< echoes received while measuring
  uint64_t bytes = 0;       ///< their payload bytes
  uint64_t handshakes = 0;  ///< handshake mode: cycles completed while measuring
  uint64_t upgrades = 0;    ///< upgrades completed (any phase)
  uint64_t errors = 0;
  uint64_t open_at_stop = 0;    ///< upgraded connections still open when the stop came
  uint64_t quota_done_ns = 0;   ///< when this worker reached its share of --count (0 = never)
  uint64_t setup_start_ns = 0;  ///< first connect of the setup phase
  uint64_t setup_end_ns = 0;    ///< last upgrade completed in the setup phase
  LatencyHistogram latency;     ///< RTT (echo, throughput), connect→echo (handshake),
                                ///< connect→101 (idle)
  std::string first_error;
};

class Worker {
 public:
  /// @param first_connection global index of this worker's first connection (spreads source
  ///        addresses)
  /// @param quota stop measuring after this many handshakes/messages (0 = no limit)
  Worker(const Options& options, const Target& target, Control& control, unsigned first_connection,
         unsigned connections, uint64_t quota);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// The thread body: returns when the phase is kStop and every connection is closed (or the
  /// shutdown grace period is over).
  void run();

  /// Makes run() look at Control::phase now. Any thread.
  void wake();

  const WorkerStats& stats() const { return stats_; }

  static constexpr size_t kHeadMax = 2048;

 private:
  enum class ConnState : uint8_t {
    kFree,
    kConnecting,  ///< the upgrade request is not fully written yet
    kUpgrading,   ///< waiting for the 101
    kReady,       ///< upgraded, nothing in flight
    kAwaitEcho,
    kClosing,  ///< our Close frame is (being) sent; waiting for the server's Close or EOF
  };

  struct Conn {
    int fd = -1;
    uint32_t generation = 0;
    ConnState state = ConnState::kFree;
    bool established = false;
    bool echoed = false;
    uint16_t head_len = 0;
    const uint8_t* out = nullptr;
    size_t out_len = 0;
    size_t out_off = 0;
    uint64_t start_ns = 0;
    uint64_t echo_ns = 0;
    /// Follows the server's frames by their headers (payloads skipped by length).
    websocket::FrameTracker tracker{websocket::FrameTracker::Masking::kUnmasked,
                                    websocket::FrameTracker::RsvPolicy::kNone};
    std::string request;
    std::string accept;
    std::array<char, kHeadMax> head;
  };

  void enterPhase(Phase phase);
  void pumpConnects();
  bool startConnect(Conn& c);
  void onEvent(uint64_t token, uint32_t events);
  void readLoop(Conn& c);
  bool flush(Conn& c);
  bool sendFrame(Conn& c, const std::vector<uint8_t>& frame);
  bool sendMessage(Conn& c, uint64_t now_ns);
  bool beginClose(Conn& c);
  bool onHeadBytes(Conn& c, size_t size);
  bool onEstablished(Conn& c);
  bool onFrameBytes(Conn& c, const uint8_t* data, size_t size);
  bool onMessage(Conn& c, uint64_t bytes);
  void onEof(Conn& c);
  void finishClose(Conn& c);
  void fail(Conn& c, std::string_view why, int error_number = 0);
  void recordError(std::string_view why, int error_number = 0);
  void release(Conn& c);
  void reachQuota(uint64_t now_ns);
  size_t indexOf(const Conn& c) const { return static_cast<size_t>(&c - conns_.data()); }

  const Options& options_;
  const Target& target_;
  Control& control_;
  const uint64_t quota_;
  Phase phase_ = Phase::kSetup;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::vector<Conn> conns_;
  std::vector<uint8_t> message_frame_;
  std::vector<uint8_t> close_frame_;
  std::unique_ptr<uint8_t[]> scratch_;
  size_t next_connect_ = 0;
  unsigned connecting_ = 0;
  size_t live_ = 0;
  uint64_t open_ = 0;
  uint64_t source_counter_ = 0;
  uint64_t stop_deadline_ns_ = 0;
  bool setup_reported_ = false;
  bool quota_reached_ = false;
  WorkerStats stats_;
};

}  // namespace wslb::loadgen
