#include "wslb/tls/server_name_table.h"

#include <cctype>

namespace wslb::tls {

bool ServerNameTable::add(std::string_view name, size_t chain) {
  if (name.size() > 2 && name[0] == '*' && name[1] == '.') {
    return wildcard_.emplace(std::string(name.substr(2)), chain).second;
  }
  return exact_.emplace(std::string(name), chain).second;
}

bool ServerNameTable::setDefault(size_t chain) {
  if (default_) return false;
  default_ = chain;
  return true;
}

std::optional<size_t> ServerNameTable::find(std::string_view server_name) const {
  if (server_name.empty()) return default_;
  std::string name(server_name);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto it = exact_.find(name); it != exact_.end()) return it->second;
  // A wildcard stands for one or more non-empty labels, so "*.example.com" never matches
  // "example.com" itself; the longest suffix wins.
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    if (dot == 0) continue;
    if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end()) return it->second;
  }
  return default_;
}

}  // namespace wslb::tls
