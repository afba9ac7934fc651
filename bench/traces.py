"""Request traces: per workload, a seeded stream of inputs with a realistic spread
of shapes and paths, identical for every engine.

A workload is a model (bench/models/catalog.py) plus a trace. The trace's shape
plan (sequence lengths, token counts, resolutions, scales, step limits) is drawn
up front from a generator seeded by the workload's name; each request's data is
drawn when it is needed from a generator seeded by (name, index), so a request is
the same whichever engine asks and whether or not earlier ones were made, and no
engine holds the whole trace in memory. `--quick` uses a prefix of the full trace.
NumPy only: the DynaJIT and ONNX Runtime engines never import torch.

    bench/.venv/bin/python bench/traces.py            # prints each trace's statistics
"""
import hashlib
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import numpy as np

from models import moe as moe_shapes  # NumPy-only part: the gate directions

Request = Dict[str, np.ndarray]


def _seed(*parts) -> int:
    return zlib.crc32("/".join(str(p) for p in parts).encode())


def long_tail(rng, n, median, sigma, lo, hi) -> np.ndarray:
    """Log-normal integers clipped to [lo, hi]: many short, a few long requests."""
    return np.clip(np.round(rng.lognormal(np.log(median), sigma, n)), lo, hi).astype(np.int64)


@dataclass
class Workload:
    name: str
    model: str
    description: str
    full_requests: int
    quick_requests: int
    plan: Callable[[np.random.Generator, int], List[dict]]      # shape plan per request
    make: Callable[[np.random.Generator, dict], Request]        # inputs from the plan
    size_key: str                                               # plan field that sizes a request
    in_quick: bool = False
    # What path a request took, read from its outputs (exit depth, decode steps,
    # busiest expert's share); every engine reports it, so the harness shows the
    # spread of paths and can check that all engines took the same ones.
    observe: Optional[Callable[[List[np.ndarray]], Dict[str, float]]] = None

    def requests(self, quick: bool) -> "Trace":
        n = self.quick_requests if quick else self.full_requests
        # Always plan the full trace, so quick is a prefix of it.
        plan = self.plan(np.random.default_rng(_seed(self.name, "plan")), self.full_requests)[:n]
        return Trace(self, plan)


class Trace:
    def __init__(self, workload: Workload, plan: List[dict]):
        self.workload = workload
        self.plan = plan

    def __len__(self):
        return len(self.plan)

    def request(self, i: int) -> Request:
        rng = np.random.default_rng(_seed(self.workload.name, "data", i))
        return self.workload.make(rng, self.plan[i])

    def check_indices(self) -> List[int]:
        """Requests whose outputs are compared across engines: the first three,
        and the smallest and the largest of the trace."""
        sizes = [p[self.workload.size_key] for p in self.plan]
        picks = list(range(min(3, len(sizes)))) + [int(np.argmin(sizes)), int(np.argmax(sizes))]
        return sorted(set(picks))

    def fingerprint(self) -> str:
        """Hash of the plan and of the check requests' bytes; every engine reports
        it, so the harness can prove they all ran the same trace."""
        h = hashlib.sha256(repr(self.plan).encode())
        for i in self.check_indices():
            for name, arr in sorted(self.request(i).items()):
                h.update(name.encode() + arr.tobytes())
        return h.hexdigest()[:16]


# --- recurrent: seq 1..256, median 40 ------------------------------------------------
def _rnn(name, model, batch, quick):
    def plan(rng, n):
        return [{"seq": int(s), "batch": batch} for s in long_tail(rng, n, 40, 0.9, 1, 256)]

    def make(rng, p):
        return {"x": rng.standard_normal((p["seq"], p["batch"], 256), dtype=np.float32)}

    return Workload(name, model, f"{model.upper()} hidden 512, batch {batch}, seq 1..256 "
                    "(log-normal, median 40)", 200, 10, plan, make, "seq", quick)


# --- BERT encoder: seq 8..384, median 64 ---------------------------------------------
def _bert_plan(rng, n):
    return [{"seq": int(s)} for s in long_tail(rng, n, 64, 0.8, 8, 384)]


def _bert_make(rng, p):
    return {"tokens": rng.integers(0, 8192, (1, p["seq"]), dtype=np.int64)}


# --- MoE: tokens 64..1024, routing uniform or Zipf ------------------------------------
ZIPF_EXPONENT = 1.5
CLUSTER_PULL = 6.0  # how far each token sits along its expert's gate direction


def _moe(experts, top_k, routing, quick):
    name = f"moe_e{experts}_top{top_k}_{routing}"

    def plan(rng, n):
        return [{"tokens": int(t)} for t in long_tail(rng, n, 256, 0.7, 64, 1024)]

    def make(rng, p):
        directions = moe_shapes.gate_directions(experts)
        ranks = np.arange(1, experts + 1, dtype=np.float64)
        weights = np.ones(experts) if routing == "uniform" else ranks ** -ZIPF_EXPONENT
        cluster = rng.choice(experts, size=p["tokens"], p=weights / weights.sum())
        x = rng.standard_normal((p["tokens"], moe_shapes.D_MODEL), dtype=np.float32)
        return {"x": x + CLUSTER_PULL * directions[cluster]}

    def observe(outputs):
        counts = np.bincount(outputs[1][:, 0], minlength=experts)
        return {"busiest_expert_share": float(counts.max() / counts.sum()),
                "idle_experts": int((np.bincount(outputs[1].ravel(), minlength=experts) == 0).sum())}

    skew = "uniform" if routing == "uniform" else f"Zipf s={ZIPF_EXPONENT}"
    return Workload(name, f"moe_e{experts}_top{top_k}",
                    f"Switch FFN, {experts} experts, top-{top_k}, tokens 64..1024 (median 256), "
                    f"routing {skew}", 120, 8, plan, make, "tokens", quick, observe)


# --- early exit: input scale picks the exit depth ---------------------------------------
def _early_exit_plan(rng, n):
    return [{"scale": float(s), "batch": 1} for s in np.exp(rng.uniform(np.log(0.5), np.log(16.0), n))]


def _early_exit_make(rng, p):
    x = rng.standard_normal((p["batch"], 512), dtype=np.float32)
    return {"x": (p["scale"] * x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(512)).astype(np.float32)}


# --- greedy decoding: max_steps 1..256, median 24 ------------------------------------------
def _greedy_plan(rng, n):
    return [{"max_steps": int(s)} for s in long_tail(rng, n, 24, 0.8, 1, 256)]


def _greedy_make(rng, p):
    return {"h0": rng.standard_normal((1, 512), dtype=np.float32),
            "max_steps": np.array(p["max_steps"], dtype=np.int64)}


# --- CNN: square 128..512 ---------------------------------------------------------------
RESOLUTIONS = np.array([128, 160, 192, 224, 256, 288, 320, 384, 448, 512])
RESOLUTION_WEIGHTS = np.array([8, 10, 12, 20, 14, 10, 9, 7, 5, 5], dtype=np.float64)


def _cnn_plan(rng, n):
    res = rng.choice(RESOLUTIONS, size=n, p=RESOLUTION_WEIGHTS / RESOLUTION_WEIGHTS.sum())
    return [{"resolution": int(r)} for r in res]


def _cnn_make(rng, p):
    r = p["resolution"]
    return {"image": rng.standard_normal((1, 3, r, r), dtype=np.float32)}


WORKLOADS: List[Workload] = [
    _rnn("lstm_b1", "lstm", 1, True), _rnn("lstm_b8", "lstm", 8, False),
    _rnn("gru_b1", "gru", 1, False), _rnn("gru_b8", "gru", 8, True),
    Workload("bert_encoder", "bert_encoder", "BERT-style encoder, 4 layers, hidden 256, 4 heads, "
             "batch 1, seq 8..384 (log-normal, median 64)", 200, 10, _bert_plan, _bert_make, "seq", True),
    *[_moe(e, k, r, quick=(e, k, r) in {(8, 2, "zipf"), (16, 1, "uniform")})
      for e in (8, 16) for k in (1, 2) for r in ("uniform", "zipf")],
    Workload("early_exit", "early_exit", "early-exit MLP, 4 blocks, If after blocks 1-3, batch 1, "
             "input scale log-uniform 0.5..16 (spreads the exit depth)", 300, 20,
             _early_exit_plan, _early_exit_make, "scale", True,
             lambda out: {"exit_depth": int(out[1][0])}),
    Workload("greedy_decode", "greedy_decode", "greedy decoding Loop over a GRU cell (hidden 512, "
             "vocab 4096), max_steps 1..256 (log-normal, median 24), stops at EOS",
             200, 10, _greedy_plan, _greedy_make, "max_steps", True,
             lambda out: {"steps": int(out[0].shape[0])}),
    Workload("cnn", "cnn", "small ResNet, batch 1, square 128..512", 100, 8,
             _cnn_plan, _cnn_make, "resolution", True),
]

BY_NAME: Dict[str, Workload] = {w.name: w for w in WORKLOADS}


def select(names=None, quick=False) -> List[Workload]:
    """Workloads named (or whose model is named) in `names`; default: all (full) or
    the quick subset (one or two per model family)."""
    if names:
        return [w for w in WORKLOADS if w.name in names or w.model in names]
    return [w for w in WORKLOADS if w.in_quick or not quick]


if __name__ == "__main__":
    for w in WORKLOADS:
        t = w.requests(quick=False)
        sizes = np.array([p[w.size_key] for p in t.plan])
        print(f"{w.name:24s} n={len(t):4d} {w.size_key}: min {sizes.min():g} median {np.median(sizes):g} "
              f"p90 {np.percentile(sizes, 90):g} max {sizes.max():g}  fingerprint {t.fingerprint()}")
