#pragma once
// Shared by the TLS tests: a throwaway PKI made with the openssl CLI in a temp dir, a loopback
// TLS echo server running TransportSocket on its own io_context thread, and running commands
// (openssl s_client) with a bounded lifetime.

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "wslb/config/tls.h"
#include "wslb/tls/server_context_set.h"
#include "wslb/tls/transport_socket.h"

namespace wslb::tls::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

inline constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

struct CommandResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr
};

/// Runs `command` with sh, bounded by coreutils timeout (30 s).
inline CommandResult run(const std::string& command) {
  CommandResult result;
  const std::string bounded = "timeout 30 sh -c '" + command + "' 2>&1";
  FILE* pipe = ::popen(bounded.c_str(), "r");
  if (pipe == nullptr) return result;
  char chunk[4096];
  size_t n = 0;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// A child process (argv[0] looked up in PATH) whose stdout and stderr the test reads; killed by
/// its PID when the object goes.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int fds[2];
    int in_fds[2];
    if (::pipe(fds) != 0 || ::pipe(in_fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // stdin stays open and silent: s_server ends its connection on end of input.
      ::dup2(in_fds[0], 0);
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      ::close(in_fds[0]);
      ::close(in_fds[1]);
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    ::close(in_fds[0]);
    out_fd_ = fds[0];
    in_fd_ = in_fds[1];
  }
  ~ChildProcess() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(out_fd_);
    ::close(in_fd_);
  }

  /// Reads output until a line containing `marker` arrives (at most ~10 s). @return that line
  /// ("" on timeout or end of output).
  std::string waitForLine(const std::string& marker) {
    for (int i = 0; i < 100; ++i) {
      for (size_t end = output_.find('\n'); end != std::string::npos; end = output_.find('\n')) {
        std::string line = output_.substr(0, end);
        output_.erase(0, end + 1);
        if (line.find(marker) != std::string::npos) return line;
      }
      pollfd fd{out_fd_, POLLIN, 0};
      if (::poll(&fd, 1, 100) <= 0) continue;
      char chunk[1024];
      const ssize_t n = ::read(out_fd_, chunk, sizeof chunk);
      if (n <= 0) return "";
      output_.append(chunk, static_cast<size_t>(n));
    }
    return "";
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::string output_;
};

/// `openssl s_server` on 127.0.0.1 (port chosen by the system) with `extra` arguments.
class OpensslServer {
 public:
  OpensslServer(const std::string& cert, const std::string& key, std::vector<std::string> extra)
      : process_(arguments(cert, key, std::move(extra))) {
    const std::string line = process_.waitForLine("ACCEPT");
    const size_t colon = line.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("s_server did not start");
    port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
  }
  uint16_t port() const { return port_; }

 private:
  static std::vector<std::string> arguments(const std::string& cert, const std::string& key,
                                            std::vector<std::string> extra) {
    std::vector<std::string> out = {"openssl", "s_server", "-accept", "127.0.0.1:0",
                                    "-cert",   cert,       "-key",    key};
    out.insert(out.end(), extra.begin(), extra.end());
    return out;
  }
  ChildProcess process_;
  uint16_t port_ = 0;
};

/// A temporary directory removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wslb-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

/// A certificate and its key, as files.
struct CertFiles {
  std::string cert;
  std::string key;
};

/// A throwaway CA in `dir` that issues leaf certificates (P-256 keys, valid two days).
class TestCa {
 public:
  TestCa(const std::string& dir, const std::string& name) : dir_(dir), name_(name) {
    cert_ = dir + "/" + name + ".pem";
    key_ = dir + "/" + name + ".key";
    const CommandResult made =
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key_ +
            " -out " + cert_ + " -days 2 -subj \"/CN=" + name +
            "\" -addext basicConstraints=critical,CA:TRUE -addext "
            "keyUsage=critical,keyCertSign,cRLSign");
    if (made.exit_code != 0) throw std::runtime_error("CA creation failed: " + made.output);
  }

  const std::string& cert() const { return cert_; }

  /// A leaf for `common_name` with DNS SANs `dns_names`, serial `serial` (hex), written to
  /// <dir>/<file_stem>.pem / .key.
  CertFiles issue(const std::string& file_stem, const std::string& common_name,
                  const std::vector<std::string>& dns_names, const std::string& serial) const {
    CertFiles out{dir_ + "/" + file_stem + ".pem", dir_ + "/" + file_stem + ".key"};
    const std::string csr = dir_ + "/" + file_stem + ".csr";
    const std::string ext = dir_ + "/" + file_stem + ".ext";
    std::string sans = "subjectAltName=";
    for (size_t i = 0; i < dns_names.size(); ++i) {
      if (i > 0) sans += ",";
      sans += "DNS:" + dns_names[i];
    }
    writeFile(ext, sans + "\n");
    const CommandResult made =
        run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + out.key +
            " -out " + csr + " -subj \"/CN=" + common_name + "\" && openssl x509 -req -in " + csr +
            " -CA " + cert_ + " -CAkey " + key_ + " -set_serial 0x" + serial + " -days 2 -out " +
            out.cert + " -extfile " + ext);
    if (made.exit_code != 0) throw std::runtime_error("certificate issue failed: " + made.output);
    return out;
  }

 private:
  std::string dir_;
  std::string name_;
  std::string cert_;
  std::string key_;
};

/// A DownstreamTls with one certificate from files.
inline config::DownstreamTls serverTls(const CertFiles& files) {
  config::DownstreamTls tls;
  config::TlsCertificate certificate;
  certificate.certificate_chain.filename = files.cert;
  certificate.private_key.filename = files.key;
  tls.common_tls_context.tls_certificates.push_back(certificate);
  return tls;
}

/// An UpstreamTls trusting `ca_file`, with `sni`.
inline config::UpstreamTls clientTls(const std::string& ca_file, const std::string& sni) {
  config::UpstreamTls tls;
  tls.sni = sni;
  config::ValidationContext validation;
  validation.trusted_ca = config::DataSource{ca_file, std::nullopt};
  tls.common_tls_context.validation_context = validation;
  return tls;
}

/// The serial of the peer's certificate as lower-case hex ("" if none).
inline std::string peerSerial(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(cert);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// What the server saw of one handshake.
struct HandshakeRecord {
  error_code ec;
  std::string reason;
  std::string alpn;
  std::string server_name;
  std::optional<size_t> chain;
};

/// A loopback TLS echo server on its own thread: each connection takes the context set from
/// `contexts()` at accept time, handshakes with TransportSocket and echoes what it reads.
class EchoServer {
 public:
  using Contexts = std::function<std::shared_ptr<const ServerContextSet>()>;

  explicit EchoServer(Contexts contexts)
      : contexts_(std::move(contexts)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, acceptLoop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    io_.stop();
    thread_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::vector<HandshakeRecord> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  /// Waits (bounded) until `count` handshakes have ended.
  bool waitForRecords(size_t count) {
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (records_.size() >= count) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  asio::awaitable<void> acceptLoop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAsTuple);
      if (ec) co_return;
      error_code make_ec;
      TransportSocket stream = TransportSocket::server(std::move(socket), contexts_(), make_ec);
      if (make_ec) continue;
      asio::co_spawn(io_, serve(std::move(stream)), asio::detached);
    }
  }

  asio::awaitable<void> serve(TransportSocket stream) {
    auto [ec] = co_await stream.async_handshake(kAsTuple);
    {
      std::lock_guard lock(mutex_);
      records_.push_back(HandshakeRecord{ec, ec ? stream.failureReason(ec) : "",
                                         std::string(stream.alpnProtocol()),
                                         std::string(stream.serverName()), stream.filterChain()});
    }
    if (ec) co_return;
    char buffer[16 * 1024];
    for (;;) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(buffer), kAsTuple);
      if (rec) break;
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(buffer, n), kAsTuple);
      if (wec) break;
    }
    error_code ignored;
    stream.shutdown(tcp::socket::shutdown_send, ignored);
  }

  Contexts contexts_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<HandshakeRecord> records_;
};

/// Runs `io` until `done()` or about 10 s pass. @return done().
inline bool runUntil(asio::io_context& io, const std::function<bool()>& done) {
  for (int i = 0; i < 10000 && !done(); ++i) {
    io.run_for(std::chrono::milliseconds(1));
    if (io.stopped()) io.restart();
  }
  return done();
}

/// A connected client TransportSocket toward 127.0.0.1:`port`, handshaken (or not: see ec).
struct ClientConnection {
  std::optional<TransportSocket> stream;
  error_code handshake_ec;
};

inline ClientConnection connectClient(asio::io_context& io, uint16_t port,
                                      std::shared_ptr<const ClientContext> context) {
  ClientConnection out;
  tcp::socket socket(io);
  error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) {
    out.handshake_ec = ec;
    return out;
  }
  out.stream.emplace(TransportSocket::client(std::move(socket), std::move(context), ec));
  if (ec) {
    out.handshake_ec = ec;
    return out;
  }
  bool done = false;
  out.stream->async_handshake([&](const error_code& hec) {
    out.handshake_ec = hec;
    done = true;
  });
  if (!runUntil(io, [&] { return done; })) out.handshake_ec = asio::error::timed_out;
  return out;
}

}  // namespace wslb::tls::testing
