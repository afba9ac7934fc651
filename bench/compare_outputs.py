"""Cross-engine output check: every engine's outputs on a workload's check
requests must match the reference engine's.

Tolerance (stated in the report): shapes and dtypes' kind equal; integer and
bool outputs exactly equal; float outputs |a - b| <= ATOL + RTOL * |ref|
elementwise. The observed paths (exit depth, decode steps, routing) of every
request must match too, since a different path means a different computation
even when the checked outputs happen to agree."""
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

RTOL = 1e-3
ATOL = 1e-3
TOLERANCE_TEXT = (f"float outputs |a - b| <= {ATOL:g} + {RTOL:g}*|ref| elementwise; "
                  "integer/bool outputs and shapes exactly equal")


@dataclass
class Comparison:
    reference: str
    engine: str
    max_abs_diff: float = 0.0
    requests_checked: int = 0
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _load(path: str) -> Dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def compare(reference_run, other_run) -> Comparison:
    ref, other = reference_run.result, other_run.result
    c = Comparison(reference_run.engine, other_run.engine)
    if ref.get("fingerprint") != other.get("fingerprint"):
        c.problems.append(f"different traces (fingerprints {ref.get('fingerprint')} vs {other.get('fingerprint')})")
        return c
    a, b = _load(reference_run.outputs_path), _load(other_run.outputs_path)
    if sorted(a) != sorted(b):
        c.problems.append(f"different outputs saved: {sorted(a)} vs {sorted(b)}")
        return c
    c.requests_checked = len({k.split("_")[0] for k in a})
    for key in sorted(a):
        r, o = a[key], b[key]
        where = f"request {key.split('_')[0][1:]} output {key.split('_o')[1]}"
        if r.shape != o.shape:
            c.problems.append(f"{where}: shape {o.shape} vs reference {r.shape}")
            continue
        if r.dtype.kind == "f" or o.dtype.kind == "f":
            if r.size:
                diff = np.abs(o.astype(np.float64) - r.astype(np.float64))
                c.max_abs_diff = max(c.max_abs_diff, float(np.nanmax(diff)))
                bad = ~(diff <= ATOL + RTOL * np.abs(r.astype(np.float64)))
                if bad.any():
                    c.problems.append(f"{where}: {int(bad.sum())} of {r.size} values differ, "
                                      f"max |diff| {float(np.nanmax(diff)):.3g}")
        elif not np.array_equal(r, o):
            c.problems.append(f"{where}: {int((r != o).sum())} of {r.size} integer values differ")
    if ref.get("observed") and other.get("observed"):
        n = min(len(ref["observed"]), len(other["observed"]))
        diverged = [i for i in range(n) if ref["observed"][i] != other["observed"][i]]
        if diverged:
            i = diverged[0]
            c.problems.append(f"{len(diverged)} requests took a different path, first: request {i} "
                              f"{other['observed'][i]} vs reference {ref['observed'][i]}")
    return c
