// StatusError: throwing on a failed C call, and its translation into dynajit.Error.
#include "StatusError.h"

#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace dynajit_py {

void check_status(dj_status status) {
  if (status != DJ_OK) throw StatusError(status, dj_last_error_message());
}

void register_status_translator() {
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const StatusError& e) {
      // The Python side builds the exception so its class, code and message live in one place.
      try {
        nb::object errors = nb::module_::import_("dynajit._errors");
        nb::object exc = errors.attr("error_from_status")(static_cast<int>(e.status()), e.what());
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
      } catch (nb::python_error& pe) {
        pe.restore();
      }
    }
  });
}

}  // namespace dynajit_py
