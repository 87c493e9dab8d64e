// RANDOM: a few uniform draws over the healthy hosts of a tier; the first usable one whose CAS
// succeeds wins. If the draws find nothing (a mostly full tier), firstFit() walks the tier from a
// random start, healthy then degraded, so a host with room is always found. Weights are ignored.

#include <cstdint>

#include "picker_common.h"
#include "wslb/upstream/picker.h"

namespace wslb::upstream {
namespace {

constexpr int kDraws = 4;

class RandomPicker final : public Picker {
 public:
  // wslb::Picker
  HostSharedPtr pick(const HostSet& set, Random& random,
                     std::span<const Host* const> exclude) override {
    for (const std::vector<HostSharedPtr>& tier : set.hosts_by_priority) {
      if (tier.empty()) continue;
      for (int draw = 0; draw < kDraws; ++draw) {
        const HostSharedPtr& host = tier[detail::randomIndex(random, tier.size())];
        if (detail::usableAs(*host, detail::HostClass::kHealthy, exclude) && host->tryAcquire()) {
          return host;
        }
      }
      const size_t start = detail::randomIndex(random, tier.size());
      if (const HostSharedPtr* host = detail::firstFit(tier, start, exclude)) return *host;
    }
    return nullptr;
  }
};

}  // namespace

PickerPtr makeRandomPicker() {
  return std::make_unique<RandomPicker>();
}

}  // namespace wslb::upstream
