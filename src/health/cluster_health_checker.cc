#include "wslb/health/cluster_health_checker.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <unordered_set>

#include "wslb/health/active_health_state.h"

namespace wslb::health {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxResponseHeaderBytes = 16 * 1024;
}  // namespace

/// One host's check loop. Lives as long as its coroutine or the checker's map holds it.
struct ClusterHealthChecker::Session {
  Session(asio::io_context& io, upstream::HostSharedPtr h)
      : io(io),
        host(std::move(h)),
        state((host->healthFlags() & upstream::kFailedActiveHealthCheck) == 0),
        timer(io),
        deadline(io) {}

  /// Ends the loop: no further check starts and an in-flight one fails at once.
  void stop() {
    stopped = true;
    timer.cancel();
    deadline.cancel();
    error_code ec;
    if (socket) socket->close(ec);
  }

  asio::io_context& io;
  upstream::HostSharedPtr host;
  ActiveHealthState state;
  asio::steady_timer timer;     ///< the wait between checks.
  asio::steady_timer deadline;  ///< the check's timeout.
  std::optional<tcp::socket> socket;
  uint64_t check_generation = 0;  ///< tells a late deadline expiry from the current check's.
  bool stopped = false;
};

namespace {

/// One check: connect, GET, read the status line and headers. Never throws.
awaitable<CheckResult> checkOnce(std::shared_ptr<ClusterHealthChecker::Session> s,
                                 const config::HealthCheck& config,
                                 const std::string& host_header) {
  error_code ec;
  const auto address = asio::ip::make_address(s->host->ip(), ec);
  if (ec) co_return CheckResult::kNetworkFailure;
  s->socket.emplace(s->io);
  const uint64_t generation = ++s->check_generation;
  // The timeout covers the whole check: connect, request and the answer's headers.
  s->deadline.expires_after(config.timeout);
  s->deadline.async_wait([s, generation](const error_code& wec) {
    if (wec || !s->socket || s->check_generation != generation) return;
    error_code ignored;
    s->socket->close(ignored);
  });
  CheckResult result = CheckResult::kNetworkFailure;
  auto [cec] = co_await s->socket->async_connect(tcp::endpoint(address, s->host->healthCheckPort()),
                                                 kAsTuple);
  if (!cec && !s->stopped) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, config.path, 11};
    req.set(bhttp::field::host, host_header);
    req.set(bhttp::field::user_agent, "Envoy/HC");
    req.set(bhttp::field::connection, "close");
    auto [wec, wn] = co_await bhttp::async_write(*s->socket, req, kAsTuple);
    if (!wec && !s->stopped) {
      beast::flat_buffer buffer;
      bhttp::response_parser<bhttp::empty_body> parser;
      parser.header_limit(kMaxResponseHeaderBytes);
      auto [rec, rn] = co_await bhttp::async_read_header(*s->socket, buffer, parser, kAsTuple);
      if (!rec) result = classifyStatus(config, parser.get().result_int());
    }
  }
  s->deadline.cancel();
  s->socket->close(ec);
  s->socket.reset();
  co_return result;
}

}  // namespace

ClusterHealthChecker::ClusterHealthChecker(asio::io_context& io,
                                           upstream::ClusterStateSharedPtr cluster,
                                           UnhealthyCallback on_unhealthy)
    : io_(io), cluster_(std::move(cluster)), on_unhealthy_(std::move(on_unhealthy)) {}

ClusterHealthChecker::~ClusterHealthChecker() = default;

void ClusterHealthChecker::syncHosts() {
  if (stopped_) return;
  const auto set = cluster_->hostSet();
  std::unordered_set<const upstream::Host*> present;
  present.reserve(set->all_hosts.size());
  for (const auto& host : set->all_hosts) {
    present.insert(host.get());
    if (!sessions_.contains(host.get())) startSession(host);
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (present.contains(it->first)) {
      ++it;
    } else {
      it->second->stop();
      it = sessions_.erase(it);
    }
  }
}

void ClusterHealthChecker::stop() {
  stopped_ = true;
  for (auto& [host, session] : sessions_) session->stop();
  sessions_.clear();
  // Checks removed by a reload: the rebuilt host set cleared the flags, but a result that landed
  // before this stop may have set one again, and no checker would ever clear it.
  if (!cluster_->config().health_check) {
    for (const auto& host : cluster_->hostSet()->all_hosts) {
      host->setHealthFlag(upstream::kFailedActiveHealthCheck, false);
    }
  }
}

void ClusterHealthChecker::startSession(const upstream::HostSharedPtr& host) {
  auto session = std::make_shared<Session>(io_, host);
  sessions_.emplace(host.get(), session);
  auto loop = [](std::shared_ptr<ClusterHealthChecker> self,
                 std::shared_ptr<Session> s) -> awaitable<void> {
    const config::HealthCheck& config = *self->cluster_->config().health_check;
    const std::string host_header = config.host.empty() ? self->cluster_->name() : config.host;
    upstream::HealthCheckStats& stats = self->cluster_->healthCheckStats();
    if (config.initial_jitter.count() > 0) {
      s->timer.expires_after(std::chrono::milliseconds(
          self->random_.next() % static_cast<uint64_t>(config.initial_jitter.count())));
      co_await s->timer.async_wait(kAsTuple);
    }
    while (!s->stopped) {
      stats.attempt.fetch_add(1, std::memory_order_relaxed);
      const CheckResult result = co_await checkOnce(s, config, host_header);
      if (s->stopped) break;
      switch (result) {
        case CheckResult::kSuccess:
          stats.success.fetch_add(1, std::memory_order_relaxed);
          break;
        case CheckResult::kNetworkFailure:
          stats.network_failure.fetch_add(1, std::memory_order_relaxed);
          [[fallthrough]];
        case CheckResult::kFailure:
        case CheckResult::kRetriableFailure:
          stats.failure.fetch_add(1, std::memory_order_relaxed);
          break;
      }
      const HealthTransition transition =
          s->state.onResult(result, config.healthy_threshold, config.unhealthy_threshold);
      const bool healthy = s->state.healthy();
      // Set on every result, not only on a transition: the flag is the truth the pickers read,
      // and a host reused after removal may carry a stale one.
      s->host->setHealthFlag(upstream::kFailedActiveHealthCheck, !healthy);
      if (transition == HealthTransition::kChanged) {
        spdlog::info("[health] cluster '{}': {} is now {}", self->cluster_->name(),
                     s->host->addressString(), healthy ? "healthy" : "unhealthy");
        if (!healthy && self->on_unhealthy_) self->on_unhealthy_(s->host);
      }
      if (!self->had_traffic_) {
        self->had_traffic_ =
            self->cluster_->stats().upstream_cx_total.load(std::memory_order_relaxed) > 0;
      }
      const auto delay = withJitter(baseInterval(config, self->had_traffic_, healthy, transition),
                                    config, self->random_);
      s->timer.expires_after(delay);
      co_await s->timer.async_wait(kAsTuple);
    }
  };
  asio::co_spawn(io_, loop(shared_from_this(), std::move(session)), asio::detached);
}

}  // namespace wslb::health
