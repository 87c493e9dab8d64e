#pragma once
// Helpers shared by the access log tests: a record with every field set, formats built from
// strings, and a temporary directory with real files.

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wslb/accesslog/formatter.h"
#include "wslb/accesslog/record.h"
#include "wslb/accesslog/request_headers.h"
#include "wslb/config/bootstrap.h"

namespace wslb::accesslog::testing {

using namespace std::chrono_literals;

/// 2016-04-15T20:17:00.310123456Z, the moment in Envoy's documented example line.
inline std::chrono::system_clock::time_point exampleTime() {
  using namespace std::chrono;
  return sys_days{year{2016} / April / 15} + 20h + 17min + 310123456ns;
}

inline boost::asio::ip::tcp::endpoint endpoint(const char* ip, unsigned short port) {
  return {boost::asio::ip::make_address(ip), port};
}

/// A finished WebSocket with every field known.
inline AccessLogRecord webSocketRecord() {
  AccessLogRecord r;
  r.start_time = exampleTime();
  r.duration = 1234567890ns;  // 1234 ms
  r.request_duration = 5ms;
  r.response_duration = 12ms + 999us;
  r.response_code = 101;
  r.bytes_received = 154;
  r.bytes_sent = 226;
  r.messages_received = 7;
  r.messages_sent = 9;
  r.downstream_close_code = 1000;
  r.upstream_close_code = 1001;
  r.upstream_address = endpoint("10.0.2.1", 8080);
  r.upstream_hostname = "chat-0";
  r.upstream_cluster = "chat";
  r.upstream_attempts = 2;
  r.upstream_transport_failure_reason = "Connection refused";
  r.downstream_remote_address = endpoint("10.0.35.28", 51234);
  r.downstream_local_address = endpoint("10.0.0.5", 10000);
  r.connection_id = 42;
  r.protocol = Protocol::kHttp11;
  r.route_name = "ws_route";
  return r;
}

/// Header values by name, as a lookup for HeaderRegistry::capture().
using Headers = std::map<std::string, std::string>;

inline void capture(const HeaderRegistry& registry, const Headers& headers,
                    AccessLogRecord& record) {
  registry.capture(record, [&](std::string_view name) -> std::optional<std::string_view> {
    auto it = headers.find(std::string(name));
    if (it == headers.end()) return std::nullopt;
    return std::string_view(it->second);
  });
}

inline config::AccessLogFormat textFormat(std::string_view text, bool omit_empty = false) {
  config::AccessLogFormat format;
  format.kind = config::AccessLogFormat::Kind::kText;
  format.text = std::string(text);
  format.omit_empty_values = omit_empty;
  return format;
}

/// The line `format` gives for `record` with `headers`.
inline std::string render(const config::AccessLogFormat& format, AccessLogRecord record,
                          const Headers& headers = {}) {
  HeaderRegistry registry;
  FormatterPtr formatter = Formatter::create(format, registry);
  capture(registry, headers, record);
  std::string out;
  formatter->format(record, out);
  return out;
}

inline std::string renderText(std::string_view text, const AccessLogRecord& record,
                              const Headers& headers = {}) {
  return render(textFormat(text), record, headers);
}

/// A json_format leaf.
inline config::AccessLogJsonValue jsonLeaf(std::string key, std::string format) {
  config::AccessLogJsonValue v;
  v.kind = config::AccessLogJsonValue::Kind::kFormat;
  v.key = std::move(key);
  v.format = std::move(format);
  return v;
}

/// A json_format object or list with `children`.
inline config::AccessLogJsonValue jsonNode(config::AccessLogJsonValue::Kind kind, std::string key,
                                           std::vector<config::AccessLogJsonValue> children) {
  config::AccessLogJsonValue v;
  v.kind = kind;
  v.key = std::move(key);
  v.children = std::move(children);
  return v;
}

inline config::AccessLogFormat jsonFormat(std::vector<config::AccessLogJsonValue> members,
                                          bool typed = true) {
  config::AccessLogFormat format;
  format.kind = config::AccessLogFormat::Kind::kJson;
  format.json = jsonNode(config::AccessLogJsonValue::Kind::kObject, "", std::move(members));
  format.typed_json = typed;
  return format;
}

/// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wslb-accesslog-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace wslb::accesslog::testing
