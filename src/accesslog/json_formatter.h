#pragma once
// A format dictionary (json_format): one JSON object per line.

#include <string>
#include <vector>

#include "accesslog/format_string.h"
#include "wslb/accesslog/formatter.h"
#include "wslb/config/bootstrap.h"

namespace wslb::accesslog {

class JsonFormatter final : public Formatter {
 public:
  /// A node of the dictionary: a format string, an object or a list.
  struct Node {
    config::AccessLogJsonValue::Kind kind = config::AccessLogJsonValue::Kind::kFormat;
    std::string key;
    FormatString format;
    std::vector<Node> children;
  };

  /// @param root the top-level object (already parsed and, if asked, sorted).
  /// @param typed numbers for numeric operators and null for missing values, as in Envoy's
  ///        log_format.json_format; false: every value a string, "-" when missing.
  /// @param omit_empty_values leave out members and list items whose value is missing.
  JsonFormatter(Node root, bool typed, bool omit_empty_values);

  // wslb::accesslog::Formatter
  void format(const AccessLogRecord& record, std::string& out) const override;

 private:
  Node root_;
  bool typed_;
  bool omit_empty_values_;
};

}  // namespace wslb::accesslog
