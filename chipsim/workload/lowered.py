"""The contract between a workload and the mapper: each weight layer as one matrix.

A :class:`LoweredLayer` is what the mapper, the timing model and the functional executor need
to know of a weight layer without knowing the network's operators: the weight matrix shape
(rows = inputs, e.g. kh·kw·cin for a convolution; cols = outputs), how many input vectors one
inference feeds it, which weight layers' outputs it consumes, and what digital work of a
Transformer its inputs pass through on the way.
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
        convolution, 1 for a linear layer on a vector, ``T`` for one on a sequence ``(T, F)``
        of fixed length (a Transformer's projections and feed-forward layers: one vector per
        token), 1 for LSTM matrices. In a network with an LSTM an inference is one time step.
    sources
        Names of the weight layers whose outputs feed this layer's input (through any
        non-weight operators in between); empty for layers fed by the network input.
    residual_sources
        Names of weight layers whose outputs are added (residual ``Add``) to this layer's
        output before the next weight layer.
    per_step
        In a network with an LSTM: the layer works on each time step on its own (the LSTM
        matrices, and Linear layers on the sequence before or after it); ``vectors`` counts
        one step's.
    whole_sequence
        The layer reads a whole sequence at once (e.g. a Linear layer on the flattened
        hidden states of an LSTM): its vectors are per sequence, not per time step.
    geometry
        Of a convolution: ``(kh, kw, sh, sw, ph, pw, h_in, w_in)``, its kernel, stride, zero
        padding and input height and width (what the receptive window of each output pixel
        is made of); None otherwise or when unknown.
    digital
        The kinds of the Transformer's digital operators
        (:data:`~chipsim.workload.nodes.DIGITAL_TYPES`: ``"SelfAttention"``, ``"LayerNorm"``,
        ``"GELU"``, ``"PositionEmbedding"``) that this layer's input vectors pass through
        after leaving their source layer (or the network input), in execution order; at a
        residual ``Add`` the path follows the input whose producer owns the add (see
        ``residual_sources``). One whose output several layers read is listed on each. Empty
        in networks without these operators.
    digital_after
        The kinds of the digital operators that no layer's input passes through — on the way
        of a residual, or after the last weight layer (an encoder's final LayerNorm) — listed
        on the layer whose output they take: the layer the residual is added to, or the one
        that produces the network output. Empty in networks without them.
    attention
        ``(heads, d_model, causal)`` of the :class:`~chipsim.workload.nodes.SelfAttention`
        that ``digital`` lists, if any: the layer's input vector ``t`` (token ``t``) is the
        attention of query ``t`` over the keys and values of all ``T`` vectors of its source
        in the same inference (of vectors ``0..t`` when causal), so none of its vectors can
        start before the source's vectors it attends to are done. The source (the
        in-projection) delivers ``3·d_model`` values per token: queries, keys, values, each
        split into ``heads`` slices of ``d_model / heads``. None otherwise.
    """

    name: str
    kind: str
    rows: int
    cols: int
    vectors: int
    sources: tuple[str, ...] = ()
    residual_sources: tuple[str, ...] = ()
    per_step: bool = False
    whole_sequence: bool = False
    geometry: tuple[int, int, int, int, int, int, int, int] | None = None
    digital: tuple[str, ...] = ()
    attention: tuple[int, int, bool] | None = None
    digital_after: tuple[str, ...] = ()

    @property
    def weights(self) -> int:
        """Number of weights, ``rows * cols``."""
        return self.rows * self.cols
