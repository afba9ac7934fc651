// The per-thread last-error message and the status names of the C API.
//
// The message lives in a thread_local string so concurrent dj_run calls on one
// model never see each other's errors. When even copying the message fails
// (out of memory), a static text stands in, so recording never throws.
#include "bindings/c/CApiStatus.h"

namespace dj::capi {
namespace {

// The values of dj_status and dj::StatusCode must stay equal: the C boundary only casts.
static_assert(DJ_OK == static_cast<int>(StatusCode::Ok));
static_assert(DJ_ERR_INVALID_ARGUMENT == static_cast<int>(StatusCode::InvalidArgument));
static_assert(DJ_ERR_INVALID_MODEL == static_cast<int>(StatusCode::InvalidModel));
static_assert(DJ_ERR_UNSUPPORTED == static_cast<int>(StatusCode::Unsupported));
static_assert(DJ_ERR_OUT_OF_MEMORY == static_cast<int>(StatusCode::OutOfMemory));
static_assert(DJ_ERR_IO == static_cast<int>(StatusCode::IoError));
static_assert(DJ_ERR_INTERNAL == static_cast<int>(StatusCode::Internal));

thread_local std::string t_message;
thread_local const char* t_static_message = nullptr;  // set when t_message could not be stored

void store_message(const char* text) noexcept {
  try {
    t_message.assign(text);
    t_static_message = nullptr;
  } catch (...) {
    t_static_message = "out of memory while recording an error message";
  }
}

dj_status to_c_status(StatusCode code) noexcept {
  int value = static_cast<int>(code);
  if (value < DJ_OK || value > DJ_ERR_INTERNAL) return DJ_ERR_INTERNAL;
  return static_cast<dj_status>(value);
}

}  // namespace

dj_status record_error(const Status& status) noexcept {
  if (status.ok()) return DJ_OK;
  store_message(status.message().c_str());
  return to_c_status(status.code());
}

dj_status record_error(dj_status code, const char* message) noexcept {
  store_message(message);
  return code;
}

dj_status null_argument(const char* function, const char* what) noexcept {
  try {
    return record_error(DJ_ERR_INVALID_ARGUMENT, (std::string(function) + ": " + what + " is NULL").c_str());
  } catch (...) {
    return record_error(DJ_ERR_INVALID_ARGUMENT, "a required argument is NULL");
  }
}

}  // namespace dj::capi

extern "C" {

const char* dj_last_error_message(void) noexcept {
  using namespace dj::capi;
  return t_static_message ? t_static_message : t_message.c_str();
}

const char* dj_status_name(dj_status status) noexcept {
  if (status < DJ_OK || status > DJ_ERR_INTERNAL) return "unknown status";
  return dj::status_code_name(static_cast<dj::StatusCode>(status));
}

}  // extern "C"
