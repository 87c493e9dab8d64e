#pragma once
// Active HTTP health checking of one cluster's endpoints.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <unordered_map>

#include "wslb/upstream/cluster_state.h"
#include "wslb/upstream/random.h"

namespace wslb::health {

/// Checks every endpoint of a cluster (config().health_check must be set) with HTTP/1.1 GETs on
/// a new connection each, and keeps kFailedActiveHealthCheck of each host in step with the
/// results. Endpoints are followed as they come and go: syncHosts() starts a check loop for each
/// new host (its first check at once, after initial_jitter) and stops those of removed hosts.
/// Thread safety: every method runs on the io_context's (single) thread.
class ClusterHealthChecker : public std::enable_shared_from_this<ClusterHealthChecker> {
 public:
  /// Called on the io_context's thread when a host turns unhealthy.
  using UnhealthyCallback = std::function<void(const upstream::HostSharedPtr& host)>;

  ClusterHealthChecker(boost::asio::io_context& io, upstream::ClusterStateSharedPtr cluster,
                       UnhealthyCallback on_unhealthy);
  ~ClusterHealthChecker();

  /// Starts or stops check loops to match the cluster's current host set.
  void syncHosts();
  /// Stops every check loop (closes in-flight checks). No callback runs afterwards.
  void stop();

  const upstream::ClusterStateSharedPtr& cluster() const { return cluster_; }
  /// Check loops running (hosts being checked).
  size_t sessionCount() const { return sessions_.size(); }

  /// One host's check loop (defined in the .cc).
  struct Session;

 private:
  void startSession(const upstream::HostSharedPtr& host);

  boost::asio::io_context& io_;
  const upstream::ClusterStateSharedPtr cluster_;
  const UnhealthyCallback on_unhealthy_;
  upstream::FastRandom random_;
  bool had_traffic_ = false;
  bool stopped_ = false;
  std::unordered_map<const upstream::Host*, std::shared_ptr<Session>> sessions_;
};

}  // namespace wslb::health
