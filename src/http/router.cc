#include "wslb/http/router.h"

#include <algorithm>
#include <stdexcept>

namespace wslb::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool websocketEnabled(const std::vector<config::UpgradeConfig>& configs, bool fallback) {
  for (const auto& u : configs) {
    if (u.upgrade_type == "websocket") return u.enabled;
  }
  return fallback;
}

// Match quality: 3 = exact, 2 = suffix wildcard "*.x", 1 = prefix wildcard "x.*", 0 = "*";
// -1 = no match. `length` breaks ties between wildcards (longer wins).
int domainMatch(const std::string& domain, std::string_view host, size_t& length) {
  length = domain.size();
  if (domain == "*") return 0;
  if (domain.front() == '*') {
    std::string_view suffix(domain.data() + 1, domain.size() - 1);
    return host.size() > suffix.size() && host.ends_with(suffix) ? 2 : -1;
  }
  if (domain.back() == '*') {
    std::string_view prefix(domain.data(), domain.size() - 1);
    return host.size() > prefix.size() && host.starts_with(prefix) ? 1 : -1;
  }
  return domain == host ? 3 : -1;
}

}  // namespace

Router::Router(const config::HttpConnectionManager& hcm, const upstream::ClusterManager& clusters) {
  const bool hcm_ws = websocketEnabled(hcm.upgrade_configs, false);
  for (const auto& vh : hcm.virtual_hosts) {
    VirtualHostEntry entry;
    for (const auto& d : vh.domains) entry.domains.push_back(lower(d));
    for (const auto& r : vh.routes) {
      RouteEntry re;
      re.config = r;
      re.cluster = clusters.find(r.cluster);
      if (!re.cluster) throw std::invalid_argument("unknown cluster \"" + r.cluster + "\"");
      re.websocket_enabled = websocketEnabled(r.upgrade_configs, hcm_ws);
      if (r.idle_timeout) {
        re.idle_timeout = *r.idle_timeout;
      } else if (hcm.stream_idle_timeout) {
        re.idle_timeout = *hcm.stream_idle_timeout;
      } else {
        re.idle_timeout = kDefaultUpgradedIdleTimeout;
      }
      // Through the manager: during a reload it holds the settings the cluster is about to get.
      const config::Cluster& cluster_cfg = *clusters.configOf(r.cluster);
      if (cluster_cfg.pending_timeout) {
        re.pending_timeout = *cluster_cfg.pending_timeout;
      } else if (r.timeout_set && r.timeout.count() > 0) {
        re.pending_timeout = r.timeout;
      } else {
        re.pending_timeout = kDefaultPendingTimeout;
      }
      re.response_timeout = r.timeout.count() > 0 ? r.timeout : kMaxResponseWait;
      re.frame_limits.max_frame_bytes = r.max_frame_bytes.value_or(0);
      re.frame_limits.max_message_bytes = r.max_message_bytes.value_or(0);
      entry.routes.push_back(std::move(re));
    }
    virtual_hosts_.push_back(std::move(entry));
  }
}

const Router::VirtualHostEntry* Router::findVirtualHost(std::string_view host) const {
  const VirtualHostEntry* best = nullptr;
  int best_quality = -1;
  size_t best_length = 0;
  for (const auto& vh : virtual_hosts_) {
    for (const auto& d : vh.domains) {
      size_t length = 0;
      const int q = domainMatch(d, host, length);
      if (q > best_quality || (q == best_quality && q >= 0 && length > best_length)) {
        best = &vh;
        best_quality = q;
        best_length = length;
      }
    }
  }
  return best_quality >= 0 ? best : nullptr;
}

const RouteEntry* Router::match(std::string_view host_header, std::string_view target) const {
  const std::string host = lower(host_header);
  const VirtualHostEntry* vh = findVirtualHost(host);
  if (vh == nullptr) {
    const auto colon = host.rfind(':');
    if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
      vh = findVirtualHost(std::string_view(host).substr(0, colon));
    }
  }
  if (vh == nullptr) return nullptr;
  std::string_view path = target;
  if (const auto q = path.find_first_of("?#"); q != std::string_view::npos) {
    path = path.substr(0, q);
  }
  for (const auto& r : vh->routes) {
    const auto& m = r.config.match;
    if (m.kind == config::RouteMatch::Kind::kPath ? path == m.value : path.starts_with(m.value)) {
      return &r;
    }
  }
  return nullptr;
}

}  // namespace wslb::http
