#include "wslb/health/active_health_state.h"

namespace wslb::health {
namespace {

bool inRanges(const std::vector<config::StatusRange>& ranges, unsigned status) {
  for (const config::StatusRange& r : ranges) {
    if (status >= r.start && status < r.end) return true;
  }
  return false;
}

}  // namespace

HealthTransition ActiveHealthState::onResult(CheckResult result, uint32_t healthy_threshold,
                                             uint32_t unhealthy_threshold) {
  const bool first = first_check_;
  first_check_ = false;
  if (result == CheckResult::kSuccess) {
    num_unhealthy_ = 0;
    if (healthy_) return HealthTransition::kUnchanged;
    if (first || ++num_healthy_ >= healthy_threshold) {
      healthy_ = true;
      num_healthy_ = 0;
      return HealthTransition::kChanged;
    }
    return HealthTransition::kChangePending;
  }
  num_healthy_ = 0;
  if (!healthy_) return HealthTransition::kUnchanged;
  if (result == CheckResult::kFailure || ++num_unhealthy_ >= unhealthy_threshold) {
    healthy_ = false;
    num_unhealthy_ = 0;
    return HealthTransition::kChanged;
  }
  return HealthTransition::kChangePending;
}

std::chrono::milliseconds baseInterval(const config::HealthCheck& config, bool had_traffic,
                                       bool healthy, HealthTransition last) {
  if (!had_traffic) {
    if (healthy && config.no_traffic_healthy_interval) return *config.no_traffic_healthy_interval;
    return config.no_traffic_interval;
  }
  const auto unhealthy_interval = config.unhealthy_interval.value_or(config.interval);
  const bool pending = last == HealthTransition::kChangePending;
  if (!healthy) {
    return pending ? config.healthy_edge_interval.value_or(config.interval) : unhealthy_interval;
  }
  return pending ? config.unhealthy_edge_interval.value_or(unhealthy_interval) : config.interval;
}

std::chrono::milliseconds withJitter(std::chrono::milliseconds base,
                                     const config::HealthCheck& config, upstream::Random& random) {
  auto out = base;
  if (config.interval_jitter_percent > 0) {
    const uint64_t span =
        static_cast<uint64_t>(base.count()) * config.interval_jitter_percent / 100;
    if (span > 0) out += std::chrono::milliseconds(random.next() % span);
  }
  if (config.interval_jitter.count() > 0) {
    out += std::chrono::milliseconds(random.next() %
                                     static_cast<uint64_t>(config.interval_jitter.count()));
  }
  return out;
}

CheckResult classifyStatus(const config::HealthCheck& config, unsigned status) {
  if (inRanges(config.expected_statuses, status)) return CheckResult::kSuccess;
  if (inRanges(config.retriable_statuses, status)) return CheckResult::kRetriableFailure;
  return CheckResult::kFailure;
}

}  // namespace wslb::health
