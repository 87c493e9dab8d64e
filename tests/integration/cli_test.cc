// The wslb binary: Envoy's CLI, validate mode, signals and draining.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "test_paths.h"
#include "test_support.h"

namespace wslb::test {
namespace {

using namespace std::chrono_literals;

std::string readAdminAddressPort(const std::string& path) {
  std::string line;
  waitFor([&] {
    std::ifstream in(path);
    return static_cast<bool>(std::getline(in, line)) && !line.empty();
  });
  return line.substr(line.rfind(':') + 1);
}

TEST(Cli, VersionAndHelp) {
  std::string dir = makeTempDir();
  ChildProcess v({wslbBinary(), "--version"}, dir + "/v");
  EXPECT_EQ(v.wait(10s), 0);
  EXPECT_NE(v.stdoutText().find("wslb version: "), std::string::npos);
  ChildProcess h({wslbBinary(), "--help"}, dir + "/h");
  EXPECT_EQ(h.wait(10s), 0);
  for (const char* flag :
       {"--config-path", "--config-yaml", "--mode", "--log-level", "--concurrency",
        "--drain-time-s", "--service-node", "--service-cluster", "--version"}) {
    EXPECT_NE(h.stdoutText().find(flag), std::string::npos) << flag;
  }
}

TEST(Cli, UnknownFlagIsAnError) {
  std::string dir = makeTempDir();
  ChildProcess p({wslbBinary(), "--no-such-flag"}, dir + "/p");
  EXPECT_NE(p.wait(10s), 0);
  EXPECT_NE(p.stderrText().find("no-such-flag"), std::string::npos) << p.stderrText();
}

TEST(Cli, ValidateModeOkAndErrors) {
  std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = {9};
  writeFile(dir + "/good.yaml", makeConfig(spec));
  ChildProcess ok({wslbBinary(), "--mode", "validate", "-c", dir + "/good.yaml"}, dir + "/ok");
  EXPECT_EQ(ok.wait(10s), 0);
  EXPECT_NE(ok.stdoutText().find("OK"), std::string::npos);

  auto bad = makeConfig(spec);
  bad.replace(bad.find("cluster: backend"), 16, "cluster: nowhere");
  bad += "    per_host_thresholds_typo: 1\n";
  bad.replace(bad.find("max_pending_requests: 0"), 23, "max_pending_requests: -4");
  writeFile(dir + "/bad.yaml", bad);
  ChildProcess ko({wslbBinary(), "--mode", "validate", "-c", dir + "/bad.yaml"}, dir + "/ko");
  EXPECT_EQ(ko.wait(10s), 1);
  const auto err = ko.stderrText();
  EXPECT_NE(err.find("unknown cluster"), std::string::npos) << err;
  EXPECT_NE(err.find("static_resources.clusters[0].circuit_breakers.thresholds[0]."
                     "max_pending_requests: expected an unsigned integer"),
            std::string::npos)
      << err;
  EXPECT_EQ(ko.stdoutText().find("OK"), std::string::npos);
}

TEST(Cli, ConfigYamlMergesOverConfigPath) {
  std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = {9};
  writeFile(dir + "/base.yaml", makeConfig(spec));
  ChildProcess p({wslbBinary(), "--mode", "validate", "-c", dir + "/base.yaml", "--config-yaml",
                  "node: {id: merged-node}"},
                 dir + "/p");
  EXPECT_EQ(p.wait(10s), 0) << p.stderrText();
  ChildProcess bad({wslbBinary(), "--mode", "validate", "-c", dir + "/base.yaml", "--config-yaml",
                    "static_resources: {clusters: [{name: backend}]}"},
                   dir + "/bad");
  EXPECT_EQ(bad.wait(10s), 1);  // appended duplicate cluster name
}

TEST(Cli, ServesThenDrainsOnSigterm) {
  auto backends = startEchoBackends(2);
  std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  const uint16_t port = writeConfigOnFreePort(dir + "/wslb.yaml", spec);
  ChildProcess p({wslbBinary(), "-c", dir + "/wslb.yaml", "--concurrency", "2", "-l", "debug",
                  "--drain-time-s", "20", "--admin-address-path", dir + "/admin.txt"},
                 dir + "/wslb");
  const std::string admin_port = readAdminAddressPort(dir + "/admin.txt");
  ASSERT_FALSE(admin_port.empty()) << p.stderrText();
  ASSERT_TRUE(waitUntilReady(static_cast<uint16_t>(std::stoi(admin_port)))) << p.stderrText();
  auto c = std::make_unique<WsClient>(port);
  c->sendText("before");
  EXPECT_EQ(c->receive(), "before");

  p.signal(SIGTERM);
  // Draining: the open WebSocket keeps working, new connections are refused.
  std::this_thread::sleep_for(300ms);
  c->sendText("during drain");
  EXPECT_EQ(c->receive(), "during drain");
  EXPECT_THROW(WsClient{port}, std::exception);
  EXPECT_EQ(p.wait(100ms), -1);  // still running while the connection is open
  c->close(1000);
  EXPECT_EQ(p.wait(15s), 0) << p.stderrText();
  const auto log = p.stderrText();
  EXPECT_NE(log.find("][info][main] wslb version"), std::string::npos) << log;
  EXPECT_NE(log.find("caught SIGTERM"), std::string::npos);
}

TEST(Cli, DrainTimeBoundsTheWait) {
  auto backends = startEchoBackends(1);
  std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  const uint16_t port = writeConfigOnFreePort(dir + "/wslb.yaml", spec);
  ChildProcess p(
      {wslbBinary(), "-c", dir + "/wslb.yaml", "--concurrency", "1", "--drain-time-s", "1"},
      dir + "/wslb");
  ASSERT_TRUE(waitFor([&] {
    try {
      WsClient probe{port};
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }));
  WsClient held(port);
  ASSERT_TRUE(waitFor([&] { return backends[0]->active() >= 1; }));
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(15s), 0);
  EXPECT_TRUE(waitFor([&] { return backends[0]->active() == 0; }));
}

TEST(Cli, SigtermSends1001ToWhatIsStillOpenAfterTheDrainTime) {
  auto backends = startEchoBackends(1);
  std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = portsOf(backends);
  const uint16_t port = writeConfigOnFreePort(dir + "/wslb.yaml", spec);
  ChildProcess p({wslbBinary(), "-c", dir + "/wslb.yaml", "--concurrency", "2", "--drain-time-s",
                  "1", "--drain-window-s", "1"},
                 dir + "/wslb");
  ASSERT_TRUE(waitFor([&] {
    try {
      WsClient probe{port};
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }));
  WsClient held(port);
  held.sendText("before");
  EXPECT_EQ(held.receive(), "before");
  p.signal(SIGTERM);
  EXPECT_EQ(held.awaitClose(), 1001);
  EXPECT_EQ(p.wait(15s), 0) << p.stderrText();
  EXPECT_TRUE(waitFor([&] { return backends[0]->active() == 0; }));
  EXPECT_NE(p.stderrText().find("drain time over: Close 1001 to 1 connection(s) over 1000 ms"),
            std::string::npos)
      << p.stderrText();
}

TEST(Cli, LogPathAndLogFormat) {
  std::string dir = makeTempDir();
  ConfigSpec spec;
  spec.ports = {9};
  writeFile(dir + "/wslb.yaml", makeConfig(spec));
  ChildProcess p({wslbBinary(), "-c", dir + "/wslb.yaml", "--concurrency", "1", "--log-path",
                  dir + "/wslb.log", "--log-format", "%l|%v", "--component-log-level",
                  "upstream:debug", "--disable-hot-restart", "--drain-strategy", "immediate"},
                 dir + "/p");
  std::string log;
  ASSERT_TRUE(waitFor([&] {
    std::ifstream in(dir + "/wslb.log");
    log.assign(std::istreambuf_iterator<char>(in), {});
    return log.find("info|[main] listener 'ws'") != std::string::npos;
  })) << log
      << p.stderrText();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(15s), 0);
  EXPECT_EQ(p.stderrText(), "");  // everything went to the file
}

TEST(Cli, InvalidConfigFailsToStartWithItsPath) {
  std::string dir = makeTempDir();
  writeFile(dir + "/bad.yaml", "static_resources: {clusters: [{name: c, connect_timeout: 5}]}\n");
  ChildProcess p({wslbBinary(), "-c", dir + "/bad.yaml"}, dir + "/p");
  EXPECT_EQ(p.wait(10s), 1);
  EXPECT_NE(p.stderrText().find("static_resources.clusters[0].connect_timeout"), std::string::npos)
      << p.stderrText();
}

}  // namespace
}  // namespace wslb::test
