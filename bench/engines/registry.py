"""The engines in table order. DynaJIT engines first (they are the numerators of
the ratios; dynajit-cuda last of them), then the peers, then the peers' GPU
engines. GPU engines (on_gpu) run only on request: bench/run --gpu or --engine.
The warm-cache engine must come after the cold-cache one: the harness runs it
on the cache the cold run filled."""
from typing import Dict, List

from engines.base import Engine
from engines.dynajit_engines import DynaJITColdCache, DynaJITCuda, DynaJITInterpreter, DynaJITWarmCache
from engines.gpu_engines import OnnxRuntimeCUDA, TorchCompileCUDA, TorchCUDA
from engines.onnxruntime_engine import OnnxRuntimeCPU
from engines.torch_engines import TorchCompile, TorchEager

ENGINES: List[Engine] = [
    DynaJITInterpreter(), DynaJITColdCache(), DynaJITWarmCache(), DynaJITCuda(),
    OnnxRuntimeCPU(), TorchEager(), TorchCompile(),
    OnnxRuntimeCUDA(), TorchCUDA(), TorchCompileCUDA(),
]
BY_NAME: Dict[str, Engine] = {e.name: e for e in ENGINES}
# Outputs are compared against this engine's (the most widely used ONNX engine);
# when it is filtered out, against the first engine that ran.
REFERENCE = "ort-cpu"
