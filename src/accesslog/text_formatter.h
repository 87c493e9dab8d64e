#pragma once
// A text format: literal text and operator values, one after the other.

#include <string>

#include "accesslog/format_string.h"
#include "wslb/accesslog/formatter.h"

namespace wslb::accesslog {

class TextFormatter final : public Formatter {
 public:
  /// @param omit_empty_values print "" instead of "-" for a missing value.
  TextFormatter(FormatString format, bool omit_empty_values);

  // wslb::accesslog::Formatter
  void format(const AccessLogRecord& record, std::string& out) const override;

 private:
  FormatString format_;
  const char* missing_;
};

/// Appends `format` for `record`, with `missing` in place of each missing value.
void appendFormatString(const FormatString& format, const AccessLogRecord& record,
                        const char* missing, std::string& out);

}  // namespace wslb::accesslog
