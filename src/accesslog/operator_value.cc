#include "accesslog/operator_value.h"

#include <array>
#include <charconv>
#include <chrono>

namespace wslb::accesslog {
namespace {

using Endpoint = boost::asio::ip::tcp::endpoint;

enum class AddressPart { kWithPort, kWithoutPort, kPort };

void appendNumber(uint64_t value, std::string& out) {
  std::array<char, 24> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  (void)ec;
  out.append(digits.data(), end);
}

// Envoy's address forms: "10.0.0.1:80" and "[::1]:80"; without the port "::1"; the port alone.
bool appendAddress(const std::optional<Endpoint>& endpoint, AddressPart part, std::string& out) {
  if (!endpoint) return false;
  if (part == AddressPart::kPort) {
    appendNumber(endpoint->port(), out);
    return true;
  }
  const boost::asio::ip::address address = endpoint->address();
  const bool bracket = address.is_v6() && part == AddressPart::kWithPort;
  if (bracket) out += '[';
  out += address.to_string();
  if (bracket) out += ']';
  if (part == AddressPart::kWithPort) {
    out += ':';
    appendNumber(endpoint->port(), out);
  }
  return true;
}

bool appendText(const std::string& text, std::string& out) {
  out += text;
  return !text.empty();
}

std::optional<uint64_t> millis(const std::optional<std::chrono::nanoseconds>& duration) {
  if (!duration) return std::nullopt;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*duration).count();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

const std::optional<std::string>* headerValue(const AccessLogRecord& record, size_t index) {
  if (index == kNoHeader || index >= record.request_headers.size()) return nullptr;
  const std::optional<std::string>& value = record.request_headers[index];
  return value ? &value : nullptr;
}

bool appendUntruncated(const Piece& piece, const AccessLogRecord& record, std::string& out) {
  if (isNumeric(piece.op)) {
    const std::optional<uint64_t> value = numericValue(piece, record);
    if (value) appendNumber(*value, out);
    return value.has_value();
  }
  switch (piece.op) {
    case Op::kLiteral:
      return appendText(piece.text, out);
    case Op::kConstant:
      return piece.constant && appendText(*piece.constant, out);
    case Op::kStartTime:
      if (!piece.time) return false;
      piece.time->append(record.start_time, out);
      return true;
    case Op::kResponseFlags:
      appendShortNames(record.response_flags, out);
      return true;
    case Op::kResponseFlagsLong:
      appendLongNames(record.response_flags, out);
      return true;
    case Op::kProtocol:
      switch (record.protocol) {
        case Protocol::kHttp10:
          out += "HTTP/1.0";
          return true;
        case Protocol::kHttp11:
          out += "HTTP/1.1";
          return true;
        case Protocol::kUnknown:
          return false;
      }
      return false;
    case Op::kUpstreamHost:
      return appendAddress(record.upstream_address, AddressPart::kWithPort, out);
    case Op::kUpstreamHostWithoutPort:
      return appendAddress(record.upstream_address, AddressPart::kWithoutPort, out);
    case Op::kUpstreamPort:
      return appendAddress(record.upstream_address, AddressPart::kPort, out);
    case Op::kUpstreamCluster:
      return appendText(record.upstream_cluster, out);
    case Op::kUpstreamHostname:
      return appendText(record.upstream_hostname, out);
    case Op::kUpstreamTransportFailureReason:
      return appendText(record.upstream_transport_failure_reason, out);
    case Op::kDownstreamRemoteAddress:
      return appendAddress(record.downstream_remote_address, AddressPart::kWithPort, out);
    case Op::kDownstreamRemoteAddressWithoutPort:
      return appendAddress(record.downstream_remote_address, AddressPart::kWithoutPort, out);
    case Op::kDownstreamRemotePort:
      return appendAddress(record.downstream_remote_address, AddressPart::kPort, out);
    case Op::kDownstreamLocalAddress:
      return appendAddress(record.downstream_local_address, AddressPart::kWithPort, out);
    case Op::kDownstreamLocalAddressWithoutPort:
      return appendAddress(record.downstream_local_address, AddressPart::kWithoutPort, out);
    case Op::kDownstreamLocalPort:
      return appendAddress(record.downstream_local_address, AddressPart::kPort, out);
    case Op::kRequestHeader: {
      const std::optional<std::string>* value = headerValue(record, piece.header);
      if (value == nullptr) value = headerValue(record, piece.alt_header);
      return value != nullptr && appendText(**value, out);
    }
    case Op::kRouteName:
      return appendText(record.route_name, out);
    default:
      return false;
  }
}

}  // namespace

std::optional<uint64_t> numericValue(const Piece& piece, const AccessLogRecord& record) noexcept {
  switch (piece.op) {
    case Op::kDuration:
      return millis(record.duration);
    case Op::kRequestDuration:
      return millis(record.request_duration);
    case Op::kResponseDuration:
      return millis(record.response_duration);
    case Op::kResponseCode:
      return record.response_code;
    case Op::kBytesReceived:
      return record.bytes_received;
    case Op::kBytesSent:
      return record.bytes_sent;
    case Op::kUpstreamAttempts:
      return record.upstream_attempts;
    case Op::kConnectionId:
      return record.connection_id;
    case Op::kMessagesReceived:
      return record.messages_received;
    case Op::kMessagesSent:
      return record.messages_sent;
    case Op::kCloseCodeDownstream:
      if (!record.downstream_close_code) return std::nullopt;
      return *record.downstream_close_code;
    case Op::kCloseCodeUpstream:
      if (!record.upstream_close_code) return std::nullopt;
      return *record.upstream_close_code;
    default:
      return std::nullopt;
  }
}

bool appendValue(const Piece& piece, const AccessLogRecord& record, std::string& out) {
  const size_t start = out.size();
  if (!appendUntruncated(piece, record, out) || out.size() == start) {
    out.resize(start);
    return false;
  }
  if (piece.max_length && out.size() - start > *piece.max_length) {
    out.resize(start + *piece.max_length);
  }
  return true;
}

}  // namespace wslb::accesslog
