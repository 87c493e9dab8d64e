#pragma once
// wslb-floor-relay: the least a proxy hop can cost on this machine, measured in the same run as
// wslb, HAProxy and nginx (bench/compare's "floor" columns).
//
// A TCP relay and nothing more: it accepts a connection, connects to the next backend in turn
// (a blocking connect(), which on loopback completes within the call) and moves bytes both ways
// until both sides have closed. No HTTP, no picking by load, no limits, no timers, no stats: the
// WebSocket upgrade and frames pass through it as bytes. One thread. Two event loops:
//  - epoll: edge-triggered, each socket registered once; reads until a short read into one
//    scratch buffer, one send per chunk; unsent bytes are kept and the source is not read until
//    they are written (so an idle connection owns no buffer).
//  - io_uring: multishot accept, multishot receives into a ring of provided buffers (an idle
//    connection owns no buffer), one send in flight per direction; submissions and completions
//    in batches (one io_uring_enter per loop), completions run only when the loop asks for them
//    (DEFER_TASKRUN).

#include <cstdint>
#include <string>
#include <vector>

namespace wslb::bench::floor {

struct Options {
  int listen_fd = -1;              ///< bound and listening; non-blocking for epoll
  std::vector<uint16_t> backends;  ///< 127.0.0.1 ports, taken in turn
};

/// Connects to the next backend (round robin): a connected socket with TCP_NODELAY, or -1.
int connectNextBackend(const Options& options, size_t& next);

/// Pairs of sockets, each a slot reused once it is released: a loop keeps the index in the
/// events it asks for.
template <typename Pair>
class PairSlots {
 public:
  /// A fresh pair for an accepted `client` and its `backend`; returns its index.
  size_t add(int client, int backend) {
    size_t index = pairs_.size();
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      pairs_.emplace_back();
    }
    pairs_[index] = Pair{};
    pairs_[index].fd[0] = client;
    pairs_[index].fd[1] = backend;
    return index;
  }
  void release(size_t index) { free_.push_back(index); }
  Pair& operator[](size_t index) { return pairs_[index]; }

 private:
  std::vector<Pair> pairs_;
  std::vector<size_t> free_;
};

/// Run until killed; return only on a set-up error (after printing it), with the exit status.
int runEpoll(const Options& options);
int runIoUring(const Options& options);
/// Whether this kernel lets the process set up the io_uring loop (it may be disabled by sysctl
/// or a seccomp filter); if not, why.
bool ioUringAvailable(std::string& why);

}  // namespace wslb::bench::floor
