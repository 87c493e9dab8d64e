// TLS on the data path: listeners with envoy.transport_sockets.tls filter chains (SNI picks the
// chain, its certificate and its routes) and clusters with TLS toward their endpoints. The
// clients are Beast WebSockets over Asio's own SSL stream, and `openssl s_server` plays a TLS
// backend; every certificate is made by the test with the openssl CLI.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cerrno>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../unit/tls/tls_test_util.h"
#include "hcm_yaml.h"
#include "test_support.h"

namespace wslb::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using tls::testing::CertFiles;
using tls::testing::TempDir;
using tls::testing::TestCa;

constexpr const char* kDownstreamTlsType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
constexpr const char* kUpstreamTlsType =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

// One filter chain of the listener.
struct Chain {
  Chain(std::vector<std::string> names, std::optional<CertFiles> files,
        std::string prefix = "ingress_tls", std::string cluster_name = "backend")
      : server_names(std::move(names)),
        cert(std::move(files)),
        stat_prefix(std::move(prefix)),
        cluster(std::move(cluster_name)) {}
  std::vector<std::string> server_names;  // empty: matches any name
  std::optional<CertFiles> cert;          // unset: plain TCP
  std::string stat_prefix;
  std::string cluster;
  std::string handshake_timeout;  // transport_socket_connect_timeout; "" = default
};

// One cluster with static endpoints.
struct ClusterSpec {
  std::string name = "backend";
  std::vector<uint16_t> ports;
  std::string tls_yaml;  // the transport_socket's typed_config body, indented 8; "" = plain
};

std::string listenerYaml(const std::vector<Chain>& chains) {
  std::ostringstream y;
  y << "  listeners:\n"
    << "  - name: tls\n"
    << "    address: {socket_address: {address: 127.0.0.1, port_value: 0}}\n"
    << "    filter_chains:\n";
  for (const Chain& chain : chains) {
    y << "    - filters:\n" << hcmFilterYaml(chain.stat_prefix, routeYaml("/", chain.cluster));
    if (!chain.server_names.empty()) {
      y << "      filter_chain_match:\n        server_names: [";
      for (size_t i = 0; i < chain.server_names.size(); ++i) {
        y << (i > 0 ? ", " : "") << '"' << chain.server_names[i] << '"';
      }
      y << "]\n";
    }
    if (!chain.handshake_timeout.empty()) {
      y << "      transport_socket_connect_timeout: " << chain.handshake_timeout << "\n";
    }
    if (chain.cert) {
      y << "      transport_socket:\n"
        << "        name: envoy.transport_sockets.tls\n"
        << "        typed_config:\n"
        << "          \"@type\": " << kDownstreamTlsType << "\n"
        << "          common_tls_context:\n"
        << "            tls_certificates:\n"
        << "            - certificate_chain: {filename: " << chain.cert->cert << "}\n"
        << "              private_key: {filename: " << chain.cert->key << "}\n";
    }
  }
  return y.str();
}

std::string clusterYaml(const ClusterSpec& c) {
  std::ostringstream y;
  y << "  - name: " << c.name << "\n"
    << "    connect_timeout: 2s\n"
    << "    load_assignment:\n"
    << "      cluster_name: " << c.name << "\n"
    << "      endpoints:\n"
    << "      - lb_endpoints:\n";
  for (uint16_t port : c.ports) {
    y << "        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: " << port
      << "}}}\n";
  }
  if (!c.tls_yaml.empty()) {
    y << "    transport_socket:\n"
      << "      name: envoy.transport_sockets.tls\n"
      << "      typed_config:\n"
      << "        \"@type\": " << kUpstreamTlsType << "\n"
      << c.tls_yaml;
  }
  return y.str();
}

std::string config(const std::vector<Chain>& chains, const std::vector<ClusterSpec>& clusters,
                   const std::string& extra = "") {
  std::string y = "admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}\n";
  y += "static_resources:\n";
  y += listenerYaml(chains);
  y += "  clusters:\n";
  for (const ClusterSpec& c : clusters) y += clusterYaml(c);
  return y + extra;
}

// A WebSocket client over TLS (Asio's SSL stream), verifying the server against `ca_file`.
// Reads and writes time out after 10 s (SO_RCVTIMEO / SO_SNDTIMEO).
class TlsWsClient {
 public:
  TlsWsClient(uint16_t port, const std::string& server_name, const std::string& ca_file,
              const std::string& target = "/")
      : context_(ssl::context::tls_client), ws_(io_, context_) {
    // The stream's SSL was made with the context above: its verify mode is set on it directly
    // (the CA store is the context's, shared).
    context_.load_verify_file(ca_file);
    ws_.next_layer().set_verify_mode(ssl::verify_peer);
    auto& stream = beast::get_lowest_layer(ws_);
    stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const timeval tv{10, 0};
    ::setsockopt(stream.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(stream.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL* ssl = ws_.next_layer().native_handle();
    SSL_set_tlsext_host_name(ssl, server_name.c_str());
    X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), server_name.c_str(), 0);
    ws_.next_layer().handshake(ssl::stream_base::client);
    ws_.handshake(server_name, target);
  }

  std::string echo(const std::string& text) {
    ws_.text(true);
    ws_.write(asio::buffer(text));
    beast::flat_buffer buffer;
    ws_.read(buffer);
    return beast::buffers_to_string(buffer.data());
  }

  // The subject common name of the certificate the server presented.
  std::string peerCommonName() {
    X509* cert = SSL_get0_peer_certificate(ws_.next_layer().native_handle());
    if (cert == nullptr) return "";
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof(name));
    return name;
  }

  void close() {
    beast::error_code ec;
    ws_.close(beast::websocket::close_code::normal, ec);
  }

 private:
  asio::io_context io_;
  ssl::context context_;
  beast::websocket::stream<ssl::stream<tcp::socket>> ws_;
};

// One HTTP request over TLS; the response (status 0 if the exchange failed).
HttpResult tlsRequest(uint16_t port, const std::string& server_name, const std::string& ca_file,
                      const std::string& target) {
  HttpResult result;
  asio::io_context io;
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_peer);
  context.load_verify_file(ca_file);
  ssl::stream<tcp::socket> stream(io, context);
  beast::error_code ec;
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return result;
  const timeval tv{10, 0};
  ::setsockopt(stream.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  SSL_set_tlsext_host_name(stream.native_handle(), server_name.c_str());
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) return result;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, server_name);
  req.set(bhttp::field::connection, "close");
  bhttp::write(stream, req, ec);
  if (ec) return result;
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res, ec);
  if (ec && ec != bhttp::error::end_of_stream) return result;
  result.status = res.result_int();
  result.body = res.body();
  result.ok = true;
  return result;
}

// Whether a plain TCP connection to `port` is closed by the server within `timeout` without a
// byte being sent to it (the handshake timeout).
bool closedBySilence(uint16_t port, std::chrono::seconds timeout) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const timeval tv{static_cast<time_t>(timeout.count()), 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char byte = 0;
  beast::error_code ec;
  s.read_some(asio::buffer(&byte, 1), ec);
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

// A TLS client on plain OpenSSL over a blocking socket, for byte-exact control of what goes on
// the wire: send() puts records that OpenSSL writes into memory on the socket in one syscall.
class RawTlsClient {
 public:
  RawTlsClient(uint16_t port, const std::string& server_name, const std::string& ca_file)
      : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_load_verify_locations(ctx_.get(), ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), socket_.native_handle());
    SSL_set_tlsext_host_name(ssl_.get(), server_name.c_str());
    if (SSL_connect(ssl_.get()) != 1) throw std::runtime_error("TLS handshake failed");
  }

  // From now on, what OpenSSL writes stays in memory until send().
  void holdWrites() { SSL_set0_wbio(ssl_.get(), BIO_new(BIO_s_mem())); }

  void write(const std::string& bytes) {
    if (SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size())) <= 0) {
      throw std::runtime_error("SSL_write failed");
    }
  }
  // Queues a close_notify (with holdWrites: without closing the TCP connection).
  void closeNotify() { SSL_shutdown(ssl_.get()); }

  // Puts every held record on the socket with one send().
  void send() {
    char* data = nullptr;
    const long size = BIO_get_mem_data(SSL_get_wbio(ssl_.get()), &data);
    ASSERT_EQ(::send(socket_.native_handle(), data, static_cast<size_t>(size), 0), size);
  }

  // Reads until the server ends the TLS stream or the connection (true), or 10 s pass without a
  // byte (false). `plaintext` gets what was read.
  bool readToEnd(std::string& plaintext) {
    char chunk[4096];
    for (;;) {
      const int n = SSL_read(ssl_.get(), chunk, sizeof(chunk));
      if (n > 0) {
        plaintext.append(chunk, static_cast<size_t>(n));
        continue;
      }
      const int error = SSL_get_error(ssl_.get(), n);
      return error == SSL_ERROR_ZERO_RETURN ||
             (error == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK);
    }
  }

  // Reads up to and including the end of an HTTP response head.
  std::string readHead() {
    std::string head;
    char c = 0;
    while (head.find("\r\n\r\n") == std::string::npos && SSL_read(ssl_.get(), &c, 1) == 1) {
      head += c;
    }
    return head;
  }

 private:
  struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  asio::io_context io_;
  tcp::socket socket_{io_};
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
};

// A masked client text frame (payload < 126 bytes).
std::string maskedTextFrame(const std::string& payload) {
  const char mask[4] = {0x11, 0x22, 0x33, 0x44};
  std::string frame{static_cast<char>(0x81), static_cast<char>(0x80 | payload.size())};
  frame.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

class TlsTest : public ::testing::Test {
 protected:
  TempDir dir_;
  TestCa ca_{dir_.path(), "ca"};
  CertFiles a_ = ca_.issue("a", "a.test", {"a.test"}, "a1");
  CertFiles b_ = ca_.issue("b", "b.test", {"b.test"}, "b1");
};

TEST_F(TlsTest, WebSocketOverTlsListenerEchoesAndIsCountedAfterTheHandshake) {
  auto backends = startEchoBackends(2);
  InProcessWslb wslb(config({Chain{{}, a_}}, {ClusterSpec{"backend", portsOf(backends), ""}}));
  const std::string address = "listener.127.0.0.1_" + std::to_string(wslb.port());
  {
    TlsWsClient client(wslb.port(), "a.test", ca_.cert());
    EXPECT_EQ(client.peerCommonName(), "a.test");
    EXPECT_EQ(client.echo("over tls"), "over tls");
    // Larger than the socket buffers on the way: the relay's client side stops reading while its
    // writes to the backend wait, with decrypted bytes left inside OpenSSL, and must come back
    // to them without the socket becoming readable again.
    for (size_t size : {size_t{100000}, size_t{8} << 20}) {
      const std::string big(size, 'x');
      EXPECT_TRUE(client.echo(big) == big) << size;
    }
    EXPECT_EQ(wslb.stat(address + ".ssl.handshake"), 1u);
    EXPECT_EQ(wslb.stat("http.ingress_tls.downstream_cx_total"), 1u);
    EXPECT_EQ(wslb.stat("http.ingress_tls.downstream_cx_active"), 1u);
    client.close();
  }
  EXPECT_TRUE(waitFor([&] { return wslb.stat("http.ingress_tls.downstream_cx_active") == 0; }));
  EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.backend.upstream_cx_active") == 0; }));
  EXPECT_EQ(wslb.stat(address + ".ssl.connection_error"), 0u);
}

// The client's last message and its close_notify arrive in one segment and no FIN follows (a
// TLS client half-closing and waiting for the server's close_notify). The relay's read takes the
// message and meets the close_notify; the end of stream is then held inside the transport socket,
// and the socket never becomes readable again. The relay must find it there, not wait for
// readiness until the idle timeout (one hour).
TEST_F(TlsTest, CloseNotifyArrivingWithTheLastMessageEndsTheRelay) {
  auto backends = startEchoBackends(1);
  InProcessWslb wslb(config({Chain{{}, a_}}, {ClusterSpec{"backend", portsOf(backends), ""}}));
  RawTlsClient client(wslb.port(), "a.test", ca_.cert());
  client.write(
      "GET / HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  ASSERT_NE(client.readHead().find(" 101 "), std::string::npos);
  ASSERT_TRUE(activeBecomes(*backends[0], 1));

  client.holdWrites();
  client.write(maskedTextFrame("last words"));
  client.closeNotify();
  client.send();

  std::string received;
  EXPECT_TRUE(client.readToEnd(received)) << "the relay did not end the connection";
  EXPECT_NE(received.find("last words"), std::string::npos);  // the backend's echo came first
  EXPECT_TRUE(waitFor([&] { return wslb.stat("http.ingress_tls.downstream_cx_active") == 0; }));
  EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.backend.upstream_cx_active") == 0; }));
  EXPECT_TRUE(activeBecomes(*backends[0], 0));
}

TEST_F(TlsTest, SniChoosesTheChainItsCertificateItsRoutesAndItsStats) {
  auto backends_a = startEchoBackends(1);
  auto backends_b = startEchoBackends(1);
  Chain chain_a{{"a.test"}, a_, "ingress_a", "cluster_a"};
  Chain chain_b{{"b.test", "*.b.test"}, b_, "ingress_b", "cluster_b"};
  InProcessWslb wslb(
      config({chain_a, chain_b}, {ClusterSpec{"cluster_a", portsOf(backends_a), ""},
                                  ClusterSpec{"cluster_b", portsOf(backends_b), ""}}));
  TlsWsClient to_b(wslb.port(), "b.test", ca_.cert());
  EXPECT_EQ(to_b.peerCommonName(), "b.test");
  EXPECT_EQ(to_b.echo("b"), "b");
  EXPECT_TRUE(activeBecomes(*backends_b[0], 1));
  EXPECT_EQ(backends_a[0]->active(), 0u);
  EXPECT_EQ(wslb.stat("http.ingress_b.downstream_cx_active"), 1u);
  EXPECT_EQ(wslb.stat("http.ingress_a.downstream_cx_total"), 0u);

  TlsWsClient to_a(wslb.port(), "a.test", ca_.cert());
  EXPECT_EQ(to_a.peerCommonName(), "a.test");
  EXPECT_EQ(to_a.echo("a"), "a");
  EXPECT_TRUE(activeBecomes(*backends_a[0], 1));
  EXPECT_EQ(wslb.stat("http.ingress_a.downstream_cx_active"), 1u);

  // A name no chain claims, with no chain for any name: the handshake is refused.
  EXPECT_THROW(TlsWsClient(wslb.port(), "c.test", ca_.cert()), std::exception);
  const std::string address = "listener.127.0.0.1_" + std::to_string(wslb.port());
  EXPECT_TRUE(waitFor([&] { return wslb.stat(address + ".ssl.connection_error") == 1; }));
  EXPECT_EQ(wslb.stat(address + ".ssl.handshake"), 2u);
  to_a.close();
  to_b.close();
  EXPECT_TRUE(waitFor([&] {
    return wslb.stat("http.ingress_a.downstream_cx_active") == 0 &&
           wslb.stat("http.ingress_b.downstream_cx_active") == 0;
  }));
}

TEST_F(TlsTest, FailedHandshakesAreCountedAndHoldNoConnectionSlot) {
  auto backends = startEchoBackends(1);
  // A global cap of one connection: a failed handshake that kept its unit would lock out the
  // good client at the end.
  const std::string overload =
      "overload_manager:\n"
      "  resource_monitors:\n"
      "  - name: envoy.resource_monitors.global_downstream_max_connections\n"
      "    typed_config:\n"
      "      \"@type\": type.googleapis.com/"
      "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig\n"
      "      max_active_downstream_connections: 1\n";
  Chain chain{{}, a_};
  chain.handshake_timeout = "0.3s";
  InProcessWslb wslb(config({chain}, {ClusterSpec{"backend", portsOf(backends), ""}}, overload));
  const std::string address = "listener.127.0.0.1_" + std::to_string(wslb.port());

  // Plain HTTP on the TLS port: not a ClientHello.
  const HttpResult plain = rawRequest(wslb.port(), upgradeRequest());
  EXPECT_FALSE(plain.ok);
  EXPECT_TRUE(waitFor([&] { return wslb.stat(address + ".ssl.connection_error") == 1; }));
  // A client that says nothing is cut at transport_socket_connect_timeout.
  EXPECT_TRUE(closedBySilence(wslb.port(), 10s));
  EXPECT_TRUE(waitFor([&] { return wslb.stat(address + ".ssl.connection_error") == 2; }));
  // A client that does not trust the certificate aborts the handshake.
  TempDir other_dir;
  TestCa other_ca(other_dir.path(), "other");
  EXPECT_THROW(TlsWsClient(wslb.port(), "a.test", other_ca.cert()), std::exception);
  EXPECT_TRUE(waitFor([&] { return wslb.stat(address + ".ssl.connection_error") == 3; }));

  EXPECT_EQ(wslb.stat("http.ingress_tls.downstream_cx_total"), 0u);
  EXPECT_EQ(wslb.stat("http.ingress_tls.downstream_cx_active"), 0u);
  TlsWsClient good(wslb.port(), "a.test", ca_.cert());
  EXPECT_EQ(good.echo("still room"), "still room");
  EXPECT_EQ(wslb.stat(address + ".ssl.handshake"), 1u);
  good.close();
}

// A TLS backend: `openssl s_server -www` answers any GET with a 200 status page.
std::string upstreamTls(const std::string& ca_file, const std::string& sni,
                        const std::string& san_exact = "") {
  std::string y = "        sni: " + sni + "\n";
  y += "        common_tls_context:\n";
  y += "          validation_context:\n";
  y += "            trusted_ca: {filename: " + ca_file + "}\n";
  if (!san_exact.empty()) {
    y += "            match_typed_subject_alt_names:\n";
    y += "            - san_type: DNS\n";
    y += "              matcher: {exact: " + san_exact + "}\n";
  }
  return y;
}

TEST_F(TlsTest, ClusterSpeaksTlsToItsEndpointsAndVerifiesThem) {
  const CertFiles backend_cert = ca_.issue("backend", "backend.test", {"backend.test"}, "c1");
  tls::testing::OpensslServer backend(backend_cert.cert, backend_cert.key, {"-www"});
  TempDir other_dir;
  TestCa other_ca(other_dir.path(), "other");
  std::vector<Chain> chains{Chain{{}, a_, "ingress_tls", "good"}};
  // Routes by cluster name through three listeners would need three configs; one per cluster
  // keeps each check on its own counters.
  InProcessWslb good(config(
      chains, {ClusterSpec{"good", {backend.port()}, upstreamTls(ca_.cert(), "backend.test")}}));
  const HttpResult ok = tlsRequest(good.port(), "a.test", ca_.cert(), "/status");
  EXPECT_EQ(ok.status, 200u) << ok.body;
  EXPECT_NE(ok.body.find("s_server"), std::string::npos) << ok.body;
  EXPECT_EQ(good.stat("cluster.good.ssl.handshake"), 1u);
  EXPECT_EQ(good.stat("cluster.good.ssl.connection_error"), 0u);

  chains[0].cluster = "untrusted";
  InProcessWslb untrusted(config(
      chains,
      {ClusterSpec{"untrusted", {backend.port()}, upstreamTls(other_ca.cert(), "backend.test")}}));
  const HttpResult refused = tlsRequest(untrusted.port(), "a.test", ca_.cert(), "/status");
  EXPECT_EQ(refused.status, 503u);
  EXPECT_GE(untrusted.stat("cluster.untrusted.ssl.fail_verify_error"), 1u);
  EXPECT_GE(untrusted.stat("cluster.untrusted.upstream_cx_connect_fail"), 1u);
  EXPECT_EQ(untrusted.stat("cluster.untrusted.ssl.handshake"), 0u);

  chains[0].cluster = "wrong_san";
  InProcessWslb wrong_san(
      config(chains, {ClusterSpec{"wrong_san",
                                  {backend.port()},
                                  upstreamTls(ca_.cert(), "backend.test", "elsewhere.test")}}));
  const HttpResult mismatch = tlsRequest(wrong_san.port(), "a.test", ca_.cert(), "/status");
  EXPECT_EQ(mismatch.status, 503u);
  EXPECT_GE(wrong_san.stat("cluster.wrong_san.ssl.fail_verify_san"), 1u);
  EXPECT_TRUE(waitFor([&] { return wrong_san.stat("cluster.wrong_san.upstream_cx_active") == 0; }));
}

TEST_F(TlsTest, ClusterTlsToAPlainBackendFailsAsAConnectFailure) {
  auto backends = startEchoBackends(1);
  InProcessWslb wslb(config({Chain{{}, a_}}, {ClusterSpec{"backend", portsOf(backends),
                                                          upstreamTls(ca_.cert(), "x.test")}}));
  const HttpResult r = tlsRequest(wslb.port(), "a.test", ca_.cert(), "/");
  EXPECT_EQ(r.status, 503u);
  EXPECT_GE(wslb.stat("cluster.backend.ssl.connection_error"), 1u);
  EXPECT_TRUE(waitFor([&] { return wslb.stat("cluster.backend.upstream_cx_active") == 0; }));
}

TEST_F(TlsTest, ReloadSwapsChainsForNewHandshakesAndRefusesABadCertificate) {
  auto backends = startEchoBackends(1);
  const std::vector<ClusterSpec> clusters{ClusterSpec{"backend", portsOf(backends), ""}};
  InProcessWslb wslb(config({Chain{{}, a_}}, clusters));
  const std::string address = "listener.127.0.0.1_" + std::to_string(wslb.port());
  TlsWsClient before(wslb.port(), "a.test", ca_.cert());
  EXPECT_EQ(before.peerCommonName(), "a.test");

  // A certificate file that does not exist: rejected whole, the running chains keep serving.
  const server::ReloadResult bad =
      reloadYaml(wslb, config({Chain{{}, CertFiles{dir_.path() + "/none.pem", b_.key}}}, clusters));
  EXPECT_FALSE(bad.ok);
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_NE(bad.errors[0].find("none.pem"), std::string::npos) << bad.errors[0];
  EXPECT_EQ(TlsWsClient(wslb.port(), "a.test", ca_.cert()).peerCommonName(), "a.test");

  // Two chains now: b.test gets its own certificate; the open connection keeps going.
  const server::ReloadResult ok = reloadYaml(
      wslb, config({Chain{{"a.test"}, a_}, Chain{{"b.test"}, b_, "ingress_b"}}, clusters));
  ASSERT_TRUE(ok.ok) << (ok.errors.empty() ? "" : ok.errors[0]);
  TlsWsClient after(wslb.port(), "b.test", ca_.cert());
  EXPECT_EQ(after.peerCommonName(), "b.test");
  EXPECT_EQ(after.echo("new chain"), "new chain");
  EXPECT_EQ(before.echo("old connection"), "old connection");
  // The listener kept its address, so its handshake counters went on: a, a, b.
  EXPECT_EQ(wslb.stat(address + ".ssl.handshake"), 3u);
  EXPECT_EQ(wslb.stat("http.ingress_b.downstream_cx_active"), 1u);
  before.close();
  after.close();
}

}  // namespace
}  // namespace wslb::test
