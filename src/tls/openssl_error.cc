#include "tls/openssl_error.h"

#include <openssl/err.h>

namespace wslb::tls {

std::string takeOpenSslErrors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    if (!out.empty()) out += "; ";
    const char* reason = ERR_reason_error_string(code);
    if (reason != nullptr) {
      out += reason;
    } else {
      char text[256];
      ERR_error_string_n(code, text, sizeof text);
      out += text;
    }
  }
  if (out.empty()) out = "unknown reason";
  return out;
}

}  // namespace wslb::tls
