#pragma once
// A connected TCP socket with an optional TLS layer: what a session and the relay hold in
// place of a tcp::socket, so the same code serves plain and TLS connections.
//
// The TLS layer is one OpenSSL SSL object reading and writing the socket's file descriptor
// directly (no memory BIOs, no buffers of our own). That is what lets one object serve both
// I/O styles of a connection's life, without a second handshake:
//  - the HTTP phase, as an Asio AsyncReadStream/AsyncWriteStream (async_read_some,
//    async_write_some, async_handshake), usable by Beast's http::async_read/async_write and by
//    asio::async_write;
//  - the relay after the 101, readiness based: wait (async_wait), then non-blocking read_some /
//    write_some; would_block means "wait for readWait() / writeWait()", which is the socket
//    readability or writability OpenSSL asked for (SSL_ERROR_WANT_READ / WANT_WRITE).
// asio::ssl::stream does not fit: its engine keeps its own ciphertext buffers (input and output
// memory BIOs, ~34 KiB per stream) whose contents are invisible to a readiness wait, so its SSL
// cannot be driven from socket readiness nor handed to a different I/O loop.
//
// Plain TCP (no SSL) forwards everything to the socket.
//
// Thread safety: one worker thread, like the socket. At most one read-side and one write-side
// operation at a time (the usual Asio stream rule). With TLS the descriptor is always in
// non-blocking mode.

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "wslb/tls/ssl_types.h"

namespace wslb::tls {

class ServerContextSet;
class ClientContext;

class TransportSocket {
 public:
  using tcp = boost::asio::ip::tcp;
  using error_code = boost::system::error_code;
  using executor_type = tcp::socket::executor_type;
  using wait_type = tcp::socket::wait_type;

  /// Plain TCP.
  explicit TransportSocket(tcp::socket socket);
  /// TLS server side of an accepted connection, its filter chain chosen by SNI from
  /// `contexts` (held until the handshake ends). `ec` is set if OpenSSL is out of memory.
  static TransportSocket server(tcp::socket socket,
                                std::shared_ptr<const ServerContextSet> contexts, error_code& ec);
  /// TLS client side of a connected socket toward a backend.
  static TransportSocket client(tcp::socket socket, std::shared_ptr<const ClientContext> context,
                                error_code& ec);

  TransportSocket(TransportSocket&&) noexcept = default;
  TransportSocket& operator=(TransportSocket&&) noexcept = default;
  ~TransportSocket() = default;

  bool isTls() const { return tls_ != nullptr; }
  /// The SSL object (nullptr for plain TCP); for inspection only.
  SSL* native_handle() const { return tls_ ? tls_->ssl.get() : nullptr; }
  tcp::socket& socket() { return socket_; }
  const tcp::socket& socket() const { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }

  // --- The readiness interface (the relay) ---------------------------------------------------

  /// Reads what is available, up to the buffer's size (with TLS: whole records until the buffer
  /// is full or the socket has no more); never blocks, whatever the descriptor's mode.
  /// would_block (or try_again): nothing now; wait for readWait(). eof: the peer closed
  /// (close_notify or FIN). An error that follows data is returned by the next call.
  size_t read_some(const boost::asio::mutable_buffer& buffer, error_code& ec);
  /// Writes as much as the socket takes now; never blocks. would_block: nothing written; wait
  /// for writeWait().
  /// With TLS, after a short count or would_block the next write_some / async_write_some must
  /// start with the bytes not written (at any address), at least as many (OpenSSL's retry
  /// rule); the relay's spill buffer does exactly that.
  size_t write_some(const boost::asio::const_buffer& buffer, error_code& ec);
  /// What the last read_some that returned would_block is waiting for: wait_read, or
  /// wait_write when TLS needs to send before it can read (SSL_ERROR_WANT_WRITE).
  wait_type readWait() const {
    return tls_ && tls_->read_wants_write ? tcp::socket::wait_write : tcp::socket::wait_read;
  }
  /// As readWait(), for write_some (wait_read when TLS needs to receive first).
  wait_type writeWait() const {
    return tls_ && tls_->write_wants_read ? tcp::socket::wait_read : tcp::socket::wait_write;
  }
  /// Whether read_some has something to return without the socket becoming readable:
  /// decrypted bytes inside the SSL object (SSL_pending), or an end of stream / error that
  /// followed the last bytes returned. Check it before waiting for readiness. Always false for
  /// plain TCP.
  bool hasBufferedPlaintext() const;

  template <typename WaitToken>
  auto async_wait(wait_type what, WaitToken&& token) {
    return socket_.async_wait(what, std::forward<WaitToken>(token));
  }

  // --- The Asio stream interface (the HTTP phase) ---------------------------------------------

  /// Runs the TLS handshake (immediate success for plain TCP). Signature void(error_code).
  /// Timeout hook: cancel() or close() from a timer ends it with operation_aborted (or
  /// bad_descriptor); the caller then closes the connection.
  template <typename Token>
  auto async_handshake(Token&& token);
  /// Signature void(error_code, size_t), as tcp::socket's.
  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token);
  /// Signature void(error_code, size_t), as tcp::socket's. With TLS, a sequence of several
  /// buffers is gathered (up to 16 KiB) into one record.
  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token);

  // --- Both ----------------------------------------------------------------------------------

  /// shutdown_send / shutdown_both: with TLS, a close_notify alert goes first (sent if the socket
  /// takes it now; a TLS 1.3 peer may still send after it). Then the TCP shutdown.
  void shutdown(tcp::socket::shutdown_type what, error_code& ec);
  void cancel(error_code& ec) { socket_.cancel(ec); }
  /// Closes the socket. The SSL object stays until destruction but is never used again.
  void close(error_code& ec) { socket_.close(ec); }
  bool is_open() const { return socket_.is_open(); }
  tcp::endpoint remote_endpoint(error_code& ec) const { return socket_.remote_endpoint(ec); }
  tcp::endpoint local_endpoint(error_code& ec) const { return socket_.local_endpoint(ec); }
  template <typename Option>
  void set_option(const Option& option, error_code& ec) {
    socket_.set_option(option, ec);
  }

  // --- After the handshake -------------------------------------------------------------------

  /// The ALPN protocol agreed on ("" if none, or plain TCP).
  std::string_view alpnProtocol() const;
  /// The SNI the client sent (server side) or we sent (client side); "" if none.
  std::string_view serverName() const;
  /// Server side: the filter chain the SNI selected (index into the ServerChain list).
  std::optional<size_t> filterChain() const;
  /// Why a handshake failed, in words (OpenSSL's verify result when the peer's certificate was
  /// refused); "" if nothing is known.
  std::string failureReason(const error_code& ec) const;

 private:
  TransportSocket(tcp::socket socket, SslPtr ssl, std::shared_ptr<const void> contexts,
                  error_code& ec);

  /// One SSL_read_ex / SSL_write_ex / SSL_do_handshake, with its result mapped to an
  /// error_code (would_block for WANT_READ / WANT_WRITE, recorded in the *_wants_* flags).
  size_t readRecord(void* data, size_t size, error_code& ec);
  /// Plain TCP: one recv / send with MSG_DONTWAIT.
  size_t plainRead(const boost::asio::mutable_buffer& buffer, error_code& ec);
  size_t plainWrite(const boost::asio::const_buffer& buffer, error_code& ec);
  size_t writeRecords(const void* data, size_t size, error_code& ec);
  void handshakeStep(error_code& ec);
  error_code mapSslError(int ssl_error) const;
  wait_type handshakeWait() const {
    return tls_ && tls_->handshake_wants_write ? tcp::socket::wait_write : tcp::socket::wait_read;
  }
  /// A thread's gather buffer for multi-buffer async writes (kGatherSize bytes).
  static unsigned char* gatherBuffer();
  static constexpr size_t kGatherSize = 16 * 1024;

  template <typename Buffers>
  struct ReadOp;
  template <typename Buffers>
  struct WriteOp;
  struct HandshakeOp;

  /// What only a TLS connection needs, on the heap so that a plain TCP one (most relays) stays
  /// a socket and a pointer.
  struct TlsState {
    SslPtr ssl;
    /// The context set (or client context) the SSL came from, until the handshake is over: the
    /// ClientHello callback needs it. Afterwards the SSL's own reference keeps its context.
    std::shared_ptr<const void> contexts;
    error_code deferred_read_error;
    bool read_wants_write = false;
    bool write_wants_read = false;
    bool handshake_wants_write = false;
  };

  tcp::socket socket_;
  std::unique_ptr<TlsState> tls_;  ///< null: plain TCP.
};

// --- Composed operations ------------------------------------------------------------------------
// Each tries the SSL call at once; if OpenSSL needs the socket, it waits for the readiness
// OpenSSL asked for and tries again. A result available at once is delivered through post(),
// never inside the initiating call.

template <typename Buffers>
struct TransportSocket::ReadOp {
  TransportSocket* stream;
  Buffers buffers;
  enum class State { kStart, kWaiting, kPlain, kPosted } state = State::kStart;
  error_code result_ec{};
  size_t result_size = 0;

  template <typename Self>
  void operator()(Self& self, error_code ec = {}, size_t n = 0) {
    if (state == State::kPosted) return self.complete(result_ec, result_size);
    if (state == State::kPlain) return self.complete(ec, n);
    if (!stream->isTls()) {
      state = State::kPlain;
      return stream->socket_.async_read_some(buffers, std::move(self));
    }
    if (state == State::kWaiting && ec) return self.complete(ec, 0);
    const bool first = state == State::kStart;
    boost::asio::mutable_buffer target;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::mutable_buffer b(*it); b.size() > 0) {
        target = b;
        break;
      }
    }
    const size_t got = stream->read_some(target, ec);
    if (ec == boost::asio::error::would_block) {
      state = State::kWaiting;
      return stream->socket_.async_wait(stream->readWait(), std::move(self));
    }
    if (first) {
      state = State::kPosted;
      result_ec = ec;
      result_size = got;
      return boost::asio::post(std::move(self));
    }
    self.complete(ec, got);
  }
};

template <typename Buffers>
struct TransportSocket::WriteOp {
  TransportSocket* stream;
  Buffers buffers;
  enum class State { kStart, kWaiting, kPlain, kPosted } state = State::kStart;
  error_code result_ec{};
  size_t result_size = 0;

  template <typename Self>
  void operator()(Self& self, error_code ec = {}, size_t n = 0) {
    if (state == State::kPosted) return self.complete(result_ec, result_size);
    if (state == State::kPlain) return self.complete(ec, n);
    if (!stream->isTls()) {
      state = State::kPlain;
      return stream->socket_.async_write_some(buffers, std::move(self));
    }
    if (state == State::kWaiting && ec) return self.complete(ec, 0);
    const bool first = state == State::kStart;
    boost::asio::const_buffer source;
    size_t pieces = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::const_buffer b(*it); b.size() > 0) {
        if (pieces++ == 0) source = b;
      }
    }
    if (pieces > 1) {
      // Gathered afresh on every try, so a retry presents the same leading bytes.
      unsigned char* gather = TransportSocket::gatherBuffer();
      source = boost::asio::const_buffer(
          gather, boost::asio::buffer_copy(boost::asio::buffer(gather, kGatherSize), buffers));
    }
    const size_t written = stream->write_some(source, ec);
    if (ec == boost::asio::error::would_block) {
      state = State::kWaiting;
      return stream->socket_.async_wait(stream->writeWait(), std::move(self));
    }
    if (first) {
      state = State::kPosted;
      result_ec = ec;
      result_size = written;
      return boost::asio::post(std::move(self));
    }
    self.complete(ec, written);
  }
};

struct TransportSocket::HandshakeOp {
  TransportSocket* stream;
  enum class State { kStart, kWaiting, kPosted } state = State::kStart;
  error_code result_ec{};

  template <typename Self>
  void operator()(Self& self, error_code ec = {}) {
    if (state == State::kPosted) return self.complete(result_ec);
    if (state == State::kWaiting && ec) return self.complete(ec);
    const bool first = state == State::kStart;
    if (stream->isTls()) stream->handshakeStep(ec);
    if (ec == boost::asio::error::would_block) {
      state = State::kWaiting;
      return stream->socket_.async_wait(stream->handshakeWait(), std::move(self));
    }
    if (first) {
      state = State::kPosted;
      result_ec = ec;
      return boost::asio::post(std::move(self));
    }
    self.complete(ec);
  }
};

template <typename Token>
auto TransportSocket::async_handshake(Token&& token) {
  return boost::asio::async_compose<Token, void(error_code)>(HandshakeOp{this}, token, socket_);
}

template <typename MutableBufferSequence, typename Token>
auto TransportSocket::async_read_some(const MutableBufferSequence& buffers, Token&& token) {
  return boost::asio::async_compose<Token, void(error_code, size_t)>(
      ReadOp<MutableBufferSequence>{this, buffers}, token, socket_);
}

template <typename ConstBufferSequence, typename Token>
auto TransportSocket::async_write_some(const ConstBufferSequence& buffers, Token&& token) {
  return boost::asio::async_compose<Token, void(error_code, size_t)>(
      WriteOp<ConstBufferSequence>{this, buffers}, token, socket_);
}

}  // namespace wslb::tls
