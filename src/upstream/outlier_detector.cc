#include "wslb/upstream/outlier_detector.h"

#include <algorithm>
#include <utility>

namespace wslb::upstream {
namespace {

bool is5xx(unsigned code) {
  return code >= 500 && code < 600;
}
bool isGatewayFailure(unsigned code) {
  return code >= 502 && code <= 504;
}

}  // namespace

unsigned outlierHttpCode(UpstreamResult result, unsigned status) {
  switch (result) {
    case UpstreamResult::kConnectFailed:
      return 503;
    case UpstreamResult::kTimeout:
      return 504;
    case UpstreamResult::kResponse:
      return status;
  }
  return status;
}

OutlierDetector::OutlierDetector(const config::OutlierDetection& config,
                                 std::function<HostSetConstSharedPtr()> hosts,
                                 std::unique_ptr<Random> random,
                                 std::function<Clock::time_point()> now)
    : config_(config),
      hosts_(std::move(hosts)),
      now_(now ? std::move(now) : [] { return Clock::now(); }),
      random_(random ? std::move(random) : std::make_unique<FastRandom>()) {}

void OutlierDetector::putResult(Host& host, UpstreamResult result, unsigned status) {
  const unsigned code = outlierHttpCode(result, status);
  OutlierHostState& state = host.outlier();
  if (!is5xx(code)) {
    // Success resets both runs. Load first: most results find them at 0 already and then
    // write nothing to the shared line.
    if (state.consecutive_5xx.load(std::memory_order_relaxed) != 0) {
      state.consecutive_5xx.store(0, std::memory_order_relaxed);
    }
    if (state.consecutive_gateway_failure.load(std::memory_order_relaxed) != 0) {
      state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
    }
    return;
  }
  // Gateway first, then 5xx, as Envoy: a connect failure reaching both thresholds at once is
  // detected as a gateway failure (enforced at enforcing_consecutive_gateway_failure) and then
  // as a 5xx, unless the first one already ejected the host.
  if (isGatewayFailure(code)) {
    // Exactly one worker sees the count reach the threshold; the handler resets it.
    if (state.consecutive_gateway_failure.fetch_add(1, std::memory_order_relaxed) + 1 ==
        config_.consecutive_gateway_failure) {
      onConsecutiveFailure(host, Kind::kConsecutiveGatewayFailure);
    }
  } else if (state.consecutive_gateway_failure.load(std::memory_order_relaxed) != 0) {
    state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
  }
  if (state.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1 ==
      config_.consecutive_5xx) {
    onConsecutiveFailure(host, Kind::kConsecutive5xx);
  }
}

void OutlierDetector::onConsecutiveFailure(Host& host, Kind kind) {
  const HostSetConstSharedPtr set = hosts_();
  HostSharedPtr shared;
  for (const HostSharedPtr& candidate : set->all_hosts) {
    if (candidate.get() == &host) {
      shared = candidate;
      break;
    }
  }
  if (!shared) return;  // gone from the endpoint set meanwhile: nothing to eject
  bool ejected = false;
  {
    std::lock_guard lock(mutex_);
    // An ejected host keeps counting; it is not ejected twice (and its runs are reset when it
    // returns).
    if ((host.healthFlags() & kFailedOutlierCheck) != 0) return;
    if (kind == Kind::kConsecutive5xx) {
      stats_.ejections_detected_consecutive_5xx.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.ejections_detected_consecutive_gateway_failure.fetch_add(1, std::memory_order_relaxed);
    }
    ejected = ejectLocked(shared, set->all_hosts.size(), kind);
    // The run that triggered is over either way: a new run must reach the threshold again.
    auto& counter = kind == Kind::kConsecutive5xx ? host.outlier().consecutive_5xx
                                                  : host.outlier().consecutive_gateway_failure;
    counter.store(0, std::memory_order_relaxed);
  }
  if (ejected) {
    std::lock_guard lock(listener_mutex_);
    if (listener_) listener_(shared);
  }
}

void OutlierDetector::setEjectionListener(EjectionListener listener) {
  std::lock_guard lock(listener_mutex_);
  listener_ = std::move(listener);
}

bool OutlierDetector::ejectLocked(const HostSharedPtr& host, size_t total_hosts, Kind kind) {
  const uint64_t active = ejected_.size();
  const uint32_t max_percent = std::min<uint32_t>(100, config_.max_ejection_percent);
  // Envoy: the ejection must keep the ejected share at or under max_ejection_percent, unless
  // always_eject_one_host is set and nothing is ejected yet.
  const double percent_after =
      total_hosts == 0 ? 100.0 : 100.0 * static_cast<double>(active + 1) / total_hosts;
  if (!(percent_after <= max_percent || (config_.always_eject_one_host && active == 0))) {
    stats_.ejections_overflow.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const uint32_t enforcing = kind == Kind::kConsecutive5xx
                                 ? config_.enforcing_consecutive_5xx
                                 : config_.enforcing_consecutive_gateway_failure;
  if (enforcing == 0 || (enforcing < 100 && random_->next() % 100 >= enforcing)) return false;

  OutlierHostState& state = host->outlier();
  const auto base = config_.base_ejection_time;
  const auto cap = std::max(config_.max_ejection_time, base);
  if (base * state.eject_time_backoff < cap) ++state.eject_time_backoff;
  ++state.num_ejections;
  state.last_ejection = now_();
  host->setHealthFlag(kFailedOutlierCheck, true);
  ejected_.push_back(host);
  stats_.ejections_active.store(ejected_.size(), std::memory_order_relaxed);
  stats_.ejections_enforced_total.fetch_add(1, std::memory_order_relaxed);
  if (kind == Kind::kConsecutive5xx) {
    stats_.ejections_enforced_consecutive_5xx.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_.ejections_enforced_consecutive_gateway_failure.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

OutlierDetector::Clock::duration OutlierDetector::ejectionTime(const Host& host) const {
  const auto base = config_.base_ejection_time;
  const auto cap = std::max(config_.max_ejection_time, base);
  const uint32_t backoff = std::max<uint32_t>(1, host.outlier().eject_time_backoff);
  return std::min<Clock::duration>(base * backoff, cap);
}

std::vector<HostSharedPtr> OutlierDetector::sweep() {
  const HostSetConstSharedPtr set = hosts_();
  const Clock::time_point now = now_();
  std::vector<HostSharedPtr> returned;
  std::lock_guard lock(mutex_);
  auto inSet = [&](const Host* host) {
    return std::any_of(set->all_hosts.begin(), set->all_hosts.end(),
                       [&](const HostSharedPtr& h) { return h.get() == host; });
  };
  std::vector<HostSharedPtr> still_ejected;
  for (HostSharedPtr& host : ejected_) {
    OutlierHostState& state = host->outlier();
    const bool gone = !inSet(host.get());
    if (gone || now - state.last_ejection >= ejectionTime(*host)) {
      host->setHealthFlag(kFailedOutlierCheck, false);
      // Fresh runs: a host back in service is not re-ejected by a run that began before.
      state.consecutive_5xx.store(0, std::memory_order_relaxed);
      state.consecutive_gateway_failure.store(0, std::memory_order_relaxed);
      state.last_unejection = now;
      state.ever_unejected = true;
      if (!gone) returned.push_back(std::move(host));
    } else {
      still_ejected.push_back(std::move(host));
    }
  }
  ejected_ = std::move(still_ejected);
  stats_.ejections_active.store(ejected_.size(), std::memory_order_relaxed);
  // A host that stayed in service for base_ejection_time since it returned earns back one step
  // of its ejection-time multiplier per sweep.
  for (const HostSharedPtr& host : set->all_hosts) {
    OutlierHostState& state = host->outlier();
    if ((host->healthFlags() & kFailedOutlierCheck) != 0 || state.eject_time_backoff == 0) continue;
    if (state.ever_unejected && now - state.last_unejection >= config_.base_ejection_time) {
      --state.eject_time_backoff;
    }
  }
  return returned;
}

}  // namespace wslb::upstream
