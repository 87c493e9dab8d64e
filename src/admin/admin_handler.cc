#include "wslb/admin/admin_handler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/field.hpp>
#include <map>
#include <optional>
#include <regex>
#include <string_view>
#include <variant>

#include "admin/listed_hosts.h"
#include "wslb/admin/views.h"
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
  res.set(bhttp::field::cache_control, "no-cache, max-age=0");
  res.set("x-content-type-options", "nosniff");
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
  // Envoy's order (host_utility.cc).
  if (f & upstream::kFailedActiveHealthCheck) out += "/failed_active_hc";
  if (f & upstream::kFailedOutlierCheck) out += "/failed_outlier_check";
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

    // Endpoints removed by EDS are listed (flag /pending_dynamic_removal) while they still hold
    // connections, as Envoy lists hosts pending removal.
    const auto set = cluster->hostSet();
    for (const auto& [priority, host] : listedHosts(*set)) {
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
  return out;
}

void resetCounters(const AdminContext& context) {
  for (const auto& cluster : context.clusters->clusters()) {
    cluster->stats().resetCounters();
    cluster->healthCheckStats().resetCounters();
    if (auto* detector = cluster->outlierDetector()) detector->stats().resetCounters();
    const auto set = cluster->hostSet();
    for (const auto& host : set->all_hosts) host->stats().resetCounters();
    for (const auto& host : set->removed_hosts) host->stats().resetCounters();
  }
  for (auto* hcm : context.hcm_stats) hcm->resetCounters();
}

namespace {

using Params = std::map<std::string, std::string>;
using Handler = http::Response (*)(const AdminContext&, const Params&);

http::Response jsonResponse(std::string body) {
  return textResponse(200, std::move(body), "application/json");
}

http::Response notWired(std::string_view what) {
  return textResponse(501, std::string(what) + " is not available in this server\n");
}

// ---- /logging ----

/// Envoy's (spdlog's) level names, plus "warn".
std::optional<spdlog::level::level_enum> logLevelNamed(std::string_view name) {
  if (name == "warn") return spdlog::level::warn;
  for (int i = spdlog::level::trace; i < spdlog::level::n_levels; ++i) {
    const auto level = static_cast<spdlog::level::level_enum>(i);
    const auto level_name = spdlog::level::to_string_view(level);
    if (name == std::string_view(level_name.data(), level_name.size())) return level;
  }
  return std::nullopt;
}

std::string levelName(spdlog::level::level_enum level) {
  const auto name = spdlog::level::to_string_view(level);
  return std::string(name.data(), name.size());
}

/// wslb has one logger; Envoy's per-component names are not accepted (they would silently
/// change everything).
constexpr std::string_view kLoggerName = "wslb";

std::string activeLoggers() {
  return "active loggers:\n  " + std::string(kLoggerName) + ": " +
         levelName(spdlog::default_logger()->level()) + "\n\n";
}

/// The level `params` ask for, or an error message (Envoy's wording).
std::variant<spdlog::level::level_enum, std::string> requestedLevel(const Params& params) {
  if (params.size() != 1) return std::string("invalid number of parameters");
  const auto& [key, value] = *params.begin();
  std::string_view level = value;
  if (key == "paths") {
    // paths=name:level[,name:level...]: every name must be wslb's one logger.
    std::optional<std::string_view> chosen;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view pair = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (pair.empty()) continue;
      const size_t colon = pair.find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == pair.size()) {
        return std::string("empty logger name or empty logger level");
      }
      if (pair.substr(0, colon) != kLoggerName) return std::string("unknown logger name");
      chosen = pair.substr(colon + 1);
      if (!logLevelNamed(*chosen)) return std::string("unknown logger level");
    }
    if (!chosen) return std::string("empty logger name or empty logger level");
    level = *chosen;
  } else if (key != "level" && key != kLoggerName) {
    return std::string("unknown logger name");
  }
  if (auto parsed = logLevelNamed(level)) return *parsed;
  return std::string("unknown logger level");
}

http::Response handleLogging(const AdminContext&, const Params& params) {
  if (params.empty()) return textResponse(200, activeLoggers());
  const auto requested = requestedLevel(params);
  if (const auto* error = std::get_if<std::string>(&requested)) {
    std::string body = "error: " + *error + "\n\n";
    body += "usage: /logging?" + std::string(kLoggerName) + "=<level> (change single level)\n";
    body +=
        "usage: /logging?paths=" + std::string(kLoggerName) + ":<level> (change multiple levels)\n";
    body += "usage: /logging?level=<level> (change all levels)\n";
    body += "levels: ";
    for (int i = spdlog::level::trace; i < spdlog::level::n_levels; ++i) {
      body += levelName(static_cast<spdlog::level::level_enum>(i)) + " ";
    }
    body += "\n";
    return textResponse(400, body + activeLoggers());
  }
  const auto level = std::get<spdlog::level::level_enum>(requested);
  spdlog::info("[admin] change all log levels: level='{}'", levelName(level));
  spdlog::default_logger()->set_level(level);
  return textResponse(200, activeLoggers());
}

// ---- the other endpoints ----

http::Response handleReady(const AdminContext& context, const Params&) {
  const std::string state = context.state ? context.state() : "LIVE";
  return textResponse(state == "LIVE" ? 200 : 503, state + "\n");
}

http::Response handleStats(const AdminContext& context, const Params& params) {
  if (params.contains("format") && params.at("format") == "prometheus") {
    return textResponse(200,
                        stats::renderPrometheus(collectAll(context), params.contains("usedonly")),
                        "text/plain; version=0.0.4; charset=UTF-8");
  }
  stats::TextOptions options;
  options.used_only = params.contains("usedonly");
  if (auto it = params.find("filter"); it != params.end() && !it->second.empty()) {
    try {
      options.filter.emplace(it->second, std::regex::ECMAScript);
      options.filter_prefix = stats::anchoredLiteralPrefix(it->second);
    } catch (const std::regex_error& e) {
      return textResponse(400, "Invalid regex: \"" + it->second + "\"\n");
    }
  }
  if (auto it = params.find("format"); it != params.end() && it->second == "json") {
    auto all = collectAll(context);
    stats::keepSelected(all, options);
    stats::sortByName(all);
    std::string body = "{\"stats\":[";
    bool first = true;
    for (const auto& s : all) {
      if (!first) body += ',';
      first = false;
      body += "{\"name\":\"" + jsonEscape(s.flat_name) + "\",\"value\":" + std::to_string(s.value) +
              "}";
    }
    body += "]}";
    return textResponse(200, body, "application/json");
  }
  return textResponse(200, stats::renderText(collectAll(context), options));
}

http::Response handlePrometheus(const AdminContext& context, const Params& params) {
  return textResponse(200,
                      stats::renderPrometheus(collectAll(context), params.contains("usedonly")),
                      "text/plain; version=0.0.4; charset=UTF-8");
}

http::Response handleClusters(const AdminContext& context, const Params& params) {
  if (auto it = params.find("format"); it != params.end() && it->second == "json") {
    return jsonResponse(renderClustersJson(context));
  }
  return textResponse(200, renderClusters(*context.clusters));
}

http::Response handleServerInfo(const AdminContext& context, const Params&) {
  return jsonResponse(renderServerInfo(context));
}

http::Response handleConfigDump(const AdminContext& context, const Params&) {
  return jsonResponse(renderConfigDump(context));
}

http::Response handleLiveJson(const AdminContext& context, const Params&) {
  return jsonResponse(renderLiveJson(context));
}

http::Response handleLivePage(const AdminContext&, const Params&) {
  return textResponse(200, std::string(livePageHtml()), "text/html; charset=UTF-8");
}

http::Response handleQuit(const AdminContext& context, const Params&) {
  if (context.quit) context.quit();
  return textResponse(200, "OK\n");
}

http::Response handleReopenLogs(const AdminContext& context, const Params&) {
  if (!context.reopen_logs) return notWired("/reopen_logs");
  context.reopen_logs();
  return textResponse(200, "OK\n");
}

http::Response handleHealthcheckFail(const AdminContext& context, const Params&) {
  if (!context.set_healthcheck_failed) return notWired("/healthcheck/fail");
  context.set_healthcheck_failed(true);
  return textResponse(200, "OK\n");
}

http::Response handleHealthcheckOk(const AdminContext& context, const Params&) {
  if (!context.set_healthcheck_failed) return notWired("/healthcheck/ok");
  context.set_healthcheck_failed(false);
  return textResponse(200, "OK\n");
}

http::Response handleDrainListeners(const AdminContext& context, const Params& params) {
  if (!context.drain_listeners) return notWired("/drain_listeners");
  DrainListenersOptions options;
  options.graceful = params.contains("graceful");
  options.skip_exit = params.contains("skip_exit");
  options.inbound_only = params.contains("inboundonly");
  context.drain_listeners(options);
  return textResponse(200, "OK\n");
}

http::Response handleResetCounters(const AdminContext& context, const Params&) {
  resetCounters(context);
  return textResponse(200, "OK\n");
}

http::Response handleHelp(const AdminContext&, const Params&);

/// Which methods an endpoint takes. A mutation asked for with any other method than POST gets
/// 405 and changes nothing.
enum class Access {
  kRead,          ///< any method
  kPost,          ///< a mutation: POST only
  kPostToChange,  ///< without a query it only reads (any method); with one it changes: POST
};

struct Endpoint {
  std::string_view path;
  std::string_view help;
  Access access;
  Handler handler;
};

constexpr std::array kEndpoints{
    Endpoint{"/", "live page: connections per pod against their caps (HTML)", Access::kRead,
             handleLivePage},
    Endpoint{"/clusters", "upstream cluster status (?format=json)", Access::kRead, handleClusters},
    Endpoint{"/config_dump", "dump the effective configuration (JSON)", Access::kRead,
             handleConfigDump},
    Endpoint{"/drain_listeners", "stop accepting on every listener (?graceful, ?skip_exit)",
             Access::kPost, handleDrainListeners},
    Endpoint{"/healthcheck/fail", "cause the server to fail health checks (/ready: 503)",
             Access::kPost, handleHealthcheckFail},
    Endpoint{"/healthcheck/ok", "cause the server to pass health checks", Access::kPost,
             handleHealthcheckOk},
    Endpoint{"/help", "print out list of admin commands", Access::kRead, handleHelp},
    Endpoint{"/live.json", "the live page's numbers (JSON)", Access::kRead, handleLiveJson},
    Endpoint{"/logging", "list logging levels; change them with POST ?level=<level>",
             Access::kPostToChange, handleLogging},
    Endpoint{"/quitquitquit", "exit the server", Access::kPost, handleQuit},
    Endpoint{"/ready", "print server state, return 200 if LIVE, otherwise 503", Access::kRead,
             handleReady},
    Endpoint{"/reopen_logs", "reopen access logs (after log rotation)", Access::kPost,
             handleReopenLogs},
    Endpoint{"/reset_counters", "reset all counters to zero", Access::kPost, handleResetCounters},
    Endpoint{"/server_info", "print server version/status information (JSON)", Access::kRead,
             handleServerInfo},
    Endpoint{"/stats", "print server stats (?filter=<regex>, ?usedonly, ?format=json|prometheus)",
             Access::kRead, handleStats},
    Endpoint{"/stats/prometheus", "print server stats in prometheus format", Access::kRead,
             handlePrometheus},
};

std::string helpText() {
  std::string out = "admin commands are:\n";
  for (const auto& e : kEndpoints) {
    out += "  ";
    out += e.path;
    if (e.access == Access::kPost) out += " (POST)";
    out += ": ";
    out += e.help;
    out += '\n';
  }
  return out;
}

http::Response handleHelp(const AdminContext&, const Params&) {
  return textResponse(200, helpText());
}

http::Response methodNotAllowed(const http::Request& request) {
  return textResponse(
      405, "Method " + std::string(request.method_string()) + " not allowed, POST required.");
}

}  // namespace

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

  for (const auto& endpoint : kEndpoints) {
    if (endpoint.path != path) continue;
    const bool needs_post = endpoint.access == Access::kPost ||
                            (endpoint.access == Access::kPostToChange && !params.empty());
    if (needs_post && !is_post) return methodNotAllowed(request);
    return endpoint.handler(context, params);
  }
  return textResponse(404, "invalid path. " + helpText());
}

}  // namespace wslb::admin
