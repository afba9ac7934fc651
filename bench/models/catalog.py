"""The suite's models: name -> how to build the PyTorch module (fixed seed) and how
to export it (input/output names, dynamic axes, whether to script it first).

Invariant: `build(name)` returns bit-identical weights in every process (seeded
CPU init, same torch version), so the PyTorch engines rebuild the module instead
of loading a checkpoint, and the ONNX file holds those same weights.
Imports torch; the DynaJIT and ORT engines never import this file."""
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

import torch

from models import cnn, early_exit, encoder, greedy_decode, moe, recurrent


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable[[], torch.nn.Module]
    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]
    dynamic_axes: Dict[str, Dict[int, str]]
    # Scripted control flow (If/Loop) must go through torch.jit.script; the rest
    # is traced (a trace of a data-dependent branch would freeze one path).
    scripted: bool
    example: Callable[[], Tuple[torch.Tensor, ...]]
    seed: int


def _moe(experts: int, top_k: int, seed: int) -> ModelSpec:
    return ModelSpec(
        name=f"moe_e{experts}_top{top_k}", factory=lambda: moe.switch_ffn(experts, top_k),
        inputs=("x",), outputs=("y", "experts"),
        dynamic_axes={"x": {0: "tokens"}, "y": {0: "tokens"}, "experts": {0: "tokens"}},
        scripted=False, example=lambda: (torch.randn(96, moe.D_MODEL),), seed=seed)


SPECS: List[ModelSpec] = [
    ModelSpec(
        name="lstm", factory=recurrent.SequenceLSTM, inputs=("x",), outputs=("y", "h"),
        dynamic_axes={"x": {0: "seq", 1: "batch"}, "y": {0: "seq", 1: "batch"}, "h": {1: "batch"}},
        scripted=False, example=lambda: (torch.randn(5, 2, recurrent.INPUT_SIZE),), seed=101),
    ModelSpec(
        name="gru", factory=recurrent.SequenceGRU, inputs=("x",), outputs=("y", "h"),
        dynamic_axes={"x": {0: "seq", 1: "batch"}, "y": {0: "seq", 1: "batch"}, "h": {1: "batch"}},
        scripted=False, example=lambda: (torch.randn(5, 2, recurrent.INPUT_SIZE),), seed=102),
    ModelSpec(
        name="bert_encoder", factory=encoder.BertEncoder, inputs=("tokens",), outputs=("hidden",),
        dynamic_axes={"tokens": {0: "batch", 1: "seq"}, "hidden": {0: "batch", 1: "seq"}},
        scripted=False, example=lambda: (torch.randint(0, encoder.VOCAB, (1, 17)),), seed=103),
    _moe(8, 1, 104), _moe(8, 2, 105), _moe(16, 1, 106), _moe(16, 2, 107),
    ModelSpec(
        name="early_exit", factory=early_exit.EarlyExitNet, inputs=("x",),
        outputs=("logits", "exit_depth"),
        dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
        scripted=True, example=lambda: (torch.randn(2, early_exit.FEATURES),), seed=108),
    ModelSpec(
        name="greedy_decode", factory=greedy_decode.GreedyDecoder, inputs=("h0", "max_steps"),
        outputs=("tokens", "h"), dynamic_axes={"tokens": {0: "steps"}},
        scripted=True,
        example=lambda: (torch.randn(1, greedy_decode.HIDDEN), torch.tensor(4, dtype=torch.long)),
        seed=109),
    ModelSpec(
        name="cnn", factory=cnn.ResNetSmall, inputs=("image",), outputs=("logits",),
        dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}},
        scripted=False, example=lambda: (torch.randn(1, 3, 96, 96),), seed=110),
]

BY_NAME: Dict[str, ModelSpec] = {s.name: s for s in SPECS}


def build(name: str) -> torch.nn.Module:
    """The eval-mode module for `name`, weights from its fixed seed."""
    spec = BY_NAME[name]
    torch.manual_seed(spec.seed)
    return spec.factory().eval()
