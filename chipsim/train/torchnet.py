"""A PyTorch module that runs a :class:`~chipsim.workload.Workload`, for training.

The module holds the workload's parameters in their native layouts (PyTorch's) and walks the
same node graph as :func:`chipsim.workload.forward`, so an architecture is defined once, in the
zoo, and trained weights go back into a workload with :meth:`TorchNet.to_workload`.

Hardware-aware (HWA) training (``shared/hermes.md`` §5, the recipe used for the chip) is
switched on by passing an :class:`HWAConfig`: every weight layer then quantizes its inputs to
the PWM's 8 bits over a tracked range, adds weight noise drawn from the chip-fitted PCM
programming-noise model (twice its σ), adds output noise and quantizes its outputs to the
ADC's 8 bits over the ADC range; weights are clipped after every optimizer step. Gradients
pass the roundings straight through. Only the weight layers (convolutions, linear layers, the
LSTM's two matrices: a Transformer's projections, feed-forward and read-out) see the chip's
noise; a Transformer's digital operators (attention, LayerNorm, GELU, the position table)
are exact float32, as in :func:`chipsim.workload.forward`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import hermes as hermes_fit
from ..workload.graph import Workload
from ..workload.nodes import (
    GELU,
    LSTM,
    LSTM_GATES,
    Add,
    AvgPool,
    BatchNorm,
    ChannelPad,
    Conv2d,
    Embedding,
    Flatten,
    GlobalAvgPool,
    LayerNorm,
    Linear,
    MaxPool,
    PositionEmbedding,
    ReLU,
    SelfAttention,
)

__all__ = ["HWAConfig", "TorchNet"]


@dataclass(frozen=True, slots=True)
class HWAConfig:
    """Hardware-aware training options (defaults: the chip paper's recipe, §5).

    Attributes
    ----------
    weight_noise_scale
        Multiple of the chip-fitted (hermes, 2-device) programming σ used as weight noise.
    out_noise
        σ of additive output noise, in units of one full-scale product ``max|W| · x_range``
        (aihwkit's HWA preset value 0.04 [AK]).
    input_bits, adc_bits
        PWM input and ADC output resolutions (sign included).
    out_bound
        ADC range of one core in units of ``max|W| · x_range`` (the chip's
        ``adc_full_scale_ua / (g_max · v_read)`` ≈ 12); a layer of ``K`` inputs sums
        ``ceil(K / 256)`` cores' outputs, so its outputs are clipped at that multiple.
    clip_sigma
        Weights are clipped to ±``clip_sigma`` standard deviations of their layer.
    range_momentum
        Momentum of the tracked input range (EMA of the batch maximum of |x|).
    """

    weight_noise_scale: float = 2.0
    out_noise: float = 0.04
    input_bits: int = 8
    adc_bits: int = 8
    out_bound: float = 12.0
    clip_sigma: float = 3.0
    range_momentum: float = 0.05


def _ste_round(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def _key(name: str, param: str) -> str:
    return f"{name}/{param}".replace(".", "_").replace("/", "__")


class TorchNet(nn.Module):
    """Trainable PyTorch twin of a workload.

    Parameters
    ----------
    workload
        The architecture and initial weights.
    hwa
        Hardware-aware training options, or ``None`` for plain training.
    """

    def __init__(self, workload: Workload, hwa: HWAConfig | None = None):
        super().__init__()
        self.workload = workload
        self.hwa = hwa
        self.params = nn.ParameterDict()
        self._buffers_of: dict[str, str] = {}
        for node in workload.nodes:
            for param, array in workload.weights.get(node.name, {}).items():
                tensor = torch.tensor(np.array(array, dtype=np.float32))
                key = _key(node.name, param)
                if param in ("running_mean", "running_var"):
                    self.register_buffer(key, tensor)
                else:
                    self.params[key] = nn.Parameter(tensor)
        self.ranges: dict[str, torch.Tensor] = {}
        for layer in workload.lowered():
            key = _key(layer.name, "range")
            self.register_buffer(key, torch.zeros(()))
            self.ranges[layer.name] = key

    # ------------------------------------------------------------ parameters
    def p(self, name: str, param: str) -> torch.Tensor:
        """The parameter (or buffer) ``param`` of layer ``name``."""
        key = _key(name, param)
        return self.params[key] if key in self.params else getattr(self, key)

    def to_workload(self) -> Workload:
        """A workload with this module's current weights (same graph)."""
        wl = self.workload
        weights = {name: {param: self.p(name, param).detach().cpu().numpy().copy()
                          for param in arrays} for name, arrays in wl.weights.items()}
        return Workload(wl.name, wl.input_shape, wl.nodes, weights,
                        architecture=wl.architecture, params=dict(wl.params))

    def input_ranges(self) -> dict[str, float]:
        """Tracked input range (max |x|) of every weight layer (0 where never tracked)."""
        return {name: float(getattr(self, key)) for name, key in self.ranges.items()}

    @torch.no_grad()
    def clip_weights(self) -> None:
        """Clip every weight matrix to ±clip_sigma·std (HWA only; call after each step)."""
        if self.hwa is None:
            return
        for node in self.workload.nodes:
            for param in ("weight", "weight_ih", "weight_hh"):
                if isinstance(node, Conv2d | Linear | LSTM) and param in self.workload.weights[
                        node.name]:
                    w = self.p(node.name, param)
                    bound = self.hwa.clip_sigma * w.std()
                    w.clamp_(-bound, bound)

    # ------------------------------------------------------------ HWA pieces
    def _x_range(self, layer: str, x: torch.Tensor) -> torch.Tensor:
        buf = getattr(self, self.ranges[layer])
        if self.training:
            m = x.detach().abs().max()
            if buf == 0:
                buf.copy_(m)
            else:
                buf.mul_(1 - self.hwa.range_momentum).add_(self.hwa.range_momentum * m)
        return buf.clamp_min(1e-8)

    def _analog(self, layer: str, x: torch.Tensor, w: torch.Tensor, op) -> torch.Tensor:
        """``op(x, w)`` as the chip computes it under HWA; exact without HWA."""
        hwa = self.hwa
        if hwa is None:
            return op(x, w)
        a = self._x_range(layer, x)
        levels = 2 ** (hwa.input_bits - 1) - 1
        xq = _ste_round(x.clamp(-a, a) / a * levels) / levels  # in units of a
        w_max = w.detach().abs().max().clamp_min(1e-12)
        wn = w / w_max
        if self.training:
            gr = wn.detach().abs()
            coeffs = hermes_fit.PROG_COEFFS[2]
            sigma = sum(c * gr**i for i, c in enumerate(coeffs)) / hermes_fit.G_MAX_US[2]
            wn = wn + hwa.weight_noise_scale * sigma * torch.randn_like(wn)
        y = op(xq, wn)  # units of one full-scale product w_max · a
        if self.training:
            y = y + hwa.out_noise * torch.randn_like(y)
        fan_in = w[0].numel()  # inputs per output: kh·kw·cin or in_features
        bound = hwa.out_bound * -(-fan_in // 256)
        adc = 2 ** (hwa.adc_bits - 1) - 1
        y = _ste_round(y.clamp(-bound, bound) / hwa.out_bound * adc)
        return y * (hwa.out_bound / adc) * w_max * a

    # ------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the graph on a batch; returns the last node's output."""
        values = {"input": x}
        for node in self.workload.nodes:
            args = [values[i] for i in node.inputs]
            values[node.name] = self._op(node, *args)
        return values[self.workload.nodes[-1].name]

    def _bias(self, node, y: torch.Tensor, shape=(1, -1)) -> torch.Tensor:
        if "bias" in self.workload.weights.get(node.name, {}):
            return y + self.p(node.name, "bias").reshape(shape)
        return y

    def _op(self, node, *xs: torch.Tensor) -> torch.Tensor:  # noqa: C901 - one branch per op
        x = xs[0]
        if isinstance(node, Conv2d):
            y = self._analog(node.name, x, self.p(node.name, "weight"),
                             lambda a, w: F.conv2d(a, w, None, node.stride, node.padding))
            return self._bias(node, y, (1, -1, 1, 1))
        if isinstance(node, Linear):
            return self._bias(node, self._analog(node.name, x, self.p(node.name, "weight"),
                                                 lambda a, w: F.linear(a, w)))
        if isinstance(node, LSTM):
            return self._lstm(node, x)
        if isinstance(node, Embedding):
            return F.embedding(x, self.p(node.name, "weight"))
        if isinstance(node, BatchNorm):
            return F.batch_norm(x, self.p(node.name, "running_mean"),
                                self.p(node.name, "running_var"), self.p(node.name, "weight"),
                                self.p(node.name, "bias"), self.training, 0.1, node.eps)
        if isinstance(node, ReLU):
            return F.relu(x)
        if isinstance(node, Add):
            return sum(xs[1:], start=x)
        if isinstance(node, MaxPool):
            return F.max_pool2d(x, node.kernel_size, node.stride, node.padding)
        if isinstance(node, AvgPool):
            return F.avg_pool2d(x, node.kernel_size, node.stride)
        if isinstance(node, GlobalAvgPool):
            return x.mean(dim=(2, 3), keepdim=True)
        if isinstance(node, Flatten):
            return x.flatten(1)
        if isinstance(node, LayerNorm):
            return F.layer_norm(x, (node.features,), self.p(node.name, "weight"),
                                self.p(node.name, "bias"), node.eps)
        if isinstance(node, GELU):
            return F.gelu(x, approximate=node.approximate)
        if isinstance(node, SelfAttention):
            return self._attention(node, x)
        if isinstance(node, PositionEmbedding):
            return x + self.p(node.name, "weight")[: x.shape[1]]
        if isinstance(node, ChannelPad):
            after = node.out_channels - node.in_channels - node.pad_before
            return F.pad(x[:, :, :: node.stride, :: node.stride],
                         (0, 0, 0, 0, node.pad_before, after))
        raise TypeError(f"no torch implementation of {node.kind}")  # pragma: no cover

    @staticmethod
    def _attention(node: SelfAttention, qkv: torch.Tensor) -> torch.Tensor:
        n, t, _ = qkv.shape
        d, h = node.d_model, node.heads
        q, k, v = (qkv[..., i * d: (i + 1) * d].reshape(n, t, h, d // h).transpose(1, 2)
                   for i in range(3))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=node.causal)
        return y.transpose(1, 2).reshape(n, t, d)

    def _lstm(self, node: LSTM, x: torch.Tensor) -> torch.Tensor:
        w_ih, w_hh = self.p(node.name, "weight_ih"), self.p(node.name, "weight_hh")
        n, steps, _ = x.shape
        gates_in = self._analog(f"{node.name}.input", x, w_ih, lambda a, w: F.linear(a, w))
        if "bias" in self.workload.weights[node.name]:
            gates_in = gates_in + self.p(node.name, "bias")
        h = x.new_zeros(n, node.hidden_size)
        c = x.new_zeros(n, node.hidden_size)
        order = [LSTM_GATES.index(k) for k in "IAFO"]
        outs = []
        for t in range(steps):
            g = gates_in[:, t] + self._analog(f"{node.name}.hidden", h, w_hh,
                                              lambda a, w: F.linear(a, w))
            g = g.reshape(n, -1, 4)
            i, a, f, o = (g[..., k] for k in order)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(a)
            h = torch.sigmoid(o) * torch.tanh(c)
            outs.append(h)
        return torch.stack(outs, dim=1)
