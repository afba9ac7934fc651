"""The JIT through Python: hot shapes get compiled in the background and the
results stay equal to ONNX Runtime's; jit=False never compiles; cache_dir receives
the compiled code and a second model loaded from it compiles nothing."""

from __future__ import annotations

import os
import time

import numpy as np
import onnxruntime as ort
import pytest

import dynajit
from conftest import model_path


def _wait_for_compiles(m, at_least: int, timeout: float = 60.0) -> dict:
    deadline = time.time() + timeout
    while True:
        jit = m.stats().get("jit", {})
        done = jit.get("compiled", 0) + jit.get("cache_hits", 0) >= at_least and jit.get("in_flight", 0) == 0
        if done or time.time() > deadline:
            return jit
        time.sleep(0.05)


def test_hot_shape_is_compiled_and_matches_onnxruntime(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    m = dynajit.load(model_path("dynamic_mlp"), cache_dir=cache)
    ref = ort.InferenceSession(model_path("dynamic_mlp"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((32, 16), dtype=np.float32)
    want = ref.run(None, {"x": x})[0]
    for _ in range(10):  # hot after 8 (DJ_JIT_THRESHOLD default)
        np.testing.assert_allclose(m.run(x=x)["probs"], want, rtol=1e-4, atol=1e-5)
    jit = _wait_for_compiles(m, 1)
    assert jit["enabled"] and jit["compiled"] >= 1, jit
    for _ in range(3):  # now compiled
        np.testing.assert_allclose(m.run(x=x)["probs"], want, rtol=1e-4, atol=1e-5)
    region = m.stats()["regions"][0]
    assert region["compiled"] >= 1, region
    assert any(p.is_file() for p in (cache / "entries").rglob("*")), "nothing stored in cache_dir"

    # A second model from the same cache loads the code instead of compiling it.
    m2 = dynajit.load(model_path("dynamic_mlp"), cache_dir=cache)
    for _ in range(10):
        np.testing.assert_allclose(m2.run(x=x)["probs"], want, rtol=1e-4, atol=1e-5)
    jit2 = _wait_for_compiles(m2, 1)
    assert jit2["cache_hits"] >= 1 and jit2["compiled"] == 0, jit2


def test_wait_for_compiles_returns_once_the_hot_shape_is_compiled(tmp_path):
    m = dynajit.load(model_path("dynamic_mlp"), cache_dir=tmp_path)
    x = np.random.default_rng(1).standard_normal((24, 16), dtype=np.float32)
    for _ in range(10):  # hot after 8 (DJ_JIT_THRESHOLD default)
        m.run(x=x)
    assert m.wait_for_compiles(timeout=120) is True
    jit = m.stats()["jit"]
    assert jit["in_flight"] == 0 and jit["compiled"] >= 1, jit
    assert jit["compile_priority"] == "low", jit  # the default: compiles yield to runs
    assert m.wait_for_compiles(timeout=0) is True  # nothing left
    assert dynajit.load(model_path("dynamic_mlp"), jit=False).wait_for_compiles() is True


def test_jit_false_never_compiles():
    m = dynajit.load(model_path("dynamic_mlp"), jit=False)
    x = np.ones((4, 16), np.float32)
    for _ in range(12):
        m.run(x=x)
    stats = m.stats()
    assert "jit" not in stats, stats.get("jit")
    assert all(r["compiled"] == 0 for r in stats["regions"] if "compiled" in r)
