#include "wslb/upstream/picker.h"

namespace wslb::upstream {

PickerPtr makePicker(config::LbPolicy policy) {
  switch (policy) {
    case config::LbPolicy::kRoundRobin:
      return makeRoundRobinPicker();
    case config::LbPolicy::kRandom:
      return makeRandomPicker();
    case config::LbPolicy::kLeastRequest:
      break;
  }
  return makeLeastRequestPicker();
}

}  // namespace wslb::upstream
