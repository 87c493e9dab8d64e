#pragma once
// Command line of wslb-loadgen.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wslb::loadgen {

enum class Mode { kHandshake, kEcho, kThroughput, kIdle, kChurn };

std::string_view modeName(Mode mode);

struct Options {
  Mode mode = Mode::kEcho;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/";
  unsigned threads = 1;
  unsigned connections = 1;
  /// Payload bytes per message; 0 = the mode's default (16, 64, 65536; unused by idle).
  uint64_t size = 0;
  double duration_s = 10;
  double warmup_s = 1;
  /// Stop once this many handshakes (handshake) or messages (echo, throughput) were measured;
  /// 0 = only the duration bounds the run.
  uint64_t count = 0;
  /// Processes under test (--pid, repeatable): their CPU times and RSS are summed (a proxy with
  /// worker processes is given as all of them).
  std::vector<pid_t> pids;
  bool json = false;
  /// churn: the EDS file rewritten every eds_interval_s, its cluster, the backends' ports and
  /// how many extra (never picked) endpoints each version has.
  std::string eds_file;
  std::string eds_cluster = "backend";
  std::vector<uint16_t> eds_ports;
  unsigned eds_extra = 0;
  double eds_interval_s = 0.1;
};

/// The target as a socket address, and whether client source addresses can be spread over
/// 127.0.0.2..254 (IPv4 only).
struct Target {
  sockaddr_storage address{};
  socklen_t address_size = 0;
  bool ipv4 = true;
};

/// Largest accepted --size.
inline constexpr uint64_t kMaxMessageSize = uint64_t{16} << 20;

/// Parses argv. On --help or an error, prints and returns the exit code to use.
/// @return the options, or the exit status in @p exit_code.
std::optional<Options> parseOptions(int argc, char** argv, int& exit_code);

/// Resolves --host/--port to a loopback address; refuses anything outside 127.0.0.0/8 and ::1.
/// @return "" on success, otherwise the reason.
std::string resolveLoopback(const Options& options, Target& target);

}  // namespace wslb::loadgen
