#include "wslb/tls/transport_socket.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <cerrno>
#include <utility>

#include "tls/socket_bio.h"
#include "wslb/tls/client_context.h"
#include "wslb/tls/server_context_set.h"

namespace wslb::tls {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

TransportSocket::TransportSocket(tcp::socket socket) : socket_(std::move(socket)) {}

TransportSocket::TransportSocket(tcp::socket socket, SslPtr ssl,
                                 std::shared_ptr<const void> contexts, error_code& ec)
    : socket_(std::move(socket)) {
  ec.clear();
  if (!ssl) {
    ec = asio::error::no_memory;
    return;
  }
  BIO* bio = newSocketBio(static_cast<int>(socket_.native_handle()));
  if (bio == nullptr) {
    ec = asio::error::no_memory;
    return;
  }
  SSL_set_bio(ssl.get(), bio, bio);  // the SSL owns the BIO from here
  socket_.non_blocking(true, ec);
  if (ec) return;
  tls_ = std::make_unique<TlsState>();
  tls_->ssl = std::move(ssl);
  tls_->contexts = std::move(contexts);
}

TransportSocket TransportSocket::server(tcp::socket socket,
                                        std::shared_ptr<const ServerContextSet> contexts,
                                        error_code& ec) {
  SslPtr ssl = contexts->newSsl();
  return TransportSocket(std::move(socket), std::move(ssl), std::move(contexts), ec);
}

TransportSocket TransportSocket::client(tcp::socket socket,
                                        std::shared_ptr<const ClientContext> context,
                                        error_code& ec) {
  SslPtr ssl = context->newSsl();
  return TransportSocket(std::move(socket), std::move(ssl), std::move(context), ec);
}

error_code TransportSocket::mapSslError(int ssl_error) const {
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return asio::error::would_block;
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;  // close_notify, or a FIN (SSL_OP_IGNORE_UNEXPECTED_EOF)
    case SSL_ERROR_SYSCALL: {
      const int error = errno;
      ERR_clear_error();
      return error == 0 ? error_code(asio::error::eof)
                        : error_code(error, boost::system::system_category());
    }
    default: {
      const unsigned long code = ERR_get_error();
      ERR_clear_error();
      if (code == 0) return asio::error::connection_aborted;
      return error_code(static_cast<int>(code), asio::error::get_ssl_category());
    }
  }
}

size_t TransportSocket::readRecord(void* data, size_t size, error_code& ec) {
  ERR_clear_error();
  size_t n = 0;
  const int ret = SSL_read_ex(tls_->ssl.get(), data, size, &n);
  if (ret == 1) {
    ec.clear();
    return n;
  }
  const int ssl_error = SSL_get_error(tls_->ssl.get(), ret);
  tls_->read_wants_write = ssl_error == SSL_ERROR_WANT_WRITE;
  ec = mapSslError(ssl_error);
  return 0;
}

namespace {

// Plain TCP for the relay: one non-blocking system call each, whatever the descriptor's mode
// (MSG_DONTWAIT), so the relay never needs FIONBIO on its sockets and Asio's blocking emulation
// (a poll() after EAGAIN) never runs. `call` is the recv or send; retried on EINTR.
template <typename Call>
size_t plainCall(asio::ip::tcp::socket& socket, size_t size, error_code& ec, Call call) {
  if (!socket.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  ec.clear();
  if (size == 0) return 0;
  ssize_t n;
  do {
    n = call(socket.native_handle());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    ec = error_code(errno, asio::error::get_system_category());
    return 0;
  }
  return static_cast<size_t>(n);
}

}  // namespace

size_t TransportSocket::plainRead(const asio::mutable_buffer& buffer, error_code& ec) {
  const size_t got = plainCall(socket_, buffer.size(), ec, [&buffer](int fd) {
    return ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  });
  if (got == 0 && !ec && buffer.size() > 0) ec = asio::error::eof;
  return got;
}

size_t TransportSocket::plainWrite(const asio::const_buffer& buffer, error_code& ec) {
  return plainCall(socket_, buffer.size(), ec, [&buffer](int fd) {
    return ::send(fd, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  });
}

size_t TransportSocket::read_some(const asio::mutable_buffer& buffer, error_code& ec) {
  if (!tls_) return plainRead(buffer, ec);
  if (!socket_.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  if (tls_->deferred_read_error) {
    ec = std::exchange(tls_->deferred_read_error, error_code());
    return 0;
  }
  auto* data = static_cast<unsigned char*>(buffer.data());
  size_t total = 0;
  // SSL_read returns one record (16 KiB at most) per call: keep going while the socket has
  // more, so that a short count means "drained", as with a plain socket.
  while (total < buffer.size()) {
    error_code step;
    const size_t n = readRecord(data + total, buffer.size() - total, step);
    if (step) {
      if (total == 0) {
        ec = step;
        return 0;
      }
      if (step != asio::error::would_block) tls_->deferred_read_error = step;
      break;
    }
    total += n;
  }
  ec.clear();
  return total;
}

size_t TransportSocket::writeRecords(const void* data, size_t size, error_code& ec) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  size_t total = 0;
  // With SSL_MODE_ENABLE_PARTIAL_WRITE each call sends one record: loop until the socket is full.
  while (total < size) {
    ERR_clear_error();
    size_t n = 0;
    const int ret = SSL_write_ex(tls_->ssl.get(), bytes + total, size - total, &n);
    if (ret == 1) {
      total += n;
      continue;
    }
    const int ssl_error = SSL_get_error(tls_->ssl.get(), ret);
    tls_->write_wants_read = ssl_error == SSL_ERROR_WANT_READ;
    const error_code step = mapSslError(ssl_error);
    if (total == 0) {
      ec = step;
      return 0;
    }
    break;  // a hard error shows again on the next call
  }
  ec.clear();
  return total;
}

size_t TransportSocket::write_some(const asio::const_buffer& buffer, error_code& ec) {
  if (!tls_) return plainWrite(buffer, ec);
  if (!socket_.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  if (buffer.size() == 0) {
    ec.clear();
    return 0;
  }
  return writeRecords(buffer.data(), buffer.size(), ec);
}

bool TransportSocket::hasBufferedPlaintext() const {
  // A deferred error counts: after a TLS 1.3 close_notify without FIN the socket may never
  // become readable again, yet read_some has the end of stream to report.
  return tls_ && (SSL_pending(tls_->ssl.get()) > 0 || tls_->deferred_read_error);
}

void TransportSocket::handshakeStep(error_code& ec) {
  if (!socket_.is_open()) {
    ec = asio::error::bad_descriptor;
    return;
  }
  ERR_clear_error();
  const int ret = SSL_do_handshake(tls_->ssl.get());
  if (ret == 1) {
    ec.clear();
    tls_->contexts.reset();
    return;
  }
  const int ssl_error = SSL_get_error(tls_->ssl.get(), ret);
  tls_->handshake_wants_write = ssl_error == SSL_ERROR_WANT_WRITE;
  ec = mapSslError(ssl_error);
  // A failed handshake never resumes; "eof" here means the peer went away mid-handshake.
  if (ec == asio::error::eof) ec = asio::error::connection_reset;
}

void TransportSocket::shutdown(tcp::socket::shutdown_type what, error_code& ec) {
  if (tls_ && socket_.is_open() && what != tcp::socket::shutdown_receive &&
      SSL_is_init_finished(tls_->ssl.get()) == 1 &&
      (SSL_get_shutdown(tls_->ssl.get()) & SSL_SENT_SHUTDOWN) == 0) {
    ERR_clear_error();
    (void)SSL_shutdown(tls_->ssl.get());  // queues and tries to send close_notify; never blocks
    ERR_clear_error();
  }
  socket_.shutdown(what, ec);
}

std::string_view TransportSocket::alpnProtocol() const {
  if (!tls_) return {};
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(tls_->ssl.get(), &data, &size);
  return {reinterpret_cast<const char*>(data), size};
}

std::string_view TransportSocket::serverName() const {
  if (!tls_) return {};
  const char* name = SSL_get_servername(tls_->ssl.get(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

std::optional<size_t> TransportSocket::filterChain() const {
  if (!tls_ || SSL_is_server(tls_->ssl.get()) != 1) return std::nullopt;
  return ServerContextSet::chosenChain(tls_->ssl.get());
}

std::string TransportSocket::failureReason(const error_code& ec) const {
  std::string out;
  if (ec) out = ec.message();
  if (tls_) {
    const long verify = SSL_get_verify_result(tls_->ssl.get());
    if (verify != X509_V_OK) {
      if (!out.empty()) out += ": ";
      out += X509_verify_cert_error_string(verify);
    }
  }
  return out;
}

unsigned char* TransportSocket::gatherBuffer() {
  thread_local unsigned char buffer[kGatherSize];
  return buffer;
}

}  // namespace wslb::tls
