// dynajit._core: the extension module. It only binds; the Python package
// (dynajit/__init__.py and friends) gives it its public shape, documentation and
// input rules. Everything here mirrors a C API call of bindings/c/dynajit.h.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "LoadedModel.h"
#include "StatusError.h"

namespace nb = nanobind;
using dynajit_py::LoadedModel;

NB_MODULE(_core, m) {
  m.doc() = "Low-level binding of the DynaJIT C API; use the dynajit package instead.";
  dynajit_py::register_status_translator();

  m.def("version", [] { return std::string(dj_version()); }, "The C library's version, MAJOR.MINOR.PATCH.");
  m.def(
      "dtype_name", [](int code) { return std::string(dj_dtype_name(static_cast<dj_dtype>(code))); },
      nb::arg("code"), "dj_dtype_name: 'f32', 'i64', ... for a dj_dtype code; 'unknown' otherwise.");
  m.def(
      "dtype_size", [](int code) { return dj_dtype_size(static_cast<dj_dtype>(code)); }, nb::arg("code"),
      "dj_dtype_size: bytes per element of a dj_dtype code; 0 for a value that is not one.");

  nb::class_<LoadedModel>(m, "LoadedModel", "A dj_model: a loaded ONNX model.")
      .def_static("from_file", &LoadedModel::from_file, nb::arg("path"), nb::arg("num_threads") = 0, nb::arg("jit") = true, nb::arg("cache_dir") = "",
                  nb::arg("device") = "", "dj_load: an ONNX model file (binary or textual syntax).")
      .def_static("from_bytes", &LoadedModel::from_bytes, nb::arg("data"), nb::arg("num_threads") = 0, nb::arg("jit") = true, nb::arg("cache_dir") = "",
                  nb::arg("device") = "", "dj_load_from_memory: an ONNX model from bytes.")
      .def("inputs", &LoadedModel::inputs, "[(name, dtype code, rank, [(kind, value, symbol)])] of the inputs.")
      .def("outputs", &LoadedModel::outputs, "[(name, dtype code, rank, [(kind, value, symbol)])] of the outputs.")
      .def("stats", &LoadedModel::stats, "dj_model_stats: the model's statistics as JSON text.")
      .def("wait_for_compiles", &LoadedModel::wait_for_compiles, nb::arg("timeout_ms"),
           "dj_model_wait_for_compiles (GIL released): true when no compile is queued or running.")
      .def("run", &LoadedModel::run, nb::arg("names"), nb::arg("arrays"), nb::arg("dtypes"),
           "dj_run with the GIL released: every output, in the model's order, as NumPy arrays.");
}
