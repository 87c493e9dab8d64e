#pragma once
// envoy.config.core.v3.Address -> SocketAddress.

#include <optional>

#include "config/context.h"
#include "wslb/config/bootstrap.h"

namespace wslb::config {

enum class PortRule {
  kAllowZero,  ///< listeners and admin: 0 asks the kernel for an ephemeral port.
  kNonZero,    ///< endpoints: 1..65535.
};

/// Reads an Address whose socket_address must hold an IP literal (stored in canonical form).
/// nullopt when it is missing or invalid; every problem is reported to `ctx`.
std::optional<SocketAddress> readAddress(Context& ctx, const Field& field, PortRule port_rule);

}  // namespace wslb::config
