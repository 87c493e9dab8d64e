// FrameTracker, writeCloseFrame and computeSecWebSocketAccept against Boost.Beast's websocket
// implementation over real TCP connections on 127.0.0.1: Beast writes frames that the tracker
// reads, and Beast reads the Close frames the builder writes.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "frame_test_util.h"
#include "wslb/websocket/close_frame.h"
#include "wslb/websocket/frame_tracker.h"
#include "wslb/websocket/handshake.h"

namespace wslb::websocket {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using tcp = net::ip::tcp;
using testing::Bytes;
using testing::feedByteByByte;
using testing::feedSplit;
using testing::feedWhole;
using testing::parseFrames;
using testing::Snapshot;
using testing::snapshot;
using Masking = FrameTracker::Masking;
using RsvPolicy = FrameTracker::RsvPolicy;
using WsStream = bws::stream<tcp::socket>;

constexpr std::string_view kClientKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr uint32_t kReplyMask = 0x5a5aa5a5;

// Reads an HTTP head up to and including the blank line; bytes read past it go to @p extra.
std::string readHead(tcp::socket& s, Bytes& extra) {
  std::string buf;
  net::read_until(s, net::dynamic_buffer(buf), "\r\n\r\n");
  const size_t end = buf.find("\r\n\r\n") + 4;
  extra.assign(buf.begin() + static_cast<std::ptrdiff_t>(end), buf.end());
  return buf.substr(0, end);
}

// Value of the first header field called @p name (case-insensitive), or "".
std::string headerValue(const std::string& head, std::string_view name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string needle = "\r\n";
  for (char c : name)
    needle.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  needle += ":";
  const size_t at = lower.find(needle);
  if (at == std::string::npos) return {};
  const size_t begin = at + needle.size();
  const size_t end = head.find("\r\n", begin);
  return std::string(trimOws(std::string_view(head).substr(begin, end - begin)));
}

// The raw peer's side of a connection after the opening handshake: reads everything the Beast
// side sends until EOF, feeding it to @p tracker. When the Beast side's Close frame has arrived,
// answers it with a Close built by writeCloseFrame() (unless @p close_sent) and shuts down
// sending, which ends the closing handshake from either role.
Bytes receiveUntilEof(tcp::socket& s, Bytes captured, FrameTracker& tracker,
                      std::optional<uint32_t> reply_mask, bool close_sent) {
  tracker.feed(captured.data(), captured.size());
  bool shut = false;
  uint8_t buf[16384];
  while (true) {
    if (!shut && tracker.closes() > 0 && tracker.atFrameBoundary()) {
      if (!close_sent) {
        uint8_t frame[kMaxCloseFrameSize];
        const size_t n =
            writeCloseFrame(frame, tracker.closeCode().value_or(kCloseNormal), "ok", reply_mask);
        net::write(s, net::buffer(frame, n));
      }
      s.shutdown(tcp::socket::shutdown_send);
      shut = true;
    }
    boost::system::error_code ec;
    const size_t n = s.read_some(net::buffer(buf), ec);
    if (ec) break;
    captured.insert(captured.end(), buf, buf + n);
    tracker.feed(buf, n);
  }
  boost::system::error_code ignored;
  s.close(ignored);
  return captured;
}

// Runs @p peer on a thread with the accepted (server) or connected (client) raw socket while
// the calling thread runs @p beast_side; reports exceptions from either side as failures.
class Harness {
 public:
  Harness() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {}

  // The raw side accepts; the Beast side is a client.
  void runWithBeastClient(const std::function<void(tcp::socket&)>& raw_server,
                          const std::function<void(WsStream&)>& beast_client) {
    std::exception_ptr peer_error;
    std::thread peer([&] {
      try {
        tcp::socket s = acceptor_.accept();
        raw_server(s);
      } catch (...) {
        peer_error = std::current_exception();
      }
    });
    WsStream ws(ioc_);
    try {
      ws.next_layer().connect(acceptor_.local_endpoint());
      beast_client(ws);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "beast client: " << e.what();
      boost::system::error_code ignored;
      ws.next_layer().close(ignored);
    }
    peer.join();
    rethrowAsFailure(peer_error, "raw server");
  }

  // The raw side connects; the Beast side is a server.
  void runWithBeastServer(const std::function<void(tcp::socket&)>& raw_client,
                          const std::function<void(WsStream&)>& beast_server) {
    std::exception_ptr peer_error;
    const tcp::endpoint endpoint = acceptor_.local_endpoint();
    std::thread peer([&] {
      try {
        tcp::socket s(ioc_);
        s.connect(endpoint);
        raw_client(s);
      } catch (...) {
        peer_error = std::current_exception();
      }
    });
    std::optional<WsStream> ws;
    try {
      ws.emplace(acceptor_.accept());
      beast_server(*ws);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "beast server: " << e.what();
      boost::system::error_code ignored;
      if (ws) ws->next_layer().close(ignored);
    }
    peer.join();
    rethrowAsFailure(peer_error, "raw client");
  }

 private:
  static void rethrowAsFailure(const std::exception_ptr& error, const char* who) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      ADD_FAILURE() << who << ": " << e.what();
    }
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
};

// Raw server: answers the upgrade (offering permessage-deflate back if @p deflate) and returns
// the bytes after the request head.
Bytes acceptUpgrade(tcp::socket& s, bool deflate) {
  Bytes extra;
  const std::string request = readHead(s, extra);
  const std::string key = headerValue(request, "Sec-WebSocket-Key");
  EXPECT_TRUE(isValidSecWebSocketKey(key)) << key;
  EXPECT_TRUE(headerHasToken(headerValue(request, "Connection"), "upgrade"));
  EXPECT_TRUE(headerHasToken(headerValue(request, "Upgrade"), "websocket"));
  EXPECT_TRUE(isSupportedSecWebSocketVersion(headerValue(request, "Sec-WebSocket-Version")));
  if (deflate) {
    EXPECT_TRUE(headerValue(request, "Sec-WebSocket-Extensions").starts_with("permessage-deflate"));
  }
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      computeSecWebSocketAccept(key) + "\r\n";
  if (deflate) response += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
  response += "\r\n";
  net::write(s, net::buffer(response));
  return extra;
}

// Raw client: sends an upgrade request and checks Beast's 101; returns bytes after its head.
Bytes requestUpgrade(tcp::socket& s, bool deflate) {
  std::string request =
      "GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
      std::string(kClientKey) + "\r\n";
  if (deflate) request += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
  request += "\r\n";
  net::write(s, net::buffer(request));
  Bytes extra;
  const std::string response = readHead(s, extra);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 101")) << response;
  EXPECT_EQ(headerValue(response, "Sec-WebSocket-Accept"), computeSecWebSocketAccept(kClientKey));
  if (deflate) {
    EXPECT_TRUE(
        headerValue(response, "Sec-WebSocket-Extensions").starts_with("permessage-deflate"));
  }
  return extra;
}

void enableDeflate(WsStream& ws, bool server) {
  bws::permessage_deflate pmd;
  pmd.client_enable = !server;
  pmd.server_enable = server;
  ws.set_option(pmd);
}

// The messages both roles send: every length form, control frames, a fragmented message with
// a ping inside it, an empty message, then Close 4000.
constexpr uint64_t kScriptMessages = 5;
constexpr uint32_t kScriptPings = 2;
constexpr uint32_t kScriptPongs = 1;
constexpr uint16_t kScriptCloseCode = 4000;

void writeScript(WsStream& ws) {
  ws.text(true);
  ws.write(net::buffer(std::string("hello")));
  ws.binary(true);
  ws.write(net::buffer(std::string(300, 'b')));
  std::string large(70000, 'c');
  for (size_t i = 0; i < large.size(); i += 7) large[i] = static_cast<char>('a' + i % 26);
  ws.write(net::buffer(large));
  ws.ping("p1");
  ws.pong("p2");
  ws.text(true);
  ws.write_some(false, net::buffer(std::string("part1")));
  ws.ping("mid");
  ws.write_some(false, net::buffer(std::string(1000, 'm')));
  ws.write_some(true, net::buffer(std::string("part3")));
  ws.binary(true);
  ws.write(net::buffer(std::string()));
  ws.close(bws::close_reason(static_cast<bws::close_code>(kScriptCloseCode), "done"));
}

struct Expected {
  Snapshot snapshot;
  size_t rsv1_frames = 0;
};

Expected expectedFromReference(const Bytes& captured) {
  Expected e;
  const auto frames = parseFrames(captured);
  e.snapshot.frames = frames.size();
  bool first_close = true;
  for (const auto& f : frames) {
    if ((f.b0 & testing::kRsv1) != 0) ++e.rsv1_frames;
    switch (f.opcode()) {
      case testing::kOpPing:
        ++e.snapshot.pings;
        break;
      case testing::kOpPong:
        ++e.snapshot.pongs;
        break;
      case testing::kOpClose:
        ++e.snapshot.closes;
        if (first_close) {
          e.snapshot.close_code =
              static_cast<uint16_t>((static_cast<uint8_t>(f.unmasked_head[0]) << 8) |
                                    static_cast<uint8_t>(f.unmasked_head[1]));
          first_close = false;
        }
        break;
      case testing::kOpText:
      case testing::kOpBinary:
        e.snapshot.message_bytes = static_cast<uint32_t>(f.length);
        if (f.fin()) ++e.snapshot.messages;
        break;
      default:
        e.snapshot.message_bytes += static_cast<uint32_t>(f.length);
        if (f.fin()) ++e.snapshot.messages;
        break;
    }
  }
  return e;
}

// Checks a captured stream against the script, the reference parser and every chunking.
void checkCaptured(const Bytes& captured, Masking masking, bool deflate) {
  const Expected e = expectedFromReference(captured);
  EXPECT_EQ(e.snapshot.messages, kScriptMessages);
  EXPECT_EQ(e.snapshot.pings, kScriptPings);
  EXPECT_EQ(e.snapshot.pongs, kScriptPongs);
  EXPECT_EQ(e.snapshot.closes, 1u);
  EXPECT_EQ(e.snapshot.close_code, std::optional<uint16_t>(kScriptCloseCode));
  if (deflate) {
    EXPECT_GT(e.rsv1_frames, 0u) << "permessage-deflate was not in use";
  } else {
    EXPECT_EQ(e.rsv1_frames, 0u);
  }

  EXPECT_EQ(feedWhole(FrameTracker(masking), captured), e.snapshot);
  EXPECT_EQ(feedByteByByte(FrameTracker(masking), captured), e.snapshot);
  for (size_t split = 0; split <= captured.size(); ++split) {
    ASSERT_EQ(feedSplit(FrameTracker(masking), captured, split), e.snapshot) << "split " << split;
  }
  const Snapshot strict = feedWhole(FrameTracker(masking, RsvPolicy::kNone), captured);
  EXPECT_EQ(strict.error, deflate ? FrameError::kReservedBits : FrameError::kNone);
  // The other direction's masking is a violation from the first frame.
  const Masking wrong = masking == Masking::kMasked ? Masking::kUnmasked : Masking::kMasked;
  const Snapshot mismatched = feedWhole(FrameTracker(wrong), captured);
  EXPECT_EQ(mismatched.error,
            masking == Masking::kMasked ? FrameError::kUnexpectedMask : FrameError::kMissingMask);
  EXPECT_EQ(mismatched.frames, 0u);
}

class BeastFramesTest : public ::testing::TestWithParam<bool> {};

TEST_P(BeastFramesTest, ClientFramesFromBeast) {
  const bool deflate = GetParam();
  Bytes captured;
  FrameTracker live(Masking::kMasked);
  Harness h;
  h.runWithBeastClient(
      [&](tcp::socket& s) {
        captured = receiveUntilEof(s, acceptUpgrade(s, deflate), live, std::nullopt, false);
      },
      [&](WsStream& ws) {
        if (deflate) enableDeflate(ws, false);
        ws.handshake("127.0.0.1", "/");
        writeScript(ws);
      });
  EXPECT_TRUE(live.ok()) << frameErrorName(live.error());
  EXPECT_EQ(live.closeCode(), std::optional<uint16_t>(kScriptCloseCode));
  checkCaptured(captured, Masking::kMasked, deflate);
}

TEST_P(BeastFramesTest, ServerFramesFromBeast) {
  const bool deflate = GetParam();
  Bytes captured;
  FrameTracker live(Masking::kUnmasked);
  Harness h;
  h.runWithBeastServer(
      [&](tcp::socket& s) {
        captured = receiveUntilEof(s, requestUpgrade(s, deflate), live, kReplyMask, false);
      },
      [&](WsStream& ws) {
        if (deflate) enableDeflate(ws, true);
        ws.accept();
        writeScript(ws);
      });
  EXPECT_TRUE(live.ok()) << frameErrorName(live.error());
  EXPECT_EQ(live.closeCode(), std::optional<uint16_t>(kScriptCloseCode));
  checkCaptured(captured, Masking::kUnmasked, deflate);
}

INSTANTIATE_TEST_SUITE_P(Deflate, BeastFramesTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Deflate" : "Plain"; });

struct CloseCase {
  uint16_t code;
  std::string reason;
};

std::vector<CloseCase> closeCases() {
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";  // 200 bytes of 2-byte sequences
  std::string mixed = "x";
  for (int i = 0; i < 40; ++i) mixed += "\xf0\x9f\x98\x80";  // 4-byte sequences, offset by one
  return {{kCloseGoingAway, "drain"}, {kCloseInternalError, "upstream failed"},
          {kCloseTooBig, ""},         {kCloseNormal, accents},
          {kCloseNormal, mixed},      {kCloseNoStatus, "dropped"}};
}

// Beast's code for "no status" is close_code::none (0).
uint16_t beastCode(uint16_t code) {
  return code == kCloseNoStatus ? 0 : code;
}

std::string expectedReason(const CloseCase& c) {
  if (c.code == kCloseNoStatus) return {};
  return c.reason.substr(0, utf8TruncatedSize(c.reason, kMaxCloseReasonSize));
}

TEST(BeastCloseTest, BeastServerReadsMaskedCloseFrame) {
  for (const CloseCase& c : closeCases()) {
    SCOPED_TRACE("code " + std::to_string(c.code) + " reason bytes " +
                 std::to_string(c.reason.size()));
    FrameTracker reply(Masking::kUnmasked);
    Harness h;
    h.runWithBeastServer(
        [&](tcp::socket& s) {
          Bytes extra = requestUpgrade(s, false);
          uint8_t frame[kMaxCloseFrameSize];
          const size_t n = writeCloseFrame(frame, c.code, c.reason, 0x12345678u);
          net::write(s, net::buffer(frame, n));
          receiveUntilEof(s, std::move(extra), reply, std::nullopt, true);
        },
        [&](WsStream& ws) {
          ws.accept();
          beast::flat_buffer buffer;
          boost::system::error_code ec;
          ws.read(buffer, ec);
          EXPECT_EQ(ec, bws::error::closed) << ec.message();
          EXPECT_EQ(ws.reason().code, beastCode(c.code));
          EXPECT_EQ(std::string(ws.reason().reason.data(), ws.reason().reason.size()),
                    expectedReason(c));
        });
    EXPECT_EQ(reply.closes(), 1u);
    EXPECT_TRUE(reply.ok());
  }
}

TEST(BeastCloseTest, BeastClientReadsUnmaskedCloseFrame) {
  for (const CloseCase& c : closeCases()) {
    SCOPED_TRACE("code " + std::to_string(c.code) + " reason bytes " +
                 std::to_string(c.reason.size()));
    FrameTracker reply(Masking::kMasked);
    Harness h;
    h.runWithBeastClient(
        [&](tcp::socket& s) {
          Bytes extra = acceptUpgrade(s, false);
          uint8_t frame[kMaxCloseFrameSize];
          const size_t n = writeCloseFrame(frame, c.code, c.reason, std::nullopt);
          net::write(s, net::buffer(frame, n));
          receiveUntilEof(s, std::move(extra), reply, std::nullopt, true);
        },
        [&](WsStream& ws) {
          ws.handshake("127.0.0.1", "/");
          beast::flat_buffer buffer;
          boost::system::error_code ec;
          ws.read(buffer, ec);
          EXPECT_EQ(ec, bws::error::closed) << ec.message();
          EXPECT_EQ(ws.reason().code, beastCode(c.code));
          EXPECT_EQ(std::string(ws.reason().reason.data(), ws.reason().reason.size()),
                    expectedReason(c));
        });
    EXPECT_EQ(reply.closes(), 1u);
    EXPECT_TRUE(reply.ok());
  }
}

// A Close injected at a frame boundary in the middle of a relayed stream: Beast reads the
// messages before it, then the Close.
TEST(BeastCloseTest, CloseInjectedAtBoundaryAfterPartialForward) {
  Bytes upstream;  // what a backend sent: two messages, the second cut by the injection point
  testing::appendFrame(upstream, testing::kFin | testing::kOpText, "first", std::nullopt);
  testing::appendFrame(upstream, testing::kFin | testing::kOpBinary, std::string(5000, 'z'),
                       std::nullopt);
  testing::appendFrame(upstream, testing::kFin | testing::kOpText, "never sent", std::nullopt);
  FrameTracker t(Masking::kUnmasked);
  // The relay got everything in one read; it forwards the first message, then the frame in
  // flight up to its end, then injects 1001.
  Bytes forwarded;
  size_t pos = 0;
  t.feed(upstream.data(), 3);  // mid-header of the first frame
  pos = 3;
  while (!t.atFrameBoundary() || t.messages() < 2) {
    if (t.atFrameBoundary()) {
      t.feed(upstream.data() + pos, 1);
      ++pos;
      continue;
    }
    pos += t.feedToBoundary(upstream.data() + pos, upstream.size() - pos);
  }
  forwarded.assign(upstream.begin(), upstream.begin() + static_cast<std::ptrdiff_t>(pos));
  uint8_t frame[kMaxCloseFrameSize];
  const size_t n = writeCloseFrame(frame, kCloseGoingAway, "draining", std::nullopt);
  forwarded.insert(forwarded.end(), frame, frame + n);

  FrameTracker reply(Masking::kMasked);
  Harness h;
  h.runWithBeastClient(
      [&](tcp::socket& s) {
        Bytes extra = acceptUpgrade(s, false);
        net::write(s, net::buffer(forwarded));
        receiveUntilEof(s, std::move(extra), reply, std::nullopt, true);
      },
      [&](WsStream& ws) {
        ws.handshake("127.0.0.1", "/");
        beast::flat_buffer buffer;
        ws.read(buffer);
        EXPECT_EQ(beast::buffers_to_string(buffer.data()), "first");
        buffer.clear();
        ws.read(buffer);
        EXPECT_EQ(buffer.size(), 5000u);
        buffer.clear();
        boost::system::error_code ec;
        ws.read(buffer, ec);
        EXPECT_EQ(ec, bws::error::closed) << ec.message();
        EXPECT_EQ(ws.reason().code, kCloseGoingAway);
      });
  EXPECT_EQ(reply.closeCode(), std::optional<uint16_t>(kCloseGoingAway));  // Beast echoes it
}

}  // namespace
}  // namespace wslb::websocket
