#pragma once
// The writer thread behind an AccessLog: takes queued records, formats them and writes the lines.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "accesslog/output_file.h"
#include "wslb/accesslog/access_log.h"
#include "wslb/accesslog/bounded_queue.h"
#include "wslb/accesslog/filter.h"
#include "wslb/accesslog/formatter.h"

namespace wslb::accesslog {

/// One access_log[] entry: which records, how they look, where they go.
struct LogEntry {
  FormatterPtr formatter;
  std::optional<Filter> filter;
  size_t file = 0;  ///< index into the LogWriter's files (entries may share a file).
};

/// Owns the queue, the files and the thread. AccessLog's methods forward here; their thread
/// safety is documented there.
class LogWriter {
 public:
  /// Starts the thread.
  LogWriter(std::vector<LogEntry> entries, std::vector<std::unique_ptr<OutputFile>> files,
            AccessLogOptions options);
  /// Calls stop().
  ~LogWriter();

  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  void log(AccessLogRecord&& record) noexcept;
  void reopen() noexcept;
  void flush();
  void stop();
  AccessLogCounters counters() const noexcept;

 private:
  struct Reopen {};
  struct Flush {
    uint64_t ticket;
  };
  using Item = std::variant<AccessLogRecord, Reopen, Flush>;

  void run();
  void handle(Item& item);
  void format(const AccessLogRecord& record);
  void writeAll();
  void write(size_t file);

  const AccessLogOptions options_;
  std::vector<LogEntry> entries_;
  std::vector<std::unique_ptr<OutputFile>> files_;
  BoundedQueue<Item> queue_;

  // Writer thread only.
  std::optional<std::chrono::steady_clock::time_point> oldest_unwritten_;
  std::vector<bool> failing_;  ///< per file: the last write failed (warn once per failure run).

  // flush(): tickets handed out, and the highest one the writer has completed.
  std::mutex flush_mutex_;
  std::condition_variable flushed_cv_;
  uint64_t flush_requested_ = 0;
  uint64_t flushed_ = 0;
  bool writer_done_ = false;

  std::mutex stop_mutex_;
  std::thread thread_;

  std::atomic<uint64_t> logged_{0};
  std::atomic<uint64_t> dropped_unqueued_{0};  ///< refused before reaching the queue (no memory).
  std::atomic<uint64_t> lines_{0};
  std::atomic<uint64_t> write_failures_{0};
  std::atomic<uint64_t> reopen_failures_{0};
};

}  // namespace wslb::accesslog
