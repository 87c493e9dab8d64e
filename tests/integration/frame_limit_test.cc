// Route size limits on WebSocket frames and messages (metadata.filter_metadata.wslb
// max_frame_bytes / max_message_bytes): what passes, and the Close 1009 each side gets.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/beast/websocket.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"
#include "wslb/websocket/handshake.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;
namespace bws = boost::beast::websocket;

constexpr uint32_t kMaxFrame = 1000;
constexpr uint32_t kMaxMessage = 3000;

// Routes "/frame" (max_frame_bytes) and "/message" (max_message_bytes) before the unlimited "/".
std::string limitedConfig(const std::vector<uint16_t>& ports) {
  ConfigSpec spec;
  spec.ports = ports;
  spec.extra_route_yaml =
      "              - match: {prefix: \"/frame\"}\n"
      "                route: {cluster: backend, timeout: 0s}\n"
      "                metadata: {filter_metadata: {wslb: {max_frame_bytes: " +
      std::to_string(kMaxFrame) +
      "}}}\n"
      "              - match: {prefix: \"/message\"}\n"
      "                route: {cluster: backend, timeout: 0s}\n"
      "                metadata: {filter_metadata: {wslb: {max_message_bytes: " +
      std::to_string(kMaxMessage) + "}}}\n";
  return makeConfig(spec);
}

struct Frame {
  bool fin = false;
  uint8_t opcode = 0;
  bool masked = false;
  std::string payload;  // unmasked
  uint16_t closeCode() const {
    return payload.size() < 2 ? 0
                              : static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                                      static_cast<uint8_t>(payload[1]));
  }
};

// Complete frames at the start of `bytes` (an incomplete tail is left out).
std::vector<Frame> parseFrames(const std::string& bytes) {
  std::vector<Frame> out;
  size_t pos = 0;
  while (bytes.size() - pos >= 2) {
    const auto b0 = static_cast<uint8_t>(bytes[pos]);
    const auto b1 = static_cast<uint8_t>(bytes[pos + 1]);
    size_t header = 2;
    uint64_t length = b1 & 0x7f;
    const size_t ext = length == 126 ? 2 : (length == 127 ? 8 : 0);
    if (bytes.size() - pos < header + ext) break;
    if (ext != 0) {
      length = 0;
      for (size_t i = 0; i < ext; ++i)
        length = (length << 8) | static_cast<uint8_t>(bytes[pos + 2 + i]);
    }
    header += ext;
    const bool masked = (b1 & 0x80) != 0;
    uint8_t key[4] = {0, 0, 0, 0};
    if (masked) {
      if (bytes.size() - pos < header + 4) break;
      for (int i = 0; i < 4; ++i) key[i] = static_cast<uint8_t>(bytes[pos + header + i]);
      header += 4;
    }
    if (bytes.size() - pos < header + length) break;
    Frame f;
    f.fin = (b0 & 0x80) != 0;
    f.opcode = b0 & 0x0f;
    f.masked = masked;
    f.payload = bytes.substr(pos + header, length);
    for (size_t i = 0; i < f.payload.size(); ++i)
      f.payload[i] = static_cast<char>(f.payload[i] ^ key[i % 4]);
    out.push_back(std::move(f));
    pos += header + length;
  }
  return out;
}

// An unmasked frame as a server sends it.
std::string serverFrame(uint8_t b0, size_t size, char fill = 'b') {
  std::string out;
  out.push_back(static_cast<char>(b0));
  if (size < 126) {
    out.push_back(static_cast<char>(size));
  } else {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xff));
  }
  out.append(size, fill);
  return out;
}

// A masked frame as a client sends it (mask key 0: the payload is unchanged on the wire).
std::string clientFrame(uint8_t b0, size_t size, char fill = 'c') {
  std::string out;
  out.push_back(static_cast<char>(b0));
  if (size < 126) {
    out.push_back(static_cast<char>(0x80 | size));
  } else {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xff));
  }
  out.append(4, '\0');
  out.append(size, fill);
  return out;
}

// A WebSocket backend on plain sockets for one connection: answers the upgrade with a 101, sends
// `script` right after it, and records every byte it receives until the peer closes (bounded by
// 15 s), so a test sees exactly what wslb forwarded and injected.
class RecordingBackend {
 public:
  explicit RecordingBackend(std::string script = "") : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      throw std::runtime_error("RecordingBackend: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RecordingBackend() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  /// Waits (bounded) for the peer to close, then returns the frames received after the 101.
  std::vector<Frame> framesAfterClose() {
    EXPECT_TRUE(waitFor([this] { return done_.load(); }, 15s));
    std::lock_guard lock(mutex_);
    return parseFrames(received_);
  }

 private:
  void run() {
    pollfd p{listen_fd_, POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 50) == 1) break;
    }
    if (stop_ || (p.revents & POLLIN) == 0) return;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{15, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::string head;
    char buf[16384];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    const size_t end = head.find("\r\n\r\n");
    const size_t key_at = head.find("ec-WebSocket-Key: ");  // any case of the first letter
    if (end != std::string::npos && key_at != std::string::npos) {
      const size_t value_at = key_at + 18;
      const std::string key = head.substr(value_at, head.find("\r\n", value_at) - value_at);
      std::string reply =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: ";
      reply += websocket::computeSecWebSocketAccept(key);
      reply += "\r\nX-Backend-Id: recorder\r\n\r\n";
      reply += script_;
      ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      {
        std::lock_guard lock(mutex_);
        received_ = head.substr(end + 4);
      }
      while (!stop_) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        std::lock_guard lock(mutex_);
        received_.append(buf, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    done_ = true;
  }

  std::string script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::mutex mutex_;
  std::string received_;
};

// The close code the client got from wslb: reading throws once the Close arrives.
uint16_t closeCodeReceived(WsClient& client) {
  try {
    for (int i = 0; i < 10; ++i) client.receive();
  } catch (const boost::system::system_error& e) {
    if (e.code() != bws::error::closed) return 0;
    return client.stream().reason().code;
  }
  return 0;
}

// Every gauge the relay holds is back to zero.
void expectAllReleased(InProcessWslb& lb, uint16_t backend_port) {
  EXPECT_TRUE(waitFor([&] { return lb.stat("http.ingress_ws.downstream_cx_active") == 0; }));
  EXPECT_TRUE(waitFor([&] { return lb.stat("cluster.backend.upstream_cx_active") == 0; }));
  EXPECT_TRUE(waitFor([&] {
    return lb.stat("cluster.backend.endpoint.127.0.0.1_" + std::to_string(backend_port) +
                   ".cx_active") == 0;
  }));
  EXPECT_EQ(lb.stat("http.ingress_ws.downstream_cx_upgrades_active"), 0u);
}

TEST(FrameLimit, FramesAndMessagesAtTheLimitPassBothWays) {
  auto backends = startEchoBackends(1);
  InProcessWslb lb(limitedConfig(portsOf(backends)));
  {
    WsClient c(lb.port(), "/frame");
    c.stream().auto_fragment(false);
    const std::string at_limit(kMaxFrame, 'f');
    c.sendBinary(at_limit);
    EXPECT_EQ(c.receive(), at_limit);  // the echo comes back as one frame of the same size
    EXPECT_EQ(c.close(1000), 1000);
  }
  {
    WsClient c(lb.port(), "/message");
    const std::string at_limit(kMaxMessage, 'm');
    c.sendFragmented(at_limit, 4, /*binary=*/false);
    EXPECT_EQ(c.receive(), at_limit);
    EXPECT_EQ(c.close(1000), 1000);
  }
  {
    WsClient c(lb.port(), "/");  // no limit
    c.stream().auto_fragment(false);
    const std::string big(20000, 'u');
    c.sendBinary(big);
    EXPECT_EQ(c.receive(), big);
    EXPECT_EQ(c.close(1000), 1000);
  }
  expectAllReleased(lb, backends[0]->port());
  EXPECT_EQ(lb.stat("http.ingress_ws.websocket.closes.client.1009"), UINT64_MAX);  // never seen
}

TEST(FrameLimit, ClientFrameOneByteOverClosesBothSidesWith1009) {
  auto backends = startEchoBackends(1);
  InProcessWslb lb(limitedConfig(portsOf(backends)));
  WsClient c(lb.port(), "/frame");
  c.stream().auto_fragment(false);
  c.sendText("small");
  EXPECT_EQ(c.receive(), "small");
  c.sendBinary(std::string(kMaxFrame + 1, 'x'));
  EXPECT_EQ(closeCodeReceived(c), websocket::kCloseTooBig);
  EXPECT_TRUE(activeBecomes(*backends[0], 0));
  expectAllReleased(lb, backends[0]->port());
  EXPECT_EQ(lb.stat("http.ingress_ws.websocket.closes.client.1009"), 1u);
}

TEST(FrameLimit, TheBackendGetsAMaskedClose1009AndNotTheOversizedFrame) {
  RecordingBackend backend;
  InProcessWslb lb(limitedConfig({backend.port()}));
  WsClient c(lb.port(), "/frame");
  c.stream().auto_fragment(false);
  c.sendText("hello");
  c.sendBinary(std::string(kMaxFrame, 'a'));      // exactly at the limit: forwarded
  c.sendBinary(std::string(kMaxFrame + 1, 'z'));  // one byte over: dropped
  EXPECT_EQ(closeCodeReceived(c), websocket::kCloseTooBig);
  c.stream().next_layer().close();
  const auto frames = backend.framesAfterClose();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload, "hello");
  EXPECT_EQ(frames[1].payload, std::string(kMaxFrame, 'a'));
  EXPECT_EQ(frames[2].opcode, 0x8);
  EXPECT_TRUE(frames[2].masked);
  EXPECT_EQ(frames[2].closeCode(), websocket::kCloseTooBig);
  expectAllReleased(lb, backend.port());
  EXPECT_EQ(lb.stat("http.ingress_ws.websocket.closes.client.1009"), 1u);
}

TEST(FrameLimit, BackendFrameOneByteOverClosesBothSidesWith1009) {
  const std::string script = serverFrame(0x82, kMaxFrame, 'k') +      // at the limit: delivered
                             serverFrame(0x82, kMaxFrame + 1, 'o') +  // over: dropped
                             serverFrame(0x81, 5, 'n');               // after it: dropped
  RecordingBackend backend(script);
  InProcessWslb lb(limitedConfig({backend.port()}));
  WsClient c(lb.port(), "/frame");
  EXPECT_EQ(c.receive(), std::string(kMaxFrame, 'k'));
  EXPECT_EQ(closeCodeReceived(c), websocket::kCloseTooBig);
  c.stream().next_layer().close();
  const auto frames = backend.framesAfterClose();
  ASSERT_EQ(frames.size(), 1u);  // only wslb's Close: the client's answer comes after it
  EXPECT_EQ(frames[0].opcode, 0x8);
  EXPECT_TRUE(frames[0].masked);
  EXPECT_EQ(frames[0].closeCode(), websocket::kCloseTooBig);
  expectAllReleased(lb, backend.port());
  EXPECT_EQ(lb.stat("http.ingress_ws.websocket.closes.upstream.1009"), 1u);
}

TEST(FrameLimit, FragmentedClientMessageOverTheMessageLimit) {
  RecordingBackend backend;
  InProcessWslb lb(limitedConfig({backend.port()}));
  WsClient c(lb.port(), "/message");
  auto& ws = c.stream();
  ws.auto_fragment(false);
  ws.binary(true);
  // 3 x 1000 = 3000: exactly at the limit, forwarded.
  for (int i = 0; i < 3; ++i) ws.write_some(i == 2, boost::asio::buffer(std::string(1000, 'p')));
  // 2000 + 1001 = 3001: the first fragment goes, the second is over.
  ws.write_some(false, boost::asio::buffer(std::string(2000, 'q')));
  ws.write_some(true, boost::asio::buffer(std::string(1001, 'r')));
  EXPECT_EQ(closeCodeReceived(c), websocket::kCloseTooBig);
  c.stream().next_layer().close();
  const auto frames = backend.framesAfterClose();
  ASSERT_EQ(frames.size(), 5u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(frames[i].payload.size(), 1000u);
  EXPECT_TRUE(frames[2].fin);
  EXPECT_EQ(frames[3].payload, std::string(2000, 'q'));
  EXPECT_FALSE(frames[3].fin);
  EXPECT_EQ(frames[4].opcode, 0x8);  // a Close may come inside a fragmented message
  EXPECT_EQ(frames[4].closeCode(), websocket::kCloseTooBig);
  expectAllReleased(lb, backend.port());
}

TEST(FrameLimit, FragmentedBackendMessageOverTheMessageLimit) {
  const std::string script = serverFrame(0x02, 2500, 's') + serverFrame(0x80, 501, 't');
  RecordingBackend backend(script);
  InProcessWslb lb(limitedConfig({backend.port()}));
  WsClient c(lb.port(), "/message");
  EXPECT_EQ(closeCodeReceived(c), websocket::kCloseTooBig);
  c.stream().next_layer().close();
  const auto frames = backend.framesAfterClose();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].closeCode(), websocket::kCloseTooBig);
  expectAllReleased(lb, backend.port());
}

// Frame headers that arrive a byte at a time (one read each) are checked once complete.
TEST(FrameLimit, HeadersSplitAcrossReads) {
  RecordingBackend backend;
  InProcessWslb lb(limitedConfig({backend.port()}));
  WsClient c(lb.port(), "/frame");
  auto& sock = c.stream().next_layer();
  auto sendSlowly = [&](const std::string& frame) {
    // The 4-byte header (16-bit length) and mask key one byte per segment, then the payload.
    for (size_t i = 0; i < 8; ++i) {
      boost::asio::write(sock, boost::asio::buffer(frame.data() + i, 1));
      std::this_thread::sleep_for(15ms);
    }
    boost::asio::write(sock, boost::asio::buffer(frame.data() + 8, frame.size() - 8));
  };
  sendSlowly(clientFrame(0x82, kMaxFrame, 'h'));
  sendSlowly(clientFrame(0x82, kMaxFrame + 1, 'i'));
  EXPECT_EQ(closeCodeReceived(c), websocket::kCloseTooBig);
  sock.close();
  const auto frames = backend.framesAfterClose();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, std::string(kMaxFrame, 'h'));
  EXPECT_EQ(frames[1].closeCode(), websocket::kCloseTooBig);
  expectAllReleased(lb, backend.port());
}

}  // namespace
}  // namespace wslb::test
