// StatusError: a failed dj_status on its way from the C API to Python.
//
// check_status() throws it right after a failing C call, on the same thread, so
// dj_last_error_message() is that call's message. The translator registered by
// register_status_translator() turns it into the dynajit.Error subclass for the
// status (dynajit/_errors.py owns the hierarchy); nothing else reaches Python as
// a C++ exception.
#pragma once

#include <stdexcept>
#include <string>

#include "dynajit.h"

namespace dynajit_py {

class StatusError : public std::runtime_error {
 public:
  StatusError(dj_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  dj_status status() const { return status_; }

 private:
  dj_status status_;
};

// Throws StatusError carrying dj_last_error_message() when `status` is not DJ_OK.
void check_status(dj_status status);

// Installs the StatusError -> dynajit.Error translation (once, at module import).
void register_status_translator();

}  // namespace dynajit_py
