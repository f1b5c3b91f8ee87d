"""What a Transformer's digital operators cost on a digital attention unit, per token.

A unit (:class:`~chipsim.spec.AttentionSpec`) runs the digital operators that a weight
layer's input passes through (:attr:`~chipsim.workload.lowered.LoweredLayer.digital`) one
token (one input vector) at a time. Its work is counted in three kinds of action, each with
its energy in the spec: FP16 multiply-accumulates (MACs), other FP16 operations (adds,
compares, multiplies that accumulate nothing, and lookup-table values with interpolation for
exp, GELU's Φ and 1/√x, as the GDPU computes its activations [LG §III]), and bytes written
to or read from the unit's local memory. A MAC and an operation each take one of the unit's
``macs_per_cycle`` slots for a cycle.

The counts per token, for ``f`` values entering an operator (DERIVED from the operators'
definitions in :mod:`chipsim.workload.forward`; the choice of which steps are a MAC, an
operation or a memory access is ours):

- every token entering the unit: written to the local memory and read once, ``2·f`` bytes
  (INT8); between the operators of one layer's input the values stay in the datapath;
- ``SelfAttention`` (``heads`` H, ``d_model`` d, over K keys: all T tokens of the inference,
  or ``t + 1`` for token ``t`` when causal): ``2·K·d`` MACs (``q·kᵀ``, d per key over the
  heads, and ``·v``, d per key); ``d + 5·H·K + H`` operations (q scaled by 1/√(d/H); per
  score the softmax's max, subtract, exp, sum and normalizing multiply; one reciprocal per
  head); ``2·K·d + 4·H·K`` more bytes (the keys and values it reads, INT8; the scores
  written and read in FP16);
- ``LayerNorm``: ``2·f`` MACs (the variance's square-accumulate, ``γ·x̂ + β``), ``3·f + 1``
  operations (the mean's sum, subtracting it, the multiply by 1/σ; one 1/√(var + eps)),
  ``5·f`` more bytes (the token read a second time, γ and β in FP16);
- ``GELU``: ``2·f`` operations (Φ(x) from a table, times x);
- ``PositionEmbedding``: ``f`` operations (the add), ``2·f`` more bytes (the table row in
  FP16).

Examples
--------
>>> w = token_work(("LayerNorm",), 256, None, 0, 32)
>>> w.macs, w.ops, w.memory_bytes, w.cycles(256)
(512, 769, 1792, 6)
>>> token_work(("SelfAttention",), 768, (4, 256, False), 0, 32).macs  # 2 · 32 · 256
16384
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DigitalWork", "token_work", "values_out", "SOFTMAX_OPS_PER_SCORE"]

SOFTMAX_OPS_PER_SCORE = 5
"""Operations per attention score: the softmax's max, subtract, exp, sum, normalize."""


@dataclass(frozen=True, slots=True)
class DigitalWork:
    """One token's work on an attention unit: MACs, other operations, local-memory bytes."""

    macs: int = 0
    ops: int = 0
    memory_bytes: int = 0

    def __add__(self, other: DigitalWork) -> DigitalWork:
        return DigitalWork(self.macs + other.macs, self.ops + other.ops,
                           self.memory_bytes + other.memory_bytes)

    def cycles(self, macs_per_cycle: int) -> int:
        """Unit cycles of the work: a MAC or an operation per slot, ``macs_per_cycle`` slots
        per cycle (at least one cycle)."""
        return max(1, -(-(self.macs + self.ops) // macs_per_cycle))


def _operator(kind: str, f: int, attention: tuple[int, int, bool] | None, token: int,
              tokens: int) -> tuple[DigitalWork, int]:
    """The work of operator ``kind`` on a token of ``f`` values, and the values it outputs."""
    if kind == "SelfAttention":
        if attention is None or f != 3 * attention[1]:
            raise ValueError(f"SelfAttention needs (heads, d_model, causal) and 3·d_model input "
                             f"values, got {attention} and {f}")
        heads, d, causal = attention
        keys = token + 1 if causal else tokens
        scores = heads * keys
        return DigitalWork(2 * keys * d, d + SOFTMAX_OPS_PER_SCORE * scores + heads,
                           2 * keys * d + 4 * scores), d
    if kind == "LayerNorm":
        return DigitalWork(2 * f, 3 * f + 1, 5 * f), f
    if kind == "GELU":
        return DigitalWork(0, 2 * f, 0), f
    if kind == "PositionEmbedding":
        return DigitalWork(0, f, 2 * f), f
    raise ValueError(f"unknown digital operator {kind!r}")


def token_work(kinds: Sequence[str], values_in: int, attention: tuple[int, int, bool] | None,
               token: int, tokens: int) -> DigitalWork:
    """The work of token ``token`` (of ``tokens`` per inference) through the operators
    ``kinds`` in order, entering with ``values_in`` values; ``attention`` is ``(heads,
    d_model, causal)`` of a ``SelfAttention`` among them (module docstring).

    Raises
    ------
    ValueError
        For an unknown operator, or a ``SelfAttention`` without ``3·d_model`` input values.
    """
    work = DigitalWork(memory_bytes=2 * values_in)
    f = values_in
    for kind in kinds:
        w, f = _operator(kind, f, attention, token, tokens)
        work = work + w
    return work


def values_out(kinds: Sequence[str], values_in: int,
               attention: tuple[int, int, bool] | None) -> int:
    """Values per token that leave the operators ``kinds`` (``d_model`` after attention).

    Examples
    --------
    >>> values_out(("SelfAttention",), 768, (4, 256, False)), values_out(("GELU",), 64, None)
    (256, 64)
    """
    f = values_in
    for kind in kinds:
        f = _operator(kind, f, attention, 0, 1)[1]
    return f
