#include "wslb/upstream/slot.h"

#include <utility>

#include "wslb/upstream/cluster_state.h"

namespace wslb::upstream {

Slot::Slot(HostSharedPtr host, std::shared_ptr<ClusterState> cluster)
    : host_(std::move(host)), cluster_(host_ ? std::move(cluster) : nullptr) {}

Slot::Slot(Slot&& other) noexcept
    : host_(std::move(other.host_)), cluster_(std::move(other.cluster_)) {}

Slot& Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    reset();
    host_ = std::move(other.host_);
    cluster_ = std::move(other.cluster_);
  }
  return *this;
}

void Slot::reset() noexcept {
  if (!host_) return;
  // Take the pointers out first: whatever the wake-up below triggers, this Slot is already
  // empty, so nothing can release it a second time.
  HostSharedPtr host = std::move(host_);
  std::shared_ptr<ClusterState> cluster = std::move(cluster_);
  host_.reset();
  cluster_.reset();
  host->release();
  if (cluster) cluster->releaseOne();
}

}  // namespace wslb::upstream
