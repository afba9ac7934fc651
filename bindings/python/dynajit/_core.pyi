"""Type stubs of dynajit._core, the extension module over the C API (dynajit.h).

Users call dynajit.load and Model.run; this module is their implementation.
"""

from typing import Optional, Sequence

import numpy as np
import numpy.typing as npt

# (dim kind: 0 constant / 1 symbolic / 2 data-dependent, value or -1, symbol text or None)
DimEntry = tuple[int, int, Optional[str]]
# (name, dj_dtype code, rank or -1, dims)
ValueEntry = tuple[str, int, int, list[DimEntry]]

def version() -> str:
    """The C library's version, MAJOR.MINOR.PATCH."""

def dtype_name(code: int) -> str:
    """dj_dtype_name: 'f32', 'i64', ... for a dj_dtype code; 'unknown' otherwise."""

def dtype_size(code: int) -> int:
    """dj_dtype_size: bytes per element of a dj_dtype code; 0 for a value that is not one."""

class LoadedModel:
    """A dj_model: a loaded ONNX model."""

    @staticmethod
    def from_file(path: str, num_threads: int = 0, jit: bool = True, cache_dir: str = "") -> LoadedModel:
        """dj_load: an ONNX model file (binary or textual syntax)."""

    @staticmethod
    def from_bytes(data: bytes, num_threads: int = 0, jit: bool = True, cache_dir: str = "") -> LoadedModel:
        """dj_load_from_memory: an ONNX model from bytes."""

    def inputs(self) -> list[ValueEntry]: ...
    def outputs(self) -> list[ValueEntry]: ...
    def stats(self) -> str:
        """dj_model_stats: the model's statistics as JSON text."""

    def wait_for_compiles(self, timeout_ms: int) -> bool:
        """dj_model_wait_for_compiles (GIL released): true when no compile is queued or running."""

    def run(self, names: Sequence[str], arrays: Sequence[npt.NDArray[np.generic]], dtypes: Sequence[int]) -> list[npt.NDArray[np.generic]]:
        """dj_run with the GIL released: every output, in the model's order, as NumPy arrays."""
