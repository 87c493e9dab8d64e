#pragma once
// The access log of one listener: its HttpConnectionManager's access_log[] entries, fed by the
// workers and written by one writer thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "wslb/accesslog/record.h"
#include "wslb/accesslog/request_headers.h"
#include "wslb/config/bootstrap.h"

namespace wslb::accesslog {

struct AccessLogOptions {
  /// Records that may wait for the writer; log() drops (and counts) records beyond this.
  size_t queue_capacity = 16384;
  /// A file's buffered lines are written once they reach this many bytes...
  size_t buffer_bytes = 64 * 1024;
  /// ...or this long after the oldest of them was formatted, whichever comes first.
  std::chrono::milliseconds flush_interval{1000};
};

/// Counts since construction, for stats and tests.
struct AccessLogCounters {
  uint64_t logged = 0;           ///< records accepted by log().
  uint64_t dropped = 0;          ///< records log() refused: queue full, or after stop().
  uint64_t lines = 0;            ///< lines formatted (one per record and matching entry).
  uint64_t write_failures = 0;   ///< write() calls that failed; their lines are lost.
  uint64_t reopen_failures = 0;  ///< reopen() attempts that failed (the old file stays open).
};

class LogWriter;

/// The access log of one listener. Built from its HttpConnectionManager at start-up and owned by
/// the listener's context; every worker calls log() when a WebSocket (or a request answered by a
/// backend or by wslb) ends.
///
/// log() never blocks on I/O or formatting: it moves the record into a bounded queue. One writer
/// thread per AccessLog takes the queued records, applies each entry's filter and format, and
/// appends the lines to the entry's file (opened with O_APPEND; entries naming the same path
/// share one descriptor), buffering up to AccessLogOptions::buffer_bytes and writing at least
/// every AccessLogOptions::flush_interval. The worker hands over the record rather than a
/// formatted line because formatting (time conversion, JSON) costs more than the move, and an
/// access log with several entries would format several lines per record.
///
/// log(), reopen() and flush() are const: they change nothing a caller can observe through this
/// object, and may be called concurrently, so a listener context shared as const can offer them.
///
/// Lifetime: the writer thread starts in the constructor (only if there is at least one entry)
/// and ends in stop(), which the destructor calls.
class AccessLog {
 public:
  /// Builds the access log of `hcm.access_logs`, opening every file (created if missing) and
  /// starting the writer thread. Start-up only.
  /// @throws std::system_error if a file cannot be opened, std::invalid_argument for a format or
  ///         filter that config::loadBootstrap() would have rejected.
  explicit AccessLog(const config::HttpConnectionManager& hcm, AccessLogOptions options = {});
  /// The same for a list of entries.
  explicit AccessLog(const std::vector<config::AccessLogConfig>& entries,
                     AccessLogOptions options = {});
  /// Calls stop().
  ~AccessLog();

  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  /// False when there is no entry: log() does nothing, so callers may skip building records.
  /// Thread safety: any thread.
  bool enabled() const noexcept { return writer_ != nullptr; }

  /// The request headers the formats print (lower case, Envoy pseudo-headers for the request
  /// line and Host; see HeaderRegistry). AccessLogRecord::request_headers is indexed like this.
  /// Thread safety: any thread.
  const std::vector<std::string>& referencedHeaders() const noexcept { return headers_.names(); }

  /// Fills record.request_headers from `lookup` (see HeaderRegistry::capture()), copying only the
  /// headers in referencedHeaders(). Call it while the request is still at hand.
  /// Thread safety: any thread.
  template <typename Lookup>
  void captureRequestHeaders(AccessLogRecord& record, Lookup&& lookup) const {
    headers_.capture(record, std::forward<Lookup>(lookup));
  }

  /// Queues `record` for the writer thread. Never waits for the writer and does no I/O: if the
  /// queue is full (or stop() has run) the record is dropped and counted (counters().dropped).
  /// Thread safety: any thread, typically a worker; takes a mutex only long enough to append.
  void log(AccessLogRecord record) const noexcept;

  /// Asks the writer to write what it has buffered and to reopen every file by its path (after
  /// log rotation renamed it). Records logged before the call go to the old file, records logged
  /// after it to the new one. Returns at once; the files are reopened by the writer thread.
  /// Thread safety: any thread.
  void reopen() const noexcept;

  /// Waits until every record logged before the call has been formatted and written to its file.
  /// Blocks: never call it from a worker. Returns at once after stop().
  /// Thread safety: any thread but a worker.
  void flush() const;

  /// Refuses further records, lets the writer format and write every record already queued,
  /// closes the files and joins the writer thread. Idempotent. Blocks until done.
  /// Thread safety: any thread but a worker and the writer; not concurrently with the destructor.
  void stop();

  /// Counts so far. Thread safety: any thread.
  AccessLogCounters counters() const noexcept;

 private:
  HeaderRegistry headers_;
  std::unique_ptr<LogWriter> writer_;  ///< null when there is no entry.
};

using AccessLogPtr = std::unique_ptr<AccessLog>;

}  // namespace wslb::accesslog
