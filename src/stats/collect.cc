#include "wslb/stats/collect.h"

#include <string>

#include "wslb/tls/handshake_stats.h"

namespace wslb::stats {
namespace {

uint64_t load(const std::atomic<uint64_t>& a) {
  return a.load(std::memory_order_relaxed);
}

class ClusterStatWriter {
 public:
  ClusterStatWriter(const std::string& cluster, std::vector<Stat>& out)
      : cluster_(cluster), out_(out) {}

  void add(std::string_view stat, StatType type, uint64_t value) {
    out_.push_back(Stat{"cluster." + cluster_ + "." + std::string(stat),
                        "cluster." + std::string(stat),
                        {{"envoy_cluster_name", cluster_}},
                        type,
                        value});
  }

  void addHistogram(std::string_view stat, const Histogram& histogram) {
    auto snapshot = histogram.snapshot();
    const uint64_t count = snapshot->count;
    out_.push_back(Stat{"cluster." + cluster_ + "." + std::string(stat),
                        "cluster." + std::string(stat),
                        {{"envoy_cluster_name", cluster_}},
                        StatType::kHistogram,
                        count,
                        std::move(snapshot)});
  }

  void addEndpoint(const upstream::Host& host, std::string_view stat, StatType type,
                   uint64_t value) {
    Tags tags{{"envoy_cluster_name", cluster_}, {"envoy_endpoint_address", host.addressString()}};
    if (std::string hostname = host.hostname(); !hostname.empty()) {
      tags.emplace_back("envoy_endpoint_hostname", std::move(hostname));
    }
    out_.push_back(Stat{"cluster." + cluster_ + ".endpoint." +
                            sanitizeForStatName(host.addressString()) + "." + std::string(stat),
                        "cluster.endpoint." + std::string(stat), std::move(tags), type, value});
  }

 private:
  const std::string& cluster_;
  std::vector<Stat>& out_;
};

}  // namespace

std::string sanitizeForStatName(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == ':') c = '_';
  }
  return out;
}

void appendClusterStats(const upstream::ClusterState& cluster, std::vector<Stat>& out) {
  ClusterStatWriter w(cluster.name(), out);
  const auto& s = cluster.stats();
  constexpr auto kC = StatType::kCounter;
  constexpr auto kG = StatType::kGauge;
  const uint32_t active = cluster.active();
  const uint32_t max_cx = cluster.maxConnections();
  const uint32_t pending = cluster.pendingActive();
  const uint32_t max_pending = cluster.maxPending();
  if (const tls::ClientContextProvider* tls = cluster.tls()) {
    tls::appendHandshakeStats(cluster.tlsStats(), tls->reloadStats().success.load(),
                              tls->reloadStats().failure.load(), "cluster", "envoy_cluster_name",
                              cluster.name(), out);
  }

  w.add("upstream_cx_active", kG, active);
  w.add("upstream_cx_total", kC, load(s.upstream_cx_total));
  w.add("upstream_cx_connect_fail", kC, load(s.upstream_cx_connect_fail));
  w.add("upstream_cx_connect_timeout", kC, load(s.upstream_cx_connect_timeout));
  w.add("upstream_cx_overflow", kC, load(s.upstream_cx_overflow));
  w.add("upstream_cx_none_healthy", kC, load(s.upstream_cx_none_healthy));
  w.add("upstream_cx_destroy", kC, load(s.upstream_cx_destroy));
  w.add("upstream_cx_destroy_local", kC, load(s.upstream_cx_destroy_local));
  w.add("upstream_cx_destroy_remote", kC, load(s.upstream_cx_destroy_remote));
  w.addHistogram("upstream_cx_connect_ms", s.upstream_cx_connect_ms);
  w.addHistogram("upstream_cx_length_ms", s.upstream_cx_length_ms);
  w.add("upstream_cx_rx_bytes_total", kC, load(s.upstream_cx_rx_bytes_total));
  w.add("upstream_cx_tx_bytes_total", kC, load(s.upstream_cx_tx_bytes_total));
  w.add("upstream_rq_pending_active", kG, pending);
  w.add("upstream_rq_pending_total", kC, load(s.upstream_rq_pending_total));
  w.add("upstream_rq_pending_overflow", kC, load(s.upstream_rq_pending_overflow));
  w.add("circuit_breakers.default.cx_open", kG, active >= max_cx ? 1 : 0);
  w.add("circuit_breakers.default.rq_pending_open", kG, pending >= max_pending ? 1 : 0);
  if (cluster.config().default_thresholds.track_remaining) {
    w.add("circuit_breakers.default.remaining_cx", kG, active >= max_cx ? 0 : max_cx - active);
    w.add("circuit_breakers.default.remaining_pending", kG,
          pending >= max_pending ? 0 : max_pending - pending);
  }

  const auto set = cluster.hostSet();
  uint64_t healthy = 0;
  uint64_t degraded = 0;
  for (const auto& host : set->all_hosts) {
    if (host->eligible() && !host->degraded()) ++healthy;
    if (host->eligible() && host->degraded()) ++degraded;
  }
  w.add("membership_total", kG, set->all_hosts.size());
  w.add("membership_healthy", kG, healthy);
  w.add("membership_degraded", kG, degraded);
  if (cluster.config().type == config::Cluster::Type::kEds) {
    w.add("update_attempt", kC, load(s.update_attempt));
    w.add("update_success", kC, load(s.update_success));
    w.add("update_rejected", kC, load(s.update_rejected));
    w.add("update_failure", kC, load(s.update_failure));
    w.add("update_empty", kC, load(s.update_empty));
    w.add("init_fetch_timeout", kC, load(s.init_fetch_timeout));
    w.add("version", kG, load(s.version));
    w.add("update_time", kG, load(s.update_time));
    w.addHistogram("update_duration", s.update_duration);
  }
  if (cluster.config().health_check) {
    const auto& hc = cluster.healthCheckStats();
    uint64_t hc_healthy = 0;
    for (const auto& host : set->all_hosts) {
      if ((host->healthFlags() & upstream::kFailedActiveHealthCheck) == 0) ++hc_healthy;
    }
    w.add("health_check.attempt", kC, load(hc.attempt));
    w.add("health_check.success", kC, load(hc.success));
    w.add("health_check.failure", kC, load(hc.failure));
    w.add("health_check.network_failure", kC, load(hc.network_failure));
    w.add("health_check.healthy", kG, hc_healthy);
  }
  if (const upstream::OutlierDetector* detector = cluster.outlierDetector()) {
    const auto& od = detector->stats();
    w.add("outlier_detection.ejections_active", kG, load(od.ejections_active));
    w.add("outlier_detection.ejections_overflow", kC, load(od.ejections_overflow));
    w.add("outlier_detection.ejections_enforced_total", kC, load(od.ejections_enforced_total));
    w.add("outlier_detection.ejections_enforced_consecutive_5xx", kC,
          load(od.ejections_enforced_consecutive_5xx));
    w.add("outlier_detection.ejections_detected_consecutive_5xx", kC,
          load(od.ejections_detected_consecutive_5xx));
    w.add("outlier_detection.ejections_enforced_consecutive_gateway_failure", kC,
          load(od.ejections_enforced_consecutive_gateway_failure));
    w.add("outlier_detection.ejections_detected_consecutive_gateway_failure", kC,
          load(od.ejections_detected_consecutive_gateway_failure));
  }

  // Endpoints removed from the set still count while they hold connections: the per-pod series
  // must keep matching the pods' own counts until those connections end.
  std::vector<const upstream::Host*> hosts;
  hosts.reserve(set->all_hosts.size() + set->removed_hosts.size());
  for (const auto& host : set->all_hosts) hosts.push_back(host.get());
  for (const auto& host : set->removed_hosts) {
    if (host->active() > 0) hosts.push_back(host.get());
  }
  for (const upstream::Host* host : hosts) {
    const auto& hs = host->stats();
    w.addEndpoint(*host, "cx_active", kG, host->active());
    w.addEndpoint(*host, "cx_total", kC, load(hs.cx_total));
    w.addEndpoint(*host, "cx_connect_fail", kC, load(hs.cx_connect_fail));
    w.addEndpoint(*host, "healthy", kG, host->eligible() ? 1 : 0);
    // wslb's own per-endpoint series: the cap, the room under it, and traffic each way.
    if (const uint32_t cap = host->cap(); cap != config::kUnlimited) {
      const uint32_t active = host->active();
      w.addEndpoint(*host, "max_connections", kG, cap);
      w.addEndpoint(*host, "remaining_cx", kG, active >= cap ? 0 : cap - active);
    }
    w.addEndpoint(*host, "rx_bytes_total", kC, load(hs.rx_bytes));
    w.addEndpoint(*host, "tx_bytes_total", kC, load(hs.tx_bytes));
    w.addEndpoint(*host, "rx_messages_total", kC, load(hs.rx_messages));
    w.addEndpoint(*host, "tx_messages_total", kC, load(hs.tx_messages));
  }
}

void appendHcmStats(const HcmStats& h, std::vector<Stat>& out) {
  auto add = [&](std::string_view stat, StatType type, uint64_t value) {
    out.push_back(Stat{"http." + h.stat_prefix + "." + std::string(stat),
                       "http." + std::string(stat),
                       {{"envoy_http_conn_manager_prefix", h.stat_prefix}},
                       type,
                       value});
  };
  auto gauge = [](const std::atomic<int64_t>& a) {
    const int64_t v = a.load(std::memory_order_relaxed);
    return v < 0 ? uint64_t{0} : static_cast<uint64_t>(v);
  };
  constexpr auto kC = StatType::kCounter;
  constexpr auto kG = StatType::kGauge;
  add("downstream_cx_total", kC, load(h.downstream_cx_total));
  add("downstream_cx_active", kG, gauge(h.downstream_cx_active));
  add("downstream_cx_destroy", kC, load(h.downstream_cx_destroy));
  add("downstream_cx_upgrades_total", kC, load(h.downstream_cx_upgrades_total));
  add("downstream_cx_upgrades_active", kG, gauge(h.downstream_cx_upgrades_active));
  add("downstream_cx_rx_bytes_total", kC, load(h.downstream_cx_rx_bytes_total));
  add("downstream_cx_tx_bytes_total", kC, load(h.downstream_cx_tx_bytes_total));
  add("downstream_rq_total", kC, load(h.downstream_rq_total));
  add("downstream_rq_ws_on_non_ws_route", kC, load(h.downstream_rq_ws_on_non_ws_route));
  add("downstream_rq_1xx", kC, load(h.downstream_rq_1xx));
  add("downstream_rq_2xx", kC, load(h.downstream_rq_2xx));
  add("downstream_rq_3xx", kC, load(h.downstream_rq_3xx));
  add("downstream_rq_4xx", kC, load(h.downstream_rq_4xx));
  add("downstream_rq_5xx", kC, load(h.downstream_rq_5xx));
  add("downstream_rq_idle_timeout", kC, load(h.downstream_rq_idle_timeout));
  add("downstream_rq_header_timeout", kC, load(h.downstream_rq_header_timeout));
  add("downstream_cx_idle_timeout", kC, load(h.downstream_cx_idle_timeout));
  add("downstream_cx_max_duration_reached", kC, load(h.downstream_cx_max_duration_reached));

  // WebSocket stats of wslb's own, in the same naming scheme: the flat name carries the tag
  // value, the tag-extracted name does not.
  const Tags prefix_tag{{"envoy_http_conn_manager_prefix", h.stat_prefix}};
  for (size_t i = 0; i < h.upgrades.size(); ++i) {
    const std::string outcome(upgradeOutcomeName(static_cast<UpgradeOutcome>(i)));
    Tags tags = prefix_tag;
    tags.emplace_back("outcome", outcome);
    out.push_back(Stat{"http." + h.stat_prefix + ".websocket.upgrades." + outcome,
                       "http.websocket.upgrades", std::move(tags), kC, load(h.upgrades[i])});
  }
  // Close codes: only the codes seen so far get a series (most of the 40 never occur).
  for (const auto& [side, codes] : {std::pair{"client", &h.client_close_codes},
                                    std::pair{"upstream", &h.upstream_close_codes}}) {
    for (size_t i = 0; i < codes->size(); ++i) {
      const uint64_t value = load((*codes)[i]);
      if (value == 0) continue;
      const std::string code = closeCodeLabel(i);
      Tags tags = prefix_tag;
      tags.emplace_back("side", side);
      tags.emplace_back("code", code);
      out.push_back(Stat{"http." + h.stat_prefix + ".websocket.closes." + side + "." + code,
                         "http.websocket.closes", std::move(tags), kC, value});
    }
  }
  for (const auto& [name, histogram] :
       {std::pair{"websocket.handshake_ms", &h.websocket_handshake_ms},
        std::pair{"websocket.duration_ms", &h.websocket_duration_ms}}) {
    auto snapshot = histogram->snapshot();
    const uint64_t count = snapshot->count;
    out.push_back(Stat{"http." + h.stat_prefix + "." + name, "http." + std::string(name),
                       prefix_tag, StatType::kHistogram, count, std::move(snapshot)});
  }
}

}  // namespace wslb::stats
