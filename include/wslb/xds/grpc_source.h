#pragma once
// EDS over a gRPC stream to a control plane: state of the world or delta, on the endpoint
// service or the aggregated (ADS) one.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "envoy/config/core/v3/base.pb.h"
#include "wslb/config/bootstrap.h"
#include "wslb/xds/backoff.h"
#include "wslb/xds/eds_applier.h"
#include "wslb/xds/source.h"

namespace wslb::xds {

/// Which gRPC method carries the stream.
enum class GrpcFlavor {
  kSotw,      ///< EndpointDiscoveryService/StreamEndpoints
  kDelta,     ///< EndpointDiscoveryService/DeltaEndpoints
  kAdsSotw,   ///< AggregatedDiscoveryService/StreamAggregatedResources
  kAdsDelta,  ///< AggregatedDiscoveryService/DeltaAggregatedResources
};

/// Runs one stream at a time on its own thread: subscribe, apply and ACK/NACK every response;
/// when the stream ends, count a failure, wait a jittered backoff and reconnect, resending the
/// last accepted version (SotW) or the per-resource versions (delta). The endpoints last applied
/// stay in use meanwhile.
class GrpcSource final : public Source {
 public:
  /// @param channel to the control plane (see makeXdsChannel()).
  /// @param applier the targets this stream serves; must outlive the source.
  GrpcSource(GrpcFlavor flavor, std::string xds_cluster, std::shared_ptr<grpc::Channel> channel,
             const config::ApiConfigSource& api, envoy::config::core::v3::Node node,
             EdsApplier& applier);
  ~GrpcSource() override;

  void start() override;
  void stop() override;
  bool isGrpc() const override { return true; }
  bool connected() const override { return connected_.load(); }
  std::string describe() const override;

 private:
  void run();
  grpc::Status runSotw(grpc::ClientContext& context);
  grpc::Status runDelta(grpc::ClientContext& context);
  /// Waits `delay` unless stop() is called first. @return false when stopping.
  bool sleepFor(std::chrono::milliseconds delay);

  const GrpcFlavor flavor_;
  const std::string xds_cluster_;
  const std::shared_ptr<grpc::Channel> channel_;
  const config::ApiConfigSource api_;
  const envoy::config::core::v3::Node node_;
  EdsApplier& applier_;
  JitteredBackoff backoff_;
  std::string last_version_;  ///< SotW: last accepted version_info (source thread only).
  std::atomic<bool> connected_{false};

  std::mutex mutex_;  ///< guards stopping_ and context_.
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* context_ = nullptr;  ///< the live stream's, for TryCancel().
  std::thread thread_;
};

/// A channel to the endpoints of static cluster `cluster` (plaintext HTTP/2), with gRPC's own
/// reconnect backoff bounded by the source's retry policy.
std::shared_ptr<grpc::Channel> makeXdsChannel(const config::Cluster& cluster,
                                              const config::ApiConfigSource& api);

}  // namespace wslb::xds
