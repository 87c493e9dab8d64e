#include "wslb/tls/certificate_watcher.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>

namespace wslb::tls {
namespace {

constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE;
// However long changes keep coming, a reload happens after this long.
constexpr int kMaxSettleMs = 2000;

std::string directoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseNameOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct CertificateWatcher::Impl {
  int inotify_fd = -1;
  int stop_fd = -1;
  /// Per watch descriptor: the names that matter in that directory; empty = every name
  /// (a watched_directory).
  std::map<int, std::set<std::string>> names;
  std::function<void()> on_change;

  ~Impl() {
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  void watch(const std::string& directory, const std::string& name) {
    const int wd = ::inotify_add_watch(inotify_fd, directory.c_str(), kEvents);
    if (wd < 0) {
      std::string what = "cannot watch directory \"";
      what += directory;
      what += "\": ";
      what += std::strerror(errno);
      throw TlsError(what);
    }
    std::set<std::string>& set = names[wd];
    if (name.empty()) {
      set.insert("");
    } else {
      set.insert(name);
    }
  }

  bool relevant(const struct inotify_event& event) const {
    const auto it = names.find(event.wd);
    if (it == names.end()) return false;
    if (it->second.count("") != 0) return true;
    if (event.len == 0) return false;
    const std::string name(event.name);
    // Kubernetes' atomic writer: "..data" renamed over, "..<timestamp>" directories.
    if (name.starts_with("..")) return true;
    return it->second.count(name) != 0;
  }

  // Drains the inotify queue. @return whether a relevant event was seen.
  bool drain() {
    alignas(struct inotify_event) char buffer[16 * 1024];
    bool seen = false;
    for (;;) {
      const ssize_t n = ::read(inotify_fd, buffer, sizeof buffer);
      if (n <= 0) break;
      for (ssize_t offset = 0; offset < n;) {
        const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
        if (relevant(*event)) seen = true;
        offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      }
    }
    return seen;
  }

  void run() {
    pollfd fds[2] = {{inotify_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    bool pending = false;
    int settled_ms = 0;
    for (;;) {
      const int timeout = pending ? kSettleMs : -1;
      const int ready = ::poll(fds, 2, timeout);
      if (ready < 0) {
        if (errno == EINTR) continue;
        spdlog::error("[tls] certificate watcher: poll failed: {}; no more reloads",
                      std::strerror(errno));
        return;
      }
      if (fds[1].revents != 0) return;
      if (ready > 0 && (fds[0].revents & POLLIN) != 0) {
        if (drain()) pending = true;
        if (pending && settled_ms < kMaxSettleMs) {
          settled_ms += kSettleMs;
          continue;  // wait for the burst to settle
        }
      }
      if (pending) {
        pending = false;
        settled_ms = 0;
        on_change();
      }
    }
  }
};

CertificateWatcher::CertificateWatcher(const WatchedPaths& paths, std::function<void()> on_change)
    : impl_(std::make_unique<Impl>()) {
  impl_->on_change = std::move(on_change);
  impl_->inotify_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  impl_->stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl_->inotify_fd < 0 || impl_->stop_fd < 0) {
    std::string what = "cannot start the certificate watcher: ";
    what += std::strerror(errno);
    throw TlsError(what);
  }
  for (const std::string& file : paths.files) {
    impl_->watch(directoryOf(file), baseNameOf(file));
    // A symlink (Kubernetes secret volumes): also where it points.
    char resolved[PATH_MAX];
    if (::realpath(file.c_str(), resolved) != nullptr && file != resolved) {
      impl_->watch(directoryOf(resolved), baseNameOf(resolved));
    }
  }
  for (const std::string& directory : paths.directories) impl_->watch(directory, "");
}

CertificateWatcher::~CertificateWatcher() {
  stop();
}

void CertificateWatcher::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([impl = impl_.get()] { impl->run(); });
}

void CertificateWatcher::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  (void)!::write(impl_->stop_fd, &one, sizeof one);
  thread_.join();
}

}  // namespace wslb::tls
