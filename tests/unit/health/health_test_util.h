#pragma once
// Helpers shared by the health unit tests.

#include <chrono>
#include <functional>
#include <thread>

#include "wslb/config/bootstrap.h"

namespace wslb::health::test {

/// Polls `pred` every 10 ms until it holds or `timeout` passes; the last answer.
inline bool waitFor(const std::function<bool()>& pred,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

/// An endpoint at 127.0.0.1:`port`.
inline config::Endpoint endpointAt(uint16_t port) {
  config::Endpoint e;
  e.address = {"127.0.0.1", port};
  return e;
}

}  // namespace wslb::health::test
