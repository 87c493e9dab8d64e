#include "accesslog/output_file.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace wslb::accesslog {
namespace {

int openForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

// How long a write waits for a non-blocking descriptor (a pipe someone made non-blocking) to
// take more bytes before the rest of the buffer is given up.
constexpr int kWritableWaitMs = 1000;

}  // namespace

std::unique_ptr<OutputFile> OutputFile::open(const std::string& path) {
  const int fd = openForAppend(path);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot open access log \"" + path + "\"");
  }
  return std::unique_ptr<OutputFile>(new OutputFile(path, fd, true));
}

std::unique_ptr<OutputFile> OutputFile::standardStream(int fd) {
  return std::unique_ptr<OutputFile>(
      new OutputFile(fd == STDERR_FILENO ? "stderr" : "stdout", fd, false));
}

OutputFile::OutputFile(std::string name, int fd, bool owned)
    : name_(std::move(name)), fd_(fd), owned_(owned) {}

OutputFile::~OutputFile() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

std::error_code OutputFile::write() noexcept {
  std::error_code error;
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, kWritableWaitMs) > 0) continue;
    }
    error = std::error_code(errno, std::generic_category());
    break;
  }
  buffer_.clear();
  return error;
}

std::error_code OutputFile::reopen() noexcept {
  if (!owned_) return {};
  const int fd = openForAppend(name_);
  if (fd < 0) return std::error_code(errno, std::generic_category());
  ::close(fd_);
  fd_ = fd;
  return {};
}

}  // namespace wslb::accesslog
