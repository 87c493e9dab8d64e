// wslb-floor-relay: see floor_relay.h.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "floor_relay.h"

namespace wslb::bench::floor {

int connectNextBackend(const Options& options, size_t& next) {
  const uint16_t port = options.backends[next++ % options.backends.size()];
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace wslb::bench::floor

int main(int argc, char** argv) {
  using namespace wslb::bench::floor;
  CLI::App app{"A bare TCP relay: what a proxy hop costs at least (bench/compare's floor)"};
  uint16_t port = 0;
  std::vector<uint16_t> backends;
  bool io_uring = false;
  app.add_option("--port", port, "Port to listen on, 127.0.0.1 (0: any free one)");
  app.add_option("--backend", backends, "Backend port on 127.0.0.1 (repeat it; taken in turn)");
  bool check_io_uring = false;
  app.add_flag("--io-uring", io_uring, "io_uring event loop instead of epoll");
  app.add_flag("--check-io-uring", check_io_uring,
               "Only check that the io_uring loop can be set up here: exit 0, or print why not "
               "and exit 3");
  CLI11_PARSE(app, argc, argv);
  if (check_io_uring) {
    std::string why;
    if (ioUringAvailable(why)) return 0;
    std::printf("%s\n", why.c_str());
    return 3;
  }
  if (backends.empty()) {
    std::fprintf(stderr, "wslb-floor-relay: --backend is required\n");
    return 2;
  }

  std::signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }

  Options options;
  options.backends = backends;
  options.listen_fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (io_uring ? 0 : SOCK_NONBLOCK), 0);
  const int one = 1;
  ::setsockopt(options.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Accepted sockets inherit it, as they do from wslb's listener.
  ::setsockopt(options.listen_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (::bind(options.listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(options.listen_fd, 4096) != 0 ||
      ::getsockname(options.listen_fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    std::perror("wslb-floor-relay: listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u (%s)\n", ntohs(addr.sin_port),
              io_uring ? "io_uring" : "epoll");
  std::fflush(stdout);
  return io_uring ? runIoUring(options) : runEpoll(options);
}
