// The C API's error channel: the per-thread last-error message, and the guard
// that every fallible entry point runs its body in.
//
// Invariant: nothing thrown inside DynaJIT leaves through the C API. guarded()
// catches everything, AllocationError/bad_alloc become DJ_ERR_OUT_OF_MEMORY and
// anything else DJ_ERR_INTERNAL, and records the message for
// dj_last_error_message(). Recording itself never throws.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "bindings/c/dynajit.h"
#include "runtime/Status.h"

namespace dj::capi {

// Records `status` as this thread's last error and returns its C code.
dj_status record_error(const Status& status) noexcept;
dj_status record_error(dj_status code, const char* message) noexcept;

// A DJ_ERR_INVALID_ARGUMENT for a NULL pointer argument: "<function>: <what> is NULL".
dj_status null_argument(const char* function, const char* what) noexcept;

// Runs `body` (returning dj::Status) and turns its result, or anything it throws,
// into a dj_status. `function` names the entry point in messages about exceptions.
template <typename Body>
dj_status guarded(const char* function, Body&& body) noexcept {
  try {
    Status status = body();
    return status.ok() ? DJ_OK : record_error(status);
  } catch (const std::bad_alloc& e) {
    try {
      return record_error(Status(StatusCode::OutOfMemory, std::string(function) + ": out of memory: " + e.what()));
    } catch (...) {
      return record_error(DJ_ERR_OUT_OF_MEMORY, "out of memory");
    }
  } catch (const std::exception& e) {
    try {
      return record_error(
          Status(StatusCode::Internal, std::string(function) + ": unexpected C++ exception: " + e.what()));
    } catch (...) {
      return record_error(DJ_ERR_INTERNAL, "unexpected C++ exception");
    }
  } catch (...) {
    return record_error(DJ_ERR_INTERNAL, "unexpected non-standard C++ exception");
  }
}

}  // namespace dj::capi
