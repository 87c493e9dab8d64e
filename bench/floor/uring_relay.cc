// The io_uring loop of wslb-floor-relay (floor_relay.h).

#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "floor_relay.h"

namespace wslb::bench::floor {
namespace {

constexpr unsigned kEntries = 4096;
constexpr unsigned kBuffers = 1024;  // a power of two
constexpr unsigned kBufferSize = 16 * 1024;
constexpr uint16_t kGroup = 1;

enum class Op : uint64_t { kAccept = 1, kRecv = 2, kSend = 3 };

uint64_t userData(Op op, size_t index, int side) {
  return static_cast<uint64_t>(op) << 60 | static_cast<uint64_t>(index) << 1 |
         static_cast<uint64_t>(side);
}

struct Chunk {
  uint16_t buffer;
  uint32_t size;
};

// Chunks waiting to be sent, oldest first. Empty, it holds no memory; once used, its capacity
// stays (a few bytes), unlike std::deque, which allocates when it is constructed.
class ChunkQueue {
 public:
  bool empty() const { return head_ == chunks_.size(); }
  size_t size() const { return chunks_.size() - head_; }
  const Chunk& front() const { return chunks_[head_]; }
  const Chunk& back() const { return chunks_.back(); }
  void push_back(Chunk chunk) { chunks_.push_back(chunk); }
  void pop_front() {
    if (++head_ == chunks_.size()) clear();
  }
  void pop_back() {
    chunks_.pop_back();
    if (head_ == chunks_.size()) clear();
  }
  void clear() {
    chunks_.clear();
    head_ = 0;
  }

 private:
  std::vector<Chunk> chunks_;
  size_t head_ = 0;
};

struct Direction {   // bytes received on fd[side], sent to fd[1 - side]
  ChunkQueue queue;  // front: the send in flight, if `sending`
  bool sending = false;
  bool receiving = false;  // a multishot receive is armed
  bool starved = false;    // it ended for want of buffers; re-armed when some come back
  bool read_closed = false;
};

struct Pair {
  int fd[2] = {-1, -1};  // 0: client, 1: backend
  Direction dir[2];
  bool closing = false;
};

class UringRelay {
 public:
  explicit UringRelay(const Options& options) : options_(options) {}
  ~UringRelay() {
    if (initialised_) io_uring_queue_exit(&ring_);
  }
  UringRelay(const UringRelay&) = delete;
  UringRelay& operator=(const UringRelay&) = delete;

  /// Sets up the ring and its buffers; "" or what failed.
  std::string setUp() {
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    params.cq_entries = kEntries * 8;
    if (const int rc = io_uring_queue_init_params(kEntries, &ring_, &params); rc < 0) {
      return std::string("io_uring_queue_init: ") + std::strerror(-rc);
    }
    initialised_ = true;
    return setUpBuffers();
  }

  int run() {
    if (const std::string error = setUp(); !error.empty()) {
      std::fprintf(stderr, "wslb-floor-relay: %s\n", error.c_str());
      return 1;
    }
    armAccept();
    for (;;) {
      io_uring_submit_and_wait(&ring_, 1);
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0;
      unsigned seen = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        handle(*cqe);
      }
      io_uring_cq_advance(&ring_, seen);
      if (returned_) rearmStarved();
    }
  }

 private:
  std::string setUpBuffers() {
    const size_t ring_bytes = kBuffers * sizeof(io_uring_buf);
    void* ring_memory =
        ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_memory == MAP_FAILED) return std::string("mmap: ") + std::strerror(errno);
    buf_ring_ = static_cast<io_uring_buf_ring*>(ring_memory);
    io_uring_buf_ring_init(buf_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(ring_memory);
    reg.ring_entries = kBuffers;
    reg.bgid = kGroup;
    if (const int rc = io_uring_register_buf_ring(&ring_, &reg, 0); rc < 0) {
      return std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
    }
    buffers_.resize(static_cast<size_t>(kBuffers) * kBufferSize);
    for (unsigned id = 0; id < kBuffers; ++id) {
      io_uring_buf_ring_add(buf_ring_, buffer(static_cast<uint16_t>(id)), kBufferSize,
                            static_cast<uint16_t>(id), io_uring_buf_ring_mask(kBuffers),
                            static_cast<int>(id));
    }
    io_uring_buf_ring_advance(buf_ring_, kBuffers);
    return "";
  }

  uint8_t* buffer(uint16_t id) { return buffers_.data() + static_cast<size_t>(id) * kBufferSize; }

  void giveBack(uint16_t id) {
    io_uring_buf_ring_add(buf_ring_, buffer(id), kBufferSize, id, io_uring_buf_ring_mask(kBuffers),
                          0);
    io_uring_buf_ring_advance(buf_ring_, 1);
    returned_ = true;
  }

  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    if (s == nullptr) {
      io_uring_submit(&ring_);
      s = io_uring_get_sqe(&ring_);
    }
    return s;
  }

  void armAccept() {
    io_uring_sqe* s = sqe();
    io_uring_prep_multishot_accept(s, options_.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(s, userData(Op::kAccept, 0, 0));
  }

  void armRecv(size_t index, int side) {
    Direction& dir = pairs_[index].dir[side];
    io_uring_sqe* s = sqe();
    io_uring_prep_recv_multishot(s, pairs_[index].fd[side], nullptr, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = kGroup;
    io_uring_sqe_set_data64(s, userData(Op::kRecv, index, side));
    dir.receiving = true;
    dir.starved = false;
  }

  void startSend(size_t index, int side) {
    Pair& pair = pairs_[index];
    Direction& dir = pair.dir[side];
    if (dir.sending || dir.queue.empty()) return;
    const Chunk chunk = dir.queue.front();
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, pair.fd[1 - side], buffer(chunk.buffer), chunk.size,
                       MSG_NOSIGNAL | MSG_WAITALL);
    io_uring_sqe_set_data64(s, userData(Op::kSend, index, side));
    dir.sending = true;
  }

  void handle(const io_uring_cqe& cqe) {
    const uint64_t data = io_uring_cqe_get_data64(&cqe);
    const auto op = static_cast<Op>(data >> 60);
    const auto index = static_cast<size_t>((data & ((1ull << 60) - 1)) >> 1);
    const auto side = static_cast<int>(data & 1u);
    switch (op) {
      case Op::kAccept:
        onAccept(cqe.res);
        if ((cqe.flags & IORING_CQE_F_MORE) == 0) armAccept();
        break;
      case Op::kRecv:
        onRecv(index, side, cqe);
        break;
      case Op::kSend:
        onSend(index, side, cqe.res);
        break;
    }
  }

  void onAccept(int client) {
    if (client < 0) return;
    const int backend = connectNextBackend(options_, next_backend_);
    if (backend < 0) {
      ::close(client);
      return;
    }
    const size_t index = pairs_.add(client, backend);
    armRecv(index, 0);
    armRecv(index, 1);
  }

  void onRecv(size_t index, int side, const io_uring_cqe& cqe) {
    Pair& pair = pairs_[index];
    Direction& dir = pair.dir[side];
    if ((cqe.flags & IORING_CQE_F_MORE) == 0) dir.receiving = false;
    if (cqe.res > 0) {
      const auto id = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      if (pair.closing) {
        giveBack(id);
      } else {
        dir.queue.push_back({id, static_cast<uint32_t>(cqe.res)});
        startSend(index, side);
        if (!dir.receiving) armRecv(index, side);
      }
    } else if (cqe.res == -ENOBUFS && !pair.closing) {
      dir.starved = true;  // every buffer is in a queue; rearmStarved() when one comes back
      starved_.push_back(userData(Op::kRecv, index, side));
    } else if (cqe.res == 0 && !pair.closing) {
      dir.read_closed = true;
      if (!dir.sending) endDirection(index, side);
    } else {
      closePair(index);
    }
    maybeRelease(index);
  }

  void onSend(size_t index, int side, int result) {
    Pair& pair = pairs_[index];
    Direction& dir = pair.dir[side];
    dir.sending = false;
    const Chunk chunk = dir.queue.front();
    dir.queue.pop_front();
    giveBack(chunk.buffer);
    if (result < 0 || static_cast<uint32_t>(result) < chunk.size) {
      closePair(index);
    } else if (!pair.closing) {
      startSend(index, side);
      if (!dir.sending && dir.read_closed) endDirection(index, side);
    }
    maybeRelease(index);
  }

  // fd[side] sent FIN and everything it sent went out: pass the FIN on.
  void endDirection(size_t index, int side) {
    Pair& pair = pairs_[index];
    ::shutdown(pair.fd[1 - side], SHUT_WR);
    if (pair.dir[1 - side].read_closed && !pair.dir[1 - side].sending) closePair(index);
  }

  // Ends the pair: shutting both sockets down ends their multishot receives; the descriptors
  // are closed once no operation refers to them.
  void closePair(size_t index) {
    Pair& pair = pairs_[index];
    if (pair.closing) return;
    pair.closing = true;
    for (int side = 0; side < 2; ++side) {
      ::shutdown(pair.fd[side], SHUT_RDWR);
      Direction& dir = pair.dir[side];
      dir.starved = false;
      // Queued chunks not yet sending go back now; the one in flight when its send completes.
      while (dir.queue.size() > (dir.sending ? 1u : 0u)) {
        giveBack(dir.queue.back().buffer);
        dir.queue.pop_back();
      }
    }
  }

  void maybeRelease(size_t index) {
    Pair& pair = pairs_[index];
    if (!pair.closing || pair.fd[0] < 0) return;
    for (const Direction& dir : pair.dir) {
      if (dir.sending || dir.receiving) return;
    }
    for (int& fd : pair.fd) {
      ::close(fd);
      fd = -1;
    }
    pairs_.release(index);
  }

  void rearmStarved() {
    returned_ = false;
    std::vector<uint64_t> starved;
    starved.swap(starved_);
    for (const uint64_t data : starved) {
      const auto index = static_cast<size_t>((data & ((1ull << 60) - 1)) >> 1);
      const auto side = static_cast<int>(data & 1u);
      Direction& dir = pairs_[index].dir[side];
      if (dir.starved && !dir.receiving && !pairs_[index].closing) armRecv(index, side);
    }
  }

  const Options& options_;
  io_uring ring_{};
  io_uring_buf_ring* buf_ring_ = nullptr;
  std::vector<uint8_t> buffers_;
  PairSlots<Pair> pairs_;
  std::vector<uint64_t> starved_;
  bool returned_ = false;
  bool initialised_ = false;
  size_t next_backend_ = 0;
};

}  // namespace

int runIoUring(const Options& options) {
  return UringRelay(options).run();
}

bool ioUringAvailable(std::string& why) {
  Options none;
  UringRelay relay(none);
  why = relay.setUp();
  return why.empty();
}

}  // namespace wslb::bench::floor
