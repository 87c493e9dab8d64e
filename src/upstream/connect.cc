#include "wslb/upstream/connect.h"

#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <cerrno>

namespace wslb::upstream {

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

enum class Outcome { kConnected, kInProgress, kFailed };

Outcome connectOnce(int fd, const asio::ip::tcp::endpoint& endpoint, int& error) {
  if (::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0) {
    return Outcome::kConnected;
  }
  error = errno;
  switch (error) {
    case EISCONN:
      return Outcome::kConnected;
    case EINPROGRESS:
    case EALREADY:
    case EINTR:  // the connection goes on asynchronously
      return Outcome::kInProgress;
    default:
      return Outcome::kFailed;
  }
}

}  // namespace

error_code connectStep(asio::ip::tcp::socket& socket, const asio::ip::tcp::endpoint& endpoint) {
  error_code ec;
  bool first = false;
  if (!socket.is_open()) {
    socket.open(endpoint.protocol(), ec);
    if (ec) return ec;
    // Through Asio, so that its later asynchronous operations know the mode and set it no more.
    socket.native_non_blocking(true, ec);
    if (ec) return ec;
    first = true;
  }
  const int fd = socket.native_handle();
  int error = 0;
  Outcome outcome = connectOnce(fd, endpoint, error);
  if (outcome == Outcome::kInProgress && first) outcome = connectOnce(fd, endpoint, error);
  switch (outcome) {
    case Outcome::kConnected:
      return {};
    case Outcome::kInProgress:
      return asio::error::in_progress;
    case Outcome::kFailed:
      break;
  }
  return error_code(error, asio::error::get_system_category());
}

}  // namespace wslb::upstream
