#include "wslb/xds/rest_source.h"

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "envoy/service/discovery/v3/discovery.pb.h"
#include "wslb/xds/assignment.h"

namespace wslb::xds {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace discovery_v3 = envoy::service::discovery::v3;

constexpr int kInvalidArgument = 3;  // google.rpc.Code.INVALID_ARGUMENT
// A DiscoveryResponse larger than this is refused (10,000 endpoints in JSON is ~2 MB).
constexpr size_t kMaxResponseBytes = 64 * 1024 * 1024;

std::vector<config::SocketAddress> addressesOf(const config::Cluster& cluster) {
  std::vector<config::SocketAddress> out;
  for (const config::Endpoint& endpoint : cluster.endpoints) out.push_back(endpoint.address);
  return out;
}

}  // namespace

RestSource::RestSource(const config::Cluster& xds_cluster, const config::ApiConfigSource& api,
                       envoy::config::core::v3::Node node, EdsApplier& applier)
    : targets_(addressesOf(xds_cluster)),
      xds_cluster_(xds_cluster.name),
      api_(api),
      node_(std::move(node)),
      applier_(applier) {}

RestSource::~RestSource() {
  stop();
}

std::string RestSource::describe() const {
  return "REST POST /v3/discovery:endpoints via cluster '" + xds_cluster_ + "'";
}

void RestSource::start() {
  thread_ = std::thread([this] { run(); });
}

void RestSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<std::string> RestSource::post(const config::SocketAddress& target,
                                            const std::string& body, std::string& error,
                                            bool& not_modified) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, "/v3/discovery:endpoints", 11};
  request.set(bhttp::field::host, target.address + ":" + std::to_string(target.port));
  request.set(bhttp::field::content_type, "application/json");
  request.set(bhttp::field::user_agent, "wslb/" WSLB_VERSION);
  request.body() = body;
  request.prepare_payload();

  boost::system::error_code result;
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(target.address, result),
                                         static_cast<uint16_t>(target.port));
  if (result) {
    error = result.message();
    return std::nullopt;
  }
  // One deadline for the whole exchange (request_timeout), as Envoy's REST client applies it.
  stream.expires_after(api_.request_timeout);
  stream.async_connect(endpoint, [&](const boost::system::error_code& ec) {
    if (ec) {
      result = ec;
      return;
    }
    bhttp::async_write(stream, request, [&](const boost::system::error_code& wec, size_t) {
      if (wec) {
        result = wec;
        return;
      }
      bhttp::async_read(stream, buffer, parser,
                        [&](const boost::system::error_code& rec, size_t) { result = rec; });
    });
  });
  io.run();
  if (result) {
    error = result == beast::error::timeout ? "timed out" : result.message();
    return std::nullopt;
  }
  if (parser.get().result() == bhttp::status::not_modified) {
    not_modified = true;  // as Envoy: nothing changed, nothing counted
    return std::nullopt;
  }
  if (parser.get().result() != bhttp::status::ok) {
    error = "HTTP " + std::to_string(parser.get().result_int());
    return std::nullopt;
  }
  return std::move(parser.get().body());
}

void RestSource::run() {
  std::string last_version;
  std::string last_nonce;
  std::string last_error;
  size_t target_index = 0;
  bool first = true;
  for (;;) {
    discovery_v3::DiscoveryRequest request;
    *request.mutable_node() = node_;
    request.set_type_url(std::string(kEndpointTypeUrl));
    for (const std::string& name : applier_.resourceNames()) request.add_resource_names(name);
    request.set_version_info(last_version);
    request.set_response_nonce(last_nonce);
    if (!last_error.empty()) {
      request.mutable_error_detail()->set_code(kInvalidArgument);
      request.mutable_error_detail()->set_message(last_error);
    }
    std::string body;
    (void)google::protobuf::util::MessageToJsonString(request, &body);

    std::string error;
    bool not_modified = false;
    const config::SocketAddress& target = targets_[target_index % targets_.size()];
    if (std::optional<std::string> reply = post(target, body, error, not_modified)) {
      discovery_v3::DiscoveryResponse response;
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      const auto status = google::protobuf::util::JsonStringToMessage(*reply, &response, options);
      if (!status.ok()) {
        error = "invalid DiscoveryResponse: " + std::string(status.message());
      } else {
        last_nonce = response.nonce();
        last_error = applier_.applySotw(response.resources(), response.version_info());
        if (last_error.empty()) last_version = response.version_info();
        if (first) spdlog::info("[xds] {}: first response received", describe());
        first = false;
      }
    }
    if (!not_modified && !error.empty()) {
      applier_.countFailure();
      spdlog::warn("[xds] {}: poll of {}:{} failed: {}", describe(), target.address, target.port,
                   error);
      ++target_index;
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, api_.refresh_delay, [this] { return stopping_; })) return;
  }
}

}  // namespace wslb::xds
