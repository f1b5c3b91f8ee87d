"""The contract between a workload and the mapper: each weight layer as one matrix.

A :class:`LoweredLayer` is what the mapper, the timing model and the functional executor need
to know of a weight layer without knowing the network's operators: the weight matrix shape
(rows = inputs, e.g. kh·kw·cin for a convolution; cols = outputs), how many input vectors one
inference feeds it, and which weight layers' outputs it consumes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LoweredLayer"]


@dataclass(frozen=True, slots=True)
class LoweredLayer:
    """One weight layer lowered to a matrix.

    Attributes
    ----------
    name
        Unique layer name (e.g. ``conv0``, ``lstm.input``, ``fc``).
    kind
        ``"conv"``, ``"linear"``, ``"lstm_input"`` or ``"lstm_hidden"``.
    rows, cols
        Weight matrix shape: inputs × outputs.
    vectors
        Input vectors (MVMs of the whole matrix) per inference: output pixels of a
        convolution, 1 for a linear layer, 1 per time step for LSTM matrices.
    sources
        Names of the weight layers whose outputs feed this layer's input (through any
        non-weight operators in between); empty for layers fed by the network input.
    residual_sources
        Names of weight layers whose outputs are added (residual ``Add``) to this layer's
        output before the next weight layer.
    """

    name: str
    kind: str
    rows: int
    cols: int
    vectors: int
    sources: tuple[str, ...] = ()
    residual_sources: tuple[str, ...] = ()

    @property
    def weights(self) -> int:
        """Number of weights, ``rows * cols``."""
        return self.rows * self.cols
