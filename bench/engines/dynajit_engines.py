"""DynaJIT engines, driven through the `dynajit` Python module (bindings/python).

- dynajit-interp: the reference interpreter (`jit=False`).
- dynajit-jit-cold / dynajit-jit-warm: the JIT with an empty code cache (every
  specialization compiled during the trace) and with the cache a previous process
  filled on the same trace (loaded at start with DJ_WARM_CACHE=1). The harness
  runs dynajit-jit-cold before dynajit-jit-warm with the same cache directory.
  Compiles happen in the background, so the cold engine's early requests run
  interpreted: that is part of what it measures."""
import os
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


class DynaJITColdCache(DynaJITCompiled):
    name = "dynajit-jit-cold"
    label = "DynaJIT JIT, empty code cache at process start"


class DynaJITWarmCache(DynaJITCompiled):
    name = "dynajit-jit-warm"
    label = "DynaJIT JIT, code cache filled by a previous process on the same trace"

    def _load_options(self) -> dict:
        os.environ["DJ_WARM_CACHE"] = "1"  # this worker process only: install cached code at load
        return super()._load_options()
