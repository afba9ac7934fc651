"""DynaJIT engines, driven through the `dynajit` Python module (bindings/python).

- dynajit-interp: the reference interpreter (`jit=False`).
- dynajit-jit-cold / dynajit-jit-warm: the JIT with an empty code cache (every
  specialization compiled during the trace) and with the cache a previous process
  filled on the same trace (loaded at start with DJ_WARM_CACHE=1). The harness
  runs dynajit-jit-cold before dynajit-jit-warm with the same cache directory;
  after its last request (untimed) the cold engine waits for the compiles still
  in flight (Model.wait_for_compiles), so the warm engine finds all of them.
  Compiles happen in the background, so the cold engine's early requests run
  interpreted: that is part of what it measures.
- dynajit-cuda (GPU, only with bench/run --gpu): the JIT with device="cuda" from
  an empty code cache of its own. Runs start interpreted on the host; hot regions
  are compiled to CUDA C (NVRTC) in the background and then run on the GPU, with
  GEMMs through cuBLASLt. Inputs and outputs are host NumPy arrays, as for
  ort-cuda and torch-cuda. Its probe loads a one-op model with device="cuda" in a
  child process: a machine without a usable GPU or driver reports the engine
  unavailable with DynaJIT's reason, and the CUDA context's creation stays in
  this engine's load time, as it does in torch-cuda's."""
import json
import os
import subprocess
import sys
from typing import Dict, List

import numpy as np

from engines.base import Engine, EngineUnavailable

JIT_READY = True  # the CPU JIT compiles since issue 4
JIT_NOT_READY = "n/a (JIT not built yet)"


def _import_dynajit():
    try:
        import dynajit
    except ImportError as e:
        raise EngineUnavailable(f"the dynajit module is not installed in bench/.venv ({e}); "
                                "run bench/setup.sh once /work/main/pyproject.toml builds") from e
    return dynajit


class DynaJITInterpreter(Engine):
    name = "dynajit-interp"
    label = "DynaJIT reference interpreter (dynajit.load(jit=False))"
    is_dynajit = True

    def probe(self):
        _import_dynajit()

    def versions(self):
        return {"dynajit": _import_dynajit().__version__}

    def _load_options(self) -> dict:
        return {"jit": False}

    def load(self, model_name, onnx_path, threads):
        dynajit = _import_dynajit()
        self.model = dynajit.load(onnx_path, num_threads=threads, **self._load_options())
        self.input_names = [v.name for v in self.model.inputs]

    def run(self, inputs: Dict[str, np.ndarray]) -> List[np.ndarray]:
        return list(self.model.run(None, inputs))


class DynaJITCompiled(DynaJITInterpreter):
    """Shared by the cold- and warm-cache engines: only the cache state differs."""
    cache_state = ""

    def probe(self):
        _import_dynajit()
        if not JIT_READY:
            raise EngineUnavailable(JIT_NOT_READY)

    def _load_options(self) -> dict:
        cache_dir = os.environ.get("DJ_BENCH_CACHE_DIR")
        if not cache_dir:
            raise EngineUnavailable("the harness gives JIT engines a cache directory in DJ_BENCH_CACHE_DIR")
        return {"jit": True, "cache_dir": cache_dir}


    def notes(self):
        """How much of the trace the compiled code served, and what the JIT did."""
        try:
            stats = self.model.stats()
        except Exception as e:  # noqa: BLE001  -- a note, never a failure
            return f"stats() failed: {e}"
        jit = stats.get("jit") or {}
        regions = [r for r in stats.get("regions") or [] if r.get("kind") == "compute"]
        runs = sum(r.get("count", 0) for r in regions)
        compiled_runs = sum(r.get("compiled", 0) for r in regions)
        text = (f"{compiled_runs} of {runs} compute-region runs compiled; "
                f"{jit.get('compiled', 0)} specializations compiled ({jit.get('generic', 0)} shape-generic) "
                f"in {jit.get('compile_ms', 0):.0f} ms at {jit.get('compile_priority', '?')} priority, "
                f"{jit.get('cache_hits', 0)} from the cache ({jit.get('warm_loaded', 0)} at load), "
                f"{jit.get('not_compilable', 0)} hot signatures not compiled")
        drained = getattr(self, "drained", None)
        if drained:
            text += (f"; after the trace, {drained[0]} compiles were still queued or running "
                     f"and finished in {drained[1]:.1f} s (untimed) for the warm-cache engine")
        return text[:600]


class DynaJITColdCache(DynaJITCompiled):
    name = "dynajit-jit-cold"
    label = "DynaJIT JIT, empty code cache at process start"

    def after_trace(self):
        """Lets the compiles the trace asked for finish, so the cache holds them when
        dynajit-jit-warm starts from it (closing the model would cancel them)."""
        import time
        in_flight = (self.model.stats().get("jit") or {}).get("in_flight", 0)
        t0 = time.perf_counter()
        self.model.wait_for_compiles(timeout=600)
        self.drained = (in_flight, time.perf_counter() - t0)


class DynaJITWarmCache(DynaJITCompiled):
    name = "dynajit-jit-warm"
    label = "DynaJIT JIT, code cache filled by a previous process on the same trace"

    def _load_options(self) -> dict:
        os.environ["DJ_WARM_CACHE"] = "1"  # this worker process only: install cached code at load
        return super()._load_options()


# Run by DynaJITCuda.probe in a child process (python -c): loads a one-op model
# (ONNX text syntax) with device="cuda" and prints one JSON line, ok with the
# device the JIT compiles for, or the message dynajit raised. A child, because
# the probe must not create the CUDA context in the worker (load is timed).
_CUDA_PROBE = r"""
import json, sys, tempfile
import dynajit
TEXT = b'<ir_version: 8, opset_import: ["" : 17]> cuda_probe (float[N] x) => (float[N] y) { y = Relu(x) }'
with tempfile.TemporaryDirectory(prefix="dj-cuda-probe-") as cache:
    try:
        model = dynajit.load(TEXT, device="cuda", jit=True, cache_dir=cache)
    except dynajit.Error as e:
        print(json.dumps({"ok": False, "message": f"{type(e).__name__}: {e}"}))
        sys.exit(0)
    jit = model.stats().get("jit") or {}
    print(json.dumps({"ok": True, "device": jit.get("device", "cuda")}))
"""


class DynaJITCuda(DynaJITCompiled):
    name = "dynajit-cuda"
    label = 'DynaJIT JIT on cuda:0 (dynajit.load(device="cuda")), empty code cache at process start'
    on_gpu = True
    PROBE_TIMEOUT_S = 120

    def probe(self):
        super().probe()
        try:
            done = subprocess.run([sys.executable, "-c", _CUDA_PROBE], capture_output=True, text=True,
                                  timeout=self.PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise EngineUnavailable(f"n/a: dynajit.load(device='cuda') did not answer in "
                                    f"{self.PROBE_TIMEOUT_S} s") from e
        lines = done.stdout.strip().splitlines()
        try:
            answer = json.loads(lines[-1]) if lines else None
        except ValueError:
            answer = None
        if done.returncode != 0 or answer is None:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise EngineUnavailable(f"n/a: probing dynajit.load(device='cuda') exited with status "
                                    f"{done.returncode}: {tail}")
        if not answer["ok"]:
            raise EngineUnavailable(f"n/a: {answer['message']}")
        self.device = answer["device"]

    def versions(self):
        return {**super().versions(), "dynajit_device": getattr(self, "device", "cuda")}

    def _load_options(self) -> dict:
        options = super()._load_options()
        # A cache directory of its own: the CPU JIT engines fill the workload's one,
        # and this engine must start cold.
        options["cache_dir"] = os.path.join(options["cache_dir"], self.name)
        os.makedirs(options["cache_dir"], mode=0o700, exist_ok=True)
        return {**options, "device": "cuda"}

    def notes(self):
        """Whether the GPU did the work: specializations compiled for it, region runs
        served by compiled code, launches and host<->device traffic."""
        try:
            stats = self.model.stats()
        except Exception as e:  # noqa: BLE001  -- a note, never a failure
            return f"stats() failed: {e}"
        jit = stats.get("jit") or {}
        regions = stats.get("regions") or []
        runs = sum(r.get("count", 0) for r in regions)
        compiled_runs = sum(r.get("compiled", 0) for r in regions)
        specs = jit.get("specializations") or []
        on_gpu = sum(1 for s in specs if s.get("device", "cpu") != "cpu")
        text = (f"{jit.get('device', '?')}; {len(specs)} specializations ({on_gpu} on the GPU), "
                f"{jit.get('failed', 0)} failed compiles; {compiled_runs} of {runs} region runs compiled; "
                f"{jit.get('device_launches', 0)} launches, {jit.get('device_uploads', 0)} uploads, "
                f"{jit.get('device_to_host_copies', 0)} copies to the host")
        failures = jit.get("failures") or []
        if failures:
            text += f" (first failure: {failures[0]})"
        return text[:400]
