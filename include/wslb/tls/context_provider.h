#pragma once
// The current TLS context of a listener (ServerContextSet) or cluster (ClientContext), rebuilt
// off the data path when its files change and published atomically: new handshakes take the new
// context, connections already made keep theirs (each SSL holds its own SSL_CTX reference). A
// reload that fails (unreadable file, bad PEM, key not matching) is logged and counted; the
// previous context keeps serving.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wslb/config/tls.h"
#include "wslb/tls/certificate_watcher.h"
#include "wslb/tls/client_context.h"
#include "wslb/tls/context_builder.h"
#include "wslb/tls/server_context_set.h"

namespace wslb::tls {

/// Reload outcomes, for stats. Any thread may read them.
struct ReloadStats {
  std::atomic<uint64_t> success{0};
  std::atomic<uint64_t> failure{0};
};

/// Rebuilds on demand or on file changes, skipping rebuilds when no file's content changed.
/// Control plane only.
class ReloadDriver {
 public:
  /// `rebuild` builds and publishes a new context; it throws TlsError on failure.
  ReloadDriver(std::string name, WatchedPaths paths, std::function<void()> rebuild);
  ~ReloadDriver();

  /// Rebuilds now if a file's content differs from the last attempt. Any thread (serialised).
  /// @return false if the rebuild failed (the old context stays).
  bool reload();
  /// Starts watching the files (own thread). @throws TlsError if they cannot be watched.
  void startWatching();
  /// No reload runs after this returns. Idempotent.
  void stopWatching();
  const ReloadStats& stats() const { return stats_; }

 private:
  size_t fingerprint() const;

  std::string name_;
  WatchedPaths paths_;
  std::function<void()> rebuild_;
  std::mutex mutex_;
  size_t last_fingerprint_;
  ReloadStats stats_;
  std::unique_ptr<CertificateWatcher> watcher_;
};

template <typename Context>
class ContextProvider {
 public:
  using Build = std::function<std::shared_ptr<const Context>()>;

  /// Builds the first context now. @throws TlsError (start-up fails with the reason).
  ContextProvider(std::string name, WatchedPaths paths, Build build)
      : build_(std::move(build)),
        current_(build_()),
        driver_(std::move(name), std::move(paths),
                [this] { current_.store(build_(), std::memory_order_release); }) {}
  ContextProvider(const ContextProvider&) = delete;
  ContextProvider& operator=(const ContextProvider&) = delete;
  ~ContextProvider() { driver_.stopWatching(); }

  /// The context for a new handshake. Any thread; one atomic load per connection.
  std::shared_ptr<const Context> current() const {
    return current_.load(std::memory_order_acquire);
  }
  bool reload() { return driver_.reload(); }
  void startWatching() { driver_.startWatching(); }
  void stopWatching() { driver_.stopWatching(); }
  const ReloadStats& reloadStats() const { return driver_.stats(); }

 private:
  Build build_;
  std::atomic<std::shared_ptr<const Context>> current_;
  ReloadDriver driver_;
};

using ServerContextProvider = ContextProvider<ServerContextSet>;
using ClientContextProvider = ContextProvider<ClientContext>;

/// A listener's provider: one chain per TLS filter chain. `name` appears in logs.
/// @throws TlsError.
std::unique_ptr<ServerContextProvider> makeServerContextProvider(std::string name,
                                                                 std::vector<ServerChain> chains);
/// A cluster's provider. @throws TlsError.
std::unique_ptr<ClientContextProvider> makeClientContextProvider(std::string name,
                                                                 config::UpstreamTls tls);

}  // namespace wslb::tls
