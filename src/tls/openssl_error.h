#pragma once
// OpenSSL's error queue as text, for start-up errors and logs.

#include <string>

namespace wslb::tls {

/// Empties the calling thread's OpenSSL error queue and returns its entries' reasons joined with
/// "; " ("unknown reason" if it was empty).
std::string takeOpenSslErrors();

}  // namespace wslb::tls
