#include "accesslog/format_string.h"

#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>

#include "accesslog/operator_table.h"

namespace wslb::accesslog {
namespace {

bool isNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::optional<std::string> hostname() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return std::nullopt;
  return std::string(name.data());
}

std::optional<std::string> environmentVariable(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// The parts of one "%NAME(arg):length%" token.
struct Command {
  std::string_view name;
  std::optional<std::string_view> arg;
  std::optional<std::string_view> length;
  size_t end = 0;  // index just past the closing '%'
};

// Reads the command that starts at text[pos] == '%', with the grammar Envoy uses:
// %NAME%, %NAME(arg)%, %NAME:length%, %NAME(arg):length%, NAME in [A-Z0-9_], arg without ')'.
std::optional<Command> readCommand(std::string_view text, size_t pos) {
  Command command;
  size_t p = pos + 1;
  while (p < text.size() && isNameChar(text[p])) ++p;
  if (p == pos + 1) return std::nullopt;
  command.name = text.substr(pos + 1, p - pos - 1);
  if (p < text.size() && text[p] == '(') {
    const size_t close = text.find(')', p + 1);
    if (close == std::string_view::npos) return std::nullopt;
    command.arg = text.substr(p + 1, close - p - 1);
    p = close + 1;
  }
  if (p < text.size() && text[p] == ':') {
    const size_t start = ++p;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9') ++p;
    if (p == start) return std::nullopt;
    command.length = text.substr(start, p - start);
  }
  if (p >= text.size() || text[p] != '%') return std::nullopt;
  command.end = p + 1;
  return command;
}

// Built by appending: GCC 12 reports a false -Wrestrict overlap for `"%" + std::string(...)` in
// optimised builds.
std::string operatorName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '%';
  out += name;
  out += '%';
  return out;
}

// Fills the header indexes of a %REQ(main?alternative)% piece; an error message on failure.
std::string readHeaders(std::string_view name, std::string_view arg, HeaderRegistry& headers,
                        Piece& piece) {
  std::string token;
  token.reserve(name.size() + arg.size() + 4);
  token += '%';
  token += name;
  token += '(';
  token += arg;
  token += ")%";
  const size_t question = arg.find('?');
  const std::string_view main = arg.substr(0, question);
  std::string_view alternative;
  if (question != std::string_view::npos) {
    alternative = arg.substr(question + 1);
    if (alternative.find('?') != std::string_view::npos) {
      return token + ": more than one alternative header";
    }
    if (alternative.empty()) return token + ": empty alternative header name";
  }
  if (main.empty()) return token + ": empty header name";
  for (std::string_view header : {main, alternative}) {
    if (header.find_first_of("\r\n") != std::string_view::npos) {
      return token + ": a header name cannot contain a newline";
    }
  }
  piece.header = headers.add(main);
  if (!alternative.empty()) piece.alt_header = headers.add(alternative);
  return {};
}

// Builds the piece for one command; an error message on failure.
std::string makePiece(const Command& command, HeaderRegistry& headers, Piece& piece) {
  const std::optional<OperatorInfo> info = findOperator(command.name);
  if (!info) {
    if (isEnvoyOnlyOperator(command.name)) {
      return "command operator " + operatorName(command.name) + " is not supported by wslb";
    }
    return "unknown command operator " + operatorName(command.name);
  }
  piece.op = info->op;
  if (command.length) {
    if (!info->takes_length) return operatorName(command.name) + " takes no length";
    size_t length = 0;
    const auto [end, ec] = std::from_chars(command.length->data(),
                                           command.length->data() + command.length->size(), length);
    if (ec != std::errc() || end != command.length->data() + command.length->size()) {
      return operatorName(command.name) + ": length " + std::string(*command.length) +
             " is too large";
    }
    piece.max_length = length;
  }
  switch (info->arg) {
    case OperatorArg::kNone:
      if (command.arg) return operatorName(command.name) + " takes no argument";
      if (info->op == Op::kConstant) piece.constant = hostname();
      return {};
    case OperatorArg::kTimeFormat:
      piece.time.emplace(command.arg.value_or(std::string_view()));
      return {};
    case OperatorArg::kHeaders:
      if (!command.arg) {
        return operatorName(command.name) + " needs a header name: %" + std::string(command.name) +
               "(name)% or %" + std::string(command.name) + "(name?alternative)%";
      }
      return readHeaders(command.name, *command.arg, headers, piece);
    case OperatorArg::kVariable:
      if (!command.arg || command.arg->empty()) {
        return operatorName(command.name) + " needs a variable name: %" +
               std::string(command.name) + "(NAME)%";
      }
      piece.constant = environmentVariable(std::string(*command.arg));
      return {};
  }
  return {};
}

}  // namespace

bool isNumeric(Op op) noexcept {
  switch (op) {
    case Op::kDuration:
    case Op::kRequestDuration:
    case Op::kResponseDuration:
    case Op::kResponseCode:
    case Op::kBytesReceived:
    case Op::kBytesSent:
    case Op::kUpstreamAttempts:
    case Op::kConnectionId:
    case Op::kMessagesReceived:
    case Op::kMessagesSent:
    case Op::kCloseCodeDownstream:
    case Op::kCloseCodeUpstream:
      return true;
    default:
      return false;
  }
}

ParsedFormat parseFormatString(std::string_view text, HeaderRegistry& headers) {
  ParsedFormat out;
  std::string literal;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '%') {
      literal += text[pos++];
      continue;
    }
    const std::optional<Command> command = readCommand(text, pos);
    if (!command) {
      out.error = "invalid command operator at position " + std::to_string(pos) +
                  " (expected %NAME%, %NAME(argument)% or %NAME(argument):length%)";
      return out;
    }
    if (!literal.empty()) {
      Piece piece;
      piece.text = std::move(literal);
      out.format.pieces.push_back(std::move(piece));
      literal.clear();
    }
    Piece piece;
    out.error = makePiece(*command, headers, piece);
    if (!out.error.empty()) return out;
    out.format.pieces.push_back(std::move(piece));
    pos = command->end;
  }
  if (!literal.empty()) {
    Piece piece;
    piece.text = std::move(literal);
    out.format.pieces.push_back(std::move(piece));
  }
  return out;
}

}  // namespace wslb::accesslog
