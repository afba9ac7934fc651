"""Inputs that are not plain C-contiguous arrays of the declared dtype: strided
views are used as they are (or packed), wrong dtypes are converted when no value
can change and refused otherwise, and every refusal is a dynajit.Error naming the
input, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

import dynajit
from conftest import model_path, ort_run


@pytest.fixture(scope="module")
def loop():
    # JIT off: these tests compare runs bit for bit, and a region compiled between
    # two runs may round differently (tests/python/test_jit.py covers the JIT).
    return dynajit.load(model_path("greedy_loop"), jit=False)


@pytest.fixture(scope="module")
def encoder():
    return dynajit.load(model_path("tiny_encoder"))


def _x(rows=6, seed=3):
    return np.random.default_rng(seed).standard_normal((rows, 16)).astype(np.float32)


def _strided_views():
    """Non-contiguous float32 [6, 16] arrays, each with its contiguous twin."""
    base = np.random.default_rng(7).standard_normal((16, 40)).astype(np.float32)
    views = {
        "row_step": base[:12:2, :16],
        "col_step": base[:6, ::2][:, :16],
        "negative_rows": base[5::-1, :16],
        "negative_cols": base[:6, 39:23:-1],
        "fortran_order": np.asfortranarray(base[:6, :16]),
        "transposed": np.ascontiguousarray(base[:16, :6]).T,
        "broadcast_rows": np.broadcast_to(base[0, :16], (6, 16)),
        "readonly": base[:6, :16].copy(),
    }
    views["readonly"].setflags(write=False)
    return views


@pytest.mark.parametrize("kind", list(_strided_views()))
def test_strided_input_gives_the_contiguous_result(mlp, kind):
    view = _strided_views()[kind]
    assert kind == "readonly" or not view.flags.c_contiguous
    want = ort_run("dynamic_mlp", {"x": np.ascontiguousarray(view)})[0]
    got = mlp.run(x=view)["probs"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_odd_byte_strides_are_packed(mlp):
    """A float32 view whose strides are not a whole number of elements (a view into
    a byte buffer at an odd offset) cannot be borrowed; it is packed first."""
    raw = np.zeros(6 * 16 * 4 + 1, dtype=np.uint8)
    x = _x()
    view = raw[1:].view(np.float32).reshape(6, 16)  # misaligned by one byte
    view[...] = x
    assert not view.flags.aligned
    np.testing.assert_allclose(mlp.run(x=view)["probs"], mlp.run(x=x)["probs"], rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.int16, np.uint8, np.bool_, np.dtype(">f4")])
def test_safe_dtypes_are_converted(mlp, dtype):
    """Casts NumPy calls "safe" keep every value, so they are done for the caller."""
    x = (_x() * 4).astype(dtype)
    want = mlp.run(x=x.astype(np.float32))["probs"]
    np.testing.assert_array_equal(mlp.run(x=x)["probs"], want)


@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.int64, np.uint32, np.complex64])
def test_lossy_dtypes_are_refused_naming_the_input(mlp, dtype):
    x = _x().astype(dtype)
    with pytest.raises(dynajit.InvalidArgument) as err:
        mlp.run(x=x)
    msg = str(err.value)
    assert "input 'x'" in msg and np.dtype(dtype).name in msg and "float32" in msg, msg
    assert isinstance(err.value, ValueError)


def test_int32_steps_are_widened_to_int64(loop):
    h0 = np.random.default_rng(5).standard_normal((1, 16)).astype(np.float32)
    want = loop.run(None, {"h0": h0, "steps": np.array(6, dtype=np.int64)})
    got = loop.run(None, {"h0": h0, "steps": np.array(6, dtype=np.int32)})
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_plain_python_values(loop, mlp):
    h0 = np.random.default_rng(5).standard_normal((1, 16)).astype(np.float32)
    want = loop.run(None, {"h0": h0, "steps": np.int64(6)})
    got = loop.run(None, {"h0": h0.tolist(), "steps": 6})  # a nested list of floats, a Python int
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(dynajit.InvalidArgument, match="input 'steps'.*float"):
        loop.run(h0=h0, steps=6.5)
    with pytest.raises(dynajit.InvalidArgument, match="input 'steps'.*not a tensor"):
        loop.run(h0=h0, steps=2**70)  # beyond int64: NumPy keeps it as a Python object
    ident = dynajit.load(b"""<ir_version: 8, opset_import: ["" : 17]>
agraph (int32[N] x) => (int32[N] y) { y = Identity(x) }""")
    got = ident.run(x=[1, -2, 2**31 - 1])["y"]
    assert got.dtype == np.int32 and got.tolist() == [1, -2, 2**31 - 1]
    with pytest.raises(dynajit.InvalidArgument, match="input 'x': a value does not fit in int32"):
        ident.run(x=[1, 2**31])
    with pytest.raises(dynajit.InvalidArgument, match="input 'x'"):
        mlp.run(x=[[1.0, 2.0], [3.0]])  # ragged
    with pytest.raises(dynajit.InvalidArgument, match="input 'x'"):
        mlp.run(x=["a"] * 16)


def test_missing_input_names_itself(loop):
    h0 = np.zeros((1, 16), np.float32)
    with pytest.raises(dynajit.InvalidArgument, match="missing input 'steps'"):
        loop.run(h0=h0)
    with pytest.raises(dynajit.InvalidArgument, match="missing input 'h0'"):
        loop.run({"steps": np.int64(3)})


def test_unknown_and_repeated_inputs(mlp):
    x = _x()
    with pytest.raises(dynajit.InvalidArgument, match=r"unknown input 'y' \(the model's inputs: x\)"):
        mlp.run(x=x, y=x)
    with pytest.raises(dynajit.InvalidArgument, match="input 'x' is given twice"):
        mlp.run({"x": x}, x=x)
    with pytest.raises(dynajit.InvalidArgument, match="input 'x' is None"):
        mlp.run(x=None)
    with pytest.raises(dynajit.InvalidArgument, match="input names must be str"):
        mlp.run({0: x})


def test_wrong_rank_and_shape_are_named(mlp, encoder):
    with pytest.raises(dynajit.InvalidArgument, match="input 'x' has rank 3"):
        mlp.run(x=np.zeros((2, 3, 16), np.float32))
    with pytest.raises(dynajit.InvalidArgument, match=r"input 'x' has shape \[2,15\].*dim 1 must be 16"):
        mlp.run(x=np.zeros((2, 15), np.float32))
    with pytest.raises(dynajit.InvalidArgument, match="input 'tokens'"):
        encoder.run(tokens=np.zeros((2, 3), np.float32))


def test_empty_batch(mlp):
    out = mlp.run(x=np.zeros((0, 16), np.float32))["probs"]
    assert out.shape == (0, 4) and out.dtype == np.float32


def test_input_is_not_modified(mlp):
    x = _x()
    before = x.copy()
    mlp.run(x=x)
    np.testing.assert_array_equal(x, before)
