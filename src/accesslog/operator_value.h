#pragma once
// The value one command operator takes for one record.

#include <cstdint>
#include <optional>
#include <string>

#include "accesslog/format_string.h"
#include "wslb/accesslog/record.h"

namespace wslb::accesslog {

/// Appends the value of the operator `piece` for `record`, cut to piece.max_length bytes.
/// @return false, with nothing appended, when the value is missing or empty (Envoy prints "-").
bool appendValue(const Piece& piece, const AccessLogRecord& record, std::string& out);

/// The value of a numeric operator (isNumeric(piece.op)); nullopt when it is missing.
std::optional<uint64_t> numericValue(const Piece& piece, const AccessLogRecord& record) noexcept;

}  // namespace wslb::accesslog
