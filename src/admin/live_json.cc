// GET /live.json: the numbers the live page draws, one document per refresh.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "admin/listed_hosts.h"
#include "wslb/admin/views.h"

namespace wslb::admin {

namespace json = boost::json;

namespace {

json::value capOrNull(uint32_t cap) {
  return cap == config::kUnlimited ? json::value(nullptr) : json::value(cap);
}

json::object endpointJson(const upstream::Host& host) {
  const uint32_t active = host.active();
  const uint32_t cap = host.cap();
  return json::object{
      {"address", host.addressString()},
      {"hostname", host.hostname()},
      {"active", active},
      {"cap", capOrNull(cap)},
      {"remaining", cap == config::kUnlimited ? json::value(nullptr)
                                              : json::value(active >= cap ? 0 : cap - active)},
      {"healthy", host.eligible()},
      {"degraded", host.degraded()},
      {"removed", (host.healthFlags() & upstream::kPendingDynamicRemoval) != 0},
      {"total", host.stats().cx_total.load(std::memory_order_relaxed)},
  };
}

json::object clusterJson(const upstream::ClusterState& cluster) {
  json::array endpoints;
  const auto set = cluster.hostSet();
  for (const auto& [priority, host] : listedHosts(*set)) {
    json::object endpoint = endpointJson(*host);
    endpoint["priority"] = priority;
    endpoints.push_back(std::move(endpoint));
  }
  const auto& s = cluster.stats();
  return json::object{
      {"name", cluster.name()},
      {"active", cluster.active()},
      {"max_connections", cluster.maxConnections()},
      {"pending", cluster.pendingActive()},
      {"max_pending", cluster.maxPending()},
      {"overflow_total", s.upstream_cx_overflow.load(std::memory_order_relaxed)},
      {"endpoints", std::move(endpoints)},
  };
}

int64_t gauge(const std::atomic<int64_t>& g) {
  const int64_t v = g.load(std::memory_order_relaxed);
  return v < 0 ? 0 : v;
}

}  // namespace

std::string renderLiveJson(const AdminContext& context) {
  json::array clusters;
  for (const auto& cluster : context.clusters->clusters())
    clusters.push_back(clusterJson(*cluster));
  json::array listeners;
  for (size_t i = 0; i < context.hcm_stats.size(); ++i) {
    const stats::HcmStats& hcm = *context.hcm_stats[i];
    const bool named = i < context.hcm_listener_names.size();
    listeners.push_back(json::object{
        {"name", named ? context.hcm_listener_names[i] : hcm.stat_prefix},
        {"stat_prefix", hcm.stat_prefix},
        {"downstream_cx_active", gauge(hcm.downstream_cx_active)},
        {"upgrades_active", gauge(hcm.downstream_cx_upgrades_active)},
    });
  }
  const auto now = std::chrono::system_clock::now();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      now > context.start_time ? now - context.start_time : std::chrono::seconds(0));
  json::object server{
      {"state", context.state ? context.state() : std::string("LIVE")},
      {"uptime_s", uptime.count()},
      {"version", WSLB_VERSION},
  };
  return json::serialize(json::object{{"server", std::move(server)},
                                      {"clusters", std::move(clusters)},
                                      {"listeners", std::move(listeners)}});
}

}  // namespace wslb::admin
