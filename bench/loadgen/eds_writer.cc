#include "eds_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "proc_stats.h"

namespace wslb::loadgen {

namespace {

constexpr std::string_view kAssignmentType =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
/// The discard port on an address nothing listens on: a connection there is refused at once.
constexpr unsigned kExtraPort = 9;

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// Address of extra endpoint number @p id: 127.(1 + id / 65536 % 254).(id / 256 % 256).(id % 256).
std::string extraAddress(uint64_t id) {
  return "127." + std::to_string(1 + id / 65536 % 254) + "." + std::to_string(id / 256 % 256) +
         "." + std::to_string(id % 256);
}

struct EndpointEntry {
  std::string address;
  unsigned port;
  bool draining;
};

std::vector<EndpointEntry> endpointsOf(const EdsChurnOptions& options, uint64_t version) {
  std::vector<EndpointEntry> out;
  const size_t backends = options.backend_ports.size();
  // Versions cycle through "all but backend 0", "all but backend 1", ..., "all".
  const size_t left_out = backends >= 2 ? static_cast<size_t>(version % (backends + 1)) : backends;
  for (size_t i = 0; i < backends; ++i) {
    if (i != left_out) out.push_back({"127.0.0.1", options.backend_ports[i], false});
  }
  if (options.extra > 0) {
    const uint64_t shift = std::max<uint64_t>(1, options.extra / 10);
    const uint64_t first = version * shift;
    for (uint64_t id = first; id < first + options.extra; ++id) {
      out.push_back({extraAddress(id), kExtraPort, true});
    }
  }
  return out;
}

}  // namespace

std::string renderEdsVersion(const EdsChurnOptions& options, uint64_t version, bool json) {
  const std::vector<EndpointEntry> endpoints = endpointsOf(options, version);
  std::string out;
  out.reserve(128 + endpoints.size() * 112);
  const std::string v = std::to_string(version);
  if (json) {
    out += "{\"version_info\":\"" + v + "\",\"resources\":[{\"@type\":\"";
    out += kAssignmentType;
    out += "\",\"cluster_name\":\"" + options.cluster + "\",\"endpoints\":[{\"lb_endpoints\":[";
    bool first = true;
    for (const EndpointEntry& e : endpoints) {
      if (!first) out += ',';
      first = false;
      out += "{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"" + e.address +
             "\",\"port_value\":" + std::to_string(e.port) + "}}}";
      if (e.draining) out += ",\"health_status\":\"DRAINING\"";
      out += '}';
    }
    out += "]}]}]}\n";
    return out;
  }
  out += "version_info: \"" + v + "\"\nresources:\n- \"@type\": ";
  out += kAssignmentType;
  out += "\n  cluster_name: " + options.cluster + "\n  endpoints:\n  - lb_endpoints:\n";
  for (const EndpointEntry& e : endpoints) {
    out += "    - endpoint: {address: {socket_address: {address: " + e.address +
           ", port_value: " + std::to_string(e.port) + "}}}\n";
    if (e.draining) out += "      health_status: DRAINING\n";
  }
  return out;
}

std::string writeFileAtomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "open " + temporary + ": " + std::strerror(errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = "write " + temporary + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      return why;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    const std::string why = "close " + temporary + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return why;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = "rename to " + path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return why;
  }
  return "";
}

EdsChurner::EdsChurner(EdsChurnOptions options)
    : options_(std::move(options)), json_(endsWith(options_.path, ".json")) {}

EdsChurner::~EdsChurner() {
  stop();
}

void EdsChurner::start() {
  thread_ = std::thread([this] { run(); });
}

void EdsChurner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EdsChurner::run() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options_.interval_s));
  auto next = Clock::now();
  for (uint64_t version = 1;; ++version) {
    const uint64_t begin_ns = monotonicNs();
    const std::string why =
        writeFileAtomically(options_.path, renderEdsVersion(options_, version, json_));
    max_write_us_ = std::max(max_write_us_, static_cast<double>(monotonicNs() - begin_ns) / 1e3);
    if (why.empty()) {
      written_.fetch_add(1, std::memory_order_release);
    } else {
      if (first_error_.empty()) first_error_ = why;
      errors_.fetch_add(1, std::memory_order_release);
    }
    next += interval;
    const auto now = Clock::now();
    if (now > next + interval) {
      // Fell more than a period behind: skip the missed ticks rather than write in a burst.
      ++late_;
      next = now;
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
  }
}

}  // namespace wslb::loadgen
