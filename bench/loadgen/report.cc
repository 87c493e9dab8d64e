#include "report.h"

#include <string>

namespace wslb::loadgen {

std::optional<double> Report::targetCpuPerUnit() const {
  if (!target_cpu_s) return std::nullopt;
  switch (mode) {
    case Mode::kEcho:
    case Mode::kChurn:
      if (messages == 0) return std::nullopt;
      return *target_cpu_s * 1e6 / static_cast<double>(messages);
    case Mode::kHandshake:
      if (handshakes == 0) return std::nullopt;
      return *target_cpu_s * 1e6 / static_cast<double>(handshakes);
    case Mode::kThroughput:
      if (bytes == 0) return std::nullopt;
      return *target_cpu_s * 1e3 / (static_cast<double>(bytes) / 1e6);
    case Mode::kIdle:
      return std::nullopt;
  }
  return std::nullopt;
}

const char* Report::unitName() const {
  switch (mode) {
    case Mode::kEcho:
    case Mode::kChurn:
      return "us_per_msg";
    case Mode::kHandshake:
      return "us_per_handshake";
    case Mode::kThroughput:
      return "ms_per_mb";
    case Mode::kIdle:
      return "";
  }
  return "";
}

std::optional<double> Report::rssBytesPerConnection() const {
  if (mode != Mode::kIdle || !target_rss_kb_before || !target_rss_kb_after || open == 0) {
    return std::nullopt;
  }
  const double grown =
      (static_cast<double>(*target_rss_kb_after) - static_cast<double>(*target_rss_kb_before)) *
      1024.0;
  return grown / static_cast<double>(open);
}

void printSummary(const Report& r, std::FILE* out) {
  const double seconds = r.duration_s > 0 ? r.duration_s : 1;
  std::fprintf(out, "wslb-loadgen %s: %u connection(s), %u thread(s)",
               std::string(modeName(r.mode)).c_str(), r.connections, r.threads);
  if (r.mode != Mode::kIdle) {
    std::fprintf(out, ", %llu-byte messages, %.1f s warm-up",
                 static_cast<unsigned long long>(r.size), r.warmup_s);
  }
  std::fprintf(out, "\n");
  switch (r.mode) {
    case Mode::kHandshake:
      std::fprintf(out, "  handshakes   %llu in %.3f s: %.1f handshakes/s\n",
                   static_cast<unsigned long long>(r.handshakes), r.duration_s, r.rate);
      std::fprintf(
          out,
          "  latency      connect -> echo  p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
          r.p50_us, r.p99_us, r.p999_us, r.max_us);
      break;
    case Mode::kEcho:
    case Mode::kThroughput:
    case Mode::kChurn:
      std::fprintf(out, "  messages     %llu in %.3f s: %.1f msg/s, %.2f MB/s echoed\n",
                   static_cast<unsigned long long>(r.messages), r.duration_s,
                   static_cast<double>(r.messages) / seconds,
                   static_cast<double>(r.bytes) / 1e6 / seconds);
      std::fprintf(out, "  RTT          p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
                   r.p50_us, r.p99_us, r.p999_us, r.max_us);
      if (r.eds_versions) {
        std::fprintf(out,
                     "  EDS          %llu versions written while measuring (%.1f/s), longest "
                     "write %.0f us, %llu late, %llu failed\n",
                     static_cast<unsigned long long>(*r.eds_versions),
                     static_cast<double>(*r.eds_versions) / seconds, r.eds_max_write_us,
                     static_cast<unsigned long long>(r.eds_late),
                     static_cast<unsigned long long>(r.eds_errors));
      }
      break;
    case Mode::kIdle:
      std::fprintf(out,
                   "  open         %llu of %u after holding %.3f s (%llu upgrades at %.1f/s)\n",
                   static_cast<unsigned long long>(r.open), r.connections, r.duration_s,
                   static_cast<unsigned long long>(r.handshakes), r.rate);
      std::fprintf(out, "  upgrade      connect -> 101  p50 %.1f us  p99 %.1f us  p99.9 %.1f us\n",
                   r.p50_us, r.p99_us, r.p999_us);
      break;
  }
  if (!r.pids.empty()) {
    if (r.target_cpu_s) {
      std::string pids;
      for (const pid_t pid : r.pids) {
        if (!pids.empty()) pids += ',';
        pids += std::to_string(pid);
      }
      std::fprintf(out, "  target pid %s CPU %.3f s (%.1f %% of one core)", pids.c_str(),
                   *r.target_cpu_s, 100.0 * *r.target_cpu_s / seconds);
      if (const auto per = r.targetCpuPerUnit()) {
        switch (r.mode) {
          case Mode::kEcho:
          case Mode::kChurn:
            std::fprintf(out, ", %.2f us per message", *per);
            break;
          case Mode::kHandshake:
            std::fprintf(out, ", %.1f us per handshake", *per);
            break;
          case Mode::kThroughput:
            std::fprintf(out, ", %.3f ms per MB (%.2f us per message)", *per,
                         *r.target_cpu_s * 1e6 / static_cast<double>(r.messages));
            break;
          case Mode::kIdle:
            break;
        }
      }
      std::fprintf(out, "\n");
    }
    if (r.target_rss_kb_before && r.target_rss_kb_after) {
      std::fprintf(out, "  target RSS   %llu kB before, %llu kB %s",
                   static_cast<unsigned long long>(*r.target_rss_kb_before),
                   static_cast<unsigned long long>(*r.target_rss_kb_after),
                   r.mode == Mode::kIdle ? "with all open" : "at the end");
      if (const auto per = r.rssBytesPerConnection()) {
        std::fprintf(out, ": %.0f bytes per connection", *per);
      }
      std::fprintf(out, "\n");
    }
  }
  std::fprintf(out, "  loadgen CPU  %.3f s (%.1f %% of one core)\n", r.loadgen_cpu_s,
               100.0 * r.loadgen_cpu_s / seconds);
  std::fprintf(out, "  errors       %llu", static_cast<unsigned long long>(r.errors));
  if (!r.first_error.empty()) std::fprintf(out, " (first: %s)", r.first_error.c_str());
  std::fprintf(out, "\n");
  std::fflush(out);
}

namespace {

void jsonNumber(std::FILE* out, const char* key, std::optional<double> value) {
  if (value) {
    std::fprintf(out, ",\"%s\":%.3f", key, *value);
  } else {
    std::fprintf(out, ",\"%s\":null", key);
  }
}

void jsonCount(std::FILE* out, const char* key, std::optional<uint64_t> value) {
  if (value) {
    std::fprintf(out, ",\"%s\":%llu", key, static_cast<unsigned long long>(*value));
  } else {
    std::fprintf(out, ",\"%s\":null", key);
  }
}

void jsonString(std::FILE* out, const char* key, const std::string& value) {
  std::fprintf(out, ",\"%s\":\"", key);
  for (const char ch : value) {
    if (ch == '"' || ch == '\\') {
      std::fprintf(out, "\\%c", ch);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      std::fprintf(out, "\\u%04x", static_cast<unsigned>(ch));
    } else {
      std::fputc(ch, out);
    }
  }
  std::fputc('"', out);
}

}  // namespace

void printJson(const Report& r, std::FILE* out) {
  std::fprintf(out, "{\"mode\":\"%s\"", std::string(modeName(r.mode)).c_str());
  jsonCount(out, "connections", r.connections);
  jsonCount(out, "size", r.size);
  jsonNumber(out, "duration_s", r.duration_s);
  jsonCount(out, "messages", r.messages);
  jsonCount(out, "handshakes", r.handshakes);
  jsonCount(out, "bytes", r.bytes);
  jsonNumber(out, "rate", r.rate);
  jsonNumber(out, "p50_us", r.p50_us);
  jsonNumber(out, "p99_us", r.p99_us);
  jsonNumber(out, "p999_us", r.p999_us);
  jsonNumber(out, "target_cpu_s", r.target_cpu_s);
  jsonNumber(out, "loadgen_cpu_s", r.loadgen_cpu_s);
  jsonCount(out, "target_rss_kb_before", r.target_rss_kb_before);
  jsonCount(out, "target_rss_kb_after", r.target_rss_kb_after);
  jsonCount(out, "errors", r.errors);
  jsonCount(out, "threads", r.threads);
  jsonCount(out, "open", r.open);
  jsonNumber(out, "max_us", r.max_us);
  jsonNumber(out, "target_cpu_per_unit", r.targetCpuPerUnit());
  std::fprintf(out, ",\"unit\":\"%s\"", r.unitName());
  jsonNumber(out, "rss_bytes_per_conn", r.rssBytesPerConnection());
  jsonString(out, "first_error", r.first_error);
  jsonCount(out, "eds_versions", r.eds_versions);
  if (r.eds_versions) {
    jsonCount(out, "eds_errors", r.eds_errors);
    jsonCount(out, "eds_late", r.eds_late);
    jsonNumber(out, "eds_max_write_us", r.eds_max_write_us);
  }
  std::fprintf(out, "}\n");
  std::fflush(out);
}

}  // namespace wslb::loadgen
