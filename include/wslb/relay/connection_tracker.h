#pragma once
// Per-worker list of live connections, so shutdown can close every one of them. Worker thread
// only: no locks.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <vector>

#include "wslb/relay/connection_limit.h"

namespace wslb::upstream {
class Host;
}

namespace wslb::relay {

/// Something a worker can close on shutdown.
class Closable {
 public:
  virtual ~Closable() = default;
  /// Closes both sockets now; pending handlers then complete with operation_aborted and the
  /// object releases everything it holds (its Slot among them). Worker thread only.
  virtual void closeNow() = 0;
  /// Ends the connection gracefully: a WebSocket sends Close `code` both ways at frame
  /// boundaries, then closes. By default the same as closeNow(). Worker thread only.
  virtual void goAway(uint16_t code) {
    (void)code;
    closeNow();
  }
  /// The backend this connection is relayed to, if it is an upgraded connection.
  virtual const upstream::Host* upstreamHost() const { return nullptr; }
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

  /// The live entries relayed to one of `hosts`.
  std::vector<std::shared_ptr<Closable>> connectionsTo(
      const std::vector<const upstream::Host*>& hosts) const {
    std::vector<std::shared_ptr<Closable>> out;
    for (const auto& entry : entries_) {
      auto c = entry.lock();
      if (!c || c->upstreamHost() == nullptr) continue;
      for (const upstream::Host* host : hosts) {
        if (c->upstreamHost() == host) {
          out.push_back(std::move(c));
          break;
        }
      }
    }
    return out;
  }
  /// Every live entry.
  std::vector<std::shared_ptr<Closable>> all() const {
    std::vector<std::shared_ptr<Closable>> out;
    out.reserve(entries_.size());
    for (const auto& entry : entries_) {
      if (auto c = entry.lock()) out.push_back(std::move(c));
    }
    return out;
  }
  /// The worker's hand-over of the global-limit unit it took for the connection it is about to
  /// start: set right before the session is created, taken by that session's constructor (worker
  /// thread, synchronously). A unit nobody takes is given back at the next set or on destruction.
  void setAcceptedAdmission(ConnectionAdmission admission) {
    accepted_admission_ = std::move(admission);
  }
  ConnectionAdmission takeAcceptedAdmission() { return std::move(accepted_admission_); }

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
  ConnectionAdmission accepted_admission_;
};

}  // namespace wslb::relay
