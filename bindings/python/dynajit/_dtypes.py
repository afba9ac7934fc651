"""DynaJIT element types (dj_dtype) and their NumPy counterparts.

The codes equal the dj_dtype enum of bindings/c/dynajit.h (a test checks each
against the library's own dj_dtype_name). NumPy has no bfloat16: a bf16 value
travels as its uint16 bits, both ways.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

UNKNOWN = -1
BF16 = 3

# dj_dtype code -> (short name as dj_dtype_name spells it, NumPy dtype)
DTYPES: dict[int, tuple[str, np.dtype]] = {
    0: ("f32", np.dtype(np.float32)),
    1: ("f64", np.dtype(np.float64)),
    2: ("f16", np.dtype(np.float16)),
    BF16: ("bf16", np.dtype(np.uint16)),
    4: ("i64", np.dtype(np.int64)),
    5: ("i32", np.dtype(np.int32)),
    6: ("i16", np.dtype(np.int16)),
    7: ("i8", np.dtype(np.int8)),
    8: ("u64", np.dtype(np.uint64)),
    9: ("u32", np.dtype(np.uint32)),
    10: ("u16", np.dtype(np.uint16)),
    11: ("u8", np.dtype(np.uint8)),
    12: ("bool", np.dtype(np.bool_)),
}

# NumPy dtype -> dj_dtype code (uint16 means u16; bf16 is chosen only by the model).
_CODE_OF_NUMPY = {np_dtype: code for code, (_, np_dtype) in DTYPES.items() if code != BF16}


def numpy_dtype(code: int) -> Optional[np.dtype]:
    """The NumPy dtype for a dj_dtype code, or None when the model does not say (UNKNOWN)."""
    entry = DTYPES.get(code)
    return entry[1] if entry else None


def dtype_name(code: int) -> str:
    entry = DTYPES.get(code)
    return entry[0] if entry else "unknown"


def code_of(np_dtype: np.dtype) -> Optional[int]:
    """The dj_dtype code of a NumPy dtype (native byte order), or None when DynaJIT has no such type."""
    return _CODE_OF_NUMPY.get(np.dtype(np_dtype))
