"""DynaJIT: run dynamic ONNX models (shapes, branches and routing that change with
the input) from Python, with NumPy arrays in and out.

    import numpy as np, dynajit
    m = dynajit.load("models/dynamic_mlp.onnx")      # like onnxruntime.InferenceSession
    m.inputs                                         # [ValueInfo(name='x', dtype=float32, shape=('batch', 16))]
    out = m.run({"x": np.ones((3, 16), np.float32)}) # {"probs": array of shape (3, 4)}
    probs, = m.run(None, {"x": x})                   # ONNX Runtime's calling form: a list

Inputs of the declared dtype are borrowed, not copied; outputs are handed to
NumPy without a copy; the GIL is released while a model runs, so Python threads
run one model in parallel. Failures raise a subclass of :class:`dynajit.Error`
carrying the C library's message.
"""

from ._errors import (
    Error,
    FileError,
    InternalError,
    InvalidArgument,
    InvalidModel,
    OutOfMemory,
    Unsupported,
)
from . import _core
from ._model import Model, ValueInfo, load

__version__: str = _core.version()

__all__ = [
    "load",
    "Model",
    "ValueInfo",
    "Error",
    "InvalidArgument",
    "InvalidModel",
    "Unsupported",
    "OutOfMemory",
    "FileError",
    "InternalError",
    "__version__",
]
