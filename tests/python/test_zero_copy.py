"""Inputs are borrowed and outputs are handed over without a copy.

Two independent ledgers see every copy that could happen:
- DynaJIT's allocator counts every tensor buffer it owns and, with
  DJ_MAX_MEMORY_MB set, refuses to go over the cap. A 64 MiB input under a
  100 MiB cap, with a 64 MiB output, only fits if the input is not copied on the
  C side (64 + 64 > 100).
- tracemalloc sees every buffer NumPy allocates, so a copy of the input or of the
  output on the Python side would show as >= 64 MiB traced.
Each ledger is shown to catch a copy: a Fortran-order input (which the runtime
must pack) runs out of memory under the same cap, and a float16 input (which the
binding converts to float32) shows up in tracemalloc.

The cap is read once per process, so the check runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import json, tracemalloc
import numpy as np
import onnx
from onnx import TensorProto, helper
import dynajit

# n = -x and s = the row sums of x: one output as large as the input, one small.
graph = helper.make_graph(
    [helper.make_node("Neg", ["x"], ["n"]),
     helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=0)],
    "zero_copy",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", "cols"])],
    [helper.make_tensor_value_info("n", TensorProto.FLOAT, ["rows", "cols"]),
     helper.make_tensor_value_info("s", TensorProto.FLOAT, ["rows"])],
    [helper.make_tensor("axes", TensorProto.INT64, [1], [1])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
m = dynajit.load(model.SerializeToString())
MIB = 1 << 20
x = np.random.default_rng(0).standard_normal((1024, 16384), dtype=np.float32)  # 64 MiB
result = {"input_mib": x.nbytes / MIB}

def traced_run(arr):
    tracemalloc.start()
    try:
        out = m.run(x=arr)
        return out, tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()

out, peak = traced_run(x)
result["contiguous_ok"] = bool(np.array_equal(out["n"], -x))
result["sums_ok"] = bool(np.allclose(out["s"], x.sum(axis=1, dtype=np.float64), rtol=1e-4, atol=1e-2))
result["contiguous_traced_mib"] = peak
result["output_owndata"] = bool(out["n"].flags.owndata)
del out

xf = np.asfortranarray(x)
try:
    m.run(x=xf)
    result["fortran"] = "ran"
except dynajit.OutOfMemory as e:
    result["fortran"] = "out of memory: " + str(e)
del xf

x16 = x.astype(np.float16)
del x
out, peak = traced_run(x16)
result["float16_traced_mib"] = peak
result["float16_ok"] = bool(np.array_equal(out["n"], -x16.astype(np.float32)))
print(json.dumps(result))
"""


def test_inputs_and_outputs_are_not_copied():
    env = dict(os.environ, DJ_MAX_MEMORY_MB="100")
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["input_mib"] == 64
    # The borrowed path: correct, under a cap that a copy of the input would break,
    # and with no NumPy buffer allocated for the input or the output.
    assert r["contiguous_ok"] and r["sums_ok"]
    assert r["contiguous_traced_mib"] < 1, r
    assert not r["output_owndata"]
    # The controls: each ledger does see a copy when one is needed.
    assert r["fortran"].startswith("out of memory"), r["fortran"]
    assert r["float16_ok"] and r["float16_traced_mib"] >= 64, r
