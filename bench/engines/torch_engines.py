"""PyTorch engines: the suite's nn.Modules rebuilt from their fixed seeds (same
weights as the .onnx files; the harness checks the outputs agree).

- torch-eager: the module as written, Python control flow included.
- torch-compile: torch.compile(module, dynamic=True) (Inductor, CPU). Compilation
  happens inside the first requests (and again on a recompile), so it shows in
  the first-request and p99 latencies. Data-dependent control flow causes graph
  breaks; a model it cannot handle is reported as failed, not hidden.
Both run under torch.inference_mode with set_num_threads(threads) and one
inter-op thread."""
from engines.base import Engine, EngineUnavailable


def _torch():
    try:
        import torch
    except ImportError as e:
        raise EngineUnavailable(f"torch not installed ({e}); run bench/setup.sh") from e
    return torch


class TorchEager(Engine):
    name = "torch-eager"
    label = "PyTorch eager (CPU)"

    def probe(self):
        _torch()

    def versions(self):
        return {"torch": _torch().__version__}

    def _prepare(self, module):
        return module

    def load(self, model_name, onnx_path, threads):
        torch = _torch()
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already set in this process
        from models import catalog
        self.torch = torch
        self.module = self._prepare(catalog.build(model_name))

    def run(self, inputs):
        torch = self.torch
        with torch.inference_mode():
            out = self.module(*[torch.from_numpy(v) for v in inputs.values()])
        out = [out] if isinstance(out, torch.Tensor) else list(out)
        return [t.numpy() for t in out]


class TorchCompile(TorchEager):
    name = "torch-compile"
    label = "torch.compile(dynamic=True), Inductor CPU"
    failure_is_expected = True

    def _prepare(self, module):
        return self.torch.compile(module, dynamic=True)

    def notes(self):
        """What Dynamo did: graphs compiled, graph breaks, and the first reason it
        gave up on something (so a run that silently fell back to eager says so)."""
        try:
            from torch._dynamo.utils import counters
        except ImportError:
            return None
        graphs = counters["stats"].get("unique_graphs", 0)
        breaks = sum(counters["graph_break"].values())
        text = f"{graphs} graphs compiled, {breaks} graph breaks"
        if graphs == 0:
            text += "; nothing compiled, ran eagerly"
        reasons = [k for k in counters["unimplemented"]] or [k for k in counters["graph_break"]]
        if reasons:
            first = next((ln.strip() for ln in reasons[0].splitlines() if ln.strip()), "")
            why = next((ln.strip() for ln in reasons[0].splitlines() if "Explanation" in ln), "")
            text += f" (first break: {first}{': ' + why.replace('Explanation: ', '') if why else ''})"
        return text[:400]
