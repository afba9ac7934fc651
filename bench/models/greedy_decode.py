"""Greedy decoding loop over a GRU cell (the decoder half of a seq2seq model).

Inputs: `h0` f32 [1, 512] (the encoder's summary) and `max_steps` int64 [] .
Each step embeds the previous token (vocabulary 4096, embedding 256), runs a GRU
cell written out with Linear/Sigmoid/Tanh (as ONNX exports of GRUCell look),
projects to the vocabulary and takes the argmax; decoding stops after
`max_steps` tokens or at the end-of-sequence token, whichever comes first. The
scripted `for ... break` exports as one ONNX Loop with an input-dependent trip
count and a data-dependent condition; the token list grows by Concat in the body.
Outputs: `tokens` int64 [steps_taken] and `h` f32 [1, 512] (the last state)."""
from typing import Tuple

import torch
from torch import nn

VOCAB = 4096
EMBED = 256
HIDDEN = 512
BOS = 1
EOS = 0
# Raises the EOS logit a little: with random weights and no bias, EOS is never
# chosen; with +0.3 about a quarter of the trace's requests stop at EOS before
# max_steps (tuned on the trace; larger values stop nearly every request at once).
EOS_BIAS = 0.3


class GreedyDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.bos = BOS
        self.eos = EOS
        self.embed = nn.Embedding(VOCAB, EMBED)
        self.input_gates = nn.Linear(EMBED, 3 * HIDDEN)
        self.hidden_gates = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.project = nn.Linear(HIDDEN, VOCAB)
        with torch.no_grad():
            self.project.bias[EOS] += EOS_BIAS

    def cell(self, token: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        gi = self.input_gates(self.embed(token))
        gh = self.hidden_gates(h)
        i_r, i_z, i_n = gi.chunk(3, dim=-1)
        h_r, h_z, h_n = gh.chunk(3, dim=-1)
        r = torch.sigmoid(i_r + h_r)
        z = torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return (1.0 - z) * n + z * h

    def forward(self, h0: torch.Tensor, max_steps: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = h0
        token = torch.full([1], self.bos, dtype=torch.long)
        tokens = torch.zeros([0], dtype=torch.long)
        for _ in range(int(max_steps)):
            h = self.cell(token, h)
            token = torch.argmax(self.project(h), dim=-1)
            tokens = torch.cat([tokens, token])
            if bool(token[0] == self.eos):
                break
        return tokens, h
