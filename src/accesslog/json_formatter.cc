#include "accesslog/json_formatter.h"

#include <boost/json.hpp>
#include <utility>

#include "accesslog/operator_value.h"
#include "accesslog/text_formatter.h"

namespace wslb::accesslog {
namespace {

using Kind = config::AccessLogJsonValue::Kind;

class Builder {
 public:
  Builder(const AccessLogRecord& record, bool typed, bool omit_empty_values,
          boost::json::storage_ptr storage)
      : record_(record),
        typed_(typed),
        omit_empty_values_(omit_empty_values),
        storage_(std::move(storage)) {}

  boost::json::value build(const JsonFormatter::Node& node) {
    switch (node.kind) {
      case Kind::kObject: {
        boost::json::object object(storage_);
        for (const JsonFormatter::Node& child : node.children) {
          boost::json::value value = build(child);
          if (omit_empty_values_ && value.is_null()) continue;
          object.emplace(child.key, std::move(value));
        }
        return object;
      }
      case Kind::kList: {
        boost::json::array array(storage_);
        for (const JsonFormatter::Node& child : node.children) {
          boost::json::value value = build(child);
          if (omit_empty_values_ && value.is_null()) continue;
          array.push_back(std::move(value));
        }
        return array;
      }
      case Kind::kFormat:
        return leaf(node.format);
    }
    return nullptr;
  }

 private:
  // Envoy's rules: a value that is exactly one operator keeps that operator's type (typed) or is
  // its text; a missing one is null (typed, or when empty values are omitted) or "-". Anything
  // else is a string in which missing values read "-" (or "" when they are omitted).
  boost::json::value leaf(const FormatString& format) {
    text_.clear();
    if (const Piece* piece = format.singleOperator()) {
      if (typed_ && isNumeric(piece->op)) {
        if (std::optional<uint64_t> number = numericValue(*piece, record_)) {
          return boost::json::value(*number, storage_);
        }
        return nullptr;
      }
      if (appendValue(*piece, record_, text_)) return boost::json::string(text_, storage_);
      if (typed_ || omit_empty_values_) return nullptr;
      return boost::json::string("-", storage_);
    }
    appendFormatString(format, record_, omit_empty_values_ ? "" : "-", text_);
    return boost::json::string(text_, storage_);
  }

  const AccessLogRecord& record_;
  const bool typed_;
  const bool omit_empty_values_;
  boost::json::storage_ptr storage_;
  std::string text_;
};

}  // namespace

JsonFormatter::JsonFormatter(Node root, bool typed, bool omit_empty_values)
    : root_(std::move(root)), typed_(typed), omit_empty_values_(omit_empty_values) {}

void JsonFormatter::format(const AccessLogRecord& record, std::string& out) const {
  // Every allocation of one line comes from one arena, released at once; a typical line fits in
  // the first block, on the stack.
  unsigned char first_block[4096];
  boost::json::monotonic_resource arena(first_block, sizeof(first_block));
  Builder builder(record, typed_, omit_empty_values_, &arena);
  const boost::json::value line = builder.build(root_);
  out += boost::json::serialize(line);
  out += '\n';
}

}  // namespace wslb::accesslog
