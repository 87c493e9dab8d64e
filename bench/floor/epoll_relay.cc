// The epoll loop of wslb-floor-relay (floor_relay.h).

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "floor_relay.h"

namespace wslb::bench::floor {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr uint64_t kListener = ~0ull;

struct Direction {                     // bytes read from fd[side], written to fd[1 - side]
  std::unique_ptr<uint8_t[]> pending;  // only while a send is incomplete
  size_t pending_size = 0;
  size_t pending_offset = 0;
  bool read_closed = false;
};

struct Pair {
  int fd[2] = {-1, -1};  // 0: client, 1: backend
  Direction dir[2];
};

class EpollRelay {
 public:
  explicit EpollRelay(const Options& options) : options_(options), scratch_(new uint8_t[kChunk]) {}

  int run() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListener;
    if (epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, options_.listen_fd, &ev) != 0) {
      std::perror("wslb-floor-relay: epoll");
      return 1;
    }
    epoll_event events[256];
    for (;;) {
      const int n = ::epoll_wait(epoll_fd_, events, 256, -1);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kListener) {
          acceptAll();
          continue;
        }
        const auto index = static_cast<size_t>(events[i].data.u64 >> 1);
        const auto side = static_cast<int>(events[i].data.u64 & 1u);
        if (pairs_[index].fd[side] < 0) continue;  // closed earlier in this batch
        if ((events[i].events & EPOLLOUT) != 0) flush(index, 1 - side);
        if (pairs_[index].fd[side] >= 0 &&
            (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
          pump(index, side);
        }
      }
    }
  }

 private:
  void acceptAll() {
    for (;;) {
      const int client =
          ::accept4(options_.listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) return;
      const int backend = connectNextBackend(options_, next_backend_);
      if (backend < 0) {
        ::close(client);
        continue;
      }
      const size_t index = pairs_.add(client, backend);
      Pair& pair = pairs_[index];
      const int flags = ::fcntl(backend, F_GETFL);
      ::fcntl(backend, F_SETFL, flags | O_NONBLOCK);
      for (int side = 0; side < 2; ++side) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = static_cast<uint64_t>(index) << 1 | static_cast<uint64_t>(side);
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pair.fd[side], &ev);
      }
    }
  }

  // Reads fd[side] and writes fd[1 - side] until a short read, would-block or end of stream.
  void pump(size_t index, int side) {
    Pair& pair = pairs_[index];
    Direction& dir = pair.dir[side];
    while (!dir.pending && !dir.read_closed) {
      const ssize_t got = ::recv(pair.fd[side], scratch_.get(), kChunk, 0);
      if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) closePair(index);
        return;
      }
      if (got == 0) {
        dir.read_closed = true;
        ::shutdown(pair.fd[1 - side], SHUT_WR);
        if (pair.dir[1 - side].read_closed) closePair(index);
        return;
      }
      if (!send(index, side, scratch_.get(), static_cast<size_t>(got))) return;
      if (static_cast<size_t>(got) < kChunk) return;  // a short read: drained
    }
  }

  // Sends bytes of direction `side`; keeps what the socket does not take. False if not all sent.
  bool send(size_t index, int side, const uint8_t* data, size_t size) {
    Pair& pair = pairs_[index];
    size_t sent = 0;
    while (sent < size) {
      const ssize_t n = ::send(pair.fd[1 - side], data + sent, size - sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        closePair(index);
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    if (sent == size) return true;
    Direction& dir = pair.dir[side];
    dir.pending.reset(new uint8_t[size - sent]);
    std::memcpy(dir.pending.get(), data + sent, size - sent);
    dir.pending_size = size - sent;
    dir.pending_offset = 0;
    return false;
  }

  // fd[1 - side] became writable: sends what direction `side` kept, then reads its source again.
  void flush(size_t index, int side) {
    Pair& pair = pairs_[index];
    Direction& dir = pair.dir[side];
    if (!dir.pending) return;
    while (dir.pending_offset < dir.pending_size) {
      const ssize_t n = ::send(pair.fd[1 - side], dir.pending.get() + dir.pending_offset,
                               dir.pending_size - dir.pending_offset, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) closePair(index);
        return;
      }
      dir.pending_offset += static_cast<size_t>(n);
    }
    dir.pending.reset();
    pump(index, side);  // its readiness edge may have passed while it was not read
  }

  void closePair(size_t index) {
    Pair& pair = pairs_[index];
    for (int& fd : pair.fd) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
    for (Direction& dir : pair.dir) dir.pending.reset();
    pairs_.release(index);
  }

  const Options& options_;
  std::unique_ptr<uint8_t[]> scratch_;
  int epoll_fd_ = -1;
  PairSlots<Pair> pairs_;
  size_t next_backend_ = 0;
};

}  // namespace

int runEpoll(const Options& options) {
  return EpollRelay(options).run();
}

}  // namespace wslb::bench::floor
