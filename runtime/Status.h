// Status and Expected<T>: how errors travel inside DynaJIT.
//
// Every fallible function returns a Status (or Expected<T>); nothing inside the
// engine throws across a layer boundary. The codes mirror the C API's dj_status
// one to one (bindings/c/dynajit.h), so the C boundary only copies them out.
// A message always names the cause: the op and node, the input, the file.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

namespace dj {

enum class StatusCode : int {
  Ok = 0,
  InvalidArgument = 1,  // caller passed something wrong (name, dtype, rank, shape)
  InvalidModel = 2,     // the model file is malformed or inconsistent
  Unsupported = 3,      // an op, attribute, or type DynaJIT does not implement
  OutOfMemory = 4,
  IoError = 5,
  Internal = 6,         // a bug in DynaJIT
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }
  bool ok() const { return code_ == StatusCode::Ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefix the message with context, e.g. "node 'add_3' (Add): ".
  Status with_context(const std::string& prefix) const {
    if (ok()) return *this;
    return Status(code_, prefix + message_);
  }
  std::string to_string() const { return std::string(status_code_name(code_)) + ": " + message_; }

 private:
  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

// Builds a message from stream-able pieces: make_error(StatusCode::InvalidArgument, "rank ", r).
template <typename... Args>
Status make_error(StatusCode code, const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return Status(code, os.str());
}

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : value_(std::move(value)) {}
  Expected(Status status) : status_(std::move(status)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace dj

#define DJ_CONCAT_INNER(a, b) a##b
#define DJ_CONCAT(a, b) DJ_CONCAT_INNER(a, b)

// Return the Status if it is an error.
#define DJ_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::dj::Status dj_status_tmp_ = (expr);   \
    if (!dj_status_tmp_.ok()) return dj_status_tmp_; \
  } while (0)

// Return an error Status of the given code when cond is false.
#define DJ_CHECK(cond, code, ...)                                  \
  do {                                                             \
    if (!(cond)) return ::dj::make_error(::dj::StatusCode::code, __VA_ARGS__); \
  } while (0)

// Unwrap an Expected<T> into `lhs` or return its error.
#define DJ_ASSIGN_OR_RETURN(lhs, expr)                               \
  auto DJ_CONCAT(dj_expected_, __LINE__) = (expr);                   \
  if (!DJ_CONCAT(dj_expected_, __LINE__).ok())                       \
    return DJ_CONCAT(dj_expected_, __LINE__).status();               \
  lhs = std::move(DJ_CONCAT(dj_expected_, __LINE__)).value()
