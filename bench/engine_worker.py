#!/usr/bin/env python3
"""Runs one engine on one workload's trace, in a process of its own, and writes a
JSON result (bench/run starts one of these per engine and workload, so every
engine gets a fresh process, its own peak RSS, and a crash stays contained).

Timed: each request's engine call, from NumPy inputs to NumPy outputs (input
generation is not timed). Not timed: load (reported on its own). Every request of
the trace is timed, the first included: warm-up, specialization and recompiles
are part of what the suite measures. Progress goes to stderr as
`progress DONE TOTAL` lines; outputs of the trace's check requests go to an .npz
so the harness can compare engines.

    engine_worker.py --engine NAME --workload NAME --result FILE.json --outputs FILE.npz [--quick]
"""
import argparse
import json
import os
import sys
import time
import traceback

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)


def rss_mb(field="VmRSS") -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--result", required=True)
    ap.add_argument("--outputs", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    import numpy as np
    import traces
    from engines.base import EngineUnavailable
    from engines.registry import BY_NAME

    engine = BY_NAME[args.engine]
    workload = traces.BY_NAME[args.workload]
    trace = workload.requests(quick=args.quick)
    result = {"engine": engine.name, "workload": workload.name, "model": workload.model,
              "requests": len(trace), "status": "ok", "fingerprint": trace.fingerprint()}
    onnx_path = os.path.join(BENCH_DIR, "models", "out", f"{workload.model}.onnx")

    def write():
        with open(args.result, "w") as f:
            json.dump(result, f)

    try:
        engine.probe()
        result["versions"] = engine.versions()
    except EngineUnavailable as e:
        result.update(status="unavailable", message=str(e))
        write()
        return 0

    checks = set(trace.check_indices())
    saved = {}
    latencies = []
    observed = []
    stage = "load"
    try:
        rss_before_load = rss_mb()
        t0 = time.perf_counter()
        engine.load(workload.model, onnx_path, args.threads)
        result["load_s"] = time.perf_counter() - t0
        result["rss_after_load_mb"] = rss_mb()
        result["rss_before_load_mb"] = rss_before_load
        stage = "run"
        for i in range(len(trace)):
            stage = f"request {i} ({trace.plan[i]})"
            inputs = trace.request(i)
            t0 = time.perf_counter()
            outputs = engine.run(inputs)
            latencies.append(time.perf_counter() - t0)
            if workload.observe is not None:
                observed.append(workload.observe(outputs))
            if i in checks:
                for k, out in enumerate(outputs):
                    saved[f"r{i}_o{k}"] = np.asarray(out)
            if i + 1 == len(trace) or (i + 1) % max(1, len(trace) // 20) == 0:
                print(f"progress {i + 1} {len(trace)}", file=sys.stderr, flush=True)
    except Exception as e:  # noqa: BLE001  -- any engine error is a reported result
        result.update(status="failed", message=f"{stage}: {type(e).__name__}: {e}".strip()[:2000],
                      traceback=traceback.format_exc()[-4000:])

    result["latencies_s"] = latencies
    result["observed"] = observed
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a worker would
    # inherit the harness's peak (900 MB once it has imported torch to export).
    result["peak_rss_mb"] = rss_mb("VmHWM")
    result["check_indices"] = sorted(checks)
    if result["status"] == "ok":
        try:
            engine.after_trace()
        except Exception as e:  # noqa: BLE001  -- reported, the trace itself is done
            result.update(status="failed", message=f"after the trace: {type(e).__name__}: {e}"[:2000])
    result["notes"] = engine.notes() if result["status"] == "ok" else None
    result["plan"] = trace.plan
    np.savez(args.outputs, **saved)
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
