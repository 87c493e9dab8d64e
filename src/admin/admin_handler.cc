#include "wslb/admin/admin_handler.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <map>
#include <regex>
#include <string_view>

#include "wslb/stats/collect.h"
#include "wslb/stats/render.h"

namespace wslb::admin {

namespace bhttp = boost::beast::http;

namespace {

http::Response textResponse(unsigned status, std::string body,
                            std::string_view content_type = "text/plain; charset=UTF-8") {
  http::Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, content_type);
  res.set(bhttp::field::server, "wslb");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string percentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      const int hi = hex(in[i + 1]);
      const int lo = hex(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i] == '+' ? ' ' : in[i]);
  }
  return out;
}

std::map<std::string, std::string> parseQuery(std::string_view query) {
  std::map<std::string, std::string> params;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view kv = query.substr(pos, amp - pos);
    const size_t eq = kv.find('=');
    if (!kv.empty()) {
      params[percentDecode(kv.substr(0, eq))] =
          eq == std::string_view::npos ? "" : percentDecode(kv.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return params;
}

std::vector<stats::Stat> collectAll(const AdminContext& context) {
  std::vector<stats::Stat> all;
  for (const auto& cluster : context.clusters->clusters()) stats::appendClusterStats(*cluster, all);
  for (const auto* hcm : context.hcm_stats) stats::appendHcmStats(*hcm, all);
  if (context.extra_stats) context.extra_stats(all);
  return all;
}

std::string jsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string healthFlags(const upstream::Host& host) {
  const uint32_t f = host.healthFlags();
  std::string out;
  if (f & upstream::kFailedEdsHealth) out += "/failed_eds_health";
  if (f & upstream::kDegradedEdsHealth) out += "/degraded_eds_health";
  if (f & upstream::kPendingDynamicRemoval) out += "/pending_dynamic_removal";
  return out.empty() ? "healthy" : out;
}

}  // namespace

std::string renderClusters(const upstream::ClusterManager& clusters) {
  std::string out = "version_info::static\n";
  for (const auto& cluster : clusters.clusters()) {
    const std::string& name = cluster->name();
    const auto& cfg = cluster->config();
    auto line = [&](std::string_view key, const std::string& value) {
      out += name;
      out += "::";
      out += key;
      out += "::";
      out += value;
      out += '\n';
    };
    line("observability_name", name);
    auto thresholds = [&](std::string_view prefix, const config::Thresholds& t) {
      line(std::string(prefix) + "::max_connections", std::to_string(t.max_connections));
      line(std::string(prefix) + "::max_pending_requests", std::to_string(t.max_pending_requests));
      line(std::string(prefix) + "::max_requests", std::to_string(t.max_requests));
      line(std::string(prefix) + "::max_retries", std::to_string(t.max_retries));
    };
    thresholds("default_priority", cfg.default_thresholds);
    thresholds("high_priority", cfg.high_thresholds.value_or(config::Thresholds{}));
    line("added_via_api", "false");

    const auto set = cluster->hostSet();
    // Endpoints removed by EDS are listed (flag /pending_dynamic_removal) while they still hold
    // connections, as Envoy lists hosts pending removal.
    std::vector<std::pair<size_t, const upstream::Host*>> hosts;
    for (size_t priority = 0; priority < set->hosts_by_priority.size(); ++priority) {
      for (const auto& host : set->hosts_by_priority[priority])
        hosts.emplace_back(priority, host.get());
    }
    for (const auto& host : set->removed_hosts) {
      if (host->active() > 0) hosts.emplace_back(0, host.get());
    }
    {
      for (const auto& [priority, host] : hosts) {
        const std::string prefix = host->addressString() + "::";
        const auto& hs = host->stats();
        const uint32_t active = host->active();
        const uint32_t cap = host->cap();
        line(prefix + "cx_active", std::to_string(active));
        line(prefix + "cx_connect_fail", std::to_string(hs.cx_connect_fail.load()));
        line(prefix + "cx_total", std::to_string(hs.cx_total.load()));
        line(prefix + "rq_active", std::to_string(active));
        line(prefix + "rq_error", "0");
        line(prefix + "rq_success", "0");
        line(prefix + "rq_timeout", "0");
        line(prefix + "rq_total", std::to_string(hs.cx_total.load()));
        line(prefix + "hostname", host->hostname());
        line(prefix + "health_flags", healthFlags(*host));
        line(prefix + "weight", std::to_string(host->weight()));
        line(prefix + "region", "");
        line(prefix + "zone", "");
        line(prefix + "sub_zone", "");
        line(prefix + "canary", "false");
        line(prefix + "priority", std::to_string(priority));
        line(prefix + "success_rate", "-1");
        line(prefix + "local_origin_success_rate", "-1");
        // wslb's own: the endpoint's cap and the room left under it.
        line(prefix + "max_connections",
             cap == config::kUnlimited ? "unlimited" : std::to_string(cap));
        line(prefix + "remaining_cx", cap == config::kUnlimited
                                          ? "unlimited"
                                          : std::to_string(active >= cap ? 0 : cap - active));
      }
    }
  }
  return out;
}

http::Response handleAdminRequest(const AdminContext& context, const http::Request& request) {
  std::string_view target = request.target();
  std::string_view path = target;
  std::string_view query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  const auto params = parseQuery(query);
  const bool is_post = request.method() == bhttp::verb::post;

  if (path == "/ready") {
    const std::string state = context.state ? context.state() : "LIVE";
    return textResponse(state == "LIVE" ? 200 : 503, state + "\n");
  }
  if (path == "/stats/prometheus" ||
      (path == "/stats" && params.contains("format") && params.at("format") == "prometheus")) {
    return textResponse(200,
                        stats::renderPrometheus(collectAll(context), params.contains("usedonly")),
                        "text/plain; version=0.0.4; charset=UTF-8");
  }
  if (path == "/stats") {
    stats::TextOptions options;
    options.used_only = params.contains("usedonly");
    if (auto it = params.find("filter"); it != params.end() && !it->second.empty()) {
      try {
        options.filter.emplace(it->second, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return textResponse(400, "Invalid regex: \"" + it->second + "\"\n");
      }
    }
    if (auto it = params.find("format"); it != params.end() && it->second == "json") {
      auto all = collectAll(context);
      std::string body = "{\"stats\":[";
      bool first = true;
      std::sort(all.begin(), all.end(),
                [](const auto& a, const auto& b) { return a.flat_name < b.flat_name; });
      for (const auto& s : all) {
        if (options.used_only && s.value == 0) continue;
        if (options.filter && !std::regex_search(s.flat_name, *options.filter)) continue;
        if (!first) body += ',';
        first = false;
        body += "{\"name\":\"" + jsonEscape(s.flat_name) +
                "\",\"value\":" + std::to_string(s.value) + "}";
      }
      body += "]}";
      return textResponse(200, body, "application/json");
    }
    return textResponse(200, stats::renderText(collectAll(context), options));
  }
  if (path == "/clusters") return textResponse(200, renderClusters(*context.clusters));
  if (path == "/quitquitquit") {
    if (!is_post) return textResponse(400, "This endpoint requires POST\n");
    if (context.quit) context.quit();
    return textResponse(200, "OK\n");
  }
  if (path == "/" || path == "/help") {
    return textResponse(200,
                        "admin commands are:\n"
                        "  /clusters: upstream cluster status\n"
                        "  /quitquitquit (POST): exit the server\n"
                        "  /ready: print server state, return 200 if LIVE, otherwise 503\n"
                        "  /stats: print server stats (?filter=<regex>, ?usedonly, ?format=json)\n"
                        "  /stats/prometheus: print server stats in prometheus format\n");
  }
  return textResponse(404, "invalid path. admin commands are listed at /help\n");
}

}  // namespace wslb::admin
