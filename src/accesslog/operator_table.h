#pragma once
// The command operators wslb knows, by name.

#include <optional>
#include <string_view>

#include "accesslog/format_string.h"

namespace wslb::accesslog {

/// What an operator accepts between its parentheses.
enum class OperatorArg : uint8_t {
  kNone,        ///< %NAME%
  kHeaders,     ///< %NAME(header?alternative)%, required
  kTimeFormat,  ///< %NAME% or %NAME(format)%
  kVariable,    ///< %NAME(environment variable)%, required
};

struct OperatorInfo {
  Op op;
  OperatorArg arg = OperatorArg::kNone;
  bool takes_length = false;  ///< whether ":Z" is allowed.
};

/// The operator called `name` (Envoy's name, or one of wslb's own); nullopt if wslb has none.
std::optional<OperatorInfo> findOperator(std::string_view name) noexcept;

/// True for Envoy operators that wslb does not implement (so the error can say so rather than
/// call the name unknown).
bool isEnvoyOnlyOperator(std::string_view name) noexcept;

}  // namespace wslb::accesslog
