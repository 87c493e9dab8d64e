// The admin JSON helpers.

#include "admin/json_util.h"

#include <boost/json/serialize.hpp>
#include <ctime>

namespace wslb::admin {

namespace json = boost::json;

namespace {

void indent(std::string& out, size_t depth) {
  out.push_back('\n');
  out.append(depth, ' ');
}

void writePretty(std::string& out, const json::value& value, size_t depth) {
  if (const auto* object = value.if_object()) {
    if (object->empty()) {
      out += "{}";
      return;
    }
    out.push_back('{');
    bool first = true;
    for (const auto& [key, member] : *object) {
      if (!first) out.push_back(',');
      first = false;
      indent(out, depth + 1);
      out += json::serialize(json::string_view(key));
      out += ": ";
      writePretty(out, member, depth + 1);
    }
    indent(out, depth);
    out.push_back('}');
    return;
  }
  if (const auto* array = value.if_array()) {
    if (array->empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    bool first = true;
    for (const auto& element : *array) {
      if (!first) out.push_back(',');
      first = false;
      indent(out, depth + 1);
      writePretty(out, element, depth + 1);
    }
    indent(out, depth);
    out.push_back(']');
    return;
  }
  out += json::serialize(value);
}

}  // namespace

std::string prettyJson(const json::value& value) {
  std::string out;
  writePretty(out, value, 0);
  out.push_back('\n');
  return out;
}

std::string durationJson(std::chrono::milliseconds duration) {
  const int64_t ms = duration.count();
  std::string out = std::to_string(ms / 1000);
  if (const int64_t fraction = ms % 1000; fraction != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(fraction));
    out += buf;
  }
  out.push_back('s');
  return out;
}

std::string timestampJson(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buf;
}

json::object addressJson(const std::string& ip, uint32_t port) {
  return json::object{{"socket_address", json::object{{"address", ip}, {"port_value", port}}}};
}

}  // namespace wslb::admin
