#include "wslb/accesslog/access_log.h"

#include <unistd.h>

#include <map>
#include <utility>

#include "accesslog/log_writer.h"
#include "accesslog/output_file.h"

namespace wslb::accesslog {
namespace {

// Entries that name the same destination share one descriptor and one buffer, so their lines
// never interleave mid-line.
std::string destinationKey(const config::AccessLogConfig& entry) {
  switch (entry.sink) {
    case config::AccessLogConfig::Sink::kStdout:
      return "stdout";
    case config::AccessLogConfig::Sink::kStderr:
      return "stderr";
    case config::AccessLogConfig::Sink::kFile:
      break;
  }
  return "file:" + entry.path;
}

std::unique_ptr<OutputFile> openDestination(const config::AccessLogConfig& entry) {
  switch (entry.sink) {
    case config::AccessLogConfig::Sink::kStdout:
      return OutputFile::standardStream(STDOUT_FILENO);
    case config::AccessLogConfig::Sink::kStderr:
      return OutputFile::standardStream(STDERR_FILENO);
    case config::AccessLogConfig::Sink::kFile:
      break;
  }
  return OutputFile::open(entry.path);
}

}  // namespace

AccessLog::AccessLog(const config::HttpConnectionManager& hcm, AccessLogOptions options)
    : AccessLog(hcm.access_logs, options) {}

AccessLog::AccessLog(const std::vector<config::AccessLogConfig>& entries,
                     AccessLogOptions options) {
  if (entries.empty()) return;
  std::vector<LogEntry> log_entries;
  std::vector<std::unique_ptr<OutputFile>> files;
  std::map<std::string, size_t> file_index;
  for (const config::AccessLogConfig& entry : entries) {
    LogEntry log_entry;
    log_entry.formatter = Formatter::create(entry.format, headers_);
    if (entry.filter) log_entry.filter.emplace(*entry.filter);
    const std::string key = destinationKey(entry);
    auto it = file_index.find(key);
    if (it == file_index.end()) {
      files.push_back(openDestination(entry));
      it = file_index.emplace(key, files.size() - 1).first;
    }
    log_entry.file = it->second;
    log_entries.push_back(std::move(log_entry));
  }
  writer_ = std::make_unique<LogWriter>(std::move(log_entries), std::move(files), options);
}

AccessLog::~AccessLog() {
  stop();
}

void AccessLog::log(AccessLogRecord record) const noexcept {
  if (writer_) writer_->log(std::move(record));
}

void AccessLog::reopen() const noexcept {
  if (writer_) writer_->reopen();
}

void AccessLog::flush() const {
  if (writer_) writer_->flush();
}

void AccessLog::stop() {
  if (writer_) writer_->stop();
}

AccessLogCounters AccessLog::counters() const noexcept {
  return writer_ ? writer_->counters() : AccessLogCounters{};
}

}  // namespace wslb::accesslog
