#pragma once
// Command line of wslb-loadgen.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wslb::loadgen {

enum class Mode { kHandshake, kEcho, kThroughput, kIdle };

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
  pid_t pid = 0;
  bool json = false;
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
