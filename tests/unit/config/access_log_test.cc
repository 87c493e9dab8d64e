#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config_test_util.h"
#include "wslb/config/loader.h"

namespace wslb::config {
namespace {

using ::testing::ElementsAre;
using testing::errorsOf;
using testing::hcmBody;
using ::testing::IsEmpty;
using testing::kHcmPath;
using testing::loadHcm;
using testing::warningsOf;

const std::string kLog = std::string(kHcmPath) + ".access_log";
constexpr std::string_view kFileType =
    "'@type': type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";

/// An HCM whose access_log is `[entries]` (flow style).
LoadResult loadAccessLogs(std::string_view entries) {
  return loadHcm(hcmBody("access_log: [" + std::string(entries) + "]"));
}

/// A file logger entry with `typed_config` keys `body` (after path /tmp/a.log).
std::string fileLog(std::string_view body) {
  std::string typed = "{" + std::string(kFileType) + ", path: /tmp/a.log";
  if (!body.empty()) typed += ", " + std::string(body);
  return "{name: envoy.access_loggers.file, typed_config: " + typed + "}}";
}

const std::vector<AccessLogConfig>& logsOf(const LoadResult& r) {
  return r.bootstrap->listeners.at(0).hcm.access_logs;
}

constexpr std::string_view kEnvoyStyle = R"(
static_resources:
  clusters:
  - name: chat
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 9001 } } }
  listeners:
  - name: ws
    address: { socket_address: { address: 0.0.0.0, port_value: 8080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ws
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: /var/log/wslb/access.log
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] %RESPONSE_CODE% %RESPONSE_FLAGS% %WS_MESSAGES_RECEIVED%\n"
          - name: envoy.access_loggers.stdout
            filter:
              status_code_filter:
                comparison: { op: GE, value: { default_value: 500, runtime_key: access_log.min_status } }
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                omit_empty_values: true
                json_format_options: { sort_properties: true }
                content_type: application/json
                json_format:
                  code: "%RESPONSE_CODE%"
                  ws:
                    in: "%WS_MESSAGES_RECEIVED%"
                    close: ["%WS_CLOSE_CODE_DOWNSTREAM%", "%WS_CLOSE_CODE_UPSTREAM%"]
          - name: envoy.access_loggers.stderr
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - name: ws_route
                match: { prefix: "/" }
                route: { cluster: chat }
          http_filters:
          - name: envoy.filters.http.router
)";

TEST(AccessLogConfigTest, EnvoyStyleEntries) {
  LoadResult r = loadBootstrapFromString(kEnvoyStyle);
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const std::vector<AccessLogConfig>& logs = logsOf(r);
  ASSERT_EQ(logs.size(), 3u);

  EXPECT_EQ(logs[0].name, "envoy.access_loggers.file");
  EXPECT_EQ(logs[0].sink, AccessLogConfig::Sink::kFile);
  EXPECT_EQ(logs[0].path, "/var/log/wslb/access.log");
  EXPECT_EQ(logs[0].format.kind, AccessLogFormat::Kind::kText);
  EXPECT_EQ(logs[0].format.text,
            "[%START_TIME%] %RESPONSE_CODE% %RESPONSE_FLAGS% %WS_MESSAGES_RECEIVED%\n");
  EXPECT_FALSE(logs[0].filter.has_value());

  EXPECT_EQ(logs[1].sink, AccessLogConfig::Sink::kStdout);
  const AccessLogFormat& json = logs[1].format;
  EXPECT_EQ(json.kind, AccessLogFormat::Kind::kJson);
  EXPECT_TRUE(json.typed_json);
  EXPECT_TRUE(json.omit_empty_values);
  EXPECT_TRUE(json.sort_properties);
  ASSERT_EQ(json.json.children.size(), 2u);
  EXPECT_EQ(json.json.children[0].key, "code");
  EXPECT_EQ(json.json.children[0].format, "%RESPONSE_CODE%");
  const AccessLogJsonValue& ws = json.json.children[1];
  EXPECT_EQ(ws.kind, AccessLogJsonValue::Kind::kObject);
  ASSERT_EQ(ws.children.size(), 2u);
  EXPECT_EQ(ws.children[1].kind, AccessLogJsonValue::Kind::kList);
  ASSERT_EQ(ws.children[1].children.size(), 2u);
  EXPECT_EQ(ws.children[1].children[1].format, "%WS_CLOSE_CODE_UPSTREAM%");
  ASSERT_TRUE(logs[1].filter.has_value());
  EXPECT_EQ(logs[1].filter->kind, AccessLogFilter::Kind::kStatusCode);
  EXPECT_EQ(logs[1].filter->op, AccessLogFilter::Op::kGe);
  EXPECT_EQ(logs[1].filter->value, 500u);

  EXPECT_EQ(logs[2].sink, AccessLogConfig::Sink::kStderr);
  EXPECT_EQ(logs[2].format.kind, AccessLogFormat::Kind::kDefault);

  EXPECT_EQ(r.bootstrap->listeners[0].hcm.virtual_hosts[0].routes[0].name, "ws_route");
}

TEST(AccessLogConfigTest, NoAccessLogByDefault) {
  LoadResult r = loadHcm(hcmBody());
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(logsOf(r), IsEmpty());
  r = loadHcm(hcmBody("access_log: []"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(logsOf(r), IsEmpty());
  EXPECT_THAT(warningsOf(r), IsEmpty());
}

TEST(AccessLogConfigTest, FormatFields) {
  LoadResult r = loadAccessLogs(fileLog(""));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(logsOf(r)[0].format.kind, AccessLogFormat::Kind::kDefault);

  // log_format.text_format: deprecated in Envoy, still accepted.
  r = loadAccessLogs(fileLog("log_format: {text_format: '%DURATION%'}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(logsOf(r)[0].format.kind, AccessLogFormat::Kind::kText);
  EXPECT_EQ(logsOf(r)[0].format.text, "%DURATION%");

  // FileAccessLog's own older fields.
  r = loadAccessLogs(fileLog("format: '%BYTES_SENT%'"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(logsOf(r)[0].format.text, "%BYTES_SENT%");
  r = loadAccessLogs(fileLog("json_format: {code: '%RESPONSE_CODE%'}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(logsOf(r)[0].format.kind, AccessLogFormat::Kind::kJson);
  EXPECT_FALSE(logsOf(r)[0].format.typed_json);
  r = loadAccessLogs(fileLog("typed_json_format: {code: '%RESPONSE_CODE%'}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_TRUE(logsOf(r)[0].format.typed_json);
  EXPECT_THAT(warningsOf(r), IsEmpty());
}

TEST(AccessLogConfigTest, LoggersRecognisedByNameWithoutType) {
  LoadResult r = loadAccessLogs(
      "{name: envoy.access_loggers.stdout, typed_config: {}}, "
      "{name: envoy.access_loggers.stderr, typed_config: {log_format: {text_format: x}}}, "
      "{name: envoy.file_access_log, typed_config: {path: /tmp/b.log}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  ASSERT_EQ(logsOf(r).size(), 3u);
  EXPECT_EQ(logsOf(r)[0].sink, AccessLogConfig::Sink::kStdout);
  EXPECT_EQ(logsOf(r)[1].sink, AccessLogConfig::Sink::kStderr);
  EXPECT_EQ(logsOf(r)[2].sink, AccessLogConfig::Sink::kFile);
  EXPECT_EQ(logsOf(r)[2].path, "/tmp/b.log");
}

TEST(AccessLogConfigTest, TextFormatSources) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / "wslb_access_log_format_test.txt";
  { std::ofstream(file) << "%RESPONSE_CODE% from file\n"; }
  LoadResult r = loadAccessLogs(
      fileLog("log_format: {text_format_source: {filename: " + file.string() + "}}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(logsOf(r)[0].format.text, "%RESPONSE_CODE% from file\n");
  std::filesystem::remove(file);

  setenv("WSLB_TEST_ACCESS_LOG_FORMAT", "%DURATION% from env", 1);
  r = loadAccessLogs(fileLog(
      "log_format: {text_format_source: {environment_variable: WSLB_TEST_ACCESS_LOG_FORMAT}}"));
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_EQ(logsOf(r)[0].format.text, "%DURATION% from env");

  const std::string source = kLog + "[0].typed_config.log_format.text_format_source";
  unsetenv("WSLB_TEST_ACCESS_LOG_UNSET");
  EXPECT_THAT(
      errorsOf(loadAccessLogs(fileLog("log_format: {text_format_source: {environment_variable: "
                                      "WSLB_TEST_ACCESS_LOG_UNSET}}"))),
      ElementsAre(source + ".environment_variable: environment variable "
                           "\"WSLB_TEST_ACCESS_LOG_UNSET\" is not set"));
  EXPECT_THAT(errorsOf(loadAccessLogs(
                  fileLog("log_format: {text_format_source: {filename: /nonexistent/wslb.fmt}}"))),
              ElementsAre(source + ".filename: cannot read \"/nonexistent/wslb.fmt\""));
  EXPECT_THAT(errorsOf(loadAccessLogs(
                  fileLog("log_format: {text_format_source: {inline_bytes: JURVUkFUSU9OJQ==}}"))),
              ElementsAre(source + ".inline_bytes: not supported by wslb (use inline_string for "
                                   "a format)"));
  EXPECT_THAT(errorsOf(loadAccessLogs(
                  fileLog("log_format: {text_format_source: {inline_string: '%NOPE%'}}"))),
              ElementsAre(source + ": unknown command operator %NOPE%"));
}

TEST(AccessLogConfigTest, InvalidFormatStringsNameTheirPath) {
  const std::string typed = kLog + "[0].typed_config";
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("log_format: {text_format: '%FOO% x'}"))),
              ElementsAre(typed + ".log_format.text_format: unknown command operator %FOO%"));
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("format: '%RESP(X)%'"))),
              ElementsAre(typed + ".format: command operator %RESP% is not supported by wslb"));
  EXPECT_THAT(errorsOf(loadAccessLogs(
                  fileLog("log_format: {json_format: {ok: '%DURATION%', ws: {bad: '%REQ%'}}}"))),
              ElementsAre(typed + ".log_format.json_format.ws.bad: %REQ% needs a header name: "
                                  "%REQ(name)% or %REQ(name?alternative)%"));
  EXPECT_THAT(
      errorsOf(loadAccessLogs(fileLog("log_format: {json_format: {list: ['%DURATION%', '%X%']}}"))),
      ElementsAre(typed + ".log_format.json_format.list[1]: unknown command operator %X%"));
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("log_format: {json_format: {a: ~}}"))),
              ElementsAre(typed + ".log_format.json_format.a: expected a format string, a "
                                  "mapping or a list"));
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("log_format: {json_format: '%DURATION%'}"))),
              ElementsAre(typed + ".log_format.json_format: expected a mapping"));
}

TEST(AccessLogConfigTest, OneFormatOnly) {
  const std::string typed = kLog + "[0].typed_config";
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("log_format: {text_format: x}, format: y"))),
              ElementsAre(typed + ".format: only one of log_format, format, json_format and "
                                  "typed_json_format may be set"));
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("log_format: {}"))),
              ElementsAre(typed + ".log_format: one of text_format, text_format_source or "
                                  "json_format is required"));
  EXPECT_THAT(
      errorsOf(loadAccessLogs(fileLog("log_format: {text_format: x, json_format: {a: b}}"))),
      ElementsAre(typed + ".log_format.json_format: only one of text_format, text_format_source "
                          "and json_format may be set"));
}

TEST(AccessLogConfigTest, UnsupportedLoggersAreErrors) {
  EXPECT_THAT(
      errorsOf(loadAccessLogs("{name: envoy.access_loggers.http_grpc, typed_config: {'@type': "
                              "type.googleapis.com/"
                              "envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig}}")),
      ElementsAre(kLog + "[0]: access logger "
                         "\"type.googleapis.com/"
                         "envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig\" is not "
                         "supported by wslb (supported: envoy.access_loggers.file, "
                         "envoy.access_loggers.stdout, envoy.access_loggers.stderr)"));
  EXPECT_THAT(errorsOf(loadAccessLogs("{name: envoy.access_loggers.open_telemetry}")),
              ElementsAre(kLog + "[0]: access logger \"envoy.access_loggers.open_telemetry\" is "
                                 "not supported by wslb (supported: envoy.access_loggers.file, "
                                 "envoy.access_loggers.stdout, envoy.access_loggers.stderr)"));
}

TEST(AccessLogConfigTest, StructuralErrors) {
  EXPECT_THAT(errorsOf(loadAccessLogs("{name: envoy.access_loggers.file}")),
              ElementsAre(kLog + "[0].typed_config: required field is missing"));
  EXPECT_THAT(errorsOf(loadAccessLogs("{name: envoy.access_loggers.file, typed_config: {" +
                                      std::string(kFileType) + "}}")),
              ElementsAre(kLog + "[0].typed_config.path: required field is missing"));
  EXPECT_THAT(errorsOf(loadAccessLogs(fileLog("log_format: {text_format: x, formatters: [{}]}"))),
              ElementsAre(kLog + "[0].typed_config.log_format.formatters: not supported by wslb"));
  EXPECT_THAT(errorsOf(loadHcm(hcmBody("access_log: {name: x}"))),
              ElementsAre(kLog + ": expected a sequence"));
  LoadResult r = loadAccessLogs(fileLog("bogus: 1") +
                                ", {name: envoy.access_loggers.stdout, "
                                "typed_config: {}, extra: 2}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), ElementsAre(kLog + "[0].typed_config.bogus: unknown key; ignored",
                                         kLog + "[1].extra: unknown key; ignored"));
}

TEST(AccessLogConfigTest, Filters) {
  LoadResult r = loadAccessLogs(
      "{name: envoy.access_loggers.stdout, typed_config: {}, filter: {or_filter: {filters: ["
      "{duration_filter: {comparison: {op: GE, value: {default_value: 60000}}}}, "
      "{response_flag_filter: {flags: [UO, UH]}}, "
      "{and_filter: {filters: [{not_health_check_filter: {}}, "
      "{status_code_filter: {comparison: {op: NE, value: {default_value: 101}}}}]}}]}}}");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(errorsOf(r));
  EXPECT_THAT(warningsOf(r), IsEmpty());
  const AccessLogFilter& f = *logsOf(r)[0].filter;
  EXPECT_EQ(f.kind, AccessLogFilter::Kind::kOr);
  ASSERT_EQ(f.filters.size(), 3u);
  EXPECT_EQ(f.filters[0].kind, AccessLogFilter::Kind::kDuration);
  EXPECT_EQ(f.filters[0].value, 60000u);
  EXPECT_EQ(f.filters[1].kind, AccessLogFilter::Kind::kResponseFlag);
  EXPECT_THAT(f.filters[1].response_flags, ElementsAre("UO", "UH"));
  EXPECT_EQ(f.filters[2].kind, AccessLogFilter::Kind::kAnd);
  EXPECT_EQ(f.filters[2].filters[1].op, AccessLogFilter::Op::kNe);
}

TEST(AccessLogConfigTest, FilterErrors) {
  auto errors = [](std::string_view filter) {
    return errorsOf(
        loadAccessLogs("{name: envoy.access_loggers.stdout, typed_config: {}, "
                       "filter: " +
                       std::string(filter) + "}"));
  };
  const std::string f = kLog + "[0].filter";
  EXPECT_THAT(errors("{runtime_filter: {runtime_key: x}}"),
              ElementsAre(f + ".runtime_filter: not supported by wslb"));
  EXPECT_THAT(errors("{header_filter: {header: {name: x}}}"),
              ElementsAre(f + ".header_filter: not supported by wslb"));
  EXPECT_THAT(errors("{}"),
              ElementsAre(f + ": one of status_code_filter, duration_filter, "
                              "not_health_check_filter, response_flag_filter, and_filter or "
                              "or_filter is required"));
  EXPECT_THAT(errors("{status_code_filter: {comparison: {}}, duration_filter: {comparison: {}}}"),
              ElementsAre(f + ".duration_filter: only one of status_code_filter, duration_filter, "
                              "not_health_check_filter, response_flag_filter, and_filter and "
                              "or_filter may be set"));
  EXPECT_THAT(errors("{status_code_filter: {}}"),
              ElementsAre(f + ".status_code_filter.comparison: required field is missing"));
  EXPECT_THAT(errors("{status_code_filter: {comparison: {op: GT}}}"),
              ElementsAre(f + ".status_code_filter.comparison.op: unknown value \"GT\"; expected "
                              "one of EQ, GE, LE, NE"));
  EXPECT_THAT(errors("{response_flag_filter: {flags: [UO, XX]}}"),
              ElementsAre(f + ".response_flag_filter.flags[1]: unknown response flag \"XX\""));
  EXPECT_THAT(errors("{and_filter: {filters: [{not_health_check_filter: {}}]}}"),
              ElementsAre(f + ".and_filter.filters: expected at least 2 filters"));
}

}  // namespace
}  // namespace wslb::config
