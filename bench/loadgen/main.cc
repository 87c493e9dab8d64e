// wslb-loadgen: the load generator of wslb's performance harness (loopback only).

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "eds_writer.h"
#include "options.h"
#include "proc_stats.h"
#include "report.h"
#include "worker.h"

namespace {

using wslb::loadgen::Control;
using wslb::loadgen::Mode;
using wslb::loadgen::monotonicNs;
using wslb::loadgen::Options;
using wslb::loadgen::Phase;
using wslb::loadgen::Report;
using wslb::loadgen::Worker;

/// The longest the setup phase (opening and upgrading every connection) may take.
constexpr double kSetupLimitS = 20;
/// Descriptors kept free besides the connections (stdio, epoll, eventfd, /proc reads).
constexpr uint64_t kSpareFds = 64;

void onHardStop(int) {
  static const char message[] = "wslb-loadgen: hard stop (run exceeded duration + 30 s)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message, sizeof(message) - 1);
  ::_exit(3);
}

void sleepSeconds(double seconds) {
  if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

void setPhase(Control& control, std::vector<std::unique_ptr<Worker>>& workers, Phase phase) {
  control.phase.store(static_cast<int>(phase), std::memory_order_release);
  for (auto& worker : workers) worker->wake();
}

double secondsBetween(uint64_t from_ns, uint64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e9 : 0.0;
}

/// Summed CPU seconds of every target process; empty if one of them cannot be read.
std::optional<double> targetCpuSeconds(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (const pid_t pid : pids) {
    const std::optional<double> cpu = wslb::loadgen::processCpuSeconds(pid);
    if (!cpu) return std::nullopt;
    sum += *cpu;
  }
  return sum;
}

/// Summed VmRSS of every target process; empty if one of them cannot be read.
std::optional<uint64_t> targetRssKb(const std::vector<pid_t>& pids) {
  uint64_t sum = 0;
  for (const pid_t pid : pids) {
    const std::optional<uint64_t> rss = wslb::loadgen::processRssKb(pid);
    if (!rss) return std::nullopt;
    sum += *rss;
  }
  return sum;
}

int run(const Options& options, const wslb::loadgen::Target& target) {
  const uint64_t fd_limit = wslb::loadgen::raiseFileLimit();
  if (options.connections + kSpareFds > fd_limit) {
    std::fprintf(stderr,
                 "error: %u connections need more descriptors than RLIMIT_NOFILE allows (%llu)\n",
                 options.connections, static_cast<unsigned long long>(fd_limit));
    return 2;
  }
  for (const pid_t pid : options.pids) {
    if (!wslb::loadgen::processCpuSeconds(pid)) {
      std::fprintf(stderr, "error: cannot read /proc/%d/stat\n", pid);
      return 2;
    }
  }
  const bool targeted = !options.pids.empty();
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGALRM, onHardStop);
  ::alarm(static_cast<unsigned>(std::ceil(options.warmup_s + options.duration_s)) + 30);

  Report report;
  report.mode = options.mode;
  report.connections = options.connections;
  report.size = options.size;
  report.warmup_s = options.mode == Mode::kIdle ? 0 : options.warmup_s;
  if (targeted) {
    report.pids = options.pids;
    report.target_rss_kb_before = targetRssKb(options.pids);
  }
  std::unique_ptr<wslb::loadgen::EdsChurner> churner;
  if (options.mode == Mode::kChurn) {
    churner = std::make_unique<wslb::loadgen::EdsChurner>(
        wslb::loadgen::EdsChurnOptions{options.eds_file, options.eds_cluster, options.eds_ports,
                                       options.eds_extra, options.eds_interval_s});
  }

  const unsigned threads = std::min(options.threads, options.connections);
  report.threads = threads;
  const uint64_t quota = options.count == 0 ? 0 : (options.count + threads - 1) / threads;
  Control control;
  std::vector<std::unique_ptr<Worker>> workers;
  unsigned first = 0;
  for (unsigned i = 0; i < threads; ++i) {
    const unsigned share = options.connections / threads + (i < options.connections % threads);
    workers.push_back(std::make_unique<Worker>(options, target, control, first, share, quota));
    first += share;
  }
  std::vector<std::thread> runners;
  for (auto& worker : workers) runners.emplace_back([&worker] { worker->run(); });

  // Setup: every connection opened and upgraded (handshake mode has nothing to set up).
  uint64_t setup_errors = 0;
  const uint64_t setup_deadline = monotonicNs() + static_cast<uint64_t>(kSetupLimitS * 1e9);
  while (control.setup_done.load(std::memory_order_acquire) < threads) {
    if (monotonicNs() >= setup_deadline) {
      std::fprintf(stderr, "error: connections not all upgraded within %.0f s\n", kSetupLimitS);
      setup_errors = 1;
      break;
    }
    sleepSeconds(0.002);
  }

  // Churn starts with the load (the connections were opened on a stable endpoint set).
  if (churner) churner->start();
  if (options.mode != Mode::kIdle && options.warmup_s > 0) {
    setPhase(control, workers, Phase::kWarmup);
    sleepSeconds(options.warmup_s);
  }

  const std::optional<double> cpu_before = targeted ? targetCpuSeconds(options.pids) : std::nullopt;
  const double self_before = wslb::loadgen::selfCpuSeconds();
  const uint64_t versions_before = churner ? churner->written() : 0;
  const uint64_t t0 = monotonicNs();
  setPhase(control, workers, Phase::kMeasure);
  const uint64_t end = t0 + static_cast<uint64_t>(options.duration_s * 1e9);
  const bool counted = options.count != 0 && options.mode != Mode::kIdle;
  for (;;) {
    const uint64_t now = monotonicNs();
    if (now >= end) break;
    if (counted && control.quota_done.load(std::memory_order_acquire) >= threads) break;
    sleepSeconds(std::min(0.005, static_cast<double>(end - now) / 1e9));
  }
  uint64_t t1 = monotonicNs();
  const std::optional<double> cpu_after = targeted ? targetCpuSeconds(options.pids) : std::nullopt;
  const double self_after = wslb::loadgen::selfCpuSeconds();
  if (churner) report.eds_versions = churner->written() - versions_before;
  if (targeted) report.target_rss_kb_after = targetRssKb(options.pids);
  setPhase(control, workers, Phase::kStop);
  if (churner) {
    churner->stop();
    report.eds_errors = churner->errors();
    report.eds_late = churner->late();
    report.eds_max_write_us = churner->maxWriteUs();
    report.errors += churner->errors();
    if (report.first_error.empty()) report.first_error = churner->firstError();
  }
  for (auto& runner : runners) runner.join();
  ::alarm(0);

  // With --count, the interval ends when the last worker reached its share.
  if (counted && control.quota_done.load() >= threads) {
    uint64_t last = 0;
    for (const auto& worker : workers) last = std::max(last, worker->stats().quota_done_ns);
    if (last > t0) t1 = std::min(t1, last);
  }
  report.duration_s = secondsBetween(t0, t1);
  if (cpu_before && cpu_after) report.target_cpu_s = *cpu_after - *cpu_before;
  report.loadgen_cpu_s = self_after - self_before;

  wslb::loadgen::LatencyHistogram latency;
  uint64_t setup_start = 0;
  uint64_t setup_end = 0;
  report.errors += setup_errors;
  for (const auto& worker : workers) {
    const auto& stats = worker->stats();
    report.messages += stats.messages;
    report.bytes += stats.bytes;
    report.errors += stats.errors;
    report.open += stats.open_at_stop;
    report.handshakes += options.mode == Mode::kHandshake ? stats.handshakes : stats.upgrades;
    latency.merge(stats.latency);
    if (stats.setup_start_ns != 0 && (setup_start == 0 || stats.setup_start_ns < setup_start)) {
      setup_start = stats.setup_start_ns;
    }
    setup_end = std::max(setup_end, stats.setup_end_ns);
    if (report.first_error.empty()) report.first_error = stats.first_error;
  }
  if (setup_errors != 0 && report.first_error.empty()) {
    report.first_error = "setup did not finish in time";
  }
  report.p50_us = static_cast<double>(latency.quantile(0.50)) / 1e3;
  report.p99_us = static_cast<double>(latency.quantile(0.99)) / 1e3;
  report.p999_us = static_cast<double>(latency.quantile(0.999)) / 1e3;
  report.max_us = static_cast<double>(latency.max()) / 1e3;
  const double seconds = report.duration_s > 0 ? report.duration_s : 1;
  switch (options.mode) {
    case Mode::kHandshake:
      report.rate = static_cast<double>(report.handshakes) / seconds;
      break;
    case Mode::kEcho:
    case Mode::kChurn:
      report.rate = static_cast<double>(report.messages) / seconds;
      break;
    case Mode::kThroughput:
      report.rate = static_cast<double>(report.bytes) / 1e6 / seconds;
      break;
    case Mode::kIdle: {
      const double setup_s = secondsBetween(setup_start, setup_end);
      report.rate = setup_s > 0 ? static_cast<double>(report.handshakes) / setup_s : 0;
      break;
    }
  }

  printSummary(report, options.json ? stderr : stdout);
  if (options.json) printJson(report, stdout);

  const uint64_t measured = options.mode == Mode::kHandshake ? report.handshakes
                            : options.mode == Mode::kIdle    ? report.open
                                                             : report.messages;
  if (measured == 0) {
    std::fprintf(stderr, "error: nothing was measured\n");
    return 1;
  }
  return report.errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  const std::optional<Options> options = wslb::loadgen::parseOptions(argc, argv, exit_code);
  if (!options) return exit_code;
  wslb::loadgen::Target target;
  if (const std::string why = wslb::loadgen::resolveLoopback(*options, target); !why.empty()) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 2;
  }
  try {
    return run(*options, target);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}
