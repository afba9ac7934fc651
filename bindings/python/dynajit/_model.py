"""dynajit.load and Model: the ONNX Runtime-like face of the C API.

A Model wraps one dj_model. It is immutable after load and safe to run from many
Python threads at once: the GIL is released while the model runs, so threads run
in parallel (bounded by ``num_threads`` when it was given).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import _core, _dtypes
from ._errors import InvalidArgument, Unsupported
from ._inputs import prepare_input

_DIM_KINDS = ("constant", "symbolic", "data_dependent")

Dim = Union[int, str, None]


@dataclass(frozen=True)
class ValueInfo:
    """An input or output of a model, as declared (inputs) or inferred at load time (outputs).

    Attributes:
        name: the value's name in the ONNX graph.
        dtype: its NumPy dtype, or None when the model does not say. bf16 shows
            as uint16 (the bits), since NumPy has no bfloat16.
        shape: a tuple with an int for each fixed dim and a str for each symbolic
            one (``"batch"``, ``"seq*2"``, or a name such as ``"loop0"`` for a
            size known only after running); None when the rank is not known.
        dim_kinds: for each dim, ``"constant"``, ``"symbolic"`` or
            ``"data_dependent"``; None when the rank is not known.
        dtype_name: DynaJIT's short name of the element type (``"f32"``, ``"bf16"``,
            ``"unknown"``).
    """

    name: str
    dtype: Optional[np.dtype]
    shape: Optional[tuple[Dim, ...]]
    dim_kinds: Optional[tuple[str, ...]]
    dtype_name: str

    @staticmethod
    def _from_core(entry: tuple) -> "ValueInfo":
        name, code, rank, dims = entry
        if rank < 0:
            shape, kinds = None, None
        else:
            shape = tuple(value if kind == 0 else symbol for kind, value, symbol in dims)
            kinds = tuple(_DIM_KINDS[kind] if 0 <= kind < len(_DIM_KINDS) else "unknown" for kind, _, _ in dims)
        return ValueInfo(name, _dtypes.numpy_dtype(code), shape, kinds, _dtypes.dtype_name(code))

    def __repr__(self) -> str:
        dtype = self.dtype.name if self.dtype is not None else "unknown"
        return f"ValueInfo(name={self.name!r}, dtype={dtype}, shape={self.shape!r})"


InputFeed = Mapping[str, Any]

# Tells run(x=...) (a dict back) from run(None, x=...) (ONNX Runtime's form: a list back).
class _Omitted:
    def __repr__(self) -> str:
        return "<omitted>"


_NOT_GIVEN: Any = _Omitted()


class Model:
    """A loaded ONNX model. Made by :func:`dynajit.load`; see :meth:`run`.

    Attributes:
        inputs: the inputs (list of :class:`ValueInfo`), in the model's order.
        outputs: the outputs, in the model's order.
        device, jit, cache_dir, num_threads: the options it was loaded with.
    """

    def __init__(self, core: Any, *, device: str, jit: bool, cache_dir: Optional[str], num_threads: int):
        self._core = core
        self.device = device
        self.jit = jit
        self.cache_dir = cache_dir
        self.num_threads = num_threads
        self._inputs = [ValueInfo._from_core(e) for e in core.inputs()]
        self._outputs = [ValueInfo._from_core(e) for e in core.outputs()]
        self._input_codes = {e[0]: e[1] for e in core.inputs()}
        self._output_index = {v.name: i for i, v in enumerate(self._outputs)}

    @property
    def inputs(self) -> list[ValueInfo]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[ValueInfo]:
        return list(self._outputs)

    # ONNX Runtime's spelling, so code written for an InferenceSession keeps working.
    def get_inputs(self) -> list[ValueInfo]:
        """The inputs, as :attr:`inputs` (ONNX Runtime's name for it)."""
        return self.inputs

    def get_outputs(self) -> list[ValueInfo]:
        """The outputs, as :attr:`outputs` (ONNX Runtime's name for it)."""
        return self.outputs

    def run(
        self,
        output_names_or_feed: Union[None, Sequence[str], InputFeed] = _NOT_GIVEN,
        input_feed: Optional[InputFeed] = None,
        /,
        **named_inputs: Any,
    ) -> Union[dict[str, np.ndarray], list[np.ndarray]]:
        """Runs the model once and returns its outputs as NumPy arrays.

        The calling forms::

            y = m.run({"x": x})             # dict: every output by name
            y = m.run(x=x)                  # the same, inputs as keywords
            ys = m.run(None, {"x": x})      # list: every output, in model order (ONNX Runtime's form)
            ys = m.run(["probs"], {"x": x}) # list: the named outputs, in that order

        Every model input must be given once. Inputs are NumPy arrays (or values
        NumPy can read); an array of the declared dtype is passed without a copy,
        whatever its strides. Other dtypes are converted only when no value can
        change (int32 -> int64, float16 -> float32, ...) and refused otherwise; see
        dynajit._inputs for the full rules.

        The output arrays own their memory (no copy is made to hand them over) and
        are writable. The GIL is released while the model runs.

        Raises:
            InvalidArgument: a missing, unknown or repeated input, a wrong dtype,
                rank or shape (the message names the input), or an unknown output name.
            OutOfMemory: the run needed more memory than could be had.
            Error: any other failure of the run, naming the node.
        """
        feed, wanted = self._parse_run_args(output_names_or_feed, input_feed, named_inputs)
        names, arrays, codes = [], [], []
        for name, value in feed.items():
            if not isinstance(name, str):
                raise InvalidArgument(f"input names must be str, not {type(name).__name__} ({name!r})")
            code = self._input_codes.get(name)
            if code is None:
                known = ", ".join(v.name for v in self._inputs)
                raise InvalidArgument(f"unknown input '{name}' (the model's inputs: {known})")
            arr, code = prepare_input(name, value, code)
            names.append(name)
            arrays.append(arr)
            codes.append(code)
        results = self._core.run(names, arrays, codes)
        if wanted is None:
            return {v.name: r for v, r in zip(self._outputs, results)}
        return [results[i] for i in wanted]

    def stats(self) -> dict[str, Any]:
        """What the model has done so far, as a dict (the JSON of the C API's dj_model_stats).

        Keys (runtime/TraceReport.h documents them; new ones may appear):
        ``model``, ``tracing``, ``runs``, ``run_time_ms`` and ``regions``: per region
        (the units DynaJIT traces: runs of ops between control flow and
        data-dependent shapes) its ops, the input shape ``signatures`` seen with
        counts and times, If ``branches`` taken, Loop ``trips``, and for
        mixture-of-experts ``routers`` the rows sent to each expert. Safe to call
        while other threads run the model.
        """
        return json.loads(self._core.stats())

    def wait_for_compiles(self, timeout: Optional[float] = None) -> bool:
        """Waits until the JIT has no compile queued or running, at most ``timeout``
        seconds (None: no limit). True when none is left (also with the JIT off).

        Compiles run in the background while runs go on, and closing a model
        cancels its queued compiles: call this before exiting when the code cache
        should hold every specialization the runs asked for, so the next process
        loaded with ``DJ_WARM_CACHE=1`` starts warm.
        """
        ms = -1 if timeout is None else max(0, int(timeout * 1000))
        return self._core.wait_for_compiles(ms)

    def _parse_run_args(self, first: Any, second: Any, named: dict) -> tuple[InputFeed, Optional[list[int]]]:
        """(feed, indices of the outputs to return as a list, or None for a dict)."""
        if isinstance(first, Mapping):
            if second is not None:
                raise InvalidArgument("run(feed) takes one feed: give run({...}) or run(output_names, {...})")
            return _merge(first, named), None
        if first is _NOT_GIVEN:
            return named, None
        feed = _merge(second if second is not None else {}, named)
        if first is None:
            return feed, list(range(len(self._outputs)))
        if isinstance(first, str):
            raise InvalidArgument(f"output_names must be a list of names, not the str {first!r}")
        wanted = []
        for out in first:
            if out not in self._output_index:
                known = ", ".join(v.name for v in self._outputs)
                raise InvalidArgument(f"unknown output '{out}' (the model's outputs: {known})")
            wanted.append(self._output_index[out])
        return feed, wanted

    def __repr__(self) -> str:
        ins = ", ".join(f"{v.name}: {v.dtype_name}{list(v.shape) if v.shape is not None else '[?]'}" for v in self._inputs)
        outs = ", ".join(f"{v.name}: {v.dtype_name}{list(v.shape) if v.shape is not None else '[?]'}" for v in self._outputs)
        return f"<dynajit.Model ({ins}) -> ({outs}) on {self.device}>"


def _merge(feed: Mapping, named: dict) -> dict:
    merged = dict(feed)
    for name, value in named.items():
        if name in merged:
            raise InvalidArgument(f"input '{name}' is given twice (in the feed and as a keyword)")
        merged[name] = value
    return merged


PathOrBytes = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


def load(
    path_or_bytes: PathOrBytes,
    device: str = "cpu",
    jit: bool = True,
    cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    num_threads: int = 0,
) -> Model:
    """Loads an ONNX model and returns a :class:`Model` ready to :meth:`~Model.run`.

    Args:
        path_or_bytes: a path to an ``.onnx`` file (binary ModelProto, or ONNX's
            textual syntax), the model's bytes, or an ``onnx.ModelProto``.
        device: where compiled regions run: ``"cpu"``, ``"cuda"`` (raises
            :class:`Unsupported`, naming why, when no usable GPU and driver are
            present) or ``"auto"`` (the GPU when usable, else the CPU). Runs start
            interpreted on the host either way.
        jit: compile hot shapes and paths to specialized code (in the background;
            runs are interpreted until the code is ready, then dispatch switches).
            False: every run uses the reference interpreter. DJ_JIT=off in the
            environment turns it off for the whole process.
        cache_dir: where compiled code is cached on disk, so that a later process
            loads it instead of compiling. None: DJ_CACHE_DIR, else
            ~/.cache/dynajit. Must be your own, not group/world-writable.
        num_threads: threads the runs of this model may use for their parallel
            kernels. 0 (default): every core, shared with the process. N > 0: all
            runs of this model together use at most N threads; extra concurrent
            runs wait their turn.

    Returns:
        The model. Its ``inputs`` / ``outputs`` describe names, dtypes and
        (symbolic) shapes.

    Raises:
        FileError: the file cannot be opened or read (the path is named).
        InvalidModel: the model is malformed or truncated.
        Unsupported: an op DynaJIT lacks (named with its node), or a GPU that cannot be had.
        InvalidArgument: a bad option value.

    Example::

        import numpy as np, dynajit
        m = dynajit.load("models/dynamic_mlp.onnx")
        probs = m.run(x=np.ones((3, 16), np.float32))["probs"]
    """
    if not isinstance(device, str):
        raise InvalidArgument(f"device must be a str such as 'cpu', not {type(device).__name__}")
    device = device.lower()
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise InvalidArgument(f"num_threads must be an int, not {type(num_threads).__name__}")
    if cache_dir is not None:
        cache_dir = os.fspath(cache_dir)
    jit = bool(jit)
    dir_arg = cache_dir or ""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        core = _core.LoadedModel.from_bytes(bytes(path_or_bytes), num_threads, jit, dir_arg, device)
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        core = _core.LoadedModel.from_file(os.fspath(path_or_bytes), num_threads, jit, dir_arg, device)
    elif hasattr(path_or_bytes, "SerializeToString"):
        core = _core.LoadedModel.from_bytes(path_or_bytes.SerializeToString(), num_threads, jit, dir_arg, device)
    else:
        raise InvalidArgument(
            f"load() takes a path, bytes or an onnx.ModelProto, not {type(path_or_bytes).__name__}"
        )
    return Model(core, device=device, jit=jit, cache_dir=cache_dir, num_threads=num_threads)
