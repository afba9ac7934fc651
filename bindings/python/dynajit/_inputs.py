"""How a value passed to Model.run becomes an input tensor: the conversion rules.

Zero copies where possible: a NumPy array whose dtype is the input's declared
dtype goes to the model as it is, borrowed, whatever its strides (the runtime
packs a strided input itself). A copy is made here only when the value must
change:

1. An array (or anything with a dtype: NumPy scalars, objects with
   ``__array__``) of another dtype is converted when NumPy calls the cast
   "safe", i.e. it keeps every value exactly (int32 -> int64, float16 -> float32,
   bool -> any number, a byte-swapped float32 -> float32). Any other dtype is
   refused with :class:`~dynajit.InvalidArgument` naming the input and both
   dtypes: a float64 array for a float32 input is *not* silently rounded; pass
   ``x.astype(np.float32)`` if that is what you mean.
2. A plain Python value (a number, bool, or nested list/tuple of them) has no
   dtype of its own; it is converted to the declared dtype when the kinds agree
   as NumPy's "same_kind" casting says (floats or ints for a float input, ints
   for an int input), and integers must fit the target type.
3. An array whose strides are not a whole number of elements, or whose data is
   not aligned for its type, is packed into a C-contiguous copy.
4. A bfloat16 input (NumPy has none) takes a uint16 array holding the bits.
5. An input whose dtype the model does not declare takes the array's own dtype.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _dtypes
from ._errors import InvalidArgument

_PLAIN_PYTHON = (bool, int, float, list, tuple)


def prepare_input(name: str, value: Any, declared_code: int) -> tuple[np.ndarray, int]:
    """The array to borrow for input ``name`` and the dj_dtype code to view it as."""
    if value is None:
        raise InvalidArgument(f"input '{name}' is None")
    if isinstance(value, _PLAIN_PYTHON):
        arr = _from_plain_python(name, value, declared_code)
    else:
        arr = _from_array_like(name, value, declared_code)
    code = declared_code if declared_code != _dtypes.UNKNOWN else _dtypes.code_of(arr.dtype)
    if code is None:
        raise InvalidArgument(f"input '{name}' has dtype {arr.dtype}, which DynaJIT does not support")
    if not arr.flags.aligned or any(s % arr.itemsize for s in arr.strides):
        arr = np.ascontiguousarray(arr)
    return arr, code


def _from_array_like(name: str, value: Any, declared_code: int) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as e:  # a value NumPy cannot read as an array at all
        raise InvalidArgument(f"input '{name}': cannot read a {type(value).__name__} as an array ({e})") from e
    target = _dtypes.numpy_dtype(declared_code)
    if target is None or arr.dtype == target:
        return arr
    if declared_code == _dtypes.BF16:
        raise InvalidArgument(
            f"input '{name}' has dtype {arr.dtype} but the model expects bf16; NumPy has no bfloat16, "
            "so pass the bits as a uint16 array"
        )
    if np.can_cast(arr.dtype, target, casting="safe"):
        return arr.astype(target)
    raise InvalidArgument(
        f"input '{name}' has dtype {arr.dtype} but the model expects {target} "
        f"({_dtypes.dtype_name(declared_code)}); converting {arr.dtype} to {target} can lose information, "
        f"so it is not done implicitly: pass x.astype(np.{target}) if that is what you mean"
    )


def _from_plain_python(name: str, value: Any, declared_code: int) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as e:  # ragged nesting and the like
        raise InvalidArgument(f"input '{name}': cannot read the {type(value).__name__} as an array ({e})") from e
    if arr.dtype == np.dtype(object) or arr.dtype.kind not in "biuf":
        raise InvalidArgument(f"input '{name}': a {type(value).__name__} of {arr.dtype} values is not a tensor")
    target: Optional[np.dtype] = _dtypes.numpy_dtype(declared_code)
    if target is None:
        return arr
    if declared_code == _dtypes.BF16 or not np.can_cast(arr.dtype, target, casting="same_kind"):
        raise InvalidArgument(
            f"input '{name}': Python {_kind_name(arr.dtype)} values cannot become "
            f"{_dtypes.dtype_name(declared_code)} ({target}) without losing information"
        )
    converted = arr.astype(target)
    if target.kind in "biu" and not np.array_equal(converted.astype(arr.dtype), arr):
        raise InvalidArgument(f"input '{name}': a value does not fit in {target}")
    return converted


def _kind_name(dt: np.dtype) -> str:
    return {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(dt.kind, str(dt))
