#include "wslb/upstream/host.h"

#include <cassert>
#include <utility>

namespace wslb::upstream {

std::string formatAddress(const std::string& ip, uint16_t port) {
  std::string out;
  const bool v6 = ip.find(':') != std::string::npos;
  out.reserve(ip.size() + 8);
  if (v6) out += '[';
  out += ip;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

Host::Host(std::string ip, uint16_t port, uint32_t weight, uint32_t cap, std::string hostname)
    : cap_(cap),
      weight_(weight == 0 ? 1 : weight),
      ip_(std::move(ip)),
      port_(port),
      address_string_(formatAddress(ip_, port_)),
      hostname_(std::move(hostname)) {}

void Host::setHealthFlag(HealthFlag f, bool on) {
  if (on) {
    health_flags_.fetch_or(f, std::memory_order_relaxed);
  } else {
    health_flags_.fetch_and(~uint32_t{f}, std::memory_order_relaxed);
  }
}

bool Host::tryAcquire() {
  uint32_t n = active_.load(std::memory_order_relaxed);
  // The cap is re-read on every retry so a concurrent setCap() is honoured.
  while (n < cap()) {
    if (active_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Host::release() {
  // Release (at least): the cluster-count decrement that follows publishes it to a waiter
  // re-checking for room (see ClusterState::tryAcquireOrEnqueue()).
  [[maybe_unused]] const uint32_t before = active_.fetch_sub(1, std::memory_order_seq_cst);
  assert(before > 0);
}

}  // namespace wslb::upstream
