#pragma once
// Helpers for the upstream unit tests.

#include <gmock/gmock.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wslb/upstream/host_set.h"
#include "wslb/upstream/random.h"

namespace wslb::upstream::test {

/// Returns the scripted values in order, then `fallback` forever.
class ScriptedRandom : public Random {
 public:
  explicit ScriptedRandom(std::deque<uint64_t> values = {}, uint64_t fallback = 0)
      : values_(std::move(values)), fallback_(fallback) {}
  uint64_t next() override {
    ++calls_;
    if (values_.empty()) return fallback_;
    const uint64_t v = values_.front();
    values_.pop_front();
    return v;
  }
  void push(uint64_t v) { values_.push_back(v); }
  int calls() const { return calls_; }

 private:
  std::deque<uint64_t> values_;
  uint64_t fallback_;
  int calls_ = 0;
};

class MockRandom : public Random {
 public:
  MOCK_METHOD(uint64_t, next, (), (override));
};

/// Host 10.0.0.<index>:8080.
inline HostSharedPtr makeHost(int index, uint32_t cap, uint32_t weight = 1) {
  return std::make_shared<Host>("10." + std::to_string(index / 65536 % 256) + "." +
                                    std::to_string(index / 256 % 256) + "." +
                                    std::to_string(index % 256),
                                8080, weight, cap);
}

/// `count` hosts of priority 0, each with `cap`.
inline std::vector<HostSharedPtr> makeHosts(int count, uint32_t cap) {
  std::vector<HostSharedPtr> hosts;
  for (int i = 0; i < count; ++i) hosts.push_back(makeHost(i, cap));
  return hosts;
}

/// A set with every host at priority 0.
inline HostSetConstSharedPtr setOf(const std::vector<HostSharedPtr>& hosts) {
  std::vector<std::pair<uint32_t, HostSharedPtr>> with_priority;
  for (const auto& h : hosts) with_priority.emplace_back(0, h);
  return makeHostSet(std::move(with_priority));
}

/// Takes `n` units on `host` directly (simulates live connections).
inline void fill(Host& host, uint32_t n) {
  for (uint32_t i = 0; i < n; ++i) ASSERT_TRUE(host.tryAcquire());
}

/// Releases every unit of `host`.
inline void drain(Host& host) {
  while (host.active() > 0) host.release();
}

}  // namespace wslb::upstream::test
