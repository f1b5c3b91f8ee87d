"""A small Transformer network the PyTorch and ONNX importer tests share."""

import torch
from torch import nn


class Encoder(nn.Module):
    """A position table, a 2-layer TransformerEncoder (optionally causal), a head."""

    def __init__(self, norm_first=False, activation="relu", causal=False, d=16, t=8,
                 final_norm=False, table="slice"):
        super().__init__()
        self.pos = nn.Parameter(0.1 * torch.randn(1, t, d))
        layer = nn.TransformerEncoderLayer(d, 4, 2 * d, batch_first=True, activation=activation,
                                           norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(d) if final_norm
                                             else None, enable_nested_tensor=False)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(t))
        self.causal, self.table, self.d = causal, table, d
        self.head = nn.Linear(d, 5)

    def forward(self, x):
        if self.table == "slice":
            x = x + self.pos[:, :x.size(1)]
        elif self.table == "shape":
            x = self.pos[:, :x.shape[1]] + x
        else:
            x = x + self.pos
        x = self.encoder(x, mask=self.mask, is_causal=True) if self.causal else self.encoder(x)
        return self.head(x)
