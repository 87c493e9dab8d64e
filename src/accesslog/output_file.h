#pragma once
// Where an access log's lines go: a file opened by path for appending, or stdout/stderr.

#include <memory>
#include <string>
#include <system_error>

namespace wslb::accesslog {

/// One destination with its buffer of formatted lines. Lines are appended to buffer() and reach
/// the descriptor on write().
///
/// Thread safety: none. Built at start-up, then used only by the writer thread.
class OutputFile {
 public:
  /// Opens `path` with O_APPEND, creating it (mode 0644) if missing.
  /// @throws std::system_error if it cannot be opened.
  static std::unique_ptr<OutputFile> open(const std::string& path);
  /// Standard output (fd 1) or error (fd 2): not owned, never reopened.
  static std::unique_ptr<OutputFile> standardStream(int fd);

  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// The path, or "stdout" / "stderr".
  const std::string& name() const noexcept { return name_; }
  /// Lines formatted and not yet written.
  std::string& buffer() noexcept { return buffer_; }

  /// Writes the whole buffer (retrying short writes and EINTR) and empties it; on failure the
  /// rest of the buffer is dropped. @return the error, or an empty error_code.
  std::error_code write() noexcept;

  /// Opens the path again and switches to the new descriptor (log rotation); call write() first
  /// so buffered lines go to the old file. Standard streams are left as they are.
  /// @return the error of the open; the old descriptor stays in use then.
  std::error_code reopen() noexcept;

 private:
  OutputFile(std::string name, int fd, bool owned);

  std::string name_;
  int fd_;
  bool owned_;
  std::string buffer_;
};

}  // namespace wslb::accesslog
