// ROUND_ROBIN: one atomic cursor shared by every worker; each pick starts one host further and
// takes the first host from there that is usable (healthy first, then degraded) and whose CAS
// succeeds. Weights are ignored: with connection caps and long-lived connections, the cap is
// what shapes the spread, and plain rotation keeps the pick to one fetch_add plus a short walk.
// A full host passes its turn to the next one, so the host after a full one gets its share too.

#include <atomic>
#include <cstdint>

#include "picker_common.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

class RoundRobinPicker final : public Picker {
 public:
  // wslb::Picker
  HostSharedPtr pick(const HostSet& set, Random&, std::span<const Host* const> exclude) override {
    const uint64_t turn = cursor_.fetch_add(1, std::memory_order_relaxed);
    for (const std::vector<HostSharedPtr>& tier : set.hosts_by_priority) {
      if (tier.empty()) continue;
      if (const HostSharedPtr* host = detail::firstFit(tier, turn % tier.size(), exclude)) {
        return *host;
      }
    }
    return nullptr;
  }

 private:
  std::atomic<uint64_t> cursor_{0};
};

}  // namespace

PickerPtr makeRoundRobinPicker() {
  return std::make_unique<RoundRobinPicker>();
}

}  // namespace wslb::upstream
