#include "wslb/xds/discovery_file.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include <regex>
#include <stdexcept>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace wslb::xds {
namespace {

bool endsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A JSON string literal for `text`, escaped by Boost.JSON.
void appendJsonString(std::string& out, const std::string& text) {
  out += boost::json::serialize(boost::json::value(boost::json::string_view(text)));
}

void appendScalar(std::string& out, const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") {  // quoted: always a string
    appendJsonString(out, text);
    return;
  }
  static const std::regex kNumber(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  if (text == "true" || text == "false" || text == "null") {
    out += text;
  } else if (text == "~" || text == "True" || text == "False" || text == "Null" || text == "NULL" ||
             text == "TRUE" || text == "FALSE") {
    out += text == "~" || text[0] == 'N' ? "null" : (text[0] == 'T' ? "true" : "false");
  } else if (std::regex_match(text, kNumber)) {
    out += text;
  } else {
    appendJsonString(out, text);
  }
}

void appendNode(std::string& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out += "null";
      return;
    case YAML::NodeType::Scalar:
      appendScalar(out, node);
      return;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const YAML::Node& item : node) {
        if (!first) out += ',';
        first = false;
        appendNode(out, item);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& entry : node) {
        if (!first) out += ',';
        first = false;
        appendJsonString(out, entry.first.as<std::string>());
        out += ':';
        appendNode(out, entry.second);
      }
      out += '}';
      return;
    }
  }
}

std::string parseJson(const std::string& json,
                      envoy::service::discovery::v3::DiscoveryResponse& out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &out, options);
  if (!status.ok()) return "invalid DiscoveryResponse: " + std::string(status.message());
  return {};
}

}  // namespace

std::string yamlToJson(const std::string& yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null()) {
      where = " at line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1);
    }
    throw std::runtime_error("invalid YAML" + where + ": " + e.msg);
  }
  std::string out;
  appendNode(out, root);
  return out;
}

std::string parseDiscoveryFile(const std::string& path, const std::string& content,
                               envoy::service::discovery::v3::DiscoveryResponse& out) {
  out.Clear();
  if (endsWith(path, ".pb")) {
    if (!out.ParseFromString(content)) return "invalid binary DiscoveryResponse";
    return {};
  }
  if (endsWith(path, ".json")) return parseJson(content, out);
  if (endsWith(path, ".yaml") || endsWith(path, ".yml")) {
    std::string json;
    try {
      json = yamlToJson(content);
    } catch (const std::exception& e) {
      return e.what();
    }
    return parseJson(json, out);
  }
  if (endsWith(path, ".pb_text")) {
    if (!google::protobuf::TextFormat::ParseFromString(content, &out)) {
      return "invalid text-format DiscoveryResponse";
    }
    return {};
  }
  return "unsupported file extension: expected .yaml, .yml, .json, .pb or .pb_text";
}

}  // namespace wslb::xds
