#include "wslb/tls/context_provider.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

namespace wslb::tls {

ReloadDriver::ReloadDriver(std::string name, WatchedPaths paths, std::function<void()> rebuild)
    : name_(std::move(name)), paths_(std::move(paths)), rebuild_(std::move(rebuild)) {
  last_fingerprint_ = fingerprint();
}

ReloadDriver::~ReloadDriver() {
  stopWatching();
}

size_t ReloadDriver::fingerprint() const {
  std::string all;
  for (const std::string& file : paths_.files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream content;
    if (in) content << in.rdbuf();
    all += file;
    all += '\0';
    all += in ? content.str() : std::string("\0unreadable", 11);
    all += '\0';
  }
  return std::hash<std::string>{}(all);
}

bool ReloadDriver::reload() {
  std::lock_guard lock(mutex_);
  const size_t current = fingerprint();
  if (current == last_fingerprint_) return true;
  last_fingerprint_ = current;
  try {
    rebuild_();
  } catch (const std::exception& e) {
    stats_.failure.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("[tls] {}: certificate reload failed, keeping the previous ones: {}", name_,
                 e.what());
    return false;
  }
  stats_.success.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("[tls] {}: certificates reloaded", name_);
  return true;
}

void ReloadDriver::startWatching() {
  if (watcher_) return;
  watcher_ = std::make_unique<CertificateWatcher>(paths_, [this] { reload(); });
  watcher_->start();
}

void ReloadDriver::stopWatching() {
  if (watcher_) watcher_->stop();
}

std::unique_ptr<ServerContextProvider> makeServerContextProvider(std::string name,
                                                                 std::vector<ServerChain> chains) {
  WatchedPaths paths;
  for (const ServerChain& chain : chains) addWatchedPaths(chain.tls.common_tls_context, paths);
  return std::make_unique<ServerContextProvider>(
      std::move(name), std::move(paths),
      [chains = std::move(chains)] { return std::make_shared<const ServerContextSet>(chains); });
}

std::unique_ptr<ClientContextProvider> makeClientContextProvider(std::string name,
                                                                 config::UpstreamTls tls) {
  WatchedPaths paths;
  addWatchedPaths(tls.common_tls_context, paths);
  return std::make_unique<ClientContextProvider>(
      std::move(name), std::move(paths),
      [tls = std::move(tls)] { return std::make_shared<const ClientContext>(tls); });
}

}  // namespace wslb::tls
