// Errors as values. A Status carries one human-readable line that names the file, the place
// (chunk, byte offset, line, event index) and what is wrong.
#pragma once

#include <string>
#include <utility>

namespace vmreplay {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

#define VMREPLAY_RETURN_IF_ERROR(expr)   \
  do {                                   \
    ::vmreplay::Status _status = (expr); \
    if (!_status.ok()) return _status;   \
  } while (0)

}  // namespace vmreplay
