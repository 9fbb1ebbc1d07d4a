// Status and Result<T>: how every zkpilot function reports failure.
//
// A Status is either OK or an error with a code and a message. Messages carry
// context up the stack ("render: templates/node/statefulset.yaml: line 4: ...")
// and are turned into exit codes only in main. The code decides the exit code:
// kInvalidInput means the user's package, values or command line are at fault
// (exit 2); everything else is exit 1.
//
// Result<T> holds either a T or a non-OK Status. Both types are [[nodiscard]]:
// ignoring an error is a compile-time warning (an error with -Werror).
// Thread-safety: plain values; no shared state.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace zkpilot {

enum class ErrorCode {
  kOk,
  kInvalidInput,  // bad package, values, template or usage: exit code 2
  kNotFound,      // a file or object that should exist does not
  kIOError,       // reading or writing the outside world failed
  kInternal,      // a bug or an unexpected state
  kConflict,          // the object changed meanwhile, or another owner holds it (HTTP 409)
  kPermissionDenied,  // credentials rejected or a permission missing (HTTP 401/403)
  kUnavailable,       // no answer, or asked to come back later (HTTP 429/5xx): retry
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status Ok() { return Status(); }
  static Status InvalidInput(std::string msg) { return Status(ErrorCode::kInvalidInput, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(ErrorCode::kNotFound, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(ErrorCode::kIOError, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(ErrorCode::kInternal, std::move(msg)); }
  static Status Conflict(std::string msg) { return Status(ErrorCode::kConflict, std::move(msg)); }
  static Status PermissionDenied(std::string msg) { return Status(ErrorCode::kPermissionDenied, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(ErrorCode::kUnavailable, std::move(msg)); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message". OK stays OK.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

  std::string ToString() const { return ok() ? "OK" : message_; }

 private:
  Status(ErrorCode code, std::string msg) : code_(code), message_(std::move(msg)) {}
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design
  // REQUIRES: !status.ok() when constructing from a Status.

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Exit code for a status: 0 ok, 2 invalid input, 1 anything else.
inline int ExitCodeFor(const Status& s) {
  if (s.ok()) return 0;
  return s.code() == ErrorCode::kInvalidInput ? 2 : 1;
}

}  // namespace zkpilot

// Propagate a non-OK Status from an expression returning Status.
#define ZK_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::zkpilot::Status zk_status_ = (expr);  \
    if (!zk_status_.ok()) return zk_status_; \
  } while (0)

#define ZK_CONCAT_INNER(a, b) a##b
#define ZK_CONCAT(a, b) ZK_CONCAT_INNER(a, b)

// `ZK_ASSIGN_OR_RETURN(auto x, Expr())` assigns the value of a Result or
// returns its Status from the enclosing function.
#define ZK_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto ZK_CONCAT(zk_result_, __LINE__) = (expr);                        \
  if (!ZK_CONCAT(zk_result_, __LINE__).ok())                            \
    return ZK_CONCAT(zk_result_, __LINE__).status();                    \
  lhs = std::move(ZK_CONCAT(zk_result_, __LINE__)).value()
