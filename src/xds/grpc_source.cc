#include "wslb/xds/grpc_source.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <spdlog/spdlog.h>

#include "envoy/service/discovery/v3/ads.grpc.pb.h"
#include "envoy/service/endpoint/v3/eds.grpc.pb.h"
#include "wslb/xds/assignment.h"

namespace wslb::xds {
namespace {

namespace discovery_v3 = envoy::service::discovery::v3;

constexpr int kInvalidArgument = 3;  // google.rpc.Code.INVALID_ARGUMENT

bool isDelta(GrpcFlavor flavor) {
  return flavor == GrpcFlavor::kDelta || flavor == GrpcFlavor::kAdsDelta;
}

bool isAds(GrpcFlavor flavor) {
  return flavor == GrpcFlavor::kAdsSotw || flavor == GrpcFlavor::kAdsDelta;
}

const char* methodName(GrpcFlavor flavor) {
  switch (flavor) {
    case GrpcFlavor::kSotw:
      return "EndpointDiscoveryService/StreamEndpoints";
    case GrpcFlavor::kDelta:
      return "EndpointDiscoveryService/DeltaEndpoints";
    case GrpcFlavor::kAdsSotw:
      return "AggregatedDiscoveryService/StreamAggregatedResources";
    case GrpcFlavor::kAdsDelta:
      return "AggregatedDiscoveryService/DeltaAggregatedResources";
  }
  return "";
}

}  // namespace

std::shared_ptr<grpc::Channel> makeXdsChannel(const config::Cluster& cluster,
                                              const config::ApiConfigSource& api) {
  // gRPC's "ipv4:" / "ipv6:" resolvers take a comma-separated list of addresses; the channel
  // uses the first that answers (pick_first), as Envoy's static xDS cluster would.
  std::string v4;
  std::string v6;
  for (const config::Endpoint& endpoint : cluster.endpoints) {
    const std::string& ip = endpoint.address.address;
    const std::string port = std::to_string(endpoint.address.port);
    if (ip.find(':') == std::string::npos) {
      v4 += (v4.empty() ? "ipv4:" : ",") + ip + ":" + port;
    } else {
      v6 += (v6.empty() ? "ipv6:" : ",") + ("[" + ip + "]:" + port);
    }
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(api.retry_base_interval.count()));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(api.retry_base_interval.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(api.retry_max_interval.count()));
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, "wslb/" WSLB_VERSION);
  // As Envoy's xDS client: no limit on a received message (gRPC's default is 4 MiB, which a
  // ClusterLoadAssignment of some 60,000 pods with their hostnames exceeds).
  args.SetMaxReceiveMessageSize(-1);
  // Let a large response stream in without waiting on the HTTP/2 flow-control window (64 KiB at
  // first): a 10,000-endpoint update under load arrived and applied in 37 ms instead of 45.
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 * 1024 * 1024);
  return grpc::CreateCustomChannel(v4.empty() ? v6 : v4, grpc::InsecureChannelCredentials(), args);
}

GrpcSource::GrpcSource(GrpcFlavor flavor, std::string xds_cluster,
                       std::shared_ptr<grpc::Channel> channel, const config::ApiConfigSource& api,
                       envoy::config::core::v3::Node node, EdsApplier& applier)
    : flavor_(flavor),
      xds_cluster_(std::move(xds_cluster)),
      channel_(std::move(channel)),
      api_(api),
      node_(std::move(node)),
      applier_(applier),
      backoff_(api.retry_base_interval, api.retry_max_interval) {}

GrpcSource::~GrpcSource() {
  stop();
}

std::string GrpcSource::describe() const {
  return std::string("gRPC ") + methodName(flavor_) + " via cluster '" + xds_cluster_ + "'";
}

void GrpcSource::start() {
  thread_ = std::thread([this] { run(); });
}

void GrpcSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool GrpcSource::sleepFor(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void GrpcSource::run() {
  for (;;) {
    grpc::ClientContext context;
    if (api_.grpc_timeout.count() > 0) {
      context.set_deadline(std::chrono::system_clock::now() + api_.grpc_timeout);
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      context_ = &context;
    }
    const grpc::Status status = isDelta(flavor_) ? runDelta(context) : runSotw(context);
    {
      std::lock_guard lock(mutex_);
      context_ = nullptr;
      if (stopping_) return;
    }
    const bool was_connected = connected_.exchange(false);
    applier_.countFailure();
    const std::chrono::milliseconds delay = backoff_.next();
    if (was_connected) {
      spdlog::warn(
          "[xds] {}: stream closed ({}: {}); keeping the last endpoints, reconnecting "
          "in {} ms",
          describe(), static_cast<int>(status.error_code()), status.error_message(), delay.count());
    } else {
      spdlog::warn("[xds] {}: cannot reach the control plane ({}: {}); retrying in {} ms",
                   describe(), static_cast<int>(status.error_code()), status.error_message(),
                   delay.count());
    }
    if (!sleepFor(delay)) return;
  }
}

grpc::Status GrpcSource::runSotw(grpc::ClientContext& context) {
  std::unique_ptr<
      grpc::ClientReaderWriter<discovery_v3::DiscoveryRequest, discovery_v3::DiscoveryResponse>>
      stream;
  if (isAds(flavor_)) {
    stream = discovery_v3::AggregatedDiscoveryService::NewStub(channel_)->StreamAggregatedResources(
        &context);
  } else {
    stream =
        envoy::service::endpoint::v3::EndpointDiscoveryService::NewStub(channel_)->StreamEndpoints(
            &context);
  }
  discovery_v3::DiscoveryRequest request;
  *request.mutable_node() = node_;
  request.set_type_url(std::string(kEndpointTypeUrl));
  for (const std::string& name : applier_.resourceNames()) request.add_resource_names(name);
  // After a reconnect the last accepted version tells the server what we already have.
  request.set_version_info(last_version_);
  if (!stream->Write(request)) return stream->Finish();
  connected_ = true;
  spdlog::info("[xds] {}: stream open, subscribed to {} resource(s)", describe(),
               applier_.resourceNames().size());

  discovery_v3::DiscoveryResponse response;
  while (stream->Read(&response)) {
    backoff_.reset();
    if (response.type_url() != kEndpointTypeUrl) {
      spdlog::warn("[xds] {}: ignoring a response of type {}", describe(), response.type_url());
      continue;
    }
    const std::string error = applier_.applySotw(response.resources(), response.version_info());
    if (error.empty()) last_version_ = response.version_info();
    if (api_.set_node_on_first_message_only) request.clear_node();
    request.set_version_info(last_version_);
    request.set_response_nonce(response.nonce());
    if (error.empty()) {
      request.clear_error_detail();
    } else {
      request.mutable_error_detail()->set_code(kInvalidArgument);
      request.mutable_error_detail()->set_message(error);
    }
    if (!stream->Write(request)) {
      context.TryCancel();
      break;
    }
  }
  return stream->Finish();
}

grpc::Status GrpcSource::runDelta(grpc::ClientContext& context) {
  std::unique_ptr<grpc::ClientReaderWriter<discovery_v3::DeltaDiscoveryRequest,
                                           discovery_v3::DeltaDiscoveryResponse>>
      stream;
  if (isAds(flavor_)) {
    stream = discovery_v3::AggregatedDiscoveryService::NewStub(channel_)->DeltaAggregatedResources(
        &context);
  } else {
    stream =
        envoy::service::endpoint::v3::EndpointDiscoveryService::NewStub(channel_)->DeltaEndpoints(
            &context);
  }
  discovery_v3::DeltaDiscoveryRequest request;
  *request.mutable_node() = node_;
  request.set_type_url(std::string(kEndpointTypeUrl));
  for (const std::string& name : applier_.resourceNames()) {
    request.add_resource_names_subscribe(name);
  }
  // After a reconnect, say which versions we hold so the server can skip unchanged ones.
  for (const auto& [name, version] : applier_.resourceVersions()) {
    (*request.mutable_initial_resource_versions())[name] = version;
  }
  if (!stream->Write(request)) return stream->Finish();
  connected_ = true;
  spdlog::info("[xds] {}: stream open, subscribed to {} resource(s)", describe(),
               applier_.resourceNames().size());

  discovery_v3::DeltaDiscoveryResponse response;
  while (stream->Read(&response)) {
    backoff_.reset();
    discovery_v3::DeltaDiscoveryRequest ack;
    ack.set_type_url(std::string(kEndpointTypeUrl));
    ack.set_response_nonce(response.nonce());
    if (response.type_url() != kEndpointTypeUrl) {
      spdlog::warn("[xds] {}: ignoring a response of type {}", describe(), response.type_url());
      continue;
    }
    const std::string error = applier_.applyDelta(
        response.resources(), response.removed_resources(), response.system_version_info());
    if (!error.empty()) {
      ack.mutable_error_detail()->set_code(kInvalidArgument);
      ack.mutable_error_detail()->set_message(error);
    }
    if (!stream->Write(ack)) {
      context.TryCancel();
      break;
    }
  }
  return stream->Finish();
}

}  // namespace wslb::xds
