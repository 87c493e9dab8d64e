// Heap bytes held by one idle TLS connection on the server side (TransportSocket, its SSL, the
// socket and a pending readiness wait), measured with mallinfo2() over many connections whose
// clients live in a child process. With SSL_MODE_RELEASE_BUFFERS (the default) and without, to
// show what it saves. The figures go to docs/tls.md.

#include <malloc.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <iostream>

#include "tls_test_util.h"

namespace wslb::tls {
namespace {

using namespace testing;

constexpr int kWarmUp = 20;
constexpr int kConnections = 300;

size_t heapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// The child: kConnections blocking TLS clients that handshake and then stay idle until the
// parent closes `hold_fd`'s other end.
// max_version 0: plain TCP clients.
[[noreturn]] void runClients(uint16_t port, const std::string& ca, int hold_fd, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  std::vector<SSL*> clients;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(2);
    if (max_version == 0) continue;
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) ::_exit(3);
    clients.push_back(ssl);
  }
  char byte = 0;
  (void)!::read(hold_fd, &byte, 1);  // until the parent is done measuring
  ::_exit(0);
}

// Bytes per idle server-side connection (max_version 0: plain TCP).
size_t measure(std::shared_ptr<const ServerContextSet> set, const std::string& ca,
               bool release_buffers, int max_version) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  int hold[2];
  if (::pipe(hold) != 0) return 0;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(hold[1]);
    runClients(acceptor.local_endpoint().port(), ca, hold[0], max_version);
  }
  ::close(hold[0]);

  std::vector<std::unique_ptr<TransportSocket>> connections;
  connections.reserve(kConnections);
  int idle = 0;
  size_t baseline = 0;
  for (int i = 0; i < kConnections; ++i) {
    if (i == kWarmUp) {
      ::malloc_trim(0);
      baseline = heapInUse();
    }
    error_code ec;
    auto stream = max_version == 0 ? std::make_unique<TransportSocket>(acceptor.accept())
                                   : std::make_unique<TransportSocket>(
                                         TransportSocket::server(acceptor.accept(), set, ec));
    if (ec) break;
    if (max_version != 0 && !release_buffers)
      SSL_clear_mode(stream->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    TransportSocket* s = stream.get();
    connections.push_back(std::move(stream));
    bool done = false;
    s->async_handshake([&](error_code hec) {
      EXPECT_FALSE(hec) << hec.message();
      done = true;
    });
    if (!runUntil(io, [&] { return done; })) break;
    // Idle as in the relay: a read that finds nothing, then a readiness wait.
    char byte;
    s->read_some(asio::buffer(&byte, 1), ec);
    s->async_wait(s->readWait(), [](error_code) {});
    ++idle;
  }
  io.poll();
  ::malloc_trim(0);
  const size_t after = heapInUse();
  ::close(hold[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (idle != kConnections) {
    ADD_FAILURE() << "only " << idle << " connections";
    return 0;
  }
  return (after - baseline) / (kConnections - kWarmUp);
}

TEST(IdleMemory, BytesPerIdleTlsConnection) {
// (The TSan tree compiles with __SANITIZE_THREAD__ undefined: cmake/wslb_sanitizers.cmake.)
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(WSLB_TSAN)
  GTEST_SKIP() << "mallinfo2() does not see a sanitizer's allocator";
#endif
  TempDir dir;
  TestCa ca(dir.path(), "ca");
  const CertFiles leaf = ca.issue("leaf", "idle.test", {"idle.test"}, "9");
  auto set =
      std::make_shared<const ServerContextSet>(std::vector<ServerChain>{{{}, serverTls(leaf)}});
  const size_t plain = measure(set, ca.cert(), true, 0);
  const size_t tls13 = measure(set, ca.cert(), true, TLS1_3_VERSION);
  const size_t tls12 = measure(set, ca.cert(), true, TLS1_2_VERSION);
  const size_t kept = measure(set, ca.cert(), false, TLS1_3_VERSION);
  std::cout << "[ memory ] bytes per idle TLS connection (server side, " << kConnections - kWarmUp
            << " connections): TLS 1.3 " << tls13 << ", TLS 1.2 " << tls12
            << "; without SSL_MODE_RELEASE_BUFFERS (TLS 1.3) " << kept << "; plain TCP " << plain
            << "\n";
  // Generous bounds: what matters is the order of magnitude and that releasing helps.
  EXPECT_GT(tls13, 0u);
  EXPECT_LT(tls13, 24u * 1024);
  EXPECT_LT(tls12, 24u * 1024);
  EXPECT_LT(tls13, kept);
  EXPECT_LT(plain, tls13);
}

}  // namespace
}  // namespace wslb::tls
