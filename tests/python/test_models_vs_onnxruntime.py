"""Every bundled model, over several shapes and every dynamic path, gives ONNX
Runtime's outputs: run live here, and against the reference data in models/testdata."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import dynajit
from conftest import MODEL_NAMES, MODELS, assert_same_output, live_cases, model_path, ort_run

CASES = live_cases()


@pytest.fixture(scope="module")
def models():
    return {name: dynajit.load(model_path(name)) for name in MODEL_NAMES}


@pytest.mark.parametrize("name,case,feed", CASES, ids=[f"{n}-{c}" for n, c, _ in CASES])
def test_matches_onnxruntime_live(models, name, case, feed):
    want = ort_run(name, feed)
    got = models[name].run(None, feed)
    assert len(got) == len(want)
    for out, g, w in zip(models[name].outputs, got, want):
        assert_same_output(name, g, w, f"{name} {case} output '{out.name}'")


def test_live_cases_take_every_dynamic_path():
    """The cases above are only worth something if they reach both If branches, an
    empty expert, an EOS stop and a run to the step limit (decided by ONNX Runtime)."""
    exits = {bool(ort_run("early_exit", f)[1]) for n, _, f in CASES if n == "early_exit"}
    assert exits == {True, False}
    empty_expert = False
    for n, _, f in CASES:
        if n == "moe_router":
            experts = ort_run(n, f)[1]
            empty_expert |= len(set(experts.tolist())) < 4
    assert empty_expert
    stopped, ran_to_limit = False, False
    for n, _, f in CASES:
        if n == "greedy_loop" and int(f["steps"]) > 0:
            taken = ort_run(n, f)[1].shape[0]
            stopped |= taken < int(f["steps"])
            ran_to_limit |= taken == int(f["steps"])
    assert stopped and ran_to_limit


def _testdata_sets():
    for name in MODEL_NAMES:
        for d in sorted((MODELS / "testdata" / name).glob("test_data_set_*")):
            yield name, d


def _read_pb(path: pathlib.Path):
    import onnx
    from onnx import numpy_helper

    t = onnx.TensorProto()
    t.ParseFromString(path.read_bytes())
    return t.name, numpy_helper.to_array(t)


@pytest.mark.parametrize("name,dataset", list(_testdata_sets()), ids=lambda v: getattr(v, "name", v))
def test_matches_reference_data(models, name, dataset):
    feed = dict(_read_pb(p) for p in sorted(dataset.glob("input_*.pb")))
    want = dict(_read_pb(p) for p in sorted(dataset.glob("output_*.pb")))
    assert feed and want
    got = models[name].run(feed)
    assert set(got) == set(want)
    for out_name, w in want.items():
        assert_same_output(name, got[out_name], w, f"{name} {dataset.name} output '{out_name}'")
