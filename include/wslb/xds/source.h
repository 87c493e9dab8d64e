#pragma once
// A place EDS assignments come from: a gRPC stream, a REST poller or a watched file.

#include <string>

namespace wslb::xds {

/// Each source runs on its own thread between start() and stop().
class Source {
 public:
  virtual ~Source() = default;
  /// Starts fetching (spawns the source's thread). Called once.
  virtual void start() = 0;
  /// Stops fetching and joins the thread; no callback runs afterwards. Idempotent.
  virtual void stop() = 0;
  /// gRPC sources report their stream state in control_plane.connected_state.
  virtual bool isGrpc() const { return false; }
  /// For gRPC sources: a stream is established. Any thread.
  virtual bool connected() const { return false; }
  /// What this source is, for logs ("gRPC EDS via xds_cluster", "file /etc/eds.yaml").
  virtual std::string describe() const = 0;
};

}  // namespace wslb::xds
