"""Runs the engine workers: one process per (workload, engine), workload by
workload so that every engine of a workload runs close in time (the machine's
load drifts), with a one-line progress display.

Each worker gets the same environment: OMP/MKL thread counts = the suite's
thread count, OMP_WAIT_POLICY=PASSIVE unless told otherwise (PyTorch's libgomp
threads spin at barriers by default; on a shared, oversubscribed machine a
preempted thread then stalls its partner: medians of the BERT trace measured
10-15x slower with spinning under load avg 6 on 2 cores; on an idle machine the
difference is small), a fresh TorchInductor cache directory per workload (so
torch.compile always starts cold, like dynajit-jit-cold), and for the DynaJIT JIT
engines a code-cache directory per workload that the cold engine fills and the
warm engine reuses."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(BENCH_DIR, "engine_worker.py")


@dataclass
class WorkerRun:
    workload: str
    engine: str
    result: dict
    outputs_path: str
    wall_s: float


@dataclass
class Progress:
    """One status line, rewritten in place on a terminal, printed per step otherwise."""
    total: int
    started: float = field(default_factory=time.time)
    done: int = 0
    tty: bool = field(default_factory=lambda: sys.stderr.isatty())

    def show(self, workload: str, engine: str, detail: str, final: bool = False):
        elapsed = time.time() - self.started
        line = (f"[{self.done + (0 if final else 1):3d}/{self.total}] {workload:22s} {engine:17s} "
                f"{detail:28s} elapsed {int(elapsed // 60)}m{int(elapsed % 60):02d}s")
        if self.tty:
            sys.stderr.write("\r" + line[:150].ljust(150))
            if final:
                sys.stderr.write("\n")
        elif final:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def _run_one(python: str, engine: str, workload: str, quick: bool, threads: int, timeout_s: float,
             scratch: str, env: Dict[str, str], on_progress: Callable[[str], None]) -> WorkerRun:
    result_path = os.path.join(scratch, f"{workload}.{engine}.json")
    outputs_path = os.path.join(scratch, f"{workload}.{engine}.npz")
    cmd = [python, WORKER, "--engine", engine, "--workload", workload, "--threads", str(threads),
           "--result", result_path, "--outputs", outputs_path] + (["--quick"] if quick else [])
    t0 = time.time()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                            cwd=BENCH_DIR)
    tail: List[str] = []

    def pump():
        for line in proc.stderr:
            if line.startswith("progress "):
                _, done, total = line.split()
                on_progress(f"request {done}/{total}")
            else:
                tail.append(line.rstrip())
                del tail[:-40]

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    reader.join(timeout=5)
    wall = time.time() - t0
    if proc.returncode == 0 and os.path.exists(result_path):
        with open(result_path) as f:
            result = json.load(f)
    else:
        why = (f"timed out after {timeout_s:.0f} s" if wall >= timeout_s
               else f"worker exited with status {proc.returncode}")
        result = {"engine": engine, "workload": workload, "status": "failed",
                  "message": why + ("; stderr: " + " | ".join(tail[-6:]) if tail else "")}
    return WorkerRun(workload, engine, result, outputs_path, wall)


def run_suite(engines: List[str], workloads: List[str], quick: bool, threads: int, timeout_s: float,
              scratch: str, python: Optional[str] = None,
              skipped: Optional[Dict[str, str]] = None, omp_wait_policy: Optional[str] = "PASSIVE"
              ) -> List[WorkerRun]:
    """Runs every engine on every workload; engines in `skipped` (name -> why) are
    not started and reported as unavailable with that reason."""
    skipped = skipped or {}
    python = python or sys.executable
    progress = Progress(total=len(engines) * len(workloads))
    runs: List[WorkerRun] = []
    base_env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                    PYTHONWARNINGS="ignore")
    if omp_wait_policy:
        base_env["OMP_WAIT_POLICY"] = omp_wait_policy
    for workload in workloads:
        jit_cache = tempfile.mkdtemp(prefix=f"dj-cache-{workload}-", dir=scratch)
        inductor_cache = tempfile.mkdtemp(prefix=f"inductor-{workload}-", dir=scratch)
        env = dict(base_env, DJ_BENCH_CACHE_DIR=jit_cache, TORCHINDUCTOR_CACHE_DIR=inductor_cache)
        for engine in engines:
            if engine in skipped:
                runs.append(WorkerRun(workload, engine, {"engine": engine, "workload": workload,
                                                         "status": "unavailable", "message": skipped[engine]},
                                      "", 0.0))
                progress.done += 1
                continue
            progress.show(workload, engine, "starting")
            run = _run_one(python, engine, workload, quick, threads, timeout_s, scratch, env,
                           lambda detail, w=workload, e=engine: progress.show(w, e, detail))
            progress.done += 1
            status = run.result["status"]
            lat = run.result.get("latencies_s") or []
            detail = (f"median {1000 * statistics.median(lat):.2f} ms" if status == "ok" and lat
                      else status)
            progress.show(workload, engine, detail, final=True)
            runs.append(run)
        shutil.rmtree(inductor_cache, ignore_errors=True)
    return runs
