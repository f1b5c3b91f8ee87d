"""The functional executor: real inputs through a mapped network on one chip instance.

:class:`ChipInstance` programs every block of a :class:`~chipsim.mapping.Mapping` onto its core
(one seeded chip instance), lets it drift to the run's time, measures the per-core GDC factors
and then runs batches through the network block by block, as the chip computes:

- a weight layer's input vectors become PWM codes (INT8 with the scale of its input activation);
- each block's core computes its partial MVM (:meth:`CoreInstance.mvm_counts`: drift, read
  noise, phases, saturation, ADC) and its LDPU turns counts into FP16 values;
- the blocks of one column range accumulate their partial sums in a chain, INT8 on the wire
  and FP16 inside (:func:`~chipsim.kernels.accumulate_int8`); the last one applies the layer's
  per-column affine (bias, folded batch-norm) in FP16;
- the LDPU output that leaves a core (after an optional ReLU) is re-quantized to INT8 with a
  per-tensor scale; pooling, flattening and residual additions act on those INT8 values
  (residual sums are FP16 then INT8 again); LSTM gates go to the GDPU: FP16 sigmoid/tanh, cell
  state in FP16, the hidden state back to INT8;
- a Transformer's digital operators (:data:`~chipsim.workload.nodes.DIGITAL_TYPES`:
  self-attention with its softmax, LayerNorm, GELU, the position table's sum) take INT8 values,
  compute in FP16 and send INT8 again with a per-tensor scale of their own, as the LSTM gates
  do: the functions of the float forward (:func:`~chipsim.workload.forward.self_attention`,
  :func:`~chipsim.workload.forward.layer_norm`, :func:`~chipsim.workload.forward.gelu`) with
  every operation's result rounded to FP16 (the sums inside dot products, a LayerNorm's
  mean and variance and a softmax's denominator in FP32, an FP16 unit's wider accumulator;
  GELU, exp and the inverse square root each one rounding of the exact value, as a lookup
  table gives). Assumed: this FP16 saturates at ±65504 instead of overflowing to ±inf (the
  chip's reference design has no such unit: :func:`digital_fp16`). The queries, keys and
  values share the in-projection's one INT8 scale. The projections and feed-forward layers
  are weight layers like any other (noise, ADC, LDPU; one vector per token).

Vectors of a replicated layer are shared by the rule the timing model uses
(:mod:`chipsim.mapping.dataflow`): each replica computes one contiguous band of the output
pixels of an inference; the time steps of LSTM-fed layers go round-robin. Every core counts
the MVMs it performs (:attr:`ChipInstance.mvms`).

Read noise: block ``k`` of the mapping draws from the counter-based stream ``subkey(key, k)``
of the run's key, each input vector at its position in the whole input set (sample index ×
vectors per inference + the vector's index in its inference; LSTM steps likewise), so a
sample's outputs do not depend on the batch it is run in, the order of the batches or the
thread (:meth:`ChipInstance.run`). :meth:`ChipInstance.at` reads a programmed instance at
another time since programming.

Activation scales (INT8 value per LSB) are calibrated once from the float forward of the IR on
calibration inputs: the 99.99th percentile of |activation| / 127 at every point where the chip
quantizes. With ``core.adc_range = calibrated`` the same float forward gives every block its
ADC range calibration inputs: ``core.adc_range_calibration_mvms`` of the input vectors its
replica computes (PWM codes of the layer's input, evenly spaced over the calibration vectors
in (sample, position) order), read by the core right after programming to set its full scale
(:func:`~chipsim.functional.core.program_core`); those MVMs are counted per core in
:attr:`ChipInstance.range_calibration_mvms` and the full scales kept in
:attr:`ChipInstance.adc_full_scale_ua`.

With ``quantize=False`` nothing is quantized (no PWM, ADC, FP16 or INT8 rounding): the cores
then compute ``x @ (G₊(t) − G₋(t))`` with read noise, so with all noise sources off
the executor reproduces the float forward.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import ChipsimError
from ..kernels import fp16_round
from ..kernels.ldpu import _requantize_int8, accumulate_factor, requantize_factor
from ..kernels.normal import key_from, standard_normal_rows, subkey
from ..kernels.pwm import _int_codes
from ..mapping import BlockPlacement, Mapping
from ..mapping.dataflow import replica_bands, stepped_layers
from ..spec import AdcRange, ChipSpec, override
from ..workload.forward import activations, apply_op, im2col, pools_in_tiles, tile_max
from ..workload.graph import Workload
from ..workload.nodes import (
    DIGITAL_TYPES,
    INPUT,
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
    Linear,
    MaxPool,
    ReLU,
)
from .core import CoreInstance, CoreReadState, ReadNoise, program_core

__all__ = ["ChipInstance", "activation_scales", "noise_free", "digital_fp16", "INT8_LEVELS",
           "ACT_PERCENTILE", "FP16_MAX"]

INT8_LEVELS = 127
#: largest finite FP16 value
FP16_MAX = 65504.0
ACT_PERCENTILE = 99.99
#: smallest calibrated range: 1/scale must stay below FP16's largest value (65504)
MIN_RANGE = 0.002

#: operators whose output stays on their input's INT8 grid
_GRID_PRESERVING = (ReLU, MaxPool, Flatten, BatchNorm, ChannelPad)

#: INT8 scales of the activations (node → value of one step) and of the layers' partial sums
Scales = tuple[dict[str, float], dict[str, float]]


def noise_free(chip: ChipSpec) -> ChipSpec:
    """``chip`` with every noise source and spread off (programming, drift, read and output
    noise, ADC gain/offset spread, one-phase asymmetry)."""
    for key in ("device.prog_noise_scale", "device.read_noise_scale", "device.drift_scale",
                "core.adc_gain_std", "core.adc_offset_std_lsb", "core.output_noise_std_fs",
                "core.one_phase_asymmetry_mean", "core.one_phase_asymmetry_std"):
        chip = override(chip, key, 0)
    return chip


def digital_fp16(x: np.ndarray) -> np.ndarray:
    """``x`` rounded to FP16, saturating at ±:data:`FP16_MAX` (no infinities): the arithmetic
    assumed for a Transformer's digital operators on the chip.

    Examples
    --------
    >>> import numpy as np
    >>> digital_fp16(np.array([0.1, 1e6, -1e6], np.float32)).tolist()
    [0.0999755859375, 65504.0, -65504.0]
    """
    return np.clip(fp16_round(x), -FP16_MAX, FP16_MAX)


@dataclass(frozen=True, slots=True, eq=False)
class _Block:
    index: int  # in mapping.blocks: names the block's noise stream
    core_id: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    inst: CoreInstance
    state: CoreReadState
    gdc: float
    w_eff: np.ndarray | None  # float path: effective weights (G+ - G-)·Wmax/Gmax·gdc
    var_eff: np.ndarray | None  # float path: read variance in weight units²


#: input vectors a chain of blocks reads at a time: every vector is read independently (its
#: noise by its position), so the pieces change no result and bound the temporaries (duty
#: fractions, products, variances, outputs) to a few MB each, whatever the batch. (On
#: ResNet-9's default run it changed neither the time, measured at 2,048 / 4,096 / 8,192 /
#: unbounded, nor much the peak memory: 1.41 against 1.47 GB.)
CHUNK_VECTORS = 4096


@dataclass(frozen=True, slots=True, eq=False)
class _Run:
    """One :meth:`ChipInstance.run`: its noise key, the index of its first input in the whole
    set of inputs, and its MVMs per core."""

    key: int
    first: int
    mvms: np.ndarray

    def positions(self, n: int, per: int) -> np.ndarray:
        """Stream positions (uint64) of the ``n`` vectors of a layer that computes ``per``
        vectors per inference, in inference order."""
        return np.uint64(self.first * per) + np.arange(n, dtype=np.uint64)


def _chain(workload: Workload, name: str) -> list[str]:
    """``name`` and the BN/ReLU nodes that follow it alone (computed on the same core)."""
    chain = [name]
    while True:
        consumers = workload.consumers(chain[-1])
        if len(consumers) != 1 or not isinstance(workload.node(consumers[0]),
                                                 BatchNorm | ReLU):
            return chain
        chain.append(consumers[0])


def _emit_points(workload: Workload) -> dict[str, str]:
    """Where each core's output leaves it: layer or add → the last BN/ReLU that follows it
    alone (itself if none)."""
    return {n.name: _chain(workload, n.name)[-1] for n in workload.nodes
            if isinstance(n, Conv2d | Linear | Add)}


def activation_scales(workload: Workload, x: np.ndarray) -> Scales:
    """INT8 scales of every activation and of every layer's partial sums, from the float
    forward of the calibration inputs ``x``: what a :class:`ChipInstance` computes when it is
    not given them. They depend on no chip or mapping, so they can be computed before either
    is known (:func:`~chipsim.simulate` starts them beside the mapping).

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.workload import build
    >>> net = build("lstm-ptb", vocab=20, embed=8, hidden=16)
    >>> scales, psum = activation_scales(net, np.zeros((2, 5), np.int64))
    >>> sorted(psum)
    ['fc', 'lstm.hidden', 'lstm.input']
    """
    products: dict[str, np.ndarray] = {}
    acts = activations(workload, x, products, keep=_scaled_outputs(workload))
    return _scales_from(workload, acts, products)


def _scaled_outputs(workload: Workload) -> set[str]:
    """The outputs whose values :func:`_scales_from` reads when given the products (the
    others, e.g. a convolution's output before its ReLU, need not be kept)."""
    emit = _emit_points(workload)
    owned = {m for owner in emit for m in _chain(workload, owner)}
    out = {INPUT, *emit.values()}
    for node in workload.nodes:
        if isinstance(node, LSTM):
            out.update((node.name, node.inputs[0]))
        elif node.name not in owned and not isinstance(node, _GRID_PRESERVING):
            out.add(node.name)
    return out


#: elements of the strided sample from which :func:`percentile` picks its threshold
_SAMPLE = 1 << 16


def percentile(a: np.ndarray, q: float) -> float:
    """``np.percentile(a, q)`` (linear interpolation), bit for bit, for a real ``a`` without
    NaN and a Python float ``q``; for a large ``a`` and a high ``q`` one comparison pass
    instead of NumPy's partition of all of ``a`` at four ranks (ResNet-9's 21 calibration
    percentiles: 1.8 → 0.18 s).

    The two order statistics that the percentile interpolates are among the elements at or
    above a threshold taken from a strided sample of ``a``, placed so that about twice as
    many elements lie above it as the percentile needs; only those are partitioned. When
    too few lie above it (an unlucky sample) or ``a`` is small, it is ``np.percentile``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random(1_000_000, dtype=np.float32)
    >>> percentile(a, 99.99) == float(np.percentile(a, 99.99))
    True
    """
    flat = a.reshape(-1)
    n = flat.size
    virtual = (n - 1) * np.true_divide(q, 100)  # NumPy's "linear" index, in float64
    if n <= 4 * _SAMPLE or not 0 <= virtual < n - 1:
        return float(np.percentile(a, q))
    below = int(np.floor(virtual))
    gamma = float(virtual - np.floor(virtual))
    need = n - below  # the elements at sorted positions below, ..., n − 1
    sample = np.sort(flat[:: n // _SAMPLE])
    keep = min(len(sample), 2 * -(-need * len(sample) // n) + 32)
    candidates = flat[flat >= sample[-keep]]
    if len(candidates) < need:
        return float(np.percentile(a, q))
    j = len(candidates) - need
    lo, hi = np.partition(candidates, (j, j + 1))[j:j + 2]
    diff = hi - lo  # NumPy's _lerp, in the array's precision
    return float(hi - diff * (1 - gamma) if gamma >= 0.5 else lo + diff * gamma)


def _scales_from(workload: Workload, acts: dict[str, np.ndarray],
                 products: dict[str, np.ndarray] | None = None) -> Scales:
    """:func:`activation_scales` from the float forward ``acts`` of the calibration inputs
    (and its matrix products before their affine,
    :func:`~chipsim.workload.forward.activations`, when given)."""
    def scale_of(a: np.ndarray) -> float:
        v = percentile(np.abs(a), ACT_PERCENTILE) if a.size else 0.0
        return max(v, MIN_RANGE) / INT8_LEVELS

    done: dict[str, float] = {}  # a chain's members share the output it emits

    def scale_of_act(name: str) -> float:
        if name not in done:
            done[name] = scale_of(acts[name])
        return done[name]

    emit = _emit_points(workload)
    owner_of = {m: owner for owner in emit for m in _chain(workload, owner)}
    scales: dict[str, float] = {INPUT: scale_of_act(INPUT)}
    for node in workload.nodes:
        name = node.name
        if name in owner_of:  # quantized where the core emits it (after BN/ReLU)
            scales[name] = scale_of_act(emit[owner_of[name]])
        elif isinstance(node, _GRID_PRESERVING):
            scales[name] = scales[node.inputs[0]]
        elif isinstance(node, LSTM):
            scales[name] = 1.0 / INT8_LEVELS  # h = o·tanh(c) lies in (−1, 1)
        else:
            scales[name] = scale_of_act(name)
    psum: dict[str, float] = {}
    for node in workload.nodes:
        if isinstance(node, Conv2d | Linear) and products:
            psum[node.name] = scale_of(products[node.name])
        elif isinstance(node, Conv2d | Linear):
            xin = acts[node.inputs[0]]
            if isinstance(node, Conv2d):
                xin = im2col(xin, node.kernel_size, node.stride, node.padding)
            psum[node.name] = scale_of(xin.reshape(-1, xin.shape[-1])
                                       @ workload.matrix(node.name))
        elif isinstance(node, LSTM):
            h = acts[node.name]
            h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
            gates = (acts[node.inputs[0]] @ workload.matrix(f"{node.name}.input")
                     + h_prev @ workload.matrix(f"{node.name}.hidden"))
            psum[f"{node.name}.input"] = psum[f"{node.name}.hidden"] = scale_of(gates)
    return scales, psum


class ChipInstance:
    """One programmed chip running a mapped workload.

    Parameters
    ----------
    workload
        The network with its weights.
    mapping
        Its mapping on ``chip`` (from :func:`chipsim.mapping.map_workload`).
    chip
        The chip.
    program_rng
        Source of the chip instance (programming, drift exponents, spreads): one generator,
        or on a system of several chips one per chip (each chip's cores programmed from its
        own, in block order).
    read_rng
        Source of the GDC calibration reads; each :meth:`run` takes its read-noise key.
    t_s
        Time since programming (s).
    gdc
        Apply global drift compensation per core.
    quantize
        Emulate PWM/ADC/FP16/INT8 quantization (False: float arithmetic on the analog
        conductances).
    calibration_inputs
        Inputs for the activation scales (e.g. a few hundred training samples).
    scales
        The activation scales of another instance of the same workload and calibration
        inputs (:attr:`scales`), to skip recomputing them (they do not depend on the chip),
        or a Future of them (:func:`activation_scales` begun elsewhere), awaited once the
        cores are programmed.
    range_codes
        The ADC range calibration inputs of another instance of the same workload, mapping,
        chip and calibration inputs (:attr:`range_codes`), to skip recomputing them; used
        only with ``core.adc_range = calibrated``.

    Attributes
    ----------
    mvms, calibration_mvms, range_calibration_mvms
        MVMs per core (int64, (n_cores,)): of :meth:`run` so far, of the GDC reads
        (reference and at ``t_s``), and of the ADC range calibration (0 with a fixed range).
    adc_full_scale_ua
        Each core's ADC full scale (µA, float64, (n_cores,)): ``core.adc_full_scale_ua``
        with a fixed range, the calibrated value with ``calibrated``; 0 on cores without a
        block.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.spec import hermes
    >>> from chipsim.workload import build
    >>> from chipsim.mapping import map_workload
    >>> net = build("lstm-ptb", vocab=20, embed=8, hidden=16)
    >>> m = map_workload(net.lowered(), hermes())
    >>> x = np.zeros((2, 5), np.int64)
    >>> chipi = ChipInstance(net, m, hermes(), np.random.default_rng(0),
    ...                      np.random.default_rng(1), calibration_inputs=x)
    >>> chipi.run(x, np.random.default_rng(2)).shape
    (2, 5, 20)
    """

    def __init__(self, workload: Workload, mapping: Mapping, chip: ChipSpec,
                 program_rng: np.random.Generator | Sequence[np.random.Generator],
                 read_rng: np.random.Generator, *,
                 t_s: float = 3600.0, gdc: bool = True, quantize: bool = True,
                 calibration_inputs: np.ndarray,
                 scales: Scales | Future[Scales] | None = None,
                 range_codes: dict[tuple[str, int], np.ndarray] | None = None):
        self.workload = workload
        self.mapping = mapping
        self.chip = chip
        self.quantize = quantize
        self.t_s = float(t_s)
        lowered = {ly.name: ly for ly in workload.lowered()}
        self._stepped = stepped_layers(tuple(lowered.values()))
        mapped = {ly.name for ly in mapping.layers}
        if set(lowered) != mapped:
            raise ChipsimError(f"mapping: maps layers {sorted(mapped)} but workload "
                               f"'{workload.name}' has {sorted(lowered)}")
        self._emit = _emit_points(workload)
        calibrated = chip.core.adc_range is AdcRange.CALIBRATED
        acts = None
        scaling = None
        if calibrated and isinstance(scales, Future):
            scales = scales.result()  # the range calibration below needs them
        if calibrated and (scales is None or range_codes is None):
            acts = activations(workload, calibration_inputs)
            scales = scales or _scales_from(workload, acts)
        elif scales is None:  # the float forward and percentiles meanwhile, on a thread of
            # their own: the cores' programming and reads below do not need them
            scaling = ThreadPoolExecutor(1, thread_name_prefix="chipsim-scales")
            scales = scaling.submit(activation_scales, workload, calibration_inputs)
        if not isinstance(scales, Future):
            self._scales, self._psum = scales
        self._range_codes = None
        if calibrated:
            self._range_codes = range_codes or self._calibrate_ranges(acts)
        self.range_calibration_mvms = np.zeros(chip.n_cores, dtype=np.int64)
        self.adc_full_scale_ua = np.zeros(chip.n_cores, dtype=np.float64)
        self._programmed: list[tuple[int, BlockPlacement, CoreInstance]] = []
        rngs = ([program_rng] * chip.chips if isinstance(program_rng, np.random.Generator)
                else list(program_rng))
        if len(rngs) != chip.chips:
            raise ChipsimError(f"program_rng: one generator or one per chip ({chip.chips}), "
                               f"got {len(rngs)}")
        try:
            for index, b in enumerate(mapping.blocks):
                w = workload.matrix(b.layer)[b.rows[0]:b.rows[1], b.cols[0]:b.cols[1]]
                codes = None
                if self._range_codes is not None:
                    codes = self._range_codes[(b.layer, b.replica)][:, b.rows[0]:b.rows[1]]
                inst = program_core(w, chip, rngs[chip.chip_of(b.core)], core_id=b.core,
                                    range_codes=codes)
                self.range_calibration_mvms[b.core] += inst.range_calibration_mvms
                self.adc_full_scale_ua[b.core] = inst.adc_full_scale_ua
                self._programmed.append((index, b, inst))
            self._read_rng = copy.deepcopy(read_rng)  # as given: :meth:`at` reads anew
            self._read_at(float(t_s), gdc, read_rng)
        finally:
            if scaling is not None:
                scaling.shutdown(wait=True)
        if isinstance(scales, Future):
            self._scales, self._psum = scales.result()

    def at(self, t_s: float, gdc: bool | None = None) -> ChipInstance:
        """This chip instance read ``t_s`` seconds after programming (with GDC on or off;
        None: as this one): the same programmed cores, new drifted states and GDC factors.

        Bit for bit the instance that the same arguments and generators would have
        programmed with ``t_s`` and ``gdc`` (programming does not depend on them), at the
        cost of the reads alone; its :attr:`mvms` start at zero.

        Examples
        --------
        >>> import numpy as np
        >>> from chipsim.mapping import map_workload
        >>> from chipsim.spec import hermes
        >>> from chipsim.workload import build
        >>> net = build("lstm-ptb", vocab=20, embed=8, hidden=16)
        >>> m = map_workload(net.lowered(), hermes())
        >>> x = np.zeros((2, 5), np.int64)
        >>> day = ChipInstance(net, m, hermes(), np.random.default_rng(0),
        ...                    np.random.default_rng(1), calibration_inputs=x).at(86400.0)
        >>> day.t_s
        86400.0
        """
        new = copy.copy(self)
        new._read_at(float(t_s), self._gdc if gdc is None else bool(gdc),
                     copy.deepcopy(self._read_rng))
        return new

    def _read_at(self, t_s: float, gdc: bool, read_rng: np.random.Generator) -> None:
        """Drifted states and GDC factors of every programmed core at ``t_s`` (GDC reads
        from ``read_rng``, block by block; a bad ``t_s`` is refused by
        :meth:`CoreInstance.read_state`); the run counters start at zero."""
        self.t_s, self._gdc = t_s, gdc
        self.mvms = np.zeros(self.chip.n_cores, dtype=np.int64)
        self._count_lock = threading.Lock()
        self.calibration_mvms = np.zeros(self.chip.n_cores, dtype=np.int64)
        self._blocks: dict[str, list[list[_Block]]] = {}  # layer -> replica -> blocks
        self._ldpu16: dict[int, tuple[np.ndarray, ...]] = {}  # block -> its LDPU (FP16)
        self._factors: dict[tuple[Callable, float], float] = {}  # INT8 step factors
        for index, b, inst in self._programmed:
            state = inst.read_state(t_s)
            factor = 1.0
            self.calibration_mvms[b.core] += inst.calibration_mvms  # reference read
            if gdc:
                factor = inst.gdc_factor(state, read_rng)
                self.calibration_mvms[b.core] += inst.calibration_mvms
            w_eff = var_eff = None
            if not self.quantize:
                unit = inst.w_max / inst.device.polarity_g_max_us
                w_eff = (state.g[0].astype(np.float64) - state.g[1]) * unit * factor
                var_eff = state.read_var.astype(np.float64) * (unit * factor) ** 2
                if inst.dead_cols is not None:  # dead ADCs: nothing comes out
                    w_eff[:, inst.dead_cols] = 0.0
                    var_eff[:, inst.dead_cols] = 0.0
            reps = self._blocks.setdefault(b.layer, [])
            while len(reps) <= b.replica:
                reps.append([])
            reps[b.replica].append(_Block(index, b.core, b.rows, b.cols, inst, state, factor,
                                          w_eff, var_eff))

    @property
    def scales(self) -> Scales:
        """INT8 scales of the activations and of the partial sums (from the float forward of
        the calibration inputs)."""
        return self._scales, self._psum

    @property
    def range_codes(self) -> dict[tuple[str, int], np.ndarray] | None:
        """ADC range calibration inputs: (layer, replica) → PWM codes (int16, (n, layer
        rows)), ``n = core.adc_range_calibration_mvms``; None with a fixed range."""
        return self._range_codes

    # ------------------------------------------------------------------ calibration
    def _layer_inputs(self, acts: dict[str, np.ndarray]
                      ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Every lowered layer's name, input vectors (float, (n, rows)) in the float forward
        ``acts`` and each vector's index within its inference (as :meth:`_op` forms them);
        one layer at a time (a convolution's im2col is large)."""
        for node in self.workload.nodes:
            if isinstance(node, Conv2d):
                cols = im2col(acts[node.inputs[0]], node.kernel_size, node.stride,
                              node.padding)
                n, p, k = cols.shape
                yield node.name, cols.reshape(n * p, k), np.tile(np.arange(p), n)
            elif isinstance(node, Linear):
                x = acts[node.inputs[0]]
                lead = x.shape[:-1]
                vec = (np.tile(np.arange(lead[-1]), int(np.prod(lead[:-1]))) if len(lead) > 1
                       else np.zeros(int(np.prod(lead)), dtype=np.int64))
                yield node.name, x.reshape(-1, x.shape[-1]), vec
            elif isinstance(node, LSTM):
                x, h = acts[node.inputs[0]], acts[node.name]
                h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
                n, steps = h.shape[:2]
                vec = np.tile(np.arange(steps), n)
                yield f"{node.name}.input", x.reshape(n * steps, -1), vec
                yield f"{node.name}.hidden", h_prev.reshape(n * steps, -1), vec

    def _calibrate_ranges(self, acts: dict[str, np.ndarray]
                          ) -> dict[tuple[str, int], np.ndarray]:
        """ADC range calibration inputs of every (layer, replica): ``n =
        core.adc_range_calibration_mvms`` of the vectors the replica computes, evenly spaced
        (the middle of each of ``n`` equal parts; repeated when there are fewer than ``n``),
        as the PWM codes the chip gives the layer."""
        n = self.chip.core.adc_range_calibration_mvms
        pick = 2 * np.arange(n) + 1
        out: dict[tuple[str, int], np.ndarray] = {}
        for name, x, vec in self._layer_inputs(acts):
            ly = self.mapping.layer(name)
            replica = self._replica_of(name, vec, ly.replicas)
            for r in range(ly.replicas):
                sel = np.flatnonzero(replica == r)
                if not len(sel):  # a copy without vectors of its own: any of the layer's
                    sel = np.arange(len(x))
                chosen = np.ascontiguousarray(x[sel[pick * len(sel) // (2 * n)]])
                out[(name, r)] = self._pwm_codes(name, chosen)
        return out

    def _input_scale(self, layer: str) -> float:
        """INT8 scale of the input vectors of lowered layer ``layer``."""
        if "." in layer and layer.rsplit(".", 1)[1] in ("input", "hidden"):
            name, part = layer.rsplit(".", 1)
            if isinstance(self.workload.node(name), LSTM):
                return (self._scales[self.workload.node(name).inputs[0]] if part == "input"
                        else 1.0 / INT8_LEVELS)
        return self._scales[self.workload.node(layer).inputs[0]]

    # ------------------------------------------------------------------ running
    def run(self, x: np.ndarray, noise: int | np.random.SeedSequence | np.random.Generator, *,
            first: int = 0) -> np.ndarray:
        """Network outputs (float32, dequantized) for a batch of inputs ``x``.

        ``noise`` is the run's read-noise key (an int in ``[0, 2**64)``, a SeedSequence, or a
        Generator that gives one draw; :func:`~chipsim.kernels.normal.key_from`) and
        ``first`` the index of ``x[0]`` in the whole set of inputs: block ``k`` reads its
        noise from stream ``subkey(key, k)`` at the position of each of its input vectors
        in the whole set, so splitting inputs into batches (with ``first`` the start of each)
        gives the same outputs in any order and on any thread, up to the float32 rounding of
        the array products, which some BLAS kernels make depend on the rows beside a sample's
        (:func:`~chipsim.functional.accuracy.run_instance` fixes the batches, bit for bit).
        """
        if isinstance(first, bool) or not isinstance(first, int | np.integer) or first < 0:
            raise ChipsimError(f"first: must be an integer >= 0, got {first!r}")
        run = _Run(key_from(noise), int(first), np.zeros(self.chip.n_cores, dtype=np.int64))
        wl = self.workload
        values: dict[str, np.ndarray] = {INPUT: np.asarray(x)}
        if not np.issubdtype(values[INPUT].dtype, np.integer):
            values[INPUT] = self._q(values[INPUT].astype(np.float32), self._scales[INPUT])
        emit_points = set(self._emit.values())
        # convolution outputs stay (H, W, N, C), as the chip computes them pixel by pixel,
        # through element-wise operators and tiled max pooling to the next convolution;
        # other operators get (N, C, H, W): the same values, fewer transposes
        last: set[str] = set()  # the values held (H, W, N, C)
        for node in wl.nodes:
            ins = node.inputs
            hwnc = True
            if isinstance(node, Conv2d):
                out = self._conv(node, values[ins[0]], run, channels_last=ins[0] in last)
            elif all(i in last for i in ins) and _keeps_layout(node, values[ins[0]]):
                out = (tile_max(values[ins[0]], node.kernel_size, axes=(0, 1))
                       if isinstance(node, MaxPool)
                       else self._op(node, [values[i] for i in ins], run))
            else:
                out = self._op(node, [_nchw(values[i]) if i in last else values[i]
                                      for i in ins], run)
                hwnc = False
            if node.name in emit_points:
                out = self._q(out, self._scales[node.name])
            values[node.name] = out
            if hwnc:
                last.add(node.name)
        with self._count_lock:  # runs of one instance may share it across threads
            self.mvms += run.mvms
        name = wl.nodes[-1].name
        return _nchw(values[name]) if name in last else values[name]

    def _factor(self, of: Callable[[float], float], scale: float) -> float:
        """``of(scale)`` (:func:`~chipsim.kernels.ldpu.requantize_factor` or
        :func:`~chipsim.kernels.ldpu.accumulate_factor`: their checks once per scale, not per
        batch); the executor's kernels take LDPU values, finite FP16 numbers by
        construction (an FP16 overflow's ±inf saturates to the INT8 range)."""
        key = (of, scale)
        found = self._factors.get(key)
        if found is None:
            found = self._factors[key] = of(scale)
        return found

    def _q(self, x: np.ndarray, scale: float) -> np.ndarray:
        """Round to the INT8 grid of ``scale`` (dequantized values), if quantizing."""
        if not self.quantize:
            return x
        q = _requantize_int8(x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x[None],
                             self._factor(requantize_factor, scale))
        return (q.astype(np.float32) * np.float32(scale)).reshape(x.shape)

    def _conv(self, node: Conv2d, x: np.ndarray, run: _Run, *,
              channels_last: bool = False) -> np.ndarray:
        """A convolution on the chip: its output (H, W, N, C), from inputs ``x`` (N, C, H,
        W), or (H, W, N, C) with ``channels_last``."""
        # quantized before im2col (each value's code depends on it alone): the copies of
        # the im2col are int16 and the quantization sees each pixel once. Pixel-major
        # (P, N, K): a replica's band of pixels is one slice of rows, not a copy
        cols = im2col(self._codes(node.name, x), node.kernel_size, node.stride, node.padding,
                      pixel_major=True, channels_last=channels_last)
        p, n, k = cols.shape
        pixel = np.repeat(np.arange(p), n)
        image = np.tile(np.arange(n, dtype=np.uint64), p)
        positions = run.positions(n * p, p)[image * np.uint64(p) + pixel.astype(np.uint64)]
        y = self._matmul([(node.name, cols.reshape(p * n, k))], pixel, node.name, run,
                         positions)
        _, ho, wo = self.workload.shape(node.name)
        return y.reshape(ho, wo, n, -1)

    def _op(self, node, args: list[np.ndarray], run: _Run) -> np.ndarray:
        x = args[0]
        if isinstance(node, Conv2d):
            return _nchw(self._conv(node, x, run))
        if isinstance(node, Linear):
            lead = x.shape[:-1]
            flat = self._codes(node.name, x.reshape(-1, x.shape[-1]))
            vec = (np.tile(np.arange(lead[-1]), int(np.prod(lead[:-1]))) if len(lead) > 1
                   else np.zeros(len(flat), dtype=np.int64))
            per = int(np.prod(lead[1:])) if len(lead) > 1 else 1
            return self._matmul([(node.name, flat)], vec, node.name, run,
                                run.positions(len(flat), per)).reshape(*lead, -1)
        if isinstance(node, LSTM):
            return self._lstm(node, x, run)
        if isinstance(node, Embedding):
            emb = self.workload.weights[node.name]["weight"][x]
            return self._q(emb, self._scales[node.name])
        if isinstance(node, DIGITAL_TYPES):
            out = apply_op(self.workload, node, *args,
                           rounding=digital_fp16 if self.quantize else None)
            return self._q(out, self._scales[node.name])
        if isinstance(node, Add):
            total = args[0].astype(np.float32)
            for other in args[1:]:
                total = total + other
            return fp16_round(total) if self.quantize else total
        if isinstance(node, BatchNorm):
            return x  # folded into the preceding layer's affine
        if isinstance(node, ReLU):
            return np.maximum(x, np.float32(0))
        if isinstance(node, MaxPool | AvgPool | GlobalAvgPool | Flatten | ChannelPad):
            return apply_op(self.workload, node, x)  # exact on INT8-grid values
        raise ChipsimError(f"layer '{node.name}': no chip execution for {node.kind}")

    # ------------------------------------------------------------------ MVMs
    def _matmul(self, parts: list[tuple[str, np.ndarray]], vec: np.ndarray, affine_of: str,
                run: _Run, positions: np.ndarray) -> np.ndarray:
        """``Σ_parts x @ W`` then the affine of ``affine_of``, as the chip computes it.

        ``parts`` are (layer, input codes (n, rows): :meth:`_codes`) whose matrices share
        their column partition; their row blocks accumulate in one chain per column range.
        ``vec`` is
        each vector's index within its inference (selects the replica), ``positions`` its
        position in the run's noise streams (:meth:`run`).
        """
        first = self._blocks[parts[0][0]]
        n_rep = len(first)
        cols = self.workload.matrix(parts[0][0]).shape[1]
        out = np.empty((len(parts[0][1]), cols), dtype=np.float32)
        scale, bias = self.workload.affine(affine_of)
        replica = self._replica_of(parts[0][0], vec, n_rep)
        for r in range(n_rep):
            sel = np.flatnonzero(replica == r)
            if not len(sel):
                continue
            chains: dict[tuple[int, int], list[tuple[str, _Block]]] = {}
            for layer, _ in parts:
                reps = self._blocks[layer]
                for blk in reps[r % len(reps)]:
                    chains.setdefault(blk.cols, []).append((layer, blk))
            if sel[-1] - sel[0] + 1 == len(sel):  # one run of rows: views, no copies
                sel = slice(int(sel[0]), int(sel[-1]) + 1)
            xs = {layer: x[sel] for layer, x in parts}
            pos = positions[sel]
            for (c0, c1), chain in chains.items():
                out[sel, c0:c1] = self._chain_mvm(chain, xs, scale[c0:c1], bias[c0:c1], run,
                                                  pos)
        return out

    def _replica_of(self, layer: str, vec: np.ndarray, n_rep: int) -> np.ndarray:
        """The replica that computes each vector index ``vec`` of ``layer``."""
        if n_rep == 1:
            return np.zeros(len(vec), dtype=np.intp)
        if layer in self._stepped:
            return vec % n_rep
        bounds = replica_bands(self.mapping.layer(layer).vectors, n_rep)
        return np.searchsorted(bounds, vec, side="right") - 1

    def _codes(self, layer: str, x: np.ndarray) -> np.ndarray:
        """The PWM codes of a layer's inputs ``x`` (any shape; quantized once for all its
        blocks), or the inputs themselves without quantization."""
        if not self.quantize:
            return x
        return self._pwm_codes(layer, x.reshape(-1, x.shape[-1])).reshape(x.shape)

    def _pwm_codes(self, layer: str, x: np.ndarray) -> np.ndarray:
        """The PWM codes (int16) of a layer's input vectors ``x``: the INT8 activation the
        core receives, rounded to the PWM modulator's grid of ``±core.input_levels`` when it
        has other than 8 bits (a full-scale INT8 value is a full-length pulse either way)."""
        s_in = self._input_scale(layer)
        if x.dtype == np.float32:  # one pass; the same float32 arithmetic as below
            codes = _int_codes(np.ascontiguousarray(x), np.float32(s_in), INT8_LEVELS)
        else:
            codes = np.clip(np.rint(x / s_in), -INT8_LEVELS, INT8_LEVELS).astype(np.int16)
        levels = self.chip.core.input_levels
        if levels != INT8_LEVELS:
            codes = np.rint(codes * (levels / INT8_LEVELS)).astype(np.int16)
        return codes

    def _chain_mvm(self, chain, xs, col_scale, col_bias, run: _Run,
                   positions: np.ndarray) -> np.ndarray:
        """One column range of a layer: the row blocks of ``chain`` on their inputs ``xs``
        (PWM codes per layer, :meth:`_codes`), accumulated as the partial-sum chain does;
        :data:`CHUNK_VECTORS` vectors at a time."""
        if len(positions) > CHUNK_VECTORS:
            return np.concatenate([
                self._chain_mvm(chain, {k: v[a:a + CHUNK_VECTORS] for k, v in xs.items()},
                                col_scale, col_bias, run, positions[a:a + CHUNK_VECTORS])
                for a in range(0, len(positions), CHUNK_VECTORS)])
        acc = None
        last = len(chain) - 1
        for i, (layer, blk) in enumerate(chain):
            x = xs[layer][:, blk.rows[0]:blk.rows[1]]
            run.mvms[blk.core_id] += len(x)
            key = subkey(run.key, blk.index)
            if not self.quantize:
                part = x.astype(np.float64) @ blk.w_eff
                std = np.sqrt((x.astype(np.float64) ** 2) @ blk.var_eff)
                part += std * standard_normal_rows(key, positions, std.shape[1])
                acc = part if acc is None else acc + part
                continue
            ldpu16 = self._ldpu16.get(blk.index)
            if ldpu16 is None:  # the same for every batch: once per block
                single = last == 0
                ldpu16 = self._ldpu16[blk.index] = tuple(fp16_round(p) for p in (
                    blk.inst.ldpu_params(
                        self._input_scale(layer) * INT8_LEVELS,  # a full-length pulse's input
                        blk.gdc, col_scale=col_scale if single else None,
                        col_bias=col_bias if single else None)))
            # the partial sum received (INT8) added, and put on the wire (INT8) but by the
            # last block, in the read-out's pass
            psum = self._psum[layer]
            acc = blk.inst.mvm_ldpu(
                x, blk.state, ReadNoise(key, positions), ldpu16, fp16=True,
                add=None if acc is None else (acc, self._factor(accumulate_factor, psum)),
                requantize=self._factor(requantize_factor, psum) if i < last else None)
        if not self.quantize:
            return (acc * col_scale + col_bias).astype(np.float32)
        if last == 0:
            return acc
        return fp16_round(fp16_round(acc * fp16_round(col_scale)) + fp16_round(col_bias))

    def _lstm(self, node: LSTM, x: np.ndarray, run: _Run) -> np.ndarray:
        n, steps, _ = x.shape
        hidden = node.hidden_size
        h = np.zeros((n, hidden), np.float32)
        c = np.zeros((n, hidden), np.float32)
        out = np.empty((n, steps, hidden), np.float32)
        rnd = fp16_round if self.quantize else (lambda a: a)
        order = [LSTM_GATES.index(k) for k in "IAFO"]
        x_codes = self._codes(f"{node.name}.input", x)
        for t in range(steps):
            vec = np.full(n, t, dtype=np.int64)
            positions = (run.first + np.arange(n, dtype=np.uint64)) * np.uint64(steps) + t
            h_codes = self._codes(f"{node.name}.hidden", h)
            gates = self._matmul([(f"{node.name}.input", x_codes[:, t]),
                                  (f"{node.name}.hidden", h_codes)], vec, f"{node.name}.input",
                                 run, positions)
            g = gates.reshape(n, hidden, 4)
            i, a, f, o = (g[..., k] for k in order)
            sig = lambda v: rnd(1.0 / (1.0 + np.exp(-v)))  # noqa: E731 - GDPU lookup table
            c = rnd(rnd(sig(f) * c) + rnd(sig(i) * rnd(np.tanh(a))))
            h = self._q(rnd(sig(o) * rnd(np.tanh(c))).astype(np.float32), 1.0 / INT8_LEVELS)
            out[:, t] = h
        return out


def _nchw(x: np.ndarray) -> np.ndarray:
    """(H, W, N, C) values as (N, C, H, W)."""
    return np.ascontiguousarray(x.transpose(2, 3, 0, 1))


def _keeps_layout(node, x: np.ndarray) -> bool:
    """``node`` computes on (H, W, N, C) values ``x`` as on (N, C, H, W) ones, element by
    element or as tiled max pooling."""
    if isinstance(node, ReLU | BatchNorm | Add):
        return True
    return (isinstance(node, MaxPool) and x.ndim == 4
            and pools_in_tiles(node, node.padding, x.shape[0], x.shape[1]))
