// Certificate reload: files replaced by rename and by a Kubernetes-style "..data" symlink swap;
// new handshakes get the new certificate, open connections keep working, a broken file keeps
// the old certificate.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tls_test_util.h"
#include "wslb/tls/client_context.h"
#include "wslb/tls/context_provider.h"

namespace wslb::tls {
namespace {

using namespace testing;

// Waits (bounded, ~10 s) until `counter` reaches `value`.
bool waitForCount(const std::atomic<uint64_t>& counter, uint64_t value) {
  for (int i = 0; i < 1000 && counter.load() < value; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return counter.load() >= value;
}

// Replaces `path` with `content` the way deployment tools do: write aside, rename over.
void renameOver(const std::string& path, const std::string& content) {
  writeFile(path + ".tmp", content);
  std::filesystem::rename(path + ".tmp", path);
}

// Sends `text` on an established client connection and reads the echo back.
std::string echo(asio::io_context& io, TransportSocket& stream, const std::string& text) {
  bool written = false;
  asio::async_write(stream, asio::buffer(text), [&](error_code, size_t) { written = true; });
  if (!runUntil(io, [&] { return written; })) return "";
  std::string out(text.size(), '\0');
  bool read = false;
  error_code read_ec;
  asio::async_read(stream, asio::buffer(out), [&](error_code ec, size_t) {
    read_ec = ec;
    read = true;
  });
  if (!runUntil(io, [&] { return read; }) || read_ec) return "";
  return out;
}

class ReloadTest : public ::testing::Test {
 protected:
  std::string handshakeSerial() {
    ClientConnection c = connectClient(io_, server_->port(), client_);
    if (c.handshake_ec) return "failed: " + c.handshake_ec.message();
    return peerSerial(c.stream->native_handle());
  }
  void startServer(ServerContextProvider& provider) {
    server_ = std::make_unique<EchoServer>([&provider] { return provider.current(); });
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "ca"};
  CertFiles first_ = ca_.issue("first", "svc.test", {"svc.test"}, "1111");
  CertFiles second_ = ca_.issue("second", "svc.test", {"svc.test"}, "2222");
  asio::io_context io_;
  std::shared_ptr<const ClientContext> client_ =
      std::make_shared<const ClientContext>(clientTls(ca_.cert(), "svc.test"));
  std::unique_ptr<EchoServer> server_;
};

TEST_F(ReloadTest, RenamedFilesAreReloadedAndBrokenOnesIgnored) {
  const std::string live = dir_.path() + "/live";
  std::filesystem::create_directory(live);
  const CertFiles files{live + "/tls.crt", live + "/tls.key"};
  writeFile(files.cert, readFile(first_.cert));
  writeFile(files.key, readFile(first_.key));
  auto provider = makeServerContextProvider("listener test", {{{}, serverTls(files)}});
  provider->startWatching();
  startServer(*provider);
  const ReloadStats& stats = provider->reloadStats();

  EXPECT_EQ(handshakeSerial(), "1111");
  ClientConnection old = connectClient(io_, server_->port(), client_);
  ASSERT_FALSE(old.handshake_ec);
  EXPECT_EQ(echo(io_, *old.stream, "before"), "before");

  // The key first, then the certificate: the watcher waits for the burst to settle.
  renameOver(files.key, readFile(second_.key));
  renameOver(files.cert, readFile(second_.cert));
  ASSERT_TRUE(waitForCount(stats.success, 1));
  EXPECT_EQ(stats.failure.load(), 0u);
  EXPECT_EQ(handshakeSerial(), "2222");
  // The connection made before the reload keeps its context and works on.
  EXPECT_EQ(echo(io_, *old.stream, "after"), "after");
  EXPECT_EQ(peerSerial(old.stream->native_handle()), "1111");

  // A broken certificate: counted, logged, and the last good one keeps serving.
  renameOver(files.cert, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
  ASSERT_TRUE(waitForCount(stats.failure, 1));
  EXPECT_EQ(handshakeSerial(), "2222");
  EXPECT_EQ(stats.success.load(), 1u);

  // Fixed again (in place, not renamed): reloaded.
  writeFile(files.cert, readFile(first_.cert));
  writeFile(files.key, readFile(first_.key));
  ASSERT_TRUE(waitForCount(stats.success, 2));
  EXPECT_EQ(handshakeSerial(), "1111");
  provider->stopWatching();
}

TEST_F(ReloadTest, KubernetesSecretVolumeSwap) {
  // What the kubelet's atomic writer does: files live in a timestamped directory, "..data" links
  // to it, and the visible names link through "..data".
  const std::string volume = dir_.path() + "/secret";
  std::filesystem::create_directory(volume);
  auto publish = [&](const std::string& version, const CertFiles& source) {
    const std::string data_dir = volume + "/.." + version;
    std::filesystem::create_directory(data_dir);
    writeFile(data_dir + "/tls.crt", readFile(source.cert));
    writeFile(data_dir + "/tls.key", readFile(source.key));
    std::filesystem::create_directory_symlink(".." + version, volume + "/..data_tmp");
    std::filesystem::rename(volume + "/..data_tmp", volume + "/..data");
  };
  publish("2026_11_01", first_);
  std::filesystem::create_symlink("..data/tls.crt", volume + "/tls.crt");
  std::filesystem::create_symlink("..data/tls.key", volume + "/tls.key");
  const CertFiles files{volume + "/tls.crt", volume + "/tls.key"};

  auto provider = makeServerContextProvider("listener k8s", {{{}, serverTls(files)}});
  provider->startWatching();
  startServer(*provider);
  EXPECT_EQ(handshakeSerial(), "1111");

  publish("2026_11_02", second_);
  ASSERT_TRUE(waitForCount(provider->reloadStats().success, 1));
  EXPECT_EQ(handshakeSerial(), "2222");
  EXPECT_EQ(provider->reloadStats().failure.load(), 0u);
}

TEST_F(ReloadTest, ReloadWithoutChangesDoesNothing) {
  auto provider = makeServerContextProvider("listener same", {{{}, serverTls(first_)}});
  const auto before = provider->current();
  EXPECT_TRUE(provider->reload());
  EXPECT_EQ(provider->current(), before);
  EXPECT_EQ(provider->reloadStats().success.load(), 0u);
}

TEST_F(ReloadTest, ClientContextsReloadToo) {
  const std::string ca_copy = dir_.file("trusted.pem");
  writeFile(ca_copy, readFile(ca_.cert()));
  auto provider = makeClientContextProvider("cluster backend", clientTls(ca_copy, "svc.test"));
  const auto before = provider->current();
  writeFile(ca_copy, "not a CA\n");
  EXPECT_FALSE(provider->reload());
  EXPECT_EQ(provider->current(), before);
  EXPECT_EQ(provider->reloadStats().failure.load(), 1u);
  writeFile(ca_copy, readFile(ca_.cert()));
  EXPECT_TRUE(provider->reload());
  EXPECT_NE(provider->current(), before);
  EXPECT_EQ(provider->reloadStats().success.load(), 1u);
}

TEST_F(ReloadTest, StartUpFailsWithTheReason) {
  try {
    makeServerContextProvider("listener bad",
                              {{{}, serverTls({dir_.file("none.pem"), first_.key})}});
    FAIL() << "expected TlsError";
  } catch (const TlsError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(dir_.file("none.pem")));
  }
}

}  // namespace
}  // namespace wslb::tls
