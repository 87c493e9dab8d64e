#pragma once
// Envoy's response flags (%RESPONSE_FLAGS%): why a request or connection ended the way it did.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wslb::accesslog {

/// Envoy's response flags, in the order Envoy prints them. wslb sets only some of them (see
/// docs/configuration.md, "Access log"); the others exist so that filters and formats written for
/// Envoy keep their meaning.
enum class ResponseFlag : uint8_t {
  kFailedLocalHealthCheck,            ///< LH
  kNoHealthyUpstream,                 ///< UH
  kUpstreamRequestTimeout,            ///< UT
  kLocalReset,                        ///< LR
  kUpstreamRemoteReset,               ///< UR
  kUpstreamConnectionFailure,         ///< UF
  kUpstreamConnectionTermination,     ///< UC
  kUpstreamOverflow,                  ///< UO
  kNoRouteFound,                      ///< NR
  kDelayInjected,                     ///< DI
  kFaultInjected,                     ///< FI
  kRateLimited,                       ///< RL
  kUnauthorizedExternalService,       ///< UAEX
  kRateLimitServiceError,             ///< RLSE
  kDownstreamConnectionTermination,   ///< DC
  kUpstreamRetryLimitExceeded,        ///< URX
  kStreamIdleTimeout,                 ///< SI
  kInvalidEnvoyRequestHeaders,        ///< IH
  kDownstreamProtocolError,           ///< DPE
  kUpstreamMaxStreamDurationReached,  ///< UMSDR
  kResponseFromCacheFilter,           ///< RFCF
  kNoFilterConfigFound,               ///< NFCF
  kDurationTimeout,                   ///< DT
  kUpstreamProtocolError,             ///< UPE
  kNoClusterFound,                    ///< NC
  kOverloadManager,                   ///< OM
  kDnsResolutionFailed,               ///< DF
  kDropOverload,                      ///< DO
  kDownstreamRemoteReset,             ///< DR
  kUnconditionalDropOverload,         ///< UDO
};

inline constexpr size_t kResponseFlagCount = 30;

/// A set of ResponseFlag. Trivially copyable; 4 bytes.
///
/// Thread safety: a value type; no synchronisation.
class ResponseFlags {
 public:
  constexpr ResponseFlags() = default;

  /// Adds `flag`. @return *this, so flags can be chained.
  constexpr ResponseFlags& set(ResponseFlag flag) noexcept {
    bits_ |= bit(flag);
    return *this;
  }
  constexpr bool has(ResponseFlag flag) const noexcept { return (bits_ & bit(flag)) != 0; }
  constexpr bool any() const noexcept { return bits_ != 0; }
  constexpr uint32_t bits() const noexcept { return bits_; }

  friend constexpr bool operator==(ResponseFlags, ResponseFlags) = default;

 private:
  static constexpr uint32_t bit(ResponseFlag flag) noexcept {
    return uint32_t{1} << static_cast<unsigned>(flag);
  }
  uint32_t bits_ = 0;
};

/// Envoy's short name of `flag` ("UO").
///
/// Thread safety: pure function; any thread.
std::string_view shortName(ResponseFlag flag) noexcept;
/// Envoy's long name of `flag` ("UpstreamOverflow"), used by %RESPONSE_FLAGS_LONG%.
///
/// Thread safety: pure function; any thread.
std::string_view longName(ResponseFlag flag) noexcept;
/// The flag whose short name is `name` (case-sensitive, as in Envoy); nullopt for any other text.
///
/// Thread safety: pure function; any thread.
std::optional<ResponseFlag> parseShortName(std::string_view name) noexcept;

/// Appends the short names of the flags in `flags`, in Envoy's order and separated by commas
/// ("UF,URX"); appends "-" when no flag is set, as Envoy does.
///
/// Thread safety: pure function; any thread.
void appendShortNames(ResponseFlags flags, std::string& out);
/// Like appendShortNames(), with the long names.
void appendLongNames(ResponseFlags flags, std::string& out);

}  // namespace wslb::accesslog
