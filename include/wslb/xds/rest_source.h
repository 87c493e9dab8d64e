#pragma once
// EDS over REST: POST /v3/discovery:endpoints with a proto3-JSON DiscoveryRequest every
// refresh_delay.

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "envoy/config/core/v3/base.pb.h"
#include "wslb/config/bootstrap.h"
#include "wslb/xds/eds_applier.h"
#include "wslb/xds/source.h"

namespace wslb::xds {

/// Polls a REST control plane (HTTP/1.1, plaintext) on its own thread. Each request carries the
/// last accepted version_info and, after a rejected response, its error_detail, as Envoy's REST
/// client does. HTTP 304 means nothing changed. A failed or timed-out poll counts update_failure
/// and keeps the endpoints; polls continue every refresh_delay, cycling through the xDS cluster's
/// endpoints on failure.
class RestSource final : public Source {
 public:
  RestSource(const config::Cluster& xds_cluster, const config::ApiConfigSource& api,
             envoy::config::core::v3::Node node, EdsApplier& applier);
  ~RestSource() override;

  void start() override;
  void stop() override;
  std::string describe() const override;

 private:
  void run();
  /// One POST. @return the response body on HTTP 200, or nullopt: `not_modified` for HTTP 304
  /// (the control plane has nothing newer), otherwise the reason in `error`.
  std::optional<std::string> post(const config::SocketAddress& target, const std::string& body,
                                  std::string& error, bool& not_modified);

  const std::vector<config::SocketAddress> targets_;
  const std::string xds_cluster_;
  const config::ApiConfigSource api_;
  const envoy::config::core::v3::Node node_;
  EdsApplier& applier_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace wslb::xds
