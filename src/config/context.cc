#include "config/context.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

namespace wslb::config {
namespace {

bool isPlainKey(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '@';
  });
}

std::string joinNames(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// An empty sequence is the same as an absent repeated field, so it needs no diagnostic.
bool isEmptySequence(const YAML::Node& node) {
  return node.IsSequence() && node.size() == 0;
}

// The boolean words of YAML 1.1, which Envoy's YAML reader (yaml-cpp) accepts.
std::optional<bool> yamlBool(std::string_view text) {
  static constexpr std::string_view kTrue[] = {"y", "yes", "on", "true"};
  static constexpr std::string_view kFalse[] = {"n", "no", "off", "false"};
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Each word in lower case, Capitalised or UPPER case, but not mixed ("tRuE").
  std::string capitalised = lower;
  if (!capitalised.empty())
    capitalised[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(capitalised[0])));
  if (text != lower && text != capitalised && text != asciiUpper(lower)) return std::nullopt;
  for (std::string_view word : kTrue) {
    if (lower == word) return true;
  }
  for (std::string_view word : kFalse) {
    if (lower == word) return false;
  }
  return std::nullopt;
}

}  // namespace

std::string childPath(std::string_view path, std::string_view key) {
  std::string out(path);
  if (isPlainKey(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += "[\"";
    out += key;
    out += "\"]";
  }
  return out;
}

std::string asciiUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string indexPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

void Context::error(std::string path, std::string message) {
  errors_.push_back(Diagnostic{std::move(path), std::move(message)});
}

void Context::warning(std::string path, std::string message) {
  warnings_.push_back(Diagnostic{std::move(path), std::move(message)});
}

std::optional<std::string> Context::readString(const Field& field) {
  if (!field.node.IsScalar()) {
    error(field.path, "expected a string");
    return std::nullopt;
  }
  return field.node.Scalar();
}

std::optional<std::string> Context::readNonEmptyString(const Field& field) {
  std::optional<std::string> value = readString(field);
  if (value && value->empty()) {
    error(field.path, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<uint32_t> Context::readUint32(const Field& field) {
  static constexpr std::string_view kMessage = "expected an unsigned integer";
  if (!field.node.IsScalar()) {
    error(field.path, std::string(kMessage));
    return std::nullopt;
  }
  const std::string& text = field.node.Scalar();
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    error(field.path, std::string(kMessage));
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > std::numeric_limits<uint32_t>::max()) {
      error(field.path, std::string(kMessage) + " no larger than 4294967295");
      return std::nullopt;
    }
  }
  return static_cast<uint32_t>(value);
}

std::optional<bool> Context::readBool(const Field& field) {
  if (field.node.IsScalar()) {
    if (std::optional<bool> value = yamlBool(field.node.Scalar())) return value;
  }
  error(field.path, "expected true or false");
  return std::nullopt;
}

std::optional<Duration> Context::readDuration(const Field& field) {
  std::optional<Duration> value;
  if (field.node.IsScalar()) value = parseDuration(field.node.Scalar());
  if (!value) error(field.path, "expected a duration such as \"5s\"");
  return value;
}

std::vector<Field> Context::readSequence(const Field& field) {
  std::vector<Field> items;
  if (field.node.IsNull()) return items;
  if (!field.node.IsSequence()) {
    error(field.path, "expected a sequence");
    return items;
  }
  items.reserve(field.node.size());
  for (size_t i = 0; i < field.node.size(); ++i) {
    items.push_back(Field{field.node[i], indexPath(field.path, i)});
  }
  return items;
}

std::optional<std::string> Context::enumText(const Field& field,
                                             const std::vector<std::string_view>& supported) {
  if (!field.node.IsScalar()) {
    error(field.path, "expected one of " + joinNames(supported));
    return std::nullopt;
  }
  return field.node.Scalar();
}

void Context::unsupportedEnumValue(const Field& field, std::string_view name,
                                   const std::vector<std::string_view>& supported) {
  error(field.path, std::string(name) + " is " + std::string(kNotSupported) +
                        " (supported: " + joinNames(supported) + ")");
}

void Context::unknownEnumValue(const Field& field, std::string_view text,
                               const std::vector<std::string_view>& supported) {
  error(field.path,
        "unknown value \"" + std::string(text) + "\"; expected one of " + joinNames(supported));
}

MapReader::MapReader(Context& ctx, Field field) : ctx_(ctx), field_(std::move(field)) {
  if (field_.node.IsNull()) {
    is_map_ = true;
    return;
  }
  if (!field_.node.IsMap()) {
    ctx_.error(field_.path, "expected a mapping");
    return;
  }
  is_map_ = true;
  for (auto it = field_.node.begin(); it != field_.node.end(); ++it) {
    if (!it->first.IsScalar()) {
      ctx_.error(field_.path, "keys must be strings");
      continue;
    }
    std::string key = it->first.Scalar();
    if (find(key) != nullptr) {
      ctx_.error(childPath(field_.path, key), "duplicate key");
      continue;
    }
    entries_.push_back(Entry{std::move(key), it->second});
  }
}

MapReader::Entry* MapReader::find(std::string_view key) {
  for (Entry& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

const MapReader::Entry* MapReader::find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

std::optional<Field> MapReader::take(std::string_view key) {
  Entry* entry = find(key);
  if (entry == nullptr) return std::nullopt;
  entry->used = true;
  if (entry->value.IsNull()) return std::nullopt;
  return Field{entry->value, childPath(field_.path, key)};
}

std::optional<Field> MapReader::require(std::string_view key) {
  std::optional<Field> field = take(key);
  if (!field && is_map_) ctx_.error(childPath(field_.path, key), std::string(kRequired));
  return field;
}

bool MapReader::has(std::string_view key) const {
  const Entry* entry = find(key);
  return entry != nullptr && !entry->value.IsNull();
}

void MapReader::accept(std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) take(key);
}

// Both report in document order, which is the order a reader of the file expects.
void MapReader::ignore(std::initializer_list<std::string_view> keys) {
  for (Entry& entry : entries_) {
    if (entry.used || std::find(keys.begin(), keys.end(), entry.key) == keys.end()) continue;
    entry.used = true;
    if (entry.value.IsNull() || isEmptySequence(entry.value)) continue;
    ctx_.warning(childPath(field_.path, entry.key), std::string(kNotSupportedIgnored));
  }
}

void MapReader::reject(std::initializer_list<std::string_view> keys) {
  for (Entry& entry : entries_) {
    if (entry.used || std::find(keys.begin(), keys.end(), entry.key) == keys.end()) continue;
    entry.used = true;
    if (entry.value.IsNull() || isEmptySequence(entry.value)) continue;
    ctx_.error(childPath(field_.path, entry.key), std::string(kNotSupported));
  }
}

void MapReader::rejectUnless(std::string_view key, bool supported) {
  std::optional<Field> field = take(key);
  if (!field) return;
  std::optional<bool> value = ctx_.readBool(*field);
  if (value && *value != supported) {
    ctx_.error(field->path, (*value ? "true is " : "false is ") + std::string(kNotSupported));
  }
}

void MapReader::ignoreRest() {
  for (Entry& entry : entries_) {
    if (entry.used) continue;
    entry.used = true;
    ctx_.warning(childPath(field_.path, entry.key), std::string(kNotSupportedIgnored));
  }
}

void MapReader::acceptRest() {
  for (Entry& entry : entries_) entry.used = true;
}

void MapReader::finish() {
  for (Entry& entry : entries_) {
    if (entry.used) continue;
    entry.used = true;
    ctx_.warning(childPath(field_.path, entry.key), std::string(kUnknownKey));
  }
}

std::optional<std::string> canonicalIp(std::string_view text) {
  std::string input(text);
  char buffer[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (inet_pton(AF_INET, input.c_str(), &v4) == 1) {
    if (inet_ntop(AF_INET, &v4, buffer, sizeof(buffer)) == nullptr) return std::nullopt;
    return std::string(buffer);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, input.c_str(), &v6) == 1) {
    if (inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer)) == nullptr) return std::nullopt;
    return std::string(buffer);
  }
  return std::nullopt;
}

}  // namespace wslb::config
