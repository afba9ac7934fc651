"""Variable-length recurrent models: one-layer LSTM and GRU, input 256, hidden 512.

Input `x` is [seq, batch, 256] (seq and batch dynamic). The export is a single
ONNX LSTM/GRU node; PyTorch runs cuDNN-style fused kernels on CPU (MKL/oneDNN).
Outputs: the full output sequence and the last hidden state."""
from typing import Tuple

import torch
from torch import nn

INPUT_SIZE = 256
HIDDEN_SIZE = 512


class SequenceLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(INPUT_SIZE, HIDDEN_SIZE)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        y, (h, _) = self.rnn(x)
        return y, h


class SequenceGRU(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(INPUT_SIZE, HIDDEN_SIZE)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        y, h = self.rnn(x)
        return y, h
