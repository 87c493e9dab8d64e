#include "wslb/xds/discovery_file.h"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <stdexcept>

#include "envoy/service/discovery/v3/discovery.pb.h"

namespace wslb::xds {
namespace {

bool endsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
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
