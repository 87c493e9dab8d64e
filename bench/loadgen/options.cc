#include "options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <map>

namespace wslb::loadgen {

std::string_view modeName(Mode mode) {
  switch (mode) {
    case Mode::kHandshake:
      return "handshake";
    case Mode::kEcho:
      return "echo";
    case Mode::kThroughput:
      return "throughput";
    case Mode::kIdle:
      return "idle";
    case Mode::kChurn:
      return "churn";
  }
  return "?";
}

std::optional<Options> parseOptions(int argc, char** argv, int& exit_code) {
  CLI::App app{
      "wslb-loadgen: WebSocket load generator for loopback benchmarks of wslb\n"
      "  handshake   connect, upgrade, one message, close, in a loop per connection\n"
      "  echo        closed-loop ping-pong of --size byte messages (default 64)\n"
      "  throughput  closed-loop echo of --size byte messages (default 65536); MB/s\n"
      "  idle        open --connections and hold them; with --pid, the target's RSS\n"
      "  churn       echo while --eds-file is rewritten every --eds-interval seconds",
      "wslb-loadgen"};
  Options options;
  const std::map<std::string, Mode> modes = {{"handshake", Mode::kHandshake},
                                             {"echo", Mode::kEcho},
                                             {"throughput", Mode::kThroughput},
                                             {"idle", Mode::kIdle},
                                             {"churn", Mode::kChurn}};
  std::string mode;
  app.add_option("--mode", mode, "handshake | echo | throughput | idle | churn")
      ->check(CLI::IsMember({"handshake", "echo", "throughput", "idle", "churn"}))
      ->required();
  app.add_option("--host", options.host, "Target address (loopback only)")->capture_default_str();
  app.add_option("--port", options.port, "Target port")->required()->check(CLI::Range(1, 65535));
  app.add_option("--path", options.path, "Request target of the upgrade")->capture_default_str();
  app.add_option("--threads", options.threads, "Event-loop threads")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  app.add_option("--connections", options.connections,
                 "Connections (handshake: concurrent connect-upgrade-close loops)")
      ->check(CLI::Range(1u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--size", options.size,
                 "Message payload bytes (default: handshake 16, echo and churn 64, throughput "
                 "65536)")
      ->check(CLI::Range(uint64_t{1}, kMaxMessageSize));
  app.add_option("--duration", options.duration_s,
                 "Seconds measured (idle: seconds the connections are held)")
      ->check(CLI::Range(0.01, 86400.0))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "Seconds of load before measuring (not measured)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--count", options.count,
                 "Stop after this many measured handshakes or messages (0 = no limit)")
      ->capture_default_str();
  app.add_option("--pid", options.pids,
                 "Process under test: report its CPU time (and RSS) over the measured interval; "
                 "repeat it for a target made of several processes (their figures are summed)")
      ->check(CLI::Range(1, 1 << 30));
  app.add_flag("--json", options.json,
               "Print one JSON object line on stdout (the summary goes to stderr)");
  app.add_option("--eds-file", options.eds_file,
                 "churn: the EDS file (DiscoveryResponse; .yaml/.yml or .json) to rewrite");
  app.add_option("--eds-cluster", options.eds_cluster,
                 "churn: cluster_name of the ClusterLoadAssignment")
      ->capture_default_str();
  app.add_option("--eds-port", options.eds_ports,
                 "churn: a backend's port on 127.0.0.1 (repeatable); each version leaves one out "
                 "in turn")
      ->check(CLI::Range(1, 65535));
  app.add_option("--eds-extra", options.eds_extra,
                 "churn: extra DRAINING endpoints per version (a tenth replaced each version)")
      ->check(CLI::Range(0u, 1'000'000u))
      ->capture_default_str();
  app.add_option("--eds-interval", options.eds_interval_s, "churn: seconds between versions")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  options.mode = modes.at(mode);
  if (options.size == 0) {
    switch (options.mode) {
      case Mode::kHandshake:
        options.size = 16;
        break;
      case Mode::kEcho:
      case Mode::kChurn:
        options.size = 64;
        break;
      case Mode::kThroughput:
        options.size = 65536;
        break;
      case Mode::kIdle:
        break;
    }
  }
  if (options.mode == Mode::kIdle) options.size = 0;
  if (options.path.empty() || options.path.front() != '/' ||
      options.path.find_first_of(" \r\n") != std::string::npos) {
    std::fprintf(stderr, "error: --path must start with '/' and contain no spaces\n");
    exit_code = 2;
    return std::nullopt;
  }
  if (options.mode == Mode::kChurn && (options.eds_file.empty() || options.eds_ports.empty())) {
    std::fprintf(stderr, "error: --mode churn needs --eds-file and at least one --eds-port\n");
    exit_code = 2;
    return std::nullopt;
  }
  if (options.mode != Mode::kChurn && !options.eds_file.empty()) {
    std::fprintf(stderr, "error: --eds-file is only used by --mode churn\n");
    exit_code = 2;
    return std::nullopt;
  }
  exit_code = 0;
  return options;
}

std::string resolveLoopback(const Options& options, Target& target) {
  std::string host = options.host;
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  target = Target{};
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) {
      return "refusing --host " + options.host + ": only loopback (127.0.0.0/8, ::1) is allowed";
    }
    auto* sin = reinterpret_cast<sockaddr_in*>(&target.address);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(options.port);
    sin->sin_addr = v4;
    target.address_size = sizeof(sockaddr_in);
    target.ipv4 = true;
    return "";
  }
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) != 0) {
      return "refusing --host " + options.host + ": only loopback (127.0.0.0/8, ::1) is allowed";
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&target.address);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(options.port);
    sin6->sin6_addr = v6;
    target.address_size = sizeof(sockaddr_in6);
    target.ipv4 = false;
    return "";
  }
  return "--host must be a numeric loopback address (127.x.y.z or ::1) or localhost, not " +
         options.host;
}

}  // namespace wslb::loadgen
