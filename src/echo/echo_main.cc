// wslb-echo: the WebSocket echo backend used by the demo, the tests and the benchmarks.

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "wslb/echo/echo_server.h"

namespace {

// Thousands of connections need more descriptors than the usual soft limit of 1024.
void raiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      spdlog::warn("could not raise RLIMIT_NOFILE to {}", limit.rlim_max);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wslb-echo: WebSocket echo backend (one pod for the wslb demo and tests)"};
  wslb::echo::EchoServer::Options options;
  std::string log_level = "info";
  app.add_option("--address", options.address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port to listen on (0 = any free port)")
      ->capture_default_str();
  app.add_option("--id", options.id, "Backend id, sent as X-Backend-Id (default echo-<port>)");
  app.add_option("--reject-status", options.reject_status,
                 "Answer every WebSocket upgrade with this HTTP status instead of 101")
      ->check(CLI::Range(0u, 599u));
  app.add_option("--subprotocol", options.subprotocol,
                 "Select this subprotocol when the client offers it");
  app.add_option("--threads", options.threads, "Event-loop threads")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  app.add_option("-l,--log-level", log_level, "trace, debug, info, warning, error, critical or off")
      ->check(CLI::IsMember(
          {"trace", "debug", "info", "warn", "warning", "error", "err", "critical", "off"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // stdout carries only the "listening on" line; logs go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("wslb-echo"));
  spdlog::set_level(spdlog::level::from_str(log_level == "warning" ? "warn" : log_level));

  // Block the stop signals before any thread starts so that only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raiseFileLimit();

  try {
    wslb::echo::EchoServer server(options);
    server.start();
    std::printf("listening on %s:%u\n", options.address.c_str(),
                static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    spdlog::info("echo backend {} ready on {}:{} ({} thread(s))", server.id(), options.address,
                 server.port(), options.threads);

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    spdlog::info("signal {} received, stopping", signal_number);
    server.stop();
  } catch (const std::exception& e) {
    spdlog::error("wslb-echo: {}", e.what());
    return 1;
  }
  return 0;
}
