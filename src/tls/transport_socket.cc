#include "wslb/tls/transport_socket.h"

#include <openssl/err.h>
#include <openssl/x509.h>

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
    : socket_(std::move(socket)), contexts_(std::move(contexts)) {
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
  if (!ec) ssl_ = std::move(ssl);
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
  const int ret = SSL_read_ex(ssl_.get(), data, size, &n);
  if (ret == 1) {
    ec.clear();
    return n;
  }
  const int ssl_error = SSL_get_error(ssl_.get(), ret);
  read_wants_write_ = ssl_error == SSL_ERROR_WANT_WRITE;
  ec = mapSslError(ssl_error);
  return 0;
}

size_t TransportSocket::read_some(const asio::mutable_buffer& buffer, error_code& ec) {
  if (!ssl_) return socket_.read_some(buffer, ec);
  if (!socket_.is_open()) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  if (deferred_read_error_) {
    ec = std::exchange(deferred_read_error_, error_code());
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
      if (step != asio::error::would_block) deferred_read_error_ = step;
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
    const int ret = SSL_write_ex(ssl_.get(), bytes + total, size - total, &n);
    if (ret == 1) {
      total += n;
      continue;
    }
    const int ssl_error = SSL_get_error(ssl_.get(), ret);
    write_wants_read_ = ssl_error == SSL_ERROR_WANT_READ;
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
  if (!ssl_) return socket_.write_some(buffer, ec);
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
  return ssl_ && (SSL_pending(ssl_.get()) > 0 || deferred_read_error_);
}

void TransportSocket::handshakeStep(error_code& ec) {
  if (!socket_.is_open()) {
    ec = asio::error::bad_descriptor;
    return;
  }
  ERR_clear_error();
  const int ret = SSL_do_handshake(ssl_.get());
  if (ret == 1) {
    ec.clear();
    contexts_.reset();
    return;
  }
  const int ssl_error = SSL_get_error(ssl_.get(), ret);
  handshake_wants_write_ = ssl_error == SSL_ERROR_WANT_WRITE;
  ec = mapSslError(ssl_error);
  // A failed handshake never resumes; "eof" here means the peer went away mid-handshake.
  if (ec == asio::error::eof) ec = asio::error::connection_reset;
}

void TransportSocket::shutdown(tcp::socket::shutdown_type what, error_code& ec) {
  if (ssl_ && socket_.is_open() && what != tcp::socket::shutdown_receive &&
      SSL_is_init_finished(ssl_.get()) == 1 &&
      (SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN) == 0) {
    ERR_clear_error();
    (void)SSL_shutdown(ssl_.get());  // queues and tries to send close_notify; never blocks
    ERR_clear_error();
  }
  socket_.shutdown(what, ec);
}

void TransportSocket::non_blocking(bool mode, error_code& ec) {
  socket_.non_blocking(ssl_ ? true : mode, ec);
}

std::string_view TransportSocket::alpnProtocol() const {
  if (!ssl_) return {};
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &size);
  return {reinterpret_cast<const char*>(data), size};
}

std::string_view TransportSocket::serverName() const {
  if (!ssl_) return {};
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string_view(name) : std::string_view();
}

std::optional<size_t> TransportSocket::filterChain() const {
  if (!ssl_ || SSL_is_server(ssl_.get()) != 1) return std::nullopt;
  return ServerContextSet::chosenChain(ssl_.get());
}

std::string TransportSocket::failureReason(const error_code& ec) const {
  std::string out;
  if (ec) out = ec.message();
  if (ssl_) {
    const long verify = SSL_get_verify_result(ssl_.get());
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
