#include "accesslog/log_writer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace wslb::accesslog {
namespace {

// Records the queue has room for without growing: enough for the bursts of a busy listener
// (about 400 KiB per vector), while a queue_capacity of 16384 would be 6 MiB if reserved whole.
constexpr size_t kQueueReserve = 1024;

}  // namespace

LogWriter::LogWriter(std::vector<LogEntry> entries, std::vector<std::unique_ptr<OutputFile>> files,
                     AccessLogOptions options)
    : options_(options),
      entries_(std::move(entries)),
      files_(std::move(files)),
      queue_(options.queue_capacity, kQueueReserve),
      failing_(files_.size(), false) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wslb-accesslog");
    run();
  });
}

LogWriter::~LogWriter() {
  stop();
}

void LogWriter::log(AccessLogRecord&& record) noexcept {
  try {
    if (queue_.tryPush(Item(std::in_place_type<AccessLogRecord>, std::move(record)))) {
      logged_.fetch_add(1, std::memory_order_relaxed);
    }
  } catch (...) {
    // Only allocation can throw here; losing the record is the documented outcome of overload.
    dropped_unqueued_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogWriter::reopen() noexcept {
  try {
    queue_.push(Item(std::in_place_type<Reopen>));
  } catch (...) {
    reopen_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

void LogWriter::flush() {
  std::unique_lock lock(flush_mutex_);
  const uint64_t ticket = ++flush_requested_;
  lock.unlock();
  // Tickets are taken in order and pushed after the caller's records, so when the writer has
  // handled a ticket, every record logged before any smaller ticket was taken is written too.
  if (!queue_.push(Item(std::in_place_type<Flush>, Flush{ticket}))) return;
  lock.lock();
  flushed_cv_.wait(lock, [&] { return flushed_ >= ticket || writer_done_; });
}

void LogWriter::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!thread_.joinable()) return;
  queue_.close();
  thread_.join();
}

AccessLogCounters LogWriter::counters() const noexcept {
  AccessLogCounters out;
  out.logged = logged_.load(std::memory_order_relaxed);
  out.dropped = queue_.dropped() + dropped_unqueued_.load(std::memory_order_relaxed);
  out.lines = lines_.load(std::memory_order_relaxed);
  out.write_failures = write_failures_.load(std::memory_order_relaxed);
  out.reopen_failures = reopen_failures_.load(std::memory_order_relaxed);
  return out;
}

void LogWriter::run() {
  std::vector<Item> batch;
  batch.reserve(std::min(options_.queue_capacity, kQueueReserve));
  for (;;) {
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (oldest_unwritten_) deadline = *oldest_unwritten_ + options_.flush_interval;
    const bool more = queue_.popAll(batch, deadline);
    for (Item& item : batch) handle(item);
    batch.clear();
    if (oldest_unwritten_ &&
        std::chrono::steady_clock::now() >= *oldest_unwritten_ + options_.flush_interval) {
      writeAll();
    }
    if (!more) break;
  }
  writeAll();
  files_.clear();  // closes the files; nothing is written after stop()
  std::lock_guard lock(flush_mutex_);
  writer_done_ = true;
  flushed_cv_.notify_all();
}

void LogWriter::handle(Item& item) {
  if (const AccessLogRecord* record = std::get_if<AccessLogRecord>(&item)) {
    format(*record);
  } else if (std::holds_alternative<Reopen>(item)) {
    writeAll();
    for (const std::unique_ptr<OutputFile>& file : files_) {
      if (std::error_code error = file->reopen()) {
        reopen_failures_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("[access_log] cannot reopen \"{}\": {}; still writing to the old file",
                     file->name(), error.message());
      }
    }
  } else if (const Flush* flush = std::get_if<Flush>(&item)) {
    writeAll();
    std::lock_guard lock(flush_mutex_);
    flushed_ = std::max(flushed_, flush->ticket);
    flushed_cv_.notify_all();
  }
}

void LogWriter::format(const AccessLogRecord& record) {
  for (LogEntry& entry : entries_) {
    if (entry.filter && !entry.filter->matches(record)) continue;
    std::string& buffer = files_[entry.file]->buffer();
    entry.formatter->format(record, buffer);
    lines_.fetch_add(1, std::memory_order_relaxed);
    if (!oldest_unwritten_) oldest_unwritten_ = std::chrono::steady_clock::now();
    if (buffer.size() >= options_.buffer_bytes) write(entry.file);
  }
}

void LogWriter::writeAll() {
  for (size_t i = 0; i < files_.size(); ++i) write(i);
  oldest_unwritten_.reset();
}

void LogWriter::write(size_t index) {
  OutputFile& file = *files_[index];
  if (file.buffer().empty()) return;
  const std::error_code error = file.write();
  if (!error) {
    failing_[index] = false;
    return;
  }
  write_failures_.fetch_add(1, std::memory_order_relaxed);
  if (!failing_[index]) {
    spdlog::warn("[access_log] cannot write to \"{}\": {}; lines are lost until writes succeed",
                 file.name(), error.message());
  }
  failing_[index] = true;
}

}  // namespace wslb::accesslog
