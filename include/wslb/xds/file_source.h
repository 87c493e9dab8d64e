#pragma once
// File-based EDS: a DiscoveryResponse in a file, re-read when a new file is moved into place.

#include <string>
#include <thread>

#include "wslb/xds/eds_applier.h"
#include "wslb/xds/source.h"

namespace wslb::xds {

/// Watches `path` with inotify for moves (IN_MOVED_TO), as Envoy does: writers must write a
/// temporary file and rename() it over the path, since only a rename is atomic. With a
/// `watched_directory`, any move into that directory triggers a reload (a Kubernetes ConfigMap
/// swaps its `..data` symlink that way). There is no ACK: a file that cannot be read or parsed
/// counts update_failure, one that parses but fails validation counts update_rejected; either
/// way the previous endpoints stay.
class FileSource final : public Source {
 public:
  /// @throws std::runtime_error if `path` does not exist or cannot be watched (start-up).
  FileSource(std::string path, std::string watched_directory, EdsApplier& applier);
  ~FileSource() override;

  /// Loads the file once, then watches it.
  void start() override;
  void stop() override;
  std::string describe() const override { return "file " + path_; }

  /// Reads, parses and applies the file now (also used at start).
  void reload();

 private:
  void run();

  const std::string path_;
  const std::string watched_directory_;
  std::string file_directory_;  ///< directory holding path_ (watched for moves onto it).
  std::string file_name_;
  EdsApplier& applier_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  ///< eventfd: wakes the watcher thread on stop().
  int file_watch_ = -1;
  int directory_watch_ = -1;
  std::thread thread_;
};

}  // namespace wslb::xds
