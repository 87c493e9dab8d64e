#include "wslb/accesslog/response_flags.h"

#include <array>

namespace wslb::accesslog {
namespace {

struct FlagNames {
  std::string_view short_name;
  std::string_view long_name;
};

// Indexed by ResponseFlag; the names are Envoy's.
constexpr std::array<FlagNames, kResponseFlagCount> kNames = {{
    {"LH", "FailedLocalHealthCheck"},
    {"UH", "NoHealthyUpstream"},
    {"UT", "UpstreamRequestTimeout"},
    {"LR", "LocalReset"},
    {"UR", "UpstreamRemoteReset"},
    {"UF", "UpstreamConnectionFailure"},
    {"UC", "UpstreamConnectionTermination"},
    {"UO", "UpstreamOverflow"},
    {"NR", "NoRouteFound"},
    {"DI", "DelayInjected"},
    {"FI", "FaultInjected"},
    {"RL", "RateLimited"},
    {"UAEX", "UnauthorizedExternalService"},
    {"RLSE", "RateLimitServiceError"},
    {"DC", "DownstreamConnectionTermination"},
    {"URX", "UpstreamRetryLimitExceeded"},
    {"SI", "StreamIdleTimeout"},
    {"IH", "InvalidEnvoyRequestHeaders"},
    {"DPE", "DownstreamProtocolError"},
    {"UMSDR", "UpstreamMaxStreamDurationReached"},
    {"RFCF", "ResponseFromCacheFilter"},
    {"NFCF", "NoFilterConfigFound"},
    {"DT", "DurationTimeout"},
    {"UPE", "UpstreamProtocolError"},
    {"NC", "NoClusterFound"},
    {"OM", "OverloadManager"},
    {"DF", "DnsResolutionFailed"},
    {"DO", "DropOverload"},
    {"DR", "DownstreamRemoteReset"},
    {"UDO", "UnconditionalDropOverload"},
}};

static_assert(static_cast<size_t>(ResponseFlag::kUnconditionalDropOverload) + 1 ==
              kResponseFlagCount);

template <typename Name>
void appendNames(ResponseFlags flags, std::string& out, Name name) {
  if (!flags.any()) {
    out += '-';
    return;
  }
  bool first = true;
  for (size_t i = 0; i < kResponseFlagCount; ++i) {
    const auto flag = static_cast<ResponseFlag>(i);
    if (!flags.has(flag)) continue;
    if (!first) out += ',';
    out += name(kNames[i]);
    first = false;
  }
}

}  // namespace

std::string_view shortName(ResponseFlag flag) noexcept {
  return kNames[static_cast<size_t>(flag)].short_name;
}

std::string_view longName(ResponseFlag flag) noexcept {
  return kNames[static_cast<size_t>(flag)].long_name;
}

std::optional<ResponseFlag> parseShortName(std::string_view name) noexcept {
  for (size_t i = 0; i < kResponseFlagCount; ++i) {
    if (kNames[i].short_name == name) return static_cast<ResponseFlag>(i);
  }
  return std::nullopt;
}

void appendShortNames(ResponseFlags flags, std::string& out) {
  appendNames(flags, out, [](const FlagNames& n) { return n.short_name; });
}

void appendLongNames(ResponseFlags flags, std::string& out) {
  appendNames(flags, out, [](const FlagNames& n) { return n.long_name; });
}

}  // namespace wslb::accesslog
