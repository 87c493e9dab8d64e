#pragma once
// Watches certificate, key and CA files for replacement, the ways they are replaced in
// practice: written in place, renamed over (mv, cert-manager), or swapped as a Kubernetes
// secret volume does (a new "..<timestamp>" directory, then the "..data" symlink renamed over).
// Uses inotify on the directories holding the files (and on each file's resolved directory when
// it is a symlink), plus any watched_directory. Runs its own thread; never touches workers.

#include <functional>
#include <memory>
#include <thread>

#include "wslb/tls/context_builder.h"

namespace wslb::tls {

class CertificateWatcher {
 public:
  /// `on_change` runs on the watcher's thread once a burst of changes has settled (no event for
  /// kSettle), at most once per burst. @throws TlsError if inotify cannot watch a directory.
  CertificateWatcher(const WatchedPaths& paths, std::function<void()> on_change);
  ~CertificateWatcher();
  CertificateWatcher(const CertificateWatcher&) = delete;
  CertificateWatcher& operator=(const CertificateWatcher&) = delete;

  void start();
  /// Joins the thread; no call to on_change after it returns. Idempotent.
  void stop();

  static constexpr int kSettleMs = 100;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace wslb::tls
