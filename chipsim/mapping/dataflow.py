"""Geometry of the layer pipeline: which replica computes which vectors, what each needs.

One rule, shared by the replication planner, the placement's traffic model and the timing
plan (:mod:`chipsim.timing.plan`):

bands
    Replica ``r`` of a layer with ``R`` replicas computes one contiguous *band* of the
    vectors of every inference (rows of the output image), ``[bounds[r], bounds[r+1])``;
    the first ``vectors mod R`` replicas take one vector more (so each replica computes as
    many vectors as round-robin sharing would give it). A consumer replica's sliding window
    then comes from the producer replicas whose bands overlap it, not from all of them.
edges
    A source with ``p`` times more vectors than its consumer is pooled by ``p`` before it is
    delivered (``delivered = vectors // p``). A consumer's vector ``k`` needs the delivered
    vectors ``window(k) = [lo(k), m(k))``: its share of them plus, for a convolution whose
    rows are ``kh·kw·cin`` over a ``W × W`` input, a halo of ``(kh // 2)·(W + 1)`` vectors
    on each side (line buffering). ``lo`` and ``m`` never decrease with ``k``, so a band of
    consumer vectors needs one contiguous *span* of delivered vectors.

Examples
--------
>>> replica_bands(1024, 5)
(0, 205, 410, 615, 820, 1024)
>>> halo = conv_halo(504, 56, 1024)  # a 3 × 3 convolution over 32 × 32 pixels
>>> halo, window(0, 1024, 1024, halo), span(205, 410, 1024, 1024, halo)
(33, (0, 34), (172, 443))
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the workload package is only needed for type hints
    from ..workload.lowered import LoweredLayer

__all__ = ["GATES", "replica_bands", "band_of", "pooling", "conv_halo", "receptive_windows",
           "features", "is_direct", "input_halo", "stepped_layers", "window", "span",
           "band_overlap"]


def replica_bands(vectors: int, replicas: int) -> tuple[int, ...]:
    """Bounds of the contiguous bands of ``vectors`` that ``replicas`` copies compute.

    Replica ``r`` computes the vectors ``[bounds[r], bounds[r + 1])`` of every inference;
    the first ``vectors mod replicas`` bands are one vector longer.

    Examples
    --------
    >>> replica_bands(10, 3), replica_bands(2, 3)
    ((0, 4, 7, 10), (0, 1, 2, 2))
    """
    if vectors < 0 or replicas < 1:
        raise ValueError(f"need vectors >= 0 and replicas >= 1, got {vectors}, {replicas}")
    q, extra = divmod(vectors, replicas)
    bounds = [0]
    for r in range(replicas):
        bounds.append(bounds[-1] + q + (r < extra))
    return tuple(bounds)


def band_of(bounds: Sequence[int], k: int) -> int:
    """The replica whose band of ``bounds`` (:func:`replica_bands`) holds vector ``k``.

    Examples
    --------
    >>> band_of((0, 4, 7, 10), 4), band_of((0, 1, 2, 2), 1)
    (1, 1)
    """
    return bisect_right(bounds, k, 0, len(bounds) - 1) - 1


def pooling(src_vectors: int, dst_vectors: int) -> int:
    """Source vectors pooled into one delivered vector (1: no pooling).

    Examples
    --------
    >>> pooling(1024, 256), pooling(256, 256), pooling(10, 4)
    (4, 1, 1)
    """
    if src_vectors > dst_vectors and src_vectors % dst_vectors == 0:
        return src_vectors // dst_vectors
    return 1


def conv_halo(rows: int, cin: int, delivered: int) -> int:
    """Halo (delivered vectors on each side) of a convolution with ``rows = kh·kw·cin`` over
    a square input of ``delivered`` pixels; 0 when the shapes are not those of one.

    Examples
    --------
    >>> conv_halo(1008, 112, 256), conv_halo(224, 224, 1), conv_halo(100, 7, 64)
    (17, 0, 0)
    """
    w = math.isqrt(delivered)
    if not cin or rows % cin or w * w != delivered or w < 2:
        return 0
    return (math.isqrt(rows // cin) // 2) * (w + 1)


GATES = 4
"""Gate values per hidden value of an LSTM layer (gates I, A, F, O interleaved [LG])."""


def features(layer: LoweredLayer) -> int:
    """Values a layer delivers per vector: its columns, or one per gate group of an LSTM's
    hidden layer (whose gate sums become hidden values in the GDPU).

    Examples
    --------
    >>> from chipsim.workload.lowered import LoweredLayer
    >>> features(LoweredLayer("h", "lstm_hidden", 504, 2016, 1)), features(
    ...     LoweredLayer("c", "conv", 27, 56, 1024))
    (504, 56)
    """
    return layer.cols // GATES if layer.kind == "lstm_hidden" else layer.cols


def is_direct(src: LoweredLayer, dst: LoweredLayer) -> bool:
    """The consumer's rows are the source's output features: each of its row blocks needs
    only its slice of them (otherwise, e.g. a convolution's ``kh·kw·cin`` rows, every block
    needs all of them)."""
    return dst.rows == features(src) and len(dst.sources) == 1


def input_halo(dst: LoweredLayer, by_name: Mapping[str, LoweredLayer], delivered: int) -> int:
    """Halo of the input edges of ``dst`` (a convolution's: :func:`conv_halo` over the
    channels of all its sources; 0 for other layers)."""
    if dst.kind != "conv":
        return 0
    cin = sum(by_name[s].cols for s in dst.sources if s in by_name)
    return conv_halo(dst.rows, cin, delivered)


def stepped_layers(layers: Sequence[LoweredLayer]) -> frozenset[str]:
    """Layers whose inferences are the time steps of one sequence: LSTM layers, the layers
    they feed and the layers that work on each step of the sequence before them
    (``per_step``). Their replicas share the time steps round-robin, not bands."""
    stepped: set[str] = set()
    for ly in layers:
        if (ly.kind.startswith("lstm") or ly.per_step
                or any(s in stepped for s in ly.sources)):
            stepped.add(ly.name)
    return frozenset(stepped)


def window(k: int, delivered: int, dst_vectors: int, halo: int) -> tuple[int, int]:
    """Delivered vectors ``[lo, m)`` that the consumer's vector ``k`` needs (one inference)."""
    lo = max(0, (k * delivered) // dst_vectors - halo)
    m = min(delivered, -(-((k + 1) * delivered) // dst_vectors) + halo)
    return lo, m


def receptive_windows(geometry: tuple[int, ...], h_out: int,
                      w_out: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The input pixels ``[lo[k], m[k])`` (raster order on the ``h_in × w_in`` grid) that
    output pixel ``k`` of a convolution of ``geometry = (kh, kw, sh, sw, ph, pw, h_in,
    w_in)`` (:attr:`~chipsim.workload.lowered.LoweredLayer.geometry`; raster order on its
    ``h_out × w_out`` grid) waits for and holds, computed in order: ``m[k]`` is one past
    the last pixel of the receptive windows of pixels ``0..k`` (their bottom-right corners,
    clipped to the grid), ``lo[k]`` the first pixel of the windows of pixels ``k..`` (their
    top-left corners): what a line buffer must still hold. Both never decrease with ``k``.

    Examples
    --------
    >>> lo, m = receptive_windows((3, 3, 1, 1, 1, 1, 4, 4), 4, 4)  # 3 × 3 over 4 × 4
    >>> lo[:6], m[:6]
    ((0, 0, 0, 0, 0, 0), (6, 7, 8, 8, 10, 11))
    >>> lo[-4:], m[-4:]  # the last row: windows of rows 2 and 3, clipped at the bottom
    ((8, 8, 9, 10), (16, 16, 16, 16))
    >>> receptive_windows((3, 3, 2, 2, 1, 1, 4, 4), 2, 2)  # stride 2: the corners' windows
    ((0, 1, 4, 5), (6, 8, 14, 16))
    """
    kh, kw, sh, sw, ph, pw, h_in, w_in = geometry
    lo, m = [], []
    for h in range(h_out):
        r0 = min(max(0, h * sh - ph), h_in - 1)
        r1 = max(min(h_in - 1, h * sh - ph + kh - 1), r0)
        for w in range(w_out):
            c0 = min(max(0, w * sw - pw), w_in - 1)
            c1 = max(min(w_in - 1, w * sw - pw + kw - 1), c0)
            lo.append(r0 * w_in + c0)
            m.append(r1 * w_in + c1 + 1)
    for k in range(1, len(m)):  # the windows of pixels before k are waited for too
        m[k] = max(m[k], m[k - 1])
    for k in range(len(lo) - 2, -1, -1):  # those of the pixels after k are still held
        lo[k] = min(lo[k], lo[k + 1])
    return tuple(lo), tuple(m)


def span(k0: int, k1: int, delivered: int, dst_vectors: int, halo: int) -> tuple[int, int]:
    """Delivered vectors ``[lo, m)`` that the consumer's vectors ``[k0, k1)`` need together
    (``(0, 0)`` for none)."""
    if k1 <= k0:
        return 0, 0
    return (window(k0, delivered, dst_vectors, halo)[0],
            window(k1 - 1, delivered, dst_vectors, halo)[1])


def band_overlap(src: Sequence[int], dst: Sequence[int], delivered: int, dst_vectors: int,
                 halo: int) -> list[list[float]]:
    """Share of a source's delivered vectors that each source band sends to each consumer
    band: ``out[q][r]`` = delivered vectors of source band ``q`` in the span of consumer band
    ``r``, over ``delivered``. Bands are :func:`replica_bands`; source band ``q`` delivers
    the pooled vectors ``[bounds[q], bounds[q+1]) · delivered / src vectors``.

    Examples
    --------
    >>> band_overlap((0, 4, 8), (0, 4, 8), 8, 8, 1)
    [[0.5, 0.125], [0.125, 0.5]]
    """
    n_src = src[-1]
    out = []
    for q in range(len(src) - 1):
        a0, a1 = src[q] * delivered / n_src, src[q + 1] * delivered / n_src
        row = []
        for r in range(len(dst) - 1):
            b0, b1 = span(dst[r], dst[r + 1], delivered, dst_vectors, halo)
            row.append(max(0.0, min(a1, b1) - max(a0, b0)) / delivered)
        out.append(row)
    return out
