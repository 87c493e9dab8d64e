#include "wslb/accesslog/formatter.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "accesslog/format_string.h"
#include "accesslog/json_formatter.h"
#include "accesslog/text_formatter.h"

namespace wslb::accesslog {
namespace {

FormatString parseOrThrow(std::string_view text, HeaderRegistry& headers) {
  ParsedFormat parsed = parseFormatString(text, headers);
  if (!parsed.error.empty()) throw std::invalid_argument(parsed.error);
  return std::move(parsed.format);
}

JsonFormatter::Node buildNode(const config::AccessLogJsonValue& value, bool sort,
                              HeaderRegistry& headers) {
  JsonFormatter::Node node;
  node.kind = value.kind;
  node.key = value.key;
  if (value.kind == config::AccessLogJsonValue::Kind::kFormat) {
    node.format = parseOrThrow(value.format, headers);
    return node;
  }
  for (const config::AccessLogJsonValue& child : value.children) {
    node.children.push_back(buildNode(child, sort, headers));
  }
  if (sort && value.kind == config::AccessLogJsonValue::Kind::kObject) {
    std::stable_sort(node.children.begin(), node.children.end(),
                     [](const auto& a, const auto& b) { return a.key < b.key; });
  }
  return node;
}

}  // namespace

std::optional<std::string> validateFormatString(std::string_view text) {
  HeaderRegistry headers;
  ParsedFormat parsed = parseFormatString(text, headers);
  if (parsed.error.empty()) return std::nullopt;
  return std::move(parsed.error);
}

std::unique_ptr<Formatter> Formatter::create(const config::AccessLogFormat& format,
                                             HeaderRegistry& headers) {
  using Kind = config::AccessLogFormat::Kind;
  switch (format.kind) {
    case Kind::kDefault:
      return std::make_unique<TextFormatter>(parseOrThrow(kDefaultFormat, headers),
                                             format.omit_empty_values);
    case Kind::kText:
      return std::make_unique<TextFormatter>(parseOrThrow(format.text, headers),
                                             format.omit_empty_values);
    case Kind::kJson: {
      JsonFormatter::Node root = buildNode(format.json, format.sort_properties, headers);
      root.kind = config::AccessLogJsonValue::Kind::kObject;
      return std::make_unique<JsonFormatter>(std::move(root), format.typed_json,
                                             format.omit_empty_values);
    }
  }
  throw std::invalid_argument("unknown access log format kind");
}

}  // namespace wslb::accesslog
