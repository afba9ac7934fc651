"""The interface every benchmark engine implements, and what a worker expects.

An engine lives in its own process (bench/engine_worker.py), loads one model,
runs the requests handed to it one by one and returns the outputs as NumPy
arrays in the ONNX graph's output order. `load` is timed separately from the
requests; everything an engine does lazily at its first run (allocation,
compilation, specialization) lands in the first request's latency, on purpose.
Engines import their heavy libraries inside `load`/`probe`, never at module
import, so the harness can list engines without importing torch."""
from typing import Dict, List, Optional

import numpy as np


class EngineUnavailable(Exception):
    """The engine cannot run here at all (library missing, feature not built);
    reported in the table as n/a with this message, not as a failure."""


class Engine:
    name: str = ""            # column label, e.g. "ort-cpu"
    label: str = ""           # longer description for the report
    is_dynajit: bool = False  # DynaJIT engines are the numerators of the ratios
    # A failure of this engine on some model is reported and the run goes on
    # without counting it as an error (torch.compile on data-dependent models).
    failure_is_expected: bool = False
    # GPU engines run only when asked for (bench/run --gpu or --engine NAME).
    on_gpu: bool = False

    def probe(self) -> None:
        """Raises EngineUnavailable when this engine cannot run in this environment."""

    def versions(self) -> Dict[str, str]:
        return {}

    def load(self, model_name: str, onnx_path: str, threads: int) -> None:
        raise NotImplementedError

    def run(self, inputs: Dict[str, np.ndarray]) -> List[np.ndarray]:
        raise NotImplementedError

    def after_trace(self) -> None:
        """Runs once after the last request, untimed (e.g. let background work finish
        so the next process finds it). Never part of any latency."""

    def notes(self) -> Optional[str]:
        """Anything learned while running that the report should show (e.g. recompiles)."""
        return None
