"""One model, run by 8 Python threads at once (the GIL is released inside each
run), gives exactly what a single thread gives for the same inputs."""

from __future__ import annotations

import threading

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
def test_eight_threads_match_single_threaded(name, num_threads):
    m = dynajit.load(model_path(name), num_threads=num_threads)
    feeds = _feeds(name, np.random.default_rng(11))
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
                np.testing.assert_array_equal(g, w, err_msg=f"{name}: thread {i}, round {k}, output {j}")
