#include "config/access_log_section.h"

#include <array>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>

#include "wslb/accesslog/formatter.h"
#include "wslb/accesslog/response_flags.h"

namespace wslb::config {
namespace {

enum class LoggerKind { kFile, kStdout, kStderr, kOther };

constexpr std::string_view kSupportedLoggers =
    "envoy.access_loggers.file, envoy.access_loggers.stdout, envoy.access_loggers.stderr";

LoggerKind loggerByType(std::string_view type) {
  if (type == kFileAccessLogTypeUrl) return LoggerKind::kFile;
  if (type == kStdoutAccessLogTypeUrl) return LoggerKind::kStdout;
  if (type == kStderrAccessLogTypeUrl) return LoggerKind::kStderr;
  return LoggerKind::kOther;
}

LoggerKind loggerByName(std::string_view name) {
  if (name == "envoy.access_loggers.file" || name == "envoy.file_access_log") {
    return LoggerKind::kFile;
  }
  if (name == "envoy.access_loggers.stdout") return LoggerKind::kStdout;
  if (name == "envoy.access_loggers.stderr") return LoggerKind::kStderr;
  return LoggerKind::kOther;
}

// The "@type" string of a typed_config mapping, if it has one.
std::optional<std::string> typeOf(const Field& typed_config) {
  if (!typed_config.node.IsMap()) return std::nullopt;
  const YAML::Node type = typed_config.node["@type"];
  if (!type.IsDefined() || !type.IsScalar()) return std::nullopt;
  return type.Scalar();
}

// Reports the format string's first problem at `path`.
void checkFormat(Context& ctx, const std::string& path, const std::string& text) {
  if (std::optional<std::string> problem = accesslog::validateFormatString(text)) {
    ctx.error(path, std::move(*problem));
  }
}

using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 4> kDataSourceKeys = {
    "inline_string", "filename", "environment_variable", "inline_bytes"};
constexpr std::array<std::string_view, 3> kSubstitutionFormatKeys = {
    "text_format", "text_format_source", "json_format"};
constexpr std::array<std::string_view, 4> kFileFormatKeys = {"log_format", "format", "json_format",
                                                             "typed_json_format"};
constexpr std::array<std::string_view, 6> kFilterKinds = {
    "status_code_filter",   "duration_filter", "not_health_check_filter",
    "response_flag_filter", "and_filter",      "or_filter"};

// The keys of `map` present among `keys`, in the order given.
std::vector<std::string_view> presentKeys(const MapReader& map, Keys keys) {
  std::vector<std::string_view> out;
  for (std::string_view key : keys) {
    if (map.has(key)) out.push_back(key);
  }
  return out;
}

// "a, b or c".
std::string joinKeys(Keys keys, std::string_view last_word) {
  std::string out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0 && i + 1 == keys.size()) {
      out += ' ';
      out += last_word;
      out += ' ';
    } else if (i > 0) {
      out += ", ";
    }
    out += keys[i];
  }
  return out;
}

// Marks every key of `keys` as handled.
void acceptAll(MapReader& map, Keys keys) {
  for (std::string_view key : keys) map.accept({key});
}

// A oneof: at most one of `keys` may be set, and with `required` one must be.
// @return the key that is set, if exactly one is.
std::optional<std::string_view> oneOf(Context& ctx, const MapReader& map, Keys keys,
                                      bool required) {
  const std::vector<std::string_view> present = presentKeys(map, keys);
  if (present.size() > 1) {
    ctx.error(map.pathOf(present[1]), "only one of " + joinKeys(keys, "and") + " may be set");
    return std::nullopt;
  }
  if (present.empty()) {
    if (required && map.isMap()) {
      ctx.error(map.path(), "one of " + joinKeys(keys, "or") + " is required");
    }
    return std::nullopt;
  }
  return present[0];
}

// envoy.config.core.v3.DataSource: the text it holds, with the path of the field that gave it.
std::optional<std::string> readDataSource(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  std::optional<std::string> out;
  const std::optional<std::string_view> source = oneOf(ctx, map, kDataSourceKeys, true);
  if (source == "inline_string") {
    out = ctx.readString(*map.take("inline_string"));
  } else if (source == "filename") {
    const Field name_field = *map.take("filename");
    if (std::optional<std::string> name = ctx.readNonEmptyString(name_field)) {
      std::ifstream in(*name, std::ios::binary);
      if (in) {
        out = std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      } else {
        ctx.error(name_field.path, "cannot read \"" + *name + "\"");
      }
    }
  } else if (source == "environment_variable") {
    const Field name_field = *map.take("environment_variable");
    if (std::optional<std::string> name = ctx.readNonEmptyString(name_field)) {
      if (const char* value = std::getenv(name->c_str())) {
        out = std::string(value);
      } else {
        ctx.error(name_field.path, "environment variable \"" + *name + "\" is not set");
      }
    }
  } else if (source == "inline_bytes") {
    ctx.error(map.pathOf("inline_bytes"),
              std::string(kNotSupported) + " (use inline_string for a format)");
  }
  acceptAll(map, kDataSourceKeys);
  map.ignore({"watched_directory"});
  map.finish();
  return out;
}

void readJsonValue(Context& ctx, const Field& field, AccessLogJsonValue& out);

// The members of a json_format mapping, in document order.
void readJsonObject(Context& ctx, const Field& field, AccessLogJsonValue& out) {
  out.kind = AccessLogJsonValue::Kind::kObject;
  MapReader map(ctx, field);
  if (!map.isMap() || !field.node.IsMap()) return;
  std::set<std::string> seen;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    if (!it->first.IsScalar()) continue;  // reported by MapReader
    const std::string key = it->first.Scalar();
    if (!seen.insert(key).second) continue;  // a duplicate, reported by MapReader
    std::optional<Field> value = map.take(key);
    if (!value) {
      ctx.error(map.pathOf(key), "expected a format string, a mapping or a list");
      continue;
    }
    AccessLogJsonValue member;
    member.key = key;
    readJsonValue(ctx, *value, member);
    out.children.push_back(std::move(member));
  }
  map.finish();
}

// One json_format value: a format string (any scalar), a nested mapping or a list.
void readJsonValue(Context& ctx, const Field& field, AccessLogJsonValue& out) {
  if (field.node.IsMap()) {
    readJsonObject(ctx, field, out);
  } else if (field.node.IsSequence()) {
    out.kind = AccessLogJsonValue::Kind::kList;
    for (const Field& item : ctx.readSequence(field)) {
      AccessLogJsonValue value;
      if (item.node.IsNull()) {
        ctx.error(item.path, "expected a format string, a mapping or a list");
        continue;
      }
      readJsonValue(ctx, item, value);
      out.children.push_back(std::move(value));
    }
  } else if (field.node.IsScalar()) {
    out.kind = AccessLogJsonValue::Kind::kFormat;
    out.format = field.node.Scalar();
    checkFormat(ctx, field.path, out.format);
  } else {
    ctx.error(field.path, "expected a format string, a mapping or a list");
  }
}

void readJsonFormat(Context& ctx, const Field& field, bool typed, AccessLogFormat& out) {
  out.kind = AccessLogFormat::Kind::kJson;
  out.typed_json = typed;
  if (!field.node.IsMap()) {
    ctx.error(field.path, "expected a mapping");
    return;
  }
  readJsonObject(ctx, field, out.json);
}

void readTextFormat(Context& ctx, const Field& field, AccessLogFormat& out) {
  if (std::optional<std::string> text = ctx.readString(field)) {
    out.kind = AccessLogFormat::Kind::kText;
    out.text = *text;
    checkFormat(ctx, field.path, out.text);
  }
}

// envoy.config.core.v3.SubstitutionFormatString (log_format).
void readSubstitutionFormat(Context& ctx, const Field& field, AccessLogFormat& out) {
  MapReader map(ctx, field);
  if (!map.isMap()) return;
  const std::optional<std::string_view> kind = oneOf(ctx, map, kSubstitutionFormatKeys, true);
  if (kind == "text_format") {
    readTextFormat(ctx, *map.take("text_format"), out);
  } else if (kind == "text_format_source") {
    const Field source = *map.take("text_format_source");
    if (std::optional<std::string> text = readDataSource(ctx, source)) {
      out.kind = AccessLogFormat::Kind::kText;
      out.text = *text;
      checkFormat(ctx, source.path, out.text);
    }
  } else if (kind == "json_format") {
    readJsonFormat(ctx, *map.take("json_format"), true, out);
  }
  acceptAll(map, kSubstitutionFormatKeys);
  if (std::optional<Field> omit = map.take("omit_empty_values")) {
    out.omit_empty_values = ctx.readBool(*omit).value_or(false);
  }
  if (std::optional<Field> options = map.take("json_format_options")) {
    MapReader options_map(ctx, *options);
    if (std::optional<Field> sort = options_map.take("sort_properties")) {
      out.sort_properties = ctx.readBool(*sort).value_or(false);
    }
    options_map.finish();
  }
  // content_type only matters where Envoy sends the text as a body (local replies); an access
  // log ignores it in Envoy too.
  if (std::optional<Field> content_type = map.take("content_type")) ctx.readString(*content_type);
  map.reject({"formatters"});
  map.finish();
}

// FileAccessLog: path plus one of its format fields (log_format, or the older format,
// json_format and typed_json_format).
void readFileAccessLog(Context& ctx, const Field& field, AccessLogConfig& out) {
  out.sink = AccessLogConfig::Sink::kFile;
  MapReader map(ctx, field);
  if (!map.isMap()) return;
  map.accept({"@type"});
  if (std::optional<Field> path = map.require("path")) {
    if (std::optional<std::string> value = ctx.readNonEmptyString(*path)) out.path = *value;
  }
  const std::optional<std::string_view> format = oneOf(ctx, map, kFileFormatKeys, false);
  if (format == "log_format") {
    readSubstitutionFormat(ctx, *map.take("log_format"), out.format);
  } else if (format == "format") {
    readTextFormat(ctx, *map.take("format"), out.format);
  } else if (format == "json_format") {
    readJsonFormat(ctx, *map.take("json_format"), false, out.format);
  } else if (format == "typed_json_format") {
    readJsonFormat(ctx, *map.take("typed_json_format"), true, out.format);
  }
  acceptAll(map, kFileFormatKeys);
  map.finish();
}

// StdoutAccessLog and StderrAccessLog: an optional log_format.
void readStreamAccessLog(Context& ctx, const Field& field, AccessLogConfig::Sink sink,
                         AccessLogConfig& out) {
  out.sink = sink;
  MapReader map(ctx, field);
  if (!map.isMap()) return;
  map.accept({"@type"});
  if (std::optional<Field> format = map.take("log_format")) {
    readSubstitutionFormat(ctx, *format, out.format);
  }
  map.finish();
}

// ComparisonFilter {op, value: RuntimeUInt32 {default_value, runtime_key}}.
void readComparison(Context& ctx, const Field& field, AccessLogFilter& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> op = map.take("op")) {
    using Op = AccessLogFilter::Op;
    if (std::optional<Op> value = ctx.readEnum<Op>(
            *op,
            {{"EQ", 0, Op::kEq}, {"GE", 1, Op::kGe}, {"LE", 2, Op::kLe}, {"NE", 3, Op::kNe}})) {
      out.op = *value;
    }
  }
  if (std::optional<Field> value = map.take("value")) {
    MapReader runtime(ctx, *value);
    if (std::optional<Field> number = runtime.take("default_value")) {
      out.value = ctx.readUint32(*number).value_or(0);
    }
    // wslb has no runtime, so the default value is the value (as in Envoy without a layer that
    // sets the key).
    if (std::optional<Field> key = runtime.take("runtime_key")) ctx.readString(*key);
    runtime.finish();
  }
  map.finish();
}

std::optional<AccessLogFilter> readFilter(Context& ctx, const Field& field);

// and_filter / or_filter: {filters: [two or more]}.
void readFilterList(Context& ctx, const Field& field, AccessLogFilter& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> filters = map.require("filters")) {
    const std::vector<Field> items = ctx.readSequence(*filters);
    if (filters->node.IsSequence() && items.size() < 2) {
      ctx.error(filters->path, "expected at least 2 filters");
    }
    for (const Field& item : items) {
      if (std::optional<AccessLogFilter> child = readFilter(ctx, item)) {
        out.filters.push_back(std::move(*child));
      }
    }
  }
  map.finish();
}

void readResponseFlagFilter(Context& ctx, const Field& field, AccessLogFilter& out) {
  MapReader map(ctx, field);
  if (std::optional<Field> flags = map.take("flags")) {
    for (const Field& item : ctx.readSequence(*flags)) {
      std::optional<std::string> name = ctx.readString(item);
      if (!name) continue;
      if (!accesslog::parseShortName(*name)) {
        ctx.error(item.path, "unknown response flag \"" + *name + "\"");
        continue;
      }
      out.response_flags.push_back(*name);
    }
  }
  map.finish();
}

// envoy.config.accesslog.v3.AccessLogFilter: exactly one kind.
std::optional<AccessLogFilter> readFilter(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  std::optional<AccessLogFilter> out;
  const bool any_kind = !presentKeys(map, kFilterKinds).empty();
  const std::optional<std::string_view> kind = oneOf(ctx, map, kFilterKinds, false);
  using Kind = AccessLogFilter::Kind;
  if (kind) {
    out.emplace();
    const Field value = *map.take(*kind);
    if (*kind == "status_code_filter" || *kind == "duration_filter") {
      out->kind = *kind == "status_code_filter" ? Kind::kStatusCode : Kind::kDuration;
      MapReader comparison_map(ctx, value);
      if (std::optional<Field> comparison = comparison_map.require("comparison")) {
        readComparison(ctx, *comparison, *out);
      }
      comparison_map.finish();
    } else if (*kind == "not_health_check_filter") {
      out->kind = Kind::kNotHealthCheck;
      MapReader(ctx, value).finish();
    } else if (*kind == "response_flag_filter") {
      out->kind = Kind::kResponseFlag;
      readResponseFlagFilter(ctx, value, *out);
    } else {
      out->kind = *kind == "and_filter" ? Kind::kAnd : Kind::kOr;
      readFilterList(ctx, value, *out);
    }
  }
  const bool other = map.has("traceable_filter") || map.has("runtime_filter") ||
                     map.has("header_filter") || map.has("grpc_status_filter") ||
                     map.has("extension_filter") || map.has("metadata_filter") ||
                     map.has("log_type_filter");
  acceptAll(map, kFilterKinds);
  // These would log records Envoy would not (or the reverse), so they are errors.
  map.reject({"traceable_filter", "runtime_filter", "header_filter", "grpc_status_filter",
              "extension_filter", "metadata_filter", "log_type_filter"});
  if (!any_kind && !other) {
    ctx.error(map.path(), "one of " + joinKeys(kFilterKinds, "or") + " is required");
  }
  map.finish();
  if (other) return std::nullopt;
  return out;
}

std::optional<AccessLogConfig> readAccessLog(Context& ctx, const Field& field) {
  MapReader map(ctx, field);
  if (!map.isMap()) return std::nullopt;
  AccessLogConfig out;
  if (std::optional<Field> name = map.take("name")) {
    if (std::optional<std::string> value = ctx.readString(*name)) out.name = *value;
  }
  std::optional<Field> typed_config = map.take("typed_config");
  std::optional<Field> filter = map.take("filter");
  map.finish();

  // As for filters, the type of typed_config identifies the logger and the name is a label.
  const std::optional<std::string> type = typed_config ? typeOf(*typed_config) : std::nullopt;
  const LoggerKind kind = type ? loggerByType(*type) : loggerByName(out.name);
  if (kind == LoggerKind::kOther) {
    const std::string label = type ? *type : (out.name.empty() ? "(unnamed)" : out.name);
    ctx.error(field.path, "access logger \"" + label + "\" is " + std::string(kNotSupported) +
                              " (supported: " + std::string(kSupportedLoggers) + ")");
    return std::nullopt;
  }
  bool ok = true;
  if (filter) {
    const size_t errors = ctx.errorCount();
    out.filter = readFilter(ctx, *filter);
    ok = ctx.errorCount() == errors;
  }
  if (!typed_config) {
    ctx.error(map.pathOf("typed_config"), std::string(kRequired));
    return std::nullopt;
  }
  switch (kind) {
    case LoggerKind::kFile:
      readFileAccessLog(ctx, *typed_config, out);
      break;
    case LoggerKind::kStdout:
      readStreamAccessLog(ctx, *typed_config, AccessLogConfig::Sink::kStdout, out);
      break;
    case LoggerKind::kStderr:
      readStreamAccessLog(ctx, *typed_config, AccessLogConfig::Sink::kStderr, out);
      break;
    case LoggerKind::kOther:
      break;
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::vector<AccessLogConfig> readAccessLogs(Context& ctx, const Field& field) {
  std::vector<AccessLogConfig> out;
  for (const Field& item : ctx.readSequence(field)) {
    if (std::optional<AccessLogConfig> entry = readAccessLog(ctx, item)) {
      out.push_back(std::move(*entry));
    }
  }
  return out;
}

}  // namespace wslb::config
