#pragma once
// The result of a run: a human-readable summary and one JSON line.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "options.h"

namespace wslb::loadgen {

struct Report {
  Mode mode = Mode::kEcho;
  unsigned connections = 0;
  unsigned threads = 0;
  uint64_t size = 0;
  double warmup_s = 0;
  double duration_s = 0;  ///< the measured interval (idle: the hold)
  uint64_t messages = 0;
  uint64_t handshakes = 0;  ///< handshake: measured cycles; other modes: upgrades completed
  uint64_t bytes = 0;
  uint64_t open = 0;  ///< idle: connections still open at the end of the hold
  double rate = 0;    ///< msg/s, handshakes/s, MB/s (10^6 bytes) or upgrades/s (idle)
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
  std::vector<pid_t> pids;  ///< the target's processes (empty: no --pid)
  std::optional<double> target_cpu_s;
  double loadgen_cpu_s = 0;
  std::optional<uint64_t> target_rss_kb_before;
  std::optional<uint64_t> target_rss_kb_after;
  uint64_t errors = 0;
  std::string first_error;
  /// churn: EDS versions written during the measured interval, write failures, versions that
  /// fell more than a period behind, and the longest render + write.
  std::optional<uint64_t> eds_versions;
  uint64_t eds_errors = 0;
  uint64_t eds_late = 0;
  double eds_max_write_us = 0;

  /// Target CPU per unit of work: µs per message (echo, churn), per handshake, ms per MB
  /// (throughput);
  /// empty without --pid or when nothing was measured.
  std::optional<double> targetCpuPerUnit() const;
  const char* unitName() const;
  /// Target RSS growth per open connection in bytes (idle with --pid).
  std::optional<double> rssBytesPerConnection() const;
};

void printSummary(const Report& report, std::FILE* out);
void printJson(const Report& report, std::FILE* out);

}  // namespace wslb::loadgen
