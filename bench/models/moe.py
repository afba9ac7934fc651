"""Switch-Transformer-style mixture-of-experts feed-forward layer.

Input `x` f32 [tokens, 256] (tokens dynamic). A linear gate scores every expert,
softmax, top-k (k = 1 as in Switch, or 2 as in GShard); each expert (256 -> 1024
-> 256, ReLU) runs on exactly the tokens routed to it (NonZero -> Gather, so its
batch size is known only at run time and may be 0), its output is scaled by the
gate probability and accumulated back (ScatterND, reduction add). No capacity
limit: no token is dropped, so every engine computes the same function.
Outputs: `y` [tokens, 256] and `experts` int64 [tokens, k] (the routing, so the
benchmark can report the load per expert).

Routing skew is a property of the request, not of the weights: the gate's row for
expert e is `GATE_GAIN * direction(e)` (unit vectors from `gate_directions`), and
the traces draw each token near one of those directions (see bench/traces.py),
picking the direction from a uniform or Zipf distribution. `gate_directions`
uses NumPy only so that traces.py does not import torch."""
from typing import Tuple

import numpy as np

D_MODEL = 256
D_FF = 1024
GATE_GAIN = 1.0
DIRECTION_SEED = 606


def gate_directions(num_experts: int) -> np.ndarray:
    """Unit vectors [num_experts, D_MODEL]; the same for the model and the traces."""
    rng = np.random.default_rng(DIRECTION_SEED + num_experts)
    d = rng.standard_normal((num_experts, D_MODEL))
    return (d / np.linalg.norm(d, axis=1, keepdims=True)).astype(np.float32)


def _torch_module():
    # Imported lazily: traces.py imports this file for gate_directions only.
    import torch
    from torch import nn

    class SwitchFFN(nn.Module):
        def __init__(self, num_experts: int, top_k: int):
            super().__init__()
            self.top_k = top_k
            self.gate = nn.Linear(D_MODEL, num_experts, bias=False)
            with torch.no_grad():
                self.gate.weight.copy_(torch.from_numpy(GATE_GAIN * gate_directions(num_experts)))
            self.experts = nn.ModuleList(
                [nn.Sequential(nn.Linear(D_MODEL, D_FF), nn.ReLU(), nn.Linear(D_FF, D_MODEL))
                 for _ in range(num_experts)])

        def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
            probs = torch.softmax(self.gate(x), dim=-1)
            weights, experts = torch.topk(probs, self.top_k, dim=-1)
            out = torch.zeros_like(x)
            for e, expert in enumerate(self.experts):
                routed = (experts == e).to(x.dtype)              # [tokens, k]
                gate_e = (weights * routed).sum(dim=-1)          # 0 where not routed to e
                token = torch.nonzero(routed.sum(dim=-1) > 0)[:, 0]
                y = expert(x[token]) * gate_e[token].unsqueeze(-1)
                out = out.index_put((token,), y, accumulate=True)
            return out, experts

    return SwitchFFN


def switch_ffn(num_experts: int, top_k: int):
    return _torch_module()(num_experts, top_k)
