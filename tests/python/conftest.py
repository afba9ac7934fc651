"""Shared fixtures for the Python binding tests: where the bundled models are,
ONNX Runtime sessions as the independent reference, and input sets that vary each
model's dynamic sizes and paths (models/README.md says which dims are symbolic)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
MODEL_NAMES = ["dynamic_mlp", "tiny_encoder", "early_exit", "moe_router", "greedy_loop"]


def model_path(name: str) -> str:
    return str(MODELS / f"{name}.onnx")


def _f32(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def live_cases() -> list[tuple[str, str, dict]]:
    """(model, case id, feed) over several shapes per model, none of them the
    shapes of models/testdata, so ONNX Runtime is run live as the reference."""
    rng = np.random.default_rng(20240611)
    cases = []
    for batch in (1, 2, 5, 17, 100):
        cases.append(("dynamic_mlp", f"batch{batch}", {"x": _f32(rng, (batch, 16))}))
    for batch, seq in ((1, 1), (2, 5), (3, 17), (1, 64), (4, 40)):
        cases.append(("tiny_encoder", f"b{batch}s{seq}", {"tokens": _f32(rng, (batch, seq, 32))}))
    # Large inputs make the early head confident (the If takes the early exit),
    # small ones do not (the else-branch runs block 2); test_outputs checks both ran.
    for batch, scale in ((1, 50.0), (4, 80.0), (2, 0.05), (6, 1.0), (9, 0.2)):
        cases.append(("early_exit", f"batch{batch}_scale{scale}", {"x": _f32(rng, (batch, 16), scale)}))
    for tokens in (1, 2, 7, 33, 257):
        cases.append(("moe_router", f"tokens{tokens}", {"x": _f32(rng, (tokens, 16))}))
    for steps, scale in ((0, 1.0), (1, 1.0), (5, 1.5), (12, 0.7), (40, 2.0)):
        feed = {"h0": _f32(rng, (1, 16), scale), "steps": np.array(steps, dtype=np.int64)}
        cases.append(("greedy_loop", f"steps{steps}_scale{scale}", feed))
    return cases


_SESSIONS: dict = {}


def ort_run(name: str, feed: dict) -> list[np.ndarray]:
    """ONNX Runtime's outputs (graph optimizations off, like models/testdata), in model order."""
    import onnxruntime as ort

    if name not in _SESSIONS:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        _SESSIONS[name] = ort.InferenceSession(model_path(name), opts, providers=["CPUExecutionProvider"])
    return _SESSIONS[name].run(None, feed)


def assert_same_output(name: str, got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != reference {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != reference {want.dtype}"
    if np.issubdtype(want.dtype, np.floating):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.fixture(scope="session")
def mlp():
    import dynajit

    # JIT off: shared by tests that compare runs bit for bit (test_jit.py covers the JIT).
    return dynajit.load(model_path("dynamic_mlp"), jit=False)
