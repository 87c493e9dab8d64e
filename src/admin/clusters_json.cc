// GET /clusters?format=json: Envoy's admin.v3.Clusters.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "admin/json_util.h"
#include "admin/listed_hosts.h"
#include "wslb/admin/views.h"

namespace wslb::admin {

namespace json = boost::json;

namespace {

json::object thresholdsJson(const char* priority, const config::Thresholds& t) {
  return json::object{{"priority", priority},
                      {"max_connections", t.max_connections},
                      {"max_pending_requests", t.max_pending_requests},
                      {"max_requests", t.max_requests},
                      {"max_retries", t.max_retries}};
}

json::object metricJson(const char* name, const char* type, uint64_t value) {
  return json::object{{"name", name}, {"type", type}, {"value", uint64Json(value)}};
}

const char* edsHealthStatus(uint32_t flags) {
  if ((flags & upstream::kFailedEdsHealth) != 0) return "UNHEALTHY";
  if ((flags & upstream::kDegradedEdsHealth) != 0) return "DEGRADED";
  return "HEALTHY";
}

json::object hostStatusJson(const upstream::Host& host, size_t priority) {
  const auto& hs = host.stats();
  const uint32_t active = host.active();
  const uint64_t total = hs.cx_total.load(std::memory_order_relaxed);
  json::array stats{
      metricJson("cx_connect_fail", "COUNTER", hs.cx_connect_fail.load(std::memory_order_relaxed)),
      metricJson("cx_total", "COUNTER", total),
      metricJson("rq_error", "COUNTER", 0),
      metricJson("rq_success", "COUNTER", 0),
      metricJson("rq_timeout", "COUNTER", 0),
      metricJson("rq_total", "COUNTER", total),
      metricJson("cx_active", "GAUGE", active),
      metricJson("rq_active", "GAUGE", active),
  };
  // wslb's own: the endpoint's cap and the room left under it (absent when uncapped).
  if (const uint32_t cap = host.cap(); cap != config::kUnlimited) {
    stats.push_back(metricJson("max_connections", "GAUGE", cap));
    stats.push_back(metricJson("remaining_cx", "GAUGE", active >= cap ? 0 : cap - active));
  }
  const uint32_t flags = host.healthFlags();
  return json::object{
      {"address", addressJson(host.ip(), host.port())},
      {"stats", std::move(stats)},
      {"health_status",
       json::object{
           {"failed_active_health_check", (flags & upstream::kFailedActiveHealthCheck) != 0},
           {"failed_outlier_check", (flags & upstream::kFailedOutlierCheck) != 0},
           {"failed_active_degraded_check", false},
           {"pending_dynamic_removal", (flags & upstream::kPendingDynamicRemoval) != 0},
           {"pending_active_hc", false},
           {"excluded_via_immediate_hc_fail", false},
           {"active_hc_timeout", false},
           {"eds_health_status", edsHealthStatus(flags)},
       }},
      {"weight", host.weight()},
      {"hostname", host.hostname()},
      {"priority", priority},
      {"locality", json::object{}},
  };
}

}  // namespace

std::string renderClustersJson(const AdminContext& context) {
  json::array statuses;
  for (const auto& cluster : context.clusters->clusters()) {
    const auto& cfg = cluster->config();
    json::object status{
        {"name", cluster->name()},
        {"observability_name", cluster->name()},
        {"added_via_api", false},
        {"circuit_breakers",
         json::object{
             {"thresholds", json::array{thresholdsJson("DEFAULT", cfg.default_thresholds),
                                        thresholdsJson("HIGH", cfg.high_thresholds.value_or(
                                                                   config::Thresholds{}))}}}},
    };
    if (cfg.type == config::Cluster::Type::kEds && !cfg.eds.service_name.empty()) {
      status["eds_service_name"] = cfg.eds.service_name;
    }
    json::array hosts;
    const auto set = cluster->hostSet();
    for (const auto& [priority, host] : listedHosts(*set)) {
      hosts.push_back(hostStatusJson(*host, priority));
    }
    status["host_statuses"] = std::move(hosts);
    statuses.push_back(std::move(status));
  }
  return prettyJson(json::object{{"cluster_statuses", std::move(statuses)}});
}

}  // namespace wslb::admin
