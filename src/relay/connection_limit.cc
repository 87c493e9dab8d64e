#include "wslb/relay/connection_limit.h"

namespace wslb::relay {

bool DownstreamConnectionLimit::tryAcquire() noexcept {
  if (max_ == 0) return true;
  uint64_t current = active_.load(std::memory_order_relaxed);
  do {
    if (current >= max_) return false;
  } while (!active_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return true;
}

void DownstreamConnectionLimit::release() noexcept {
  if (max_ != 0) active_.fetch_sub(1, std::memory_order_relaxed);
}

std::atomic<uint64_t>& DownstreamConnectionLimit::listenerOverflowCounter(
    const std::string& stat_address) {
  std::lock_guard lock(listeners_mutex_);
  for (auto& [address, counter] : listeners_) {
    if (address == stat_address) return counter;
  }
  auto& entry = listeners_.emplace_back(
      std::piecewise_construct, std::forward_as_tuple(stat_address), std::forward_as_tuple(0));
  return entry.second;
}

void DownstreamConnectionLimit::appendStats(std::vector<stats::Stat>& out) const {
  std::lock_guard lock(listeners_mutex_);
  for (const auto& [address, counter] : listeners_) {
    std::string flat = "listener.";
    flat += address;
    flat += ".downstream_global_cx_overflow";
    out.emplace_back(std::move(flat), "listener.downstream_global_cx_overflow",
                     stats::Tags{{"envoy_listener_address", address}}, stats::StatType::kCounter,
                     counter.load(std::memory_order_relaxed));
  }
}

}  // namespace wslb::relay
