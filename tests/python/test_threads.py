"""One model, run by 8 Python threads at once (the GIL is released inside each
run), gives what a single thread gives for the same inputs: bit for bit with the
JIT off; with it on, after warm-up (every shape compiled), within 1e-5."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import dynajit
from conftest import model_path

THREADS = 8
ROUNDS = 12


def _feeds(name: str, rng: np.random.Generator) -> list[dict]:
    if name == "tiny_encoder":
        return [{"tokens": rng.standard_normal((1 + i % 3, 5 + 7 * i, 32)).astype(np.float32)} for i in range(THREADS)]
    if name == "moe_router":
        return [{"x": rng.standard_normal((1 + 37 * i, 16)).astype(np.float32)} for i in range(THREADS)]
    steps = [0, 1, 3, 6, 9, 15, 20, 32]
    return [{"h0": rng.standard_normal((1, 16)).astype(np.float32), "steps": np.int64(s)} for s in steps]


@pytest.mark.parametrize("name", ["tiny_encoder", "moe_router", "greedy_loop"])
@pytest.mark.parametrize("num_threads", [0, 2])
@pytest.mark.parametrize("jit", [False, True])
def test_eight_threads_match_single_threaded(name, num_threads, jit):
    m = dynajit.load(model_path(name), num_threads=num_threads, jit=jit)
    feeds = _feeds(name, np.random.default_rng(11))
    if jit:  # warm up: every shape hot, then wait until the background compiles land
        for f in feeds:
            for _ in range(10):
                m.run(None, f)
        deadline = time.time() + 120
        while m.stats()["jit"]["in_flight"] > 0 and time.time() < deadline:
            time.sleep(0.05)
    expected = [m.run(None, f) for f in feeds]  # one thread, one run at a time

    start = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list = []

    def worker(i: int) -> None:
        try:
            start.wait()
            # Each thread cycles through all the feeds, so different shapes are in flight together.
            results[i] = [m.run(None, feeds[(i + k) % THREADS]) for k in range(ROUNDS)]
        except BaseException as e:  # reported below with the thread's index
            errors.append((i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(THREADS):
        for k in range(ROUNDS):
            want = expected[(i + k) % THREADS]
            for j, (g, w) in enumerate(zip(results[i][k], want)):
                assert g.shape == w.shape
                msg = f"{name}: thread {i}, round {k}, output {j}"
                if jit and g.dtype.kind == "f":
                    np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=msg)
                else:
                    np.testing.assert_array_equal(g, w, err_msg=msg)
