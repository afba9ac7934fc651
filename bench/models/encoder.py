"""BERT-style encoder: token + position embeddings, 4 post-LN layers, hidden 256,
4 heads of 64, FFN 1024 with exact (erf) GELU.

Input `tokens` int64 [batch, seq] (both dynamic, seq <= MAX_POSITIONS). Head
splitting reshapes from the runtime shape, so the export carries
Shape/Gather/Concat/Reshape chains exactly as real BERT exports do."""
import math

import torch
from torch import nn

VOCAB = 8192
HIDDEN = 256
HEADS = 4
LAYERS = 4
FFN = 1024
MAX_POSITIONS = 512


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.proj = nn.Linear(HIDDEN, HIDDEN)
        self.norm1 = nn.LayerNorm(HIDDEN)
        self.ffn_in = nn.Linear(HIDDEN, FFN)
        self.ffn_out = nn.Linear(FFN, HIDDEN)
        self.norm2 = nn.LayerNorm(HIDDEN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s = x.shape[0], x.shape[1]
        head_dim = HIDDEN // HEADS
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q = q.reshape(b, s, HEADS, head_dim).transpose(1, 2)
        k = k.reshape(b, s, HEADS, head_dim).transpose(1, 2)
        v = v.reshape(b, s, HEADS, head_dim).transpose(1, 2)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(head_dim)
        attn = torch.matmul(torch.softmax(scores, dim=-1), v)
        attn = attn.transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.norm1(x + self.proj(attn))
        ffn = self.ffn_out(nn.functional.gelu(self.ffn_in(x)))
        return self.norm2(x + ffn)


class BertEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, HIDDEN)
        self.positions = nn.Embedding(MAX_POSITIONS, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN)
        self.layers = nn.ModuleList([EncoderLayer() for _ in range(LAYERS)])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.norm(self.tokens(tokens) + self.positions(positions))
        for layer in self.layers:
            x = layer(x)
        return x
