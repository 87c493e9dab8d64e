#pragma once
// Per-worker list of live connections, so shutdown can close every one of them. Worker thread
// only: no locks.

#include <cstddef>
#include <list>
#include <memory>

namespace wslb::relay {

/// Something a worker can close on shutdown.
class Closable {
 public:
  virtual ~Closable() = default;
  /// Closes both sockets now; pending handlers then complete with operation_aborted and the
  /// object releases everything it holds (its Slot among them). Worker thread only.
  virtual void closeNow() = 0;
};

class ConnectionTracker {
 public:
  using Handle = std::list<std::weak_ptr<Closable>>::iterator;

  Handle add(std::weak_ptr<Closable> c) {
    entries_.push_front(std::move(c));
    return entries_.begin();
  }
  void remove(Handle h) { entries_.erase(h); }
  size_t size() const { return entries_.size(); }

  /// Calls closeNow() on every live entry.
  void closeAll() {
    for (auto it = entries_.begin(); it != entries_.end();) {
      auto next = std::next(it);  // closeNow() may remove `it`
      if (auto c = it->lock()) c->closeNow();
      it = next;
    }
  }

 private:
  std::list<std::weak_ptr<Closable>> entries_;
};

}  // namespace wslb::relay
