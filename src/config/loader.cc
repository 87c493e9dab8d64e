#include "wslb/config/loader.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <utility>

#include "config/bootstrap_section.h"
#include "config/context.h"
#include "config/merge.h"

namespace wslb::config {
namespace {

LoadResult errorResult(std::string message) {
  LoadResult result;
  result.errors.push_back(Diagnostic{"", std::move(message)});
  return result;
}

// Parses `text` (named `source` in messages). yaml-cpp reports problems by throwing; they are
// turned into an error with the line and column.
std::optional<YAML::Node> parseYaml(std::string_view text, const std::string& source,
                                    std::vector<Diagnostic>& errors) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string message = "invalid YAML in " + source;
    if (!e.mark.is_null()) {
      message += " at line " + std::to_string(e.mark.line + 1) + ", column " +
                 std::to_string(e.mark.column + 1);
    }
    errors.push_back(Diagnostic{"", message + ": " + e.msg});
  }
  return std::nullopt;
}

LoadResult convert(const YAML::Node& root) {
  LoadResult result;
  if (!root.IsDefined() || root.IsNull()) return errorResult("the configuration is empty");
  try {
    Context ctx;
    Bootstrap bootstrap = readBootstrap(ctx, root);
    result.errors = ctx.takeErrors();
    result.warnings = ctx.takeWarnings();
    if (result.errors.empty()) result.bootstrap = std::move(bootstrap);
  } catch (const std::exception& e) {
    // Not expected: every reader checks node kinds before using them.
    result.bootstrap.reset();
    result.errors.push_back(Diagnostic{"", std::string("internal error: ") + e.what()});
  }
  return result;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::optional<std::string> readFile(const std::string& path, std::vector<Diagnostic>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(
        Diagnostic{"", "cannot read config file \"" + path + "\": " + std::strerror(errno)});
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    errors.push_back(Diagnostic{"", "cannot read config file \"" + path + "\""});
    return std::nullopt;
  }
  return contents.str();
}

}  // namespace

LoadResult loadBootstrapFromString(std::string_view yaml_text) {
  try {
    std::vector<Diagnostic> errors;
    std::optional<YAML::Node> root = parseYaml(yaml_text, "the configuration", errors);
    if (!root) {
      LoadResult result;
      result.errors = std::move(errors);
      return result;
    }
    return convert(*root);
  } catch (const std::exception& e) {
    return errorResult(std::string("internal error: ") + e.what());
  }
}

LoadResult loadBootstrap(const std::string& config_path, const std::string& config_yaml) {
  try {
    if (config_path.empty() && config_yaml.empty()) {
      return errorResult("no configuration: give a config file, --config-yaml, or both");
    }
    std::vector<Diagnostic> errors;
    std::optional<YAML::Node> base;
    if (!config_path.empty()) {
      if (!endsWith(config_path, ".yaml") && !endsWith(config_path, ".yml") &&
          !endsWith(config_path, ".json")) {
        return errorResult("config file \"" + config_path +
                           "\": unsupported extension; expected .yaml, .yml or .json");
      }
      if (std::optional<std::string> text = readFile(config_path, errors)) {
        base = parseYaml(*text, "\"" + config_path + "\"", errors);
      }
    }
    std::optional<YAML::Node> overlay;
    if (!config_yaml.empty()) overlay = parseYaml(config_yaml, "--config-yaml", errors);
    if (!errors.empty()) {
      LoadResult result;
      result.errors = std::move(errors);
      return result;
    }
    if (base && overlay) return convert(mergeYaml(*base, *overlay));
    return convert(base ? *base : *overlay);
  } catch (const std::exception& e) {
    return errorResult(std::string("internal error: ") + e.what());
  }
}

}  // namespace wslb::config
