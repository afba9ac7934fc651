"""The dynajit.Error hierarchy: one exception class per dj_status of the C API.

Every failure of the C library reaches Python as an instance of a subclass of
:class:`Error` whose message is the C API's own (``dj_last_error_message()``): it
names the input, the file or the op and node at fault. Each subclass also derives
from the built-in exception a Python caller would expect (``InvalidArgument`` is a
``ValueError``, ``OutOfMemory`` a ``MemoryError``, ...), so generic handlers work.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every DynaJIT error.

    Attributes:
        code: the dj_status value (an int, see bindings/c/dynajit.h).
        status: the status's name, e.g. ``"invalid argument"``.
    """

    code: int = -1
    status: str = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(Error, ValueError):
    """The caller passed something wrong: an input's name, dtype, rank or shape, an option."""

    code, status = 1, "invalid argument"


class InvalidModel(Error, ValueError):
    """The model is malformed, truncated or inconsistent."""

    code, status = 2, "invalid model"


class Unsupported(Error, NotImplementedError):
    """An op, attribute, type, option or device DynaJIT does not implement (yet)."""

    code, status = 3, "unsupported"


class OutOfMemory(Error, MemoryError):
    """Memory could not be had, or the DJ_MAX_MEMORY_MB cap was reached."""

    code, status = 4, "out of memory"


class FileError(Error, OSError):
    """A file could not be opened or read (DJ_ERR_IO)."""

    code, status = 5, "io"


class InternalError(Error, RuntimeError):
    """A bug in DynaJIT; please report it with the message."""

    code, status = 6, "internal"


_BY_CODE = {cls.code: cls for cls in (InvalidArgument, InvalidModel, Unsupported, OutOfMemory, FileError, InternalError)}


def error_from_status(code: int, message: str) -> Error:
    """The exception for a failed dj_status ``code`` carrying the C API's ``message``.

    Called by the extension module for every failing C call; a code outside the
    enum (a newer library) still gives an :class:`Error` with the code kept.
    """
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    err = Error(message)
    err.code = code
    return err
