#include "wslb/xds/file_source.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "wslb/xds/assignment.h"
#include "wslb/xds/discovery_file.h"

namespace wslb::xds {
namespace {

std::runtime_error systemError(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

FileSource::FileSource(std::string path, std::string watched_directory, EdsApplier& applier)
    : path_(std::move(path)), watched_directory_(std::move(watched_directory)), applier_(applier) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    throw std::runtime_error("EDS file \"" + path_ +
                             "\" does not exist (Envoy also requires it "
                             "at start-up): " +
                             std::strerror(errno));
  }
  const size_t slash = path_.rfind('/');
  file_directory_ = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  file_name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);

  inotify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (inotify_fd_ < 0) throw systemError("inotify_init1");
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    ::close(inotify_fd_);
    throw systemError("eventfd");
  }
  file_watch_ = ::inotify_add_watch(inotify_fd_, file_directory_.c_str(), IN_MOVED_TO);
  if (file_watch_ < 0) {
    ::close(inotify_fd_);
    ::close(stop_fd_);
    throw systemError("cannot watch directory \"" + file_directory_ + "\"");
  }
  if (!watched_directory_.empty()) {
    directory_watch_ = ::inotify_add_watch(inotify_fd_, watched_directory_.c_str(), IN_MOVED_TO);
    if (directory_watch_ < 0) {
      ::close(inotify_fd_);
      ::close(stop_fd_);
      throw systemError("cannot watch directory \"" + watched_directory_ + "\"");
    }
  }
}

FileSource::~FileSource() {
  stop();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void FileSource::start() {
  reload();
  thread_ = std::thread([this] { run(); });
}

void FileSource::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof one);
  thread_.join();
}

void FileSource::reload() {
  const auto arrived = std::chrono::steady_clock::now();  // reading and decoding count
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream content;
  if (in) content << in.rdbuf();
  if (!in || in.bad()) {
    applier_.countFailure();
    spdlog::warn("[xds] {}: cannot read: {}", describe(), std::strerror(errno));
    return;
  }
  envoy::service::discovery::v3::DiscoveryResponse response;
  if (std::string error = parseDiscoveryFile(path_, content.str(), response); !error.empty()) {
    // Envoy: a file that cannot be parsed is an update failure, not a rejection.
    applier_.countFailure();
    spdlog::warn("[xds] {}: update failed, keeping the previous endpoints: {}", describe(), error);
    return;
  }
  if (!response.type_url().empty() && response.type_url() != kEndpointTypeUrl) {
    applier_.countRejected();
    spdlog::warn("[xds] {}: update rejected: type_url is {}", describe(), response.type_url());
    return;
  }
  (void)applier_.applySotw(response.resources(), response.version_info(), arrived);
}

void FileSource::run() {
  alignas(struct inotify_event) char buffer[16 * 1024];
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("[xds] {}: poll failed: {}; no more updates", describe(), std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    bool changed = false;
    for (;;) {
      const ssize_t n = ::read(inotify_fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      for (ssize_t offset = 0; offset < n;) {
        const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
        const std::string name = event->len > 0 ? std::string(event->name) : std::string();
        if (event->wd == directory_watch_) changed = true;  // a move into watched_directory
        if (event->wd == file_watch_ && name == file_name_) changed = true;
        offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      }
    }
    if (changed) reload();
  }
}

}  // namespace wslb::xds
