"""Early-exit network (BranchyNet / SkipNet style).

Input `x` f32 [batch, 512] (batch dynamic). Four blocks (two bias-free Linear
512 -> 1024 -> 512 with ReLU and a residual add); after each of the first three an
exit head (Linear 512 -> 10) and a confidence test: if the least confident row's
top softmax probability exceeds THRESHOLD, return that head's logits. The tests
are data-dependent `if`s, so the scripted export holds nested ONNX If nodes.
Outputs: `logits` [batch, 10] and `exit_depth` int64 [1] (1..4).

Why bias-free: the blocks and heads are then positively homogeneous (f(s*x) =
s*f(x) for s > 0), so the input's scale alone sets how confident every head is.
Later heads get a larger gain, so a small-scale ("hard") input exits late and a
large-scale ("easy") one early; the traces pick scales to spread the exits."""
from typing import Tuple

import torch
from torch import nn

FEATURES = 512
WIDTH = 1024
CLASSES = 10
THRESHOLD = 0.9
HEAD_GAINS = (1.0, 3.0, 9.0)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.Linear(FEATURES, WIDTH, bias=False)
        self.down = nn.Linear(WIDTH, FEATURES, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.relu(self.up(x)))


class EarlyExitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.threshold = THRESHOLD
        self.block1, self.block2, self.block3, self.block4 = Block(), Block(), Block(), Block()
        self.head1 = nn.Linear(FEATURES, CLASSES, bias=False)
        self.head2 = nn.Linear(FEATURES, CLASSES, bias=False)
        self.head3 = nn.Linear(FEATURES, CLASSES, bias=False)
        self.head4 = nn.Linear(FEATURES, CLASSES, bias=False)
        with torch.no_grad():
            for head, gain in zip((self.head1, self.head2, self.head3), HEAD_GAINS):
                head.weight.mul_(gain)

    def confident(self, logits: torch.Tensor) -> bool:
        top = torch.softmax(logits, dim=-1).max(dim=-1)[0]
        return bool(top.min() > self.threshold)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.block1(x)
        logits = self.head1(h)
        if self.confident(logits):
            return logits, torch.ones([1], dtype=torch.long)
        h = self.block2(h)
        logits = self.head2(h)
        if self.confident(logits):
            return logits, torch.full([1], 2, dtype=torch.long)
        h = self.block3(h)
        logits = self.head3(h)
        if self.confident(logits):
            return logits, torch.full([1], 3, dtype=torch.long)
        h = self.block4(h)
        return self.head4(h), torch.full([1], 4, dtype=torch.long)
