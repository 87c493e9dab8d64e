#pragma once
// The endpoint churn of `--mode churn`: rewrites a file-based EDS DiscoveryResponse (Envoy's
// path_config_source) on a fixed period, each version with a different endpoint set, by writing
// a temporary file next to it and rename()-ing it over the old one (readers watching the
// directory see one complete file per version).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wslb::loadgen {

struct EdsChurnOptions {
  std::string path;     ///< the file the proxy watches (.yaml/.yml: YAML; .json: JSON)
  std::string cluster;  ///< cluster_name of the ClusterLoadAssignment
  /// The real backends (127.0.0.1:port). Every version keeps all of them but one (in turn), and
  /// every (n + 1)-th version has them all; with one backend it is never removed.
  std::vector<uint16_t> backend_ports;
  /// Extra endpoints besides the backends, on 127.1.x.y (nothing listens there), marked
  /// DRAINING so they are never picked; a tenth of them is replaced by new ones each version.
  unsigned extra = 0;
  double interval_s = 0.1;
};

/// Renders the DiscoveryResponse of version @p version (YAML, or JSON when @p json).
std::string renderEdsVersion(const EdsChurnOptions& options, uint64_t version, bool json);

/// Writes @p content to @p path atomically: a temporary file in the same directory, then
/// rename(). @return "" on success, otherwise the reason.
std::string writeFileAtomically(const std::string& path, const std::string& content);

/// A thread that writes version 1, 2, ... every interval_s from start() until stop().
class EdsChurner {
 public:
  explicit EdsChurner(EdsChurnOptions options);
  ~EdsChurner();
  EdsChurner(const EdsChurner&) = delete;
  EdsChurner& operator=(const EdsChurner&) = delete;

  /// Writes the first version at once, then one every interval. Call once.
  void start();
  /// Stops and joins the thread. Idempotent.
  void stop();

  /// Versions written so far (any thread).
  uint64_t written() const { return written_.load(std::memory_order_acquire); }
  /// Write failures so far and the first one's reason (after stop()).
  uint64_t errors() const { return errors_.load(std::memory_order_acquire); }
  const std::string& firstError() const { return first_error_; }
  /// The longest time one version took to render and write, in microseconds (after stop()).
  double maxWriteUs() const { return max_write_us_; }
  /// Versions that started later than their tick by more than one interval (after stop()).
  uint64_t late() const { return late_; }

 private:
  void run();

  const EdsChurnOptions options_;
  const bool json_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> errors_{0};
  std::string first_error_;
  double max_write_us_ = 0;
  uint64_t late_ = 0;
};

}  // namespace wslb::loadgen
