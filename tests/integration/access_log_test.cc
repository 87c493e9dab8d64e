// The access log through the real server: one line per WebSocket when it closes, and one per
// refused upgrade, with Envoy's operators and wslb's WebSocket ones.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace wslb::test {
namespace {

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(AccessLogTest, OneLinePerWebSocketAndPerRefusal) {
  auto backends = startEchoBackends(1);
  const std::string dir = makeTempDir();
  const std::string path = dir + "/access.log";
  ConfigSpec spec;
  spec.ports = {backends[0]->port()};
  spec.per_host_max = 1;
  std::string yaml = makeConfig(spec);
  const std::string filters = "          http_filters:\n";
  yaml.replace(
      yaml.find(filters), filters.size(),
      "          access_log:\n"
      "          - name: envoy.access_loggers.file\n"
      "            typed_config:\n"
      "              \"@type\": type.googleapis.com/"
      "envoy.extensions.access_loggers.file.v3.FileAccessLog\n"
      "              path: " +
          path +
          "\n"
          "              log_format:\n"
          "                text_format_source:\n"
          "                  inline_string: \"%RESPONSE_CODE% %RESPONSE_FLAGS% "
          "%WS_MESSAGES_RECEIVED% %WS_MESSAGES_SENT% %WS_CLOSE_CODE_DOWNSTREAM% "
          "%WS_CLOSE_CODE_UPSTREAM% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %REQ(:PATH)%\\n\"\n" +
          filters);
  {
    InProcessWslb wslb(yaml);
    {
      WsClient client(wslb.port(), "/chat");
      for (const char* m : {"one", "two", "three"}) {
        client.sendText(m);
        ASSERT_EQ(client.receive(), m);
      }
      // The pod is full: this upgrade is refused (overflow).
      EXPECT_EQ(rawRequest(wslb.port(), upgradeRequest("/full")).status, 503u);
      EXPECT_EQ(client.close(1000), 1000);
    }
    ASSERT_TRUE(waitFor([&] { return lines(path).size() == 2; }));

    // Log rotation: the file is renamed, POST /reopen_logs, and the next line goes to a new file.
    ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
    unsigned status = 0;
    wslb.admin("/reopen_logs", "POST", &status);
    EXPECT_EQ(status, 200u);
    EXPECT_EQ(rawRequest(wslb.port(),
                         "GET /after HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: bad\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n")
                  .status,
              400u);
    ASSERT_TRUE(waitFor([&] { return lines(path).size() == 1; }));
    EXPECT_EQ(lines(path)[0], "400 - 0 0 - - - backend /after");
  }
  EXPECT_EQ(lines(path).size(), 1u);
  const std::string upstream = "127.0.0.1:" + std::to_string(backends[0]->port());
  // Two workers write their lines as their connections end: the refusal's line is written after
  // its response was sent, so it may come after the WebSocket's.
  EXPECT_THAT(lines(path + ".1"), ::testing::UnorderedElementsAre(
                                      "503 UO 0 0 - - - backend /full",
                                      ::testing::MatchesRegex("101 (UC|DC) 3 3 1000 1000 " +
                                                              upstream + " backend /chat")));
}

}  // namespace
}  // namespace wslb::test
