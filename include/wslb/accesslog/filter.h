#pragma once
// Access log filters: which records an access log writes.

#include <vector>

#include "wslb/accesslog/record.h"
#include "wslb/accesslog/response_flags.h"
#include "wslb/config/bootstrap.h"

namespace wslb::accesslog {

/// envoy.config.accesslog.v3.AccessLogFilter, as config::AccessLogFilter describes it:
/// status_code_filter, duration_filter (milliseconds of %DURATION%; a record without a duration
/// does not match), response_flag_filter, not_health_check_filter (wslb has no health-check
/// requests, so every record matches), and_filter and or_filter.
///
/// Thread safety: matches() is const; any thread.
class Filter {
 public:
  /// Start-up only. @throws std::invalid_argument for an unknown response flag name (a
  /// configuration loaded by config::loadBootstrap() has been checked already).
  explicit Filter(const config::AccessLogFilter& config);

  /// Whether `record` is to be logged.
  bool matches(const AccessLogRecord& record) const noexcept;

 private:
  config::AccessLogFilter::Kind kind_;
  config::AccessLogFilter::Op op_;
  uint32_t value_;
  ResponseFlags flags_;  ///< kResponseFlag; empty: any flag.
  std::vector<Filter> children_;
};

}  // namespace wslb::accesslog
