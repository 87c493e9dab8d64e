#include "accesslog/operator_table.h"

#include <algorithm>
#include <array>

namespace wslb::accesslog {
namespace {

struct Entry {
  std::string_view name;
  OperatorInfo info;
};

constexpr std::array kOperators = {
    Entry{"START_TIME", {Op::kStartTime, OperatorArg::kTimeFormat}},
    Entry{"DURATION", {Op::kDuration}},
    Entry{"REQUEST_DURATION", {Op::kRequestDuration}},
    Entry{"RESPONSE_DURATION", {Op::kResponseDuration}},
    Entry{"RESPONSE_CODE", {Op::kResponseCode}},
    Entry{"RESPONSE_FLAGS", {Op::kResponseFlags}},
    Entry{"RESPONSE_FLAGS_LONG", {Op::kResponseFlagsLong}},
    Entry{"BYTES_RECEIVED", {Op::kBytesReceived}},
    Entry{"BYTES_SENT", {Op::kBytesSent}},
    Entry{"PROTOCOL", {Op::kProtocol}},
    Entry{"UPSTREAM_HOST", {Op::kUpstreamHost}},
    Entry{"UPSTREAM_REMOTE_ADDRESS", {Op::kUpstreamHost}},
    Entry{"UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", {Op::kUpstreamHostWithoutPort}},
    Entry{"UPSTREAM_REMOTE_PORT", {Op::kUpstreamPort}},
    Entry{"UPSTREAM_CLUSTER", {Op::kUpstreamCluster}},
    Entry{"UPSTREAM_REQUEST_ATTEMPT_COUNT", {Op::kUpstreamAttempts}},
    Entry{"UPSTREAM_TRANSPORT_FAILURE_REASON", {Op::kUpstreamTransportFailureReason}},
    Entry{"DOWNSTREAM_REMOTE_ADDRESS", {Op::kDownstreamRemoteAddress}},
    Entry{"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", {Op::kDownstreamRemoteAddressWithoutPort}},
    Entry{"DOWNSTREAM_REMOTE_PORT", {Op::kDownstreamRemotePort}},
    // wslb never infers the client's address from headers, so the direct address is the same.
    Entry{"DOWNSTREAM_DIRECT_REMOTE_ADDRESS", {Op::kDownstreamRemoteAddress}},
    Entry{"DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
          {Op::kDownstreamRemoteAddressWithoutPort}},
    Entry{"DOWNSTREAM_DIRECT_REMOTE_PORT", {Op::kDownstreamRemotePort}},
    Entry{"DOWNSTREAM_LOCAL_ADDRESS", {Op::kDownstreamLocalAddress}},
    Entry{"DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", {Op::kDownstreamLocalAddressWithoutPort}},
    Entry{"DOWNSTREAM_LOCAL_PORT", {Op::kDownstreamLocalPort}},
    Entry{"REQ", {Op::kRequestHeader, OperatorArg::kHeaders, true}},
    Entry{"REQUEST_HEADER", {Op::kRequestHeader, OperatorArg::kHeaders, true}},
    Entry{"ROUTE_NAME", {Op::kRouteName}},
    Entry{"CONNECTION_ID", {Op::kConnectionId}},
    Entry{"HOSTNAME", {Op::kConstant}},
    Entry{"ENVIRONMENT", {Op::kConstant, OperatorArg::kVariable, true}},
    // wslb's own.
    Entry{"UPSTREAM_HOSTNAME", {Op::kUpstreamHostname}},
    Entry{"WS_MESSAGES_RECEIVED", {Op::kMessagesReceived}},
    Entry{"WS_MESSAGES_SENT", {Op::kMessagesSent}},
    Entry{"WS_CLOSE_CODE_DOWNSTREAM", {Op::kCloseCodeDownstream}},
    Entry{"WS_CLOSE_CODE_UPSTREAM", {Op::kCloseCodeUpstream}},
};

// Envoy's operators that need something wslb does not have: response headers and trailers,
// TLS, metadata and filter state, finer byte and time accounting.
constexpr std::array<std::string_view, 64> kEnvoyOnly = {
    "RESP",
    "RESPONSE_HEADER",
    "TRAILER",
    "RESPONSE_TRAILER",
    "DYNAMIC_METADATA",
    "CLUSTER_METADATA",
    "UPSTREAM_METADATA",
    "METADATA",
    "FILTER_STATE",
    "UPSTREAM_FILTER_STATE",
    "REQUESTED_SERVER_NAME",
    "DOWNSTREAM_LOCAL_URI_SAN",
    "DOWNSTREAM_PEER_URI_SAN",
    "DOWNSTREAM_LOCAL_SUBJECT",
    "DOWNSTREAM_PEER_SUBJECT",
    "DOWNSTREAM_PEER_ISSUER",
    "DOWNSTREAM_TLS_SESSION_ID",
    "DOWNSTREAM_TLS_CIPHER",
    "DOWNSTREAM_TLS_VERSION",
    "DOWNSTREAM_PEER_FINGERPRINT_256",
    "DOWNSTREAM_PEER_FINGERPRINT_1",
    "DOWNSTREAM_PEER_SERIAL",
    "DOWNSTREAM_PEER_CERT",
    "DOWNSTREAM_PEER_CERT_V_START",
    "DOWNSTREAM_PEER_CERT_V_END",
    "DOWNSTREAM_TRANSPORT_FAILURE_REASON",
    "UPSTREAM_PEER_SUBJECT",
    "UPSTREAM_PEER_ISSUER",
    "UPSTREAM_TLS_SESSION_ID",
    "UPSTREAM_TLS_CIPHER",
    "UPSTREAM_TLS_VERSION",
    "UPSTREAM_PEER_CERT",
    "UPSTREAM_PEER_CERT_V_START",
    "UPSTREAM_PEER_CERT_V_END",
    "UPSTREAM_LOCAL_ADDRESS",
    "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
    "UPSTREAM_LOCAL_PORT",
    "UPSTREAM_PROTOCOL",
    "UPSTREAM_CONNECTION_ID",
    "UPSTREAM_WIRE_BYTES_SENT",
    "UPSTREAM_WIRE_BYTES_RECEIVED",
    "UPSTREAM_HEADER_BYTES_SENT",
    "UPSTREAM_HEADER_BYTES_RECEIVED",
    "DOWNSTREAM_WIRE_BYTES_SENT",
    "DOWNSTREAM_WIRE_BYTES_RECEIVED",
    "DOWNSTREAM_HEADER_BYTES_SENT",
    "DOWNSTREAM_HEADER_BYTES_RECEIVED",
    "REQUEST_HEADERS_BYTES",
    "RESPONSE_HEADERS_BYTES",
    "RESPONSE_TRAILERS_BYTES",
    "REQUEST_TX_DURATION",
    "RESPONSE_TX_DURATION",
    "RESPONSE_CODE_DETAILS",
    "CONNECTION_TERMINATION_DETAILS",
    "VIRTUAL_CLUSTER_NAME",
    "GRPC_STATUS",
    "GRPC_STATUS_NUMBER",
    "LOCAL_REPLY_BODY",
    "FILTER_CHAIN_NAME",
    "STREAM_ID",
    "TRACE_ID",
    "UNIQUE_ID",
    "ACCESS_LOG_TYPE",
    "CUSTOM_FLAGS",
};

}  // namespace

std::optional<OperatorInfo> findOperator(std::string_view name) noexcept {
  for (const Entry& entry : kOperators) {
    if (entry.name == name) return entry.info;
  }
  return std::nullopt;
}

bool isEnvoyOnlyOperator(std::string_view name) noexcept {
  return std::find(kEnvoyOnly.begin(), kEnvoyOnly.end(), name) != kEnvoyOnly.end();
}

}  // namespace wslb::accesslog
