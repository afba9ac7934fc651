"""CUDA engines of the peers, for a GPU machine (not in the default engine list;
`bench/run --gpu` or `--engine ort-cuda,torch-cuda,torch-compile-cuda` selects
them; DynaJIT's own, dynajit-cuda, is in dynajit_engines.py).

- ort-cuda: ONNX Runtime with CUDAExecutionProvider (needs the onnxruntime-gpu
  wheel instead of onnxruntime: `bench/setup.sh --gpu`). Inputs and outputs go
  through host NumPy arrays, as a serving process would hand them over.
- torch-cuda: the PyTorch module on cuda:0, eager. Host -> device copies of the
  inputs and device -> host copies of the outputs are inside the timed call, and
  the call synchronizes, so the latency is end to end like ort-cuda's.
- torch-compile-cuda: torch.compile(module on cuda:0, dynamic=True), Inductor
  generating Triton kernels; timed like torch-cuda, compiles (and recompiles)
  inside the first requests like torch-compile. A model it cannot handle is
  reported as failed, not hidden.
All report unavailable (n/a) on a machine without a usable GPU."""
from engines.base import Engine, EngineUnavailable
from engines.onnxruntime_engine import OnnxRuntimeCPU
from engines.torch_engines import TorchCompile, TorchEager


class OnnxRuntimeCUDA(OnnxRuntimeCPU):
    name = "ort-cuda"
    label = "ONNX Runtime, CUDAExecutionProvider"
    on_gpu = True

    def probe(self):
        super().probe()
        import onnxruntime
        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise EngineUnavailable("n/a: no CUDAExecutionProvider (install onnxruntime-gpu: bench/setup.sh --gpu)")

    def load(self, model_name, onnx_path, threads):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_path, options,
                                            providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
        if self.session.get_providers()[0] != "CUDAExecutionProvider":
            raise EngineUnavailable(f"n/a: ONNX Runtime fell back to {self.session.get_providers()}")


class TorchCUDA(TorchEager):
    name = "torch-cuda"
    label = "PyTorch eager on cuda:0"
    on_gpu = True

    def probe(self):
        super().probe()
        import torch
        if not torch.cuda.is_available():
            raise EngineUnavailable("n/a: torch.cuda.is_available() is False")

    def versions(self):
        import torch
        return {"torch": torch.__version__, "cuda": str(torch.version.cuda),
                "gpu": torch.cuda.get_device_name(0)}

    def _prepare(self, module):
        return module.to("cuda")

    def run(self, inputs):
        torch = self.torch
        with torch.inference_mode():
            args = [torch.from_numpy(v).to("cuda", non_blocking=False) for v in inputs.values()]
            out = self.module(*args)
            out = [out] if isinstance(out, torch.Tensor) else list(out)
            host = [t.cpu().numpy() for t in out]
            torch.cuda.synchronize()
        return host


class TorchCompileCUDA(TorchCUDA):
    name = "torch-compile-cuda"
    label = "torch.compile(dynamic=True), Inductor on cuda:0 (Triton)"
    failure_is_expected = True

    def probe(self):
        super().probe()
        try:
            import triton  # noqa: F401  -- Inductor's GPU code generator
        except ImportError as e:
            raise EngineUnavailable(f"n/a: triton is not installed ({e}); Inductor needs it on CUDA") from e

    def versions(self):
        import triton
        return {**super().versions(), "triton": triton.__version__}

    def _prepare(self, module):
        return self.torch.compile(module.to("cuda"), dynamic=True)

    notes = TorchCompile.notes
