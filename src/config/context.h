#pragma once
// The machinery every config section uses: a YAML value paired with its path, a Context that
// collects diagnostics and reads typed scalars the way proto3 JSON does, and a MapReader that
// hands out a mapping's keys one by one and reports the ones nobody asked for.

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/config/bootstrap.h"
#include "wslb/config/loader.h"

namespace wslb::config {

// Messages shared by every section, so the same situation always reads the same way.
inline constexpr std::string_view kNotSupported = "not supported by wslb";
inline constexpr std::string_view kNotSupportedIgnored = "not supported by wslb; ignored";
inline constexpr std::string_view kUnknownKey = "unknown key; ignored";
inline constexpr std::string_view kRequired = "required field is missing";

/// "a.b" + "c" -> "a.b.c"; keys that are not plain identifiers are quoted: a["x.y"].
std::string childPath(std::string_view path, std::string_view key);
/// "a.b" + 2 -> "a.b[2]".
std::string indexPath(std::string_view path, size_t index);
/// ASCII upper case.
std::string asciiUpper(std::string_view text);

/// A YAML value and the path that leads to it.
struct Field {
  YAML::Node node;
  std::string path;
};

/// One value of a proto enum as wslb sees it. `value` is unset for values Envoy has and wslb
/// does not implement; they are rejected with kNotSupported.
template <typename E>
struct EnumEntry {
  std::string_view name;
  int number;  ///< proto3 JSON also accepts the enum's number.
  std::optional<E> value;
};

/// Collects errors and warnings for one conversion. Every read*() reports its own error and
/// returns nullopt (or an empty vector) when the value has the wrong type.
class Context {
 public:
  void error(std::string path, std::string message);
  void warning(std::string path, std::string message);

  size_t errorCount() const { return errors_.size(); }
  std::vector<Diagnostic> takeErrors() { return std::move(errors_); }
  std::vector<Diagnostic> takeWarnings() { return std::move(warnings_); }

  /// Any scalar; proto3 JSON string fields.
  std::optional<std::string> readString(const Field& field);
  /// A string that must not be empty (names, prefixes): "must not be empty" otherwise.
  std::optional<std::string> readNonEmptyString(const Field& field);
  /// A YAML integer or a string of digits that fits in 32 bits.
  std::optional<uint32_t> readUint32(const Field& field);
  /// true or false, or the other YAML 1.1 spellings Envoy's YAML reader takes (yes/no, on/off,
  /// y/n, in lower, Capitalised or UPPER case).
  std::optional<bool> readBool(const Field& field);
  /// A google.protobuf.Duration in its JSON form ("5s", "0.25s").
  std::optional<Duration> readDuration(const Field& field);
  /// The items of a sequence, each with its indexed path. A null value is an empty sequence.
  std::vector<Field> readSequence(const Field& field);

  template <typename E>
  std::optional<E> readEnum(const Field& field, std::initializer_list<EnumEntry<E>> table) {
    std::vector<std::string_view> supported;
    for (const EnumEntry<E>& entry : table) {
      if (entry.value) supported.push_back(entry.name);
    }
    std::optional<std::string> text = enumText(field, supported);
    if (!text) return std::nullopt;
    // Envoy parses enums case-insensitively (its JSON parse options set
    // case_insensitive_enum_parsing), so "auto" is AUTO; the number works too.
    const std::string upper = asciiUpper(*text);
    for (const EnumEntry<E>& entry : table) {
      if (upper == entry.name || *text == std::to_string(entry.number)) {
        if (!entry.value) {
          unsupportedEnumValue(field, entry.name, supported);
        }
        return entry.value;
      }
    }
    unknownEnumValue(field, *text, supported);
    return std::nullopt;
  }

 private:
  std::optional<std::string> enumText(const Field& field,
                                      const std::vector<std::string_view>& supported);
  void unsupportedEnumValue(const Field& field, std::string_view name,
                            const std::vector<std::string_view>& supported);
  void unknownEnumValue(const Field& field, std::string_view text,
                        const std::vector<std::string_view>& supported);

  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

/// Walks one YAML mapping. Keys are taken by name; whatever is left when finish() runs is
/// reported as an unknown key. A key whose value is null counts as absent (proto3 JSON reads null
/// as the default value), but it is still consumed.
class MapReader {
 public:
  /// Reports "expected a mapping" unless `field` is a mapping or null (an empty mapping).
  /// Duplicate keys and non-scalar keys are errors.
  MapReader(Context& ctx, Field field);

  bool isMap() const { return is_map_; }
  const std::string& path() const { return field_.path; }
  std::string pathOf(std::string_view key) const { return childPath(field_.path, key); }

  /// The value under `key`, unless absent or null. Marks the key as handled.
  std::optional<Field> take(std::string_view key);
  /// Like take(), but a missing key is reported as kRequired.
  std::optional<Field> require(std::string_view key);
  /// Whether `key` is present with a non-null value (handled or not).
  bool has(std::string_view key) const;

  /// Keys wslb accepts and does not need (opaque metadata and the like): no diagnostic.
  void accept(std::initializer_list<std::string_view> keys);
  /// Envoy keys that are harmless to ignore: a warning kNotSupportedIgnored.
  void ignore(std::initializer_list<std::string_view> keys);
  /// Envoy keys whose absence of support would change behaviour: an error kNotSupported.
  void reject(std::initializer_list<std::string_view> keys);
  /// A bool key whose only supported value is `supported` (its default in Envoy): any other
  /// value is an error kNotSupported.
  void rejectUnless(std::string_view key, bool supported);
  /// Every key not handled yet gets a warning kNotSupportedIgnored.
  void ignoreRest();
  /// Every key not handled yet is accepted silently (free-form data owned by someone else).
  void acceptRest();
  /// Every key not handled yet gets a warning kUnknownKey. Call once, last.
  void finish();

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    bool used = false;
  };
  Entry* find(std::string_view key);
  const Entry* find(std::string_view key) const;

  Context& ctx_;
  Field field_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
};

/// The canonical text of an IPv4 or IPv6 literal ("::0001" -> "::1"); nullopt for anything
/// else, hostnames included.
std::optional<std::string> canonicalIp(std::string_view text);

}  // namespace wslb::config
