// wslb: a WebSocket-aware L7 load balancer configured with Envoy's v3 bootstrap.
// This file only parses the command line (Envoy's flags) and runs server::Server.

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "wslb/config/loader.h"
#include "wslb/http/router.h"
#include "wslb/server/logging.h"
#include "wslb/server/server.h"
#include "wslb/tls/context_provider.h"
#include "wslb/upstream/cluster_manager.h"

namespace {

void raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Builds the runtime objects without opening sockets, so validate mode catches what only they
// check (e.g. an unusable address, a certificate that does not load or match its key).
bool checkRuntime(const wslb::config::Bootstrap& bootstrap) {
  try {
    wslb::upstream::ClusterManager clusters(bootstrap.clusters);
    for (const auto& l : bootstrap.listeners) {
      wslb::http::Router router(l.hcm, clusters);
      std::vector<wslb::tls::ServerChain> chains;
      for (const auto& chain : l.filter_chains) {
        wslb::http::Router chain_router(chain.hcm, clusters);
        if (chain.tls) chains.push_back({chain.match.server_names, *chain.tls});
      }
      if (!chains.empty()) wslb::tls::makeServerContextProvider(l.name, std::move(chains));
    }
    return true;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wslb: WebSocket-aware L7 load balancer (Envoy v3 configuration)", "wslb"};
  std::string config_path;
  std::string config_yaml;
  std::string mode = "serve";
  std::string log_level = "info";
  unsigned concurrency = std::max(1u, std::thread::hardware_concurrency());
  unsigned drain_time_s = 600;
  unsigned drain_window_s = 10;
  std::string service_node;
  std::string service_cluster;
  std::string admin_address_path;
  std::string drain_strategy = "gradual";
  std::string log_path;
  std::string log_format = wslb::server::kDefaultLogFormat;
  std::string component_log_level;
  bool show_version = false;
  bool disable_hot_restart = false;
  unsigned base_id = 0;
  unsigned parent_shutdown_time_s = 900;

  app.add_option("-c,--config-path", config_path, "Path to the v3 bootstrap file (YAML or JSON)");
  app.add_option("--config-yaml", config_yaml, "Bootstrap YAML merged over --config-path");
  app.add_option("--mode", mode, "serve | validate")->check(CLI::IsMember({"serve", "validate"}));
  app.add_option("-l,--log-level", log_level,
                 "trace | debug | info | warning | error | critical | off");
  app.add_option("--log-path", log_path, "Append logs to this file instead of stderr");
  app.add_option("--log-format", log_format, "Log line format (Envoy's/spdlog's pattern flags)");
  app.add_option("--component-log-level", component_log_level,
                 "Accepted for compatibility; wslb has one log level (-l)");
  app.add_option("--concurrency", concurrency, "Number of worker threads (default: cores)");
  app.add_option("--drain-time-s", drain_time_s,
                 "Seconds open connections may go on after a drain begins (SIGTERM, "
                 "/drain_listeners) before they get WebSocket Close 1001 (default 600)");
  app.add_option("--drain-window-s", drain_window_s,
                 "With --drain-strategy gradual: seconds over which those Close frames are "
                 "spread (default 10)");
  app.add_option("--service-node", service_node, "Overrides node.id");
  app.add_option("--service-cluster", service_cluster, "Overrides node.cluster");
  app.add_option("--admin-address-path", admin_address_path,
                 "Write the admin address (ip:port) to this file");
  app.add_option("--drain-strategy", drain_strategy,
                 "gradual (Close frames spread over --drain-window-s) | immediate")
      ->check(CLI::IsMember({"gradual", "immediate"}));
  app.add_flag("--disable-hot-restart", disable_hot_restart,
               "Accepted for compatibility (wslb has no hot restart)");
  app.add_option("--base-id", base_id, "Accepted for compatibility (no hot restart)");
  app.add_option("--parent-shutdown-time-s", parent_shutdown_time_s,
                 "Accepted for compatibility (no hot restart)");
  app.add_flag("--version", show_version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (show_version) {
    std::cout << "wslb version: " << WSLB_VERSION << "/RELEASE\n";
    return 0;
  }
  const auto level = wslb::server::parseLogLevel(log_level);
  if (!level) {
    std::cerr << "error: invalid log level '" << log_level
              << "' (trace, debug, info, warning, error, critical, off)\n";
    return 1;
  }
  if (config_path.empty() && config_yaml.empty()) {
    std::cerr << "error: unable to load configuration: give -c/--config-path or --config-yaml\n";
    return 1;
  }

  auto result = wslb::config::loadBootstrap(config_path, config_yaml);
  const std::string source = config_path.empty() ? "--config-yaml" : config_path;

  if (mode == "validate") {
    for (const auto& w : result.warnings) std::cerr << "warning: " << w.str() << "\n";
    for (const auto& e : result.errors) std::cerr << "error: " << e.str() << "\n";
    if (!result.ok() || !checkRuntime(*result.bootstrap)) {
      std::cerr << "configuration '" << source << "' is invalid\n";
      return 1;
    }
    std::cout << "configuration '" << source << "' OK\n";
    return 0;
  }

  try {
    wslb::server::setupLogging(*level, log_path, log_format);
  } catch (const std::exception& e) {
    std::cerr << "error: cannot open log file '" << log_path << "': " << e.what() << "\n";
    return 1;
  }
  if (!component_log_level.empty()) {
    spdlog::warn("[main] --component-log-level is accepted but not used: wslb has one level (-l)");
  }

  for (const auto& w : result.warnings) spdlog::warn("[config] {}", w.str());
  if (!result.ok()) {
    for (const auto& e : result.errors) spdlog::critical("[config] {}", e.str());
    spdlog::critical("[main] error initializing configuration '{}': {} error(s)", source,
                     result.errors.size());
    return 1;
  }
  raiseFileLimit();

  wslb::server::ServerOptions options;
  options.bootstrap = std::move(*result.bootstrap);
  if (!service_node.empty()) options.bootstrap.node.id = service_node;
  if (!service_cluster.empty()) options.bootstrap.node.cluster = service_cluster;
  options.concurrency = std::max(1u, concurrency);
  options.drain_time = std::chrono::seconds(drain_time_s);
  options.drain_window = std::chrono::seconds(drain_window_s);
  options.drain_strategy = drain_strategy == "immediate" ? wslb::server::DrainStrategy::kImmediate
                                                         : wslb::server::DrainStrategy::kGradual;
  options.admin_address_path = admin_address_path;
  options.config_path = config_path;  // SIGHUP re-reads these
  options.config_yaml = config_yaml;
  auto& cli = options.command_line;
  cli.base_id = base_id;
  cli.concurrency = options.concurrency;
  cli.config_path = config_path;
  cli.config_yaml = config_yaml;
  cli.admin_address_path = admin_address_path;
  cli.log_level = log_level;
  cli.component_log_level = component_log_level;
  cli.log_format = log_format;
  cli.log_path = log_path;
  cli.service_cluster = service_cluster;
  cli.service_node = service_node;
  cli.drain_time = std::chrono::seconds(drain_time_s);
  cli.parent_shutdown_time = std::chrono::seconds(parent_shutdown_time_s);
  cli.drain_strategy = drain_strategy == "immediate" ? "Immediate" : "Gradual";
  cli.mode = "Serve";
  cli.disable_hot_restart = disable_hot_restart;
  spdlog::info("[main] wslb version {} starting; node '{}' cluster '{}'; {} worker(s)",
               WSLB_VERSION, options.bootstrap.node.id, options.bootstrap.node.cluster,
               options.concurrency);
  try {
    wslb::server::Server server(std::move(options));
    return server.run();
  } catch (const std::exception& e) {
    spdlog::critical("[main] {}", e.what());
    return 1;
  }
}
