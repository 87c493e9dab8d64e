#include "wslb/accesslog/request_headers.h"

#include <algorithm>
#include <cctype>

namespace wslb::accesslog {

size_t HeaderRegistry::add(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // HTTP/1.1's Host header is HTTP/2's :authority; Envoy keeps only the latter.
  if (lower == "host") lower = ":authority";
  auto it = std::find(names_.begin(), names_.end(), lower);
  if (it != names_.end()) return static_cast<size_t>(it - names_.begin());
  names_.push_back(std::move(lower));
  return names_.size() - 1;
}

}  // namespace wslb::accesslog
