#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "proc_stats.h"
#include "wslb/websocket/handshake.h"

namespace wslb::loadgen {

namespace {

constexpr uint64_t kWakeToken = ~uint64_t{0};
/// Connections of one worker with a connect or upgrade in flight during the setup phase; keeps
/// the target's accept queue (and SYN backlog) from overflowing when thousands are opened.
constexpr unsigned kMaxConnecting = 128;
constexpr size_t kScratchSize = 256 * 1024;
constexpr int kMaxEvents = 256;
constexpr uint64_t kShutdownGraceNs = 5'000'000'000;
constexpr int kLoopTimeoutMs = 100;

void fillRandom(void* data, size_t size) {
  auto* bytes = static_cast<uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::getrandom(bytes, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    bytes += n;
    size -= static_cast<size_t>(n);
  }
}

std::string base64(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n =
      ::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string hostHeader(const Options& options, const Target& target) {
  std::string host = options.host;
  if (!target.ipv4 && host.front() != '[') host = "[" + host + "]";
  return host + ":" + std::to_string(options.port);
}

}  // namespace

Worker::Worker(const Options& options, const Target& target, Control& control,
               unsigned first_connection, unsigned connections, uint64_t quota)
    : options_(options),
      target_(target),
      control_(control),
      quota_(quota),
      conns_(connections),
      scratch_(new uint8_t[kScratchSize]),
      source_counter_(first_connection) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error("epoll_create1/eventfd failed");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    throw std::runtime_error("epoll_ctl(eventfd) failed");
  }

  std::array<uint8_t, 4> mask{};
  fillRandom(mask.data(), mask.size());
  if (options_.size > 0) {
    std::string payload(options_.size, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
    message_frame_ = buildMaskedFrame(kOpBinary, payload, mask);
  }
  close_frame_ = buildMaskedClose(1000, mask);

  const std::string host = hostHeader(options_, target_);
  for (Conn& c : conns_) {
    uint8_t key_bytes[16];
    fillRandom(key_bytes, sizeof(key_bytes));
    const std::string key = base64(key_bytes, sizeof(key_bytes));
    c.accept = websocket::computeSecWebSocketAccept(key);
    if (c.accept.size() != websocket::kSecWebSocketAcceptSize) {
      throw std::runtime_error("cannot compute Sec-WebSocket-Accept (SHA-1 unavailable?)");
    }
    c.request = "GET " + options_.path + " HTTP/1.1\r\nHost: " + host +
                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }
  // Handshake mode opens its connections only when the load starts.
  if (options_.mode == Mode::kHandshake) next_connect_ = conns_.size();
}

Worker::~Worker() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void Worker::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void Worker::run() {
  std::array<epoll_event, kMaxEvents> events;
  for (;;) {
    const auto phase = static_cast<Phase>(control_.phase.load(std::memory_order_acquire));
    if (phase != phase_) enterPhase(phase);
    pumpConnects();
    if (phase_ == Phase::kStop) {
      if (live_ == 0) break;
      if (monotonicNs() >= stop_deadline_ns_) {
        for (Conn& c : conns_) {
          if (c.fd >= 0) fail(c, "no close from the server within the shutdown grace period");
        }
        break;
      }
    }
    const int n = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, kLoopTimeoutMs);
    if (n < 0) {
      if (errno == EINTR) continue;
      recordError("epoll_wait", errno);
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeToken) {
        uint64_t value;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &value, sizeof(value));
        continue;
      }
      onEvent(events[i].data.u64, events[i].events);
    }
  }
  for (Conn& c : conns_) {
    if (c.fd >= 0) release(c);
  }
}

void Worker::enterPhase(Phase phase) {
  const Phase old = phase_;
  phase_ = phase;
  const bool loaded = phase == Phase::kWarmup || phase == Phase::kMeasure;
  if (loaded && old == Phase::kSetup) {
    if (options_.mode == Mode::kHandshake) {
      for (Conn& c : conns_) {
        if (quota_reached_) break;
        startConnect(c);
      }
    } else if (options_.mode != Mode::kIdle) {
      const uint64_t now = monotonicNs();
      for (Conn& c : conns_) {
        if (c.state == ConnState::kReady) sendMessage(c, now);
      }
    }
  }
  if (phase == Phase::kStop) {
    stats_.open_at_stop = open_;
    stop_deadline_ns_ = monotonicNs() + kShutdownGraceNs;
    next_connect_ = conns_.size();
    for (Conn& c : conns_) {
      if (c.state == ConnState::kReady) beginClose(c);
    }
  }
}

void Worker::pumpConnects() {
  if (phase_ != Phase::kStop) {
    while (next_connect_ < conns_.size() && connecting_ < kMaxConnecting) {
      if (stats_.setup_start_ns == 0) stats_.setup_start_ns = monotonicNs();
      startConnect(conns_[next_connect_++]);
    }
  }
  if (!setup_reported_ && next_connect_ >= conns_.size() && connecting_ == 0) {
    setup_reported_ = true;
    control_.setup_done.fetch_add(1, std::memory_order_release);
  }
}

bool Worker::startConnect(Conn& c) {
  const int family = target_.ipv4 ? AF_INET : AF_INET6;
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    recordError("socket", errno);
    return false;
  }
  c.fd = fd;
  ++c.generation;
  c.state = ConnState::kConnecting;
  c.established = false;
  c.echoed = false;
  c.head_len = 0;
  c.tracker = websocket::FrameTracker(websocket::FrameTracker::Masking::kUnmasked,
                                      websocket::FrameTracker::RsvPolicy::kNone);
  c.out = reinterpret_cast<const uint8_t*>(c.request.data());
  c.out_len = c.request.size();
  c.out_off = 0;
  ++live_;
  ++connecting_;

  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (target_.ipv4) {
    // The port is chosen at connect() time, per destination, so each source address has the
    // whole ephemeral range for this target.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl((127u << 24) | static_cast<uint32_t>(2 + source_counter_ % 253));
    ++source_counter_;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof(source)) != 0) {
      fail(c, "bind to a 127.0.0.x source address", errno);
      return false;
    }
  }
  c.start_ns = monotonicNs();
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target_.address), target_.address_size) !=
          0 &&
      errno != EINPROGRESS) {
    fail(c, "connect", errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (uint64_t{c.generation} << 32) | indexOf(c);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    fail(c, "epoll_ctl", errno);
    return false;
  }
  // On loopback the connection is often already established: send the request right away.
  return flush(c);
}

void Worker::onEvent(uint64_t token, uint32_t events) {
  const size_t index = static_cast<size_t>(token & 0xFFFFFFFFu);
  if (index >= conns_.size()) return;
  Conn& c = conns_[index];
  if (c.fd < 0 || c.generation != static_cast<uint32_t>(token >> 32)) return;
  if (c.out_off < c.out_len && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    if (!flush(c)) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readLoop(c);
}

bool Worker::flush(Conn& c) {
  while (c.out_off < c.out_len) {
    const ssize_t n = ::send(c.fd, c.out + c.out_off, c.out_len - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    fail(c, c.state == ConnState::kConnecting ? "connect" : "send", n < 0 ? errno : 0);
    return false;
  }
  if (c.state == ConnState::kConnecting) c.state = ConnState::kUpgrading;
  return true;
}

void Worker::readLoop(Conn& c) {
  for (;;) {
    const bool head = c.state == ConnState::kConnecting || c.state == ConnState::kUpgrading;
    uint8_t* buffer =
        head ? reinterpret_cast<uint8_t*>(c.head.data()) + c.head_len : scratch_.get();
    const size_t capacity = head ? kHeadMax - c.head_len : kScratchSize;
    const ssize_t n = ::recv(c.fd, buffer, capacity, 0);
    if (n > 0) {
      const bool alive = head ? onHeadBytes(c, static_cast<size_t>(n))
                              : onFrameBytes(c, buffer, static_cast<size_t>(n));
      // A short read emptied the socket; edge-triggered epoll reports the next arrival.
      if (!alive || static_cast<size_t>(n) < capacity) return;
      continue;
    }
    if (n == 0) {
      onEof(c);
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    fail(c, "recv", errno);
    return;
  }
}

bool Worker::onHeadBytes(Conn& c, size_t size) {
  const size_t old = c.head_len;
  c.head_len = static_cast<uint16_t>(c.head_len + size);
  const std::string_view head(c.head.data(), c.head_len);
  const size_t end = head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
  if (end == std::string_view::npos) {
    if (c.head_len >= kHeadMax) {
      fail(c, "upgrade response head larger than 2048 bytes");
      return false;
    }
    return true;
  }
  if (c.state == ConnState::kConnecting) {
    fail(c, "response before the upgrade request was sent");
    return false;
  }
  const std::string why = checkUpgradeResponse(head.substr(0, end + 4), c.accept);
  if (!why.empty()) {
    fail(c, why);
    return false;
  }
  const size_t rest_offset = end + 4;
  const size_t rest = c.head_len - rest_offset;
  c.head_len = 0;
  if (!onEstablished(c)) return false;
  if (rest == 0) return true;
  return onFrameBytes(c, reinterpret_cast<const uint8_t*>(c.head.data()) + rest_offset, rest);
}

bool Worker::onEstablished(Conn& c) {
  --connecting_;
  ++stats_.upgrades;
  c.established = true;
  ++open_;
  if (options_.mode == Mode::kHandshake) {
    c.state = ConnState::kAwaitEcho;
    return sendFrame(c, message_frame_);
  }
  const uint64_t now = monotonicNs();
  if (phase_ == Phase::kSetup) stats_.setup_end_ns = now;
  if (options_.mode == Mode::kIdle) stats_.latency.record(now - c.start_ns);
  c.state = ConnState::kReady;
  if (phase_ == Phase::kStop) return beginClose(c);
  if (options_.mode != Mode::kIdle && phase_ != Phase::kSetup) return sendMessage(c, now);
  return true;
}

bool Worker::sendFrame(Conn& c, const std::vector<uint8_t>& frame) {
  c.out = frame.data();
  c.out_len = frame.size();
  c.out_off = 0;
  return flush(c);
}

bool Worker::sendMessage(Conn& c, uint64_t now_ns) {
  c.start_ns = now_ns;
  c.state = ConnState::kAwaitEcho;
  return sendFrame(c, message_frame_);
}

bool Worker::beginClose(Conn& c) {
  c.state = ConnState::kClosing;
  return sendFrame(c, close_frame_);
}

bool Worker::onFrameBytes(Conn& c, const uint8_t* data, size_t size) {
  auto& tracker = c.tracker;
  while (size > 0) {
    const uint64_t messages = tracker.messages();
    const uint32_t closes = tracker.closes();
    // One frame at a time, so each message or Close is acted on before the next frame's bytes.
    size_t used = 0;
    if (tracker.atFrameBoundary()) {
      tracker.feed(data, 1);
      used = 1;
    }
    used += tracker.feedToBoundary(data + used, size - used);
    data += used;
    size -= used;
    if (!tracker.ok()) {
      fail(c, std::string(websocket::frameErrorName(tracker.error())));
      return false;
    }
    if (tracker.closes() != closes) {
      if (c.state == ConnState::kClosing) {
        finishClose(c);
      } else {
        fail(c, "the server sent Close code " + std::to_string(tracker.closeCode().value_or(1005)));
      }
      return false;
    }
    if (tracker.messages() != messages && !onMessage(c, tracker.messageBytes())) return false;
  }
  return true;
}

bool Worker::onMessage(Conn& c, uint64_t bytes) {
  if (c.state != ConnState::kAwaitEcho) {
    fail(c, "a message from the server that is not an echo");
    return false;
  }
  if (bytes != options_.size) {
    fail(c, "echo of " + std::to_string(bytes) + " bytes for a message of " +
                std::to_string(options_.size));
    return false;
  }
  const uint64_t now = monotonicNs();
  if (options_.mode == Mode::kHandshake) {
    c.echoed = true;
    c.echo_ns = now;
    return beginClose(c);
  }
  if (phase_ == Phase::kMeasure && !quota_reached_) {
    ++stats_.messages;
    stats_.bytes += bytes;
    stats_.latency.record(now - c.start_ns);
    if (quota_ != 0 && stats_.messages >= quota_) reachQuota(now);
  }
  if (phase_ == Phase::kStop || quota_reached_) return beginClose(c);
  return sendMessage(c, now);
}

void Worker::onEof(Conn& c) {
  if (c.state == ConnState::kClosing) {
    finishClose(c);
  } else if (c.state == ConnState::kConnecting || c.state == ConnState::kUpgrading) {
    fail(c, "connection closed before the upgrade response");
  } else {
    fail(c, "connection closed by the server");
  }
}

void Worker::finishClose(Conn& c) {
  const bool cycle = options_.mode == Mode::kHandshake && c.echoed;
  const uint64_t latency = c.echo_ns - c.start_ns;
  release(c);
  if (!cycle) return;
  if (phase_ == Phase::kMeasure && !quota_reached_) {
    ++stats_.handshakes;
    stats_.latency.record(latency);
    if (quota_ != 0 && stats_.handshakes >= quota_) reachQuota(monotonicNs());
  }
  if ((phase_ == Phase::kWarmup || phase_ == Phase::kMeasure) && !quota_reached_) startConnect(c);
}

void Worker::reachQuota(uint64_t now_ns) {
  quota_reached_ = true;
  stats_.quota_done_ns = now_ns;
  control_.quota_done.fetch_add(1, std::memory_order_release);
}

void Worker::recordError(std::string_view why, int error_number) {
  ++stats_.errors;
  if (stats_.first_error.empty()) {
    stats_.first_error = std::string(why);
    if (error_number != 0) stats_.first_error += std::string(": ") + std::strerror(error_number);
  }
}

void Worker::fail(Conn& c, std::string_view why, int error_number) {
  recordError(why, error_number);
  release(c);
}

void Worker::release(Conn& c) {
  if (c.state == ConnState::kConnecting || c.state == ConnState::kUpgrading) --connecting_;
  if (c.established) --open_;
  ::close(c.fd);
  c.fd = -1;
  c.state = ConnState::kFree;
  c.established = false;
  c.out = nullptr;
  c.out_len = 0;
  c.out_off = 0;
  --live_;
}

}  // namespace wslb::loadgen
