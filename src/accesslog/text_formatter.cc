#include "accesslog/text_formatter.h"

#include <utility>

#include "accesslog/operator_value.h"

namespace wslb::accesslog {

void appendFormatString(const FormatString& format, const AccessLogRecord& record,
                        const char* missing, std::string& out) {
  for (const Piece& piece : format.pieces) {
    if (piece.op == Op::kLiteral) {
      out += piece.text;
    } else if (!appendValue(piece, record, out)) {
      out += missing;
    }
  }
}

TextFormatter::TextFormatter(FormatString format, bool omit_empty_values)
    : format_(std::move(format)), missing_(omit_empty_values ? "" : "-") {}

void TextFormatter::format(const AccessLogRecord& record, std::string& out) const {
  appendFormatString(format_, record, missing_, out);
}

}  // namespace wslb::accesslog
