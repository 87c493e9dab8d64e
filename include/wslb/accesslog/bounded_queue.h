#pragma once
// A bounded multi-producer, single-consumer queue whose producers never wait: when it is full,
// a push is dropped and counted.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace wslb::accesslog {

/// Producers (any number of threads) push; one consumer takes everything queued at once.
///
/// A producer holds the mutex only to append one item, and wakes the consumer only when the
/// queue goes from empty to non-empty (the consumer sleeps only on an empty queue), so a push is
/// a short lock and usually no system call. The consumer swaps the whole queue out in one step,
/// so it holds the mutex for a swap, whatever it does with the items afterwards.
///
/// Thread safety: every method may be called from any thread; popAll() from one thread at a time.
template <typename T>
class BoundedQueue {
 public:
  /// @param capacity the most items tryPush() lets wait at once (at least 1).
  /// @param reserve room for this many items allocated up front, so pushes do not reallocate
  ///        (moving every queued item under the mutex) until a burst exceeds it. Give the
  ///        consumer's vector the same reserve: popAll() swaps the two.
  explicit BoundedQueue(size_t capacity, size_t reserve = 0)
      : capacity_(capacity == 0 ? 1 : capacity) {
    items_.reserve(reserve < capacity_ ? reserve : capacity_);
  }

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  /// Appends `item` unless the queue holds capacity() items or is closed; never waits for the
  /// consumer. @return false when the item was dropped (counted in dropped()).
  bool tryPush(T&& item) { return pushImpl(std::move(item), true); }

  /// Appends `item` whatever the queue holds (for the few control entries that must not be
  /// lost). @return false, without counting a drop, only when the queue is closed.
  bool push(T&& item) { return pushImpl(std::move(item), false); }

  /// Waits until the queue is not empty, it is closed, or `deadline` passes (no deadline: no
  /// time limit), then moves everything queued into `out` (cleared first), oldest first.
  /// @return false when the queue is closed and empty: nothing more will come.
  bool popAll(std::vector<T>& out,
              std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
    out.clear();
    std::unique_lock lock(mutex_);
    auto ready = [this] { return !items_.empty() || closed_; };
    if (deadline) {
      ready_.wait_until(lock, *deadline, ready);
    } else {
      ready_.wait(lock, ready);
    }
    out.swap(items_);
    return !(closed_ && out.empty());
  }

  /// Refuses every later push; the consumer still gets what is queued. Idempotent.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  /// Items refused by tryPush() (full or closed) since construction.
  uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  size_t capacity() const noexcept { return capacity_; }

 private:
  bool pushImpl(T&& item, bool bounded) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_ || (bounded && items_.size() >= capacity_)) {
        if (bounded) dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      wake = items_.empty();
      items_.push_back(std::move(item));
    }
    if (wake) ready_.notify_one();
    return true;
  }

  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> items_;
  bool closed_ = false;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace wslb::accesslog
