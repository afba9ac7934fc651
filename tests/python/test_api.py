"""The Python surface: load from a path, bytes or a ModelProto; introspection with
symbolic shapes; the three run() spellings; the error hierarchy; options; docs."""

from __future__ import annotations

import os
import pathlib
import pydoc
import subprocess
import sys

import numpy as np
import pytest

import dynajit
from dynajit import _core, _dtypes
from conftest import MODELS, model_path, ort_run


def test_introspection_reports_symbolic_shapes():
    m = dynajit.load(model_path("greedy_loop"))
    assert [v.name for v in m.inputs] == ["h0", "steps"]
    assert m.inputs[0].dtype == np.float32 and m.inputs[0].shape == (1, 16)
    assert m.inputs[1].dtype == np.int64 and m.inputs[1].shape == () and m.inputs[1].dtype_name == "i64"
    outs = {v.name: v for v in m.outputs}
    assert list(outs) == ["h_final", "tokens", "states"]
    assert outs["tokens"].dtype == np.int64
    assert outs["tokens"].shape[1] == 1 and isinstance(outs["tokens"].shape[0], str)
    assert outs["tokens"].dim_kinds == ("data_dependent", "constant")
    assert outs["states"].shape[1:] == (1, 16)

    enc = dynajit.load(model_path("tiny_encoder"))
    assert enc.inputs[0].shape == ("batch", "seq", 32)
    assert enc.inputs[0].dim_kinds == ("symbolic", "symbolic", "constant")
    assert enc.outputs[0].shape == ("batch", "seq", 32)
    ee = dynajit.load(model_path("early_exit"))
    assert ee.outputs[1].name == "exited_early" and ee.outputs[1].dtype == np.bool_ and ee.outputs[1].shape == ()
    assert ee.get_inputs() == ee.inputs and ee.get_outputs() == ee.outputs  # ONNX Runtime's spelling
    assert "x: f32['batch', 16]" in repr(ee)


def test_load_from_bytes_pathlib_and_modelproto(mlp):
    import onnx

    x = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    want = mlp.run(x=x)["probs"]
    path = pathlib.Path(model_path("dynamic_mlp"))
    for source in (path, path.read_bytes(), bytearray(path.read_bytes()), onnx.load(str(path))):
        np.testing.assert_array_equal(dynajit.load(source).run(x=x)["probs"], want)


def test_run_spellings(mlp):
    x = np.random.default_rng(1).standard_normal((4, 16)).astype(np.float32)
    want = ort_run("dynamic_mlp", {"x": x})[0]
    as_dict = mlp.run({"x": x})
    assert list(as_dict) == ["probs"]
    np.testing.assert_allclose(as_dict["probs"], want, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(mlp.run(x=x)["probs"], as_dict["probs"])
    (listed,) = mlp.run(None, {"x": x})
    np.testing.assert_array_equal(listed, as_dict["probs"])
    (named,) = mlp.run(["probs"], {"x": x})
    np.testing.assert_array_equal(named, as_dict["probs"])
    (kw,) = mlp.run(None, x=x)
    np.testing.assert_array_equal(kw, as_dict["probs"])


def test_output_selection_order_and_unknown_output():
    m = dynajit.load(model_path("moe_router"))
    x = np.random.default_rng(2).standard_normal((9, 16)).astype(np.float32)
    y, expert = m.run(None, {"x": x})
    expert2, y2 = m.run(["expert", "y"], {"x": x})
    np.testing.assert_array_equal(expert, expert2)
    np.testing.assert_array_equal(y, y2)
    with pytest.raises(dynajit.InvalidArgument, match=r"unknown output 'z' \(the model's outputs: y, expert\)"):
        m.run(["z"], {"x": x})
    with pytest.raises(dynajit.InvalidArgument, match="list of names"):
        m.run("y", {"x": x})


def test_outputs_own_their_writable_memory(mlp):
    x = np.random.default_rng(3).standard_normal((5, 16)).astype(np.float32)
    a = mlp.run(x=x)["probs"]
    b = mlp.run(x=x)["probs"]
    assert a.flags.writeable and a.flags.c_contiguous
    assert not a.flags.owndata and a.base is not None  # NumPy views the C tensor's buffer
    assert not np.shares_memory(a, b) and not np.shares_memory(a, x)
    a[...] = 0
    assert b.sum() > 0
    del b
    np.testing.assert_array_equal(a, 0)


def test_scalar_and_bool_outputs():
    m = dynajit.load(model_path("early_exit"))
    logits, exited = m.run(None, {"x": np.full((2, 16), 60.0, np.float32)})
    assert exited.shape == () and exited.dtype == np.bool_
    assert logits.shape == (2, 4)


def test_errors_carry_the_c_message_and_hierarchy(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(dynajit.FileError) as err:
        dynajit.load(missing)
    assert str(missing) in str(err.value) and isinstance(err.value, OSError)
    assert err.value.code == 5 and isinstance(err.value, dynajit.Error)

    with pytest.raises(dynajit.InvalidModel) as err:
        dynajit.load(b"\x08\x07\x12\xff\xff\xff\xff")  # a truncated ModelProto
    assert err.value.message and err.value.status == "invalid model"

    truncated = pathlib.Path(model_path("tiny_encoder")).read_bytes()[:500]
    with pytest.raises(dynajit.InvalidModel):
        dynajit.load(truncated)

    unsupported = """<ir_version: 8, opset_import: ["" : 17]>
agraph (float[N] x) => (float[N] y) { y = Celu(x) }"""
    try:
        m = dynajit.load(unsupported.encode())
    except dynajit.Unsupported as e:
        assert "Celu" in str(e)
    else:  # Celu may be implemented one day: then the model must run
        assert m.run(x=np.ones(3, np.float32))["y"].shape == (3,)

    with pytest.raises(dynajit.InvalidArgument):
        dynajit.load(12345)


def test_error_from_unknown_status_code():
    from dynajit._errors import error_from_status

    e = error_from_status(99, "new")
    assert type(e) is dynajit.Error and e.code == 99 and str(e) == "new"
    assert type(error_from_status(4, "oom")) is dynajit.OutOfMemory


def test_device_and_options():
    # A GPU that cannot be had (the driver path points at nothing) is Unsupported, naming why.
    probe = subprocess.run(
        [sys.executable, "-c", "import dynajit, sys; dynajit.load(sys.argv[1], device='cuda')", model_path("dynamic_mlp")],
        env={**os.environ, "DJ_CUDA_DRIVER_LIBRARY": "/nonexistent/libcuda.so.1"}, capture_output=True, text=True)
    assert probe.returncode != 0 and "Unsupported" in probe.stderr and "/nonexistent/libcuda.so.1" in probe.stderr, probe.stderr
    with pytest.raises(dynajit.InvalidArgument, match="cpu, cuda, auto"):
        dynajit.load(model_path("dynamic_mlp"), device="tpu")
    with pytest.raises(dynajit.InvalidArgument, match="num_threads"):
        dynajit.load(model_path("dynamic_mlp"), num_threads=-1)
    m = dynajit.load(model_path("dynamic_mlp"), device="CPU", jit=False, cache_dir=pathlib.Path("/tmp/c"), num_threads=2)
    assert (m.device, m.jit, m.cache_dir, m.num_threads) == ("cpu", False, "/tmp/c", 2)
    x = np.random.default_rng(4).standard_normal((7, 16)).astype(np.float32)
    np.testing.assert_allclose(m.run(x=x)["probs"], ort_run("dynamic_mlp", {"x": x})[0], rtol=1e-4, atol=1e-6)


def test_dtype_table_matches_the_c_library():
    for code, (name, np_dtype) in _dtypes.DTYPES.items():
        assert _core.dtype_name(code) == name
        assert _core.dtype_size(code) == np_dtype.itemsize
    assert _core.dtype_name(13) == "unknown" and _core.dtype_size(13) == 0


def test_version():
    assert dynajit.__version__.count(".") == 2


def test_help_documents_load():
    text = pydoc.render_doc(dynajit.load, renderer=pydoc.plaintext)
    for word in ("path_or_bytes", "device", "jit", "cache_dir", "num_threads", "Unsupported", "Returns"):
        assert word in text
    out = subprocess.run(
        [sys.executable, "-c", "import dynajit; help(dynajit.load)"],
        capture_output=True, text=True, check=True, env={"PAGER": "cat", "PATH": "/usr/bin:/bin"},
    ).stdout
    assert "load(path_or_bytes" in out and "num_threads" in out
    assert dynajit.Model.run.__doc__ and "run(None" in dynajit.Model.run.__doc__


def test_stubs_are_installed():
    pkg = pathlib.Path(dynajit.__file__).parent
    assert (pkg / "py.typed").exists() and (pkg / "_core.pyi").exists()


def test_stats_count_runs_branches_and_routing():
    m = dynajit.load(model_path("early_exit"))
    rng = np.random.default_rng(6)
    feeds = [rng.standard_normal((3, 16)).astype(np.float32) * s for s in (60.0, 0.05)]
    feeds.append(rng.standard_normal((5, 16)).astype(np.float32) * 0.05)
    exits = [bool(m.run(x=x)["exited_early"]) for x in feeds]
    stats = m.stats()
    assert isinstance(stats, dict) and "regions" in stats
    if not stats["tracing"]:
        pytest.skip("tracing is off (DJ_TRACE=off): no counts to check")
    assert stats["runs"] == 3
    entry = next(r for r in stats["regions"] if r["inputs"] and r["inputs"][0]["name"] == "x")
    assert {s["signature"]: s["count"] for s in entry["signatures"]} == {"3x16:f32": 2, "5x16:f32": 1}
    branches = [s["branches"] for r in stats["regions"] for s in r["signatures"] if "branches" in s]
    assert sum(b["then"] for b in branches) == exits.count(True)
    assert sum(b["else"] for b in branches) == exits.count(False)

    moe = dynajit.load(model_path("moe_router"))
    experts = [moe.run(x=rng.standard_normal((n, 16)).astype(np.float32))["expert"] for n in (50, 7)]
    routers = [rt for r in moe.stats()["regions"] for rt in r["routers"]]
    assert len(routers) == 1 and routers[0]["calls"] == 2 and routers[0]["rows"] == 57
    want = sum(np.bincount(e, minlength=4) for e in experts)
    assert routers[0]["rows_per_expert"] == want.tolist()
