#include "wslb/stats/hcm_stats.h"

namespace wslb::stats {

std::string_view upgradeOutcomeName(UpgradeOutcome outcome) {
  switch (outcome) {
    case UpgradeOutcome::kEstablished:
      return "established";
    case UpgradeOutcome::kNoRoute:
      return "no_route";
    case UpgradeOutcome::kBadRequest:
      return "bad_request";
    case UpgradeOutcome::kOverflow:
      return "overflow";
    case UpgradeOutcome::kPendingTimeout:
      return "pending_timeout";
    case UpgradeOutcome::kNoHealthyUpstream:
      return "no_healthy_upstream";
    case UpgradeOutcome::kUpstreamConnectFail:
      return "upstream_connect_fail";
    case UpgradeOutcome::kUpstreamReset:
      return "upstream_reset";
    case UpgradeOutcome::kUpstreamTimeout:
      return "upstream_timeout";
    case UpgradeOutcome::kUpstreamNon101:
      return "upstream_non_101";
    case UpgradeOutcome::kCount:
      break;
  }
  return "unknown";
}

size_t closeCodeBucket(std::optional<uint16_t> code) {
  if (!code) return kCloseCodeBuckets - 1;
  if (*code >= 1000 && *code <= 1015) return *code - 1000u;
  if (*code >= 3000 && *code <= 3999) return 16;
  if (*code >= 4000 && *code <= 4999) return 17;
  return 18;
}

std::string closeCodeLabel(size_t bucket) {
  if (bucket < 16) return std::to_string(1000 + bucket);
  switch (bucket) {
    case 16:
      return "3xxx";
    case 17:
      return "4xxx";
    case 18:
      return "other";
    default:
      return "none";
  }
}

}  // namespace wslb::stats
