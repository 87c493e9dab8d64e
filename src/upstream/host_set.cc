#include "wslb/upstream/host_set.h"

#include <arpa/inet.h>

#include <stdexcept>
#include <unordered_map>

namespace wslb::upstream {
namespace {

bool isFailedHealth(config::HealthStatus health) {
  return health == config::HealthStatus::kUnhealthy || health == config::HealthStatus::kDraining ||
         health == config::HealthStatus::kTimeout;
}

/// One endpoint after validation, before any Host is touched.
struct Checked {
  std::string ip;
  uint16_t port;
  std::string key;
  uint32_t cap;
  const config::Endpoint* endpoint;
};

}  // namespace

HostSetConstSharedPtr makeHostSet(std::vector<std::pair<uint32_t, HostSharedPtr>> hosts) {
  auto set = std::make_shared<HostSet>();
  set->all_hosts.reserve(hosts.size());
  for (auto& [priority, host] : hosts) {
    if (set->hosts_by_priority.size() <= priority) set->hosts_by_priority.resize(priority + 1);
    set->hosts_by_priority[priority].push_back(host);
    set->all_hosts.push_back(std::move(host));
  }
  return set;
}

std::optional<std::string> canonicalIp(std::string_view address) {
  // inet_pton needs a terminated string; reject embedded zone ids and anything long.
  if (address.empty() || address.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(address);
  char out[INET6_ADDRSTRLEN];
  unsigned char binary[16];
  // inet_pton accepts IPv4 only in canonical dotted-decimal form (no leading zeros, 4 parts).
  if (inet_pton(AF_INET, text.c_str(), binary) == 1) return text;
  if (inet_pton(AF_INET6, text.c_str(), binary) == 1) {
    if (inet_ntop(AF_INET6, binary, out, sizeof(out)) == nullptr) return std::nullopt;
    return std::string(out);
  }
  return std::nullopt;
}

HostSetConstSharedPtr buildHostSet(const config::Cluster& cluster, const HostSet* previous) {
  // One hash index serves reuse, duplicate detection and removal: keyed by "ip:port", it maps to
  // the previous Host with that key (if any) and whether an endpoint of this update claimed it.
  // Keys are views into Host::addressString() or into `checked`, which is reserved up front and
  // never reallocates.
  struct Entry {
    const HostSharedPtr* old_host = nullptr;
    bool claimed = false;
  };
  std::unordered_map<std::string_view, Entry> index;
  const size_t previous_count =
      previous == nullptr ? 0 : previous->all_hosts.size() + previous->removed_hosts.size();
  index.reserve(previous_count + cluster.endpoints.size());
  if (previous != nullptr) {
    for (const auto* list : {&previous->all_hosts, &previous->removed_hosts}) {
      for (const HostSharedPtr& host : *list) index.emplace(host->addressString(), Entry{&host});
    }
  }

  // Pass 1: validate every endpoint; nothing is modified if one is bad.
  std::vector<Checked> checked;
  checked.reserve(cluster.endpoints.size());
  std::vector<Entry*> entries;
  entries.reserve(cluster.endpoints.size());
  for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
    const config::Endpoint& endpoint = cluster.endpoints[i];
    // The message is built only on failure: this loop runs for every endpoint of every update.
    auto fail = [&](const char* what) {
      throw std::invalid_argument("cluster '" + cluster.name + "' endpoint " + std::to_string(i) +
                                  " (" + endpoint.address.address + ":" +
                                  std::to_string(endpoint.address.port) + "): " + what);
    };
    std::optional<std::string> ip = canonicalIp(endpoint.address.address);
    if (!ip) fail("address is not an IP literal");
    if (endpoint.address.port == 0 || endpoint.address.port > 65535) fail("port must be 1-65535");
    if (endpoint.health_check_port > 65535) fail("health check port must be 0-65535");
    const auto port = static_cast<uint16_t>(endpoint.address.port);
    const uint32_t cap =
        endpoint.max_connections ? *endpoint.max_connections : cluster.per_host_max_connections;
    Checked& c = checked.emplace_back(Checked{std::move(*ip), port, {}, cap, &endpoint});
    c.key = formatAddress(c.ip, port);
    Entry& entry = index[c.key];
    if (entry.claimed) fail("duplicate endpoint");
    entry.claimed = true;
    entries.push_back(&entry);
  }

  // Pass 2: reuse or create hosts.
  std::vector<std::pair<uint32_t, HostSharedPtr>> hosts;
  hosts.reserve(checked.size());
  for (size_t i = 0; i < checked.size(); ++i) {
    Checked& c = checked[i];
    const config::Endpoint& endpoint = *c.endpoint;
    HostSharedPtr host;
    if (const HostSharedPtr* old_host = entries[i]->old_host) {
      host = *old_host;
      host->setWeight(endpoint.weight);
      host->setCap(c.cap);
      if (host->hostname() != endpoint.hostname) host->setHostname(endpoint.hostname);
      host->setHealthFlag(kPendingDynamicRemoval, false);
      // Health checks removed (by a reload): no checker will ever clear a failed check's flag.
      if (!cluster.health_check) host->setHealthFlag(kFailedActiveHealthCheck, false);
    } else {
      host = std::make_shared<Host>(std::move(c.ip), c.port, endpoint.weight, c.cap,
                                    endpoint.hostname);
      // As Envoy: with active health checking a new host is unhealthy until its first check
      // passes (the first pass makes it healthy at once, see wslb::health).
      if (cluster.health_check) host->setHealthFlag(kFailedActiveHealthCheck, true);
    }
    host->setHealthCheckPort(static_cast<uint16_t>(endpoint.health_check_port));
    host->setHealthFlag(kFailedEdsHealth, isFailedHealth(endpoint.health));
    host->setHealthFlag(kDegradedEdsHealth, endpoint.health == config::HealthStatus::kDegraded);
    hosts.emplace_back(endpoint.priority, std::move(host));
  }

  auto built = makeHostSet(std::move(hosts));
  // Old hosts no endpoint claimed are gone from the endpoint set: flag them (no new
  // connections) and keep them while their live connections last, in the previous set's order.
  // A host removed by this very update is kept once even when idle: a picker that read it as
  // eligible just before the flag was set may still win its CAS.
  if (previous != nullptr && checked.size() < index.size()) {
    auto set = std::const_pointer_cast<HostSet>(built);
    for (const HostSharedPtr& host : previous->all_hosts) {
      if (index.find(host->addressString())->second.claimed) continue;
      host->setHealthFlag(kPendingDynamicRemoval, true);
      set->removed_hosts.push_back(host);
    }
    for (const HostSharedPtr& host : previous->removed_hosts) {
      if (!index.find(host->addressString())->second.claimed && host->active() > 0) {
        set->removed_hosts.push_back(host);
      }
    }
  }
  return built;
}

}  // namespace wslb::upstream
