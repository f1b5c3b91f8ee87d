"""One programmed PCM core: weights → conductances, drift, GDC and the noisy analog MVM.

A :class:`CoreInstance` is one seeded "chip instance" of a core: programming error, drift
exponents, one-phase read asymmetry and ADC gain/offset spread are drawn once, when the core is
programmed, and persist. Read noise and output noise are drawn anew for every MVM.

Signal chain of :meth:`CoreInstance.mvm` (``shared/hermes.md`` §1, §6):

1. inputs arrive as PWM codes (sign + magnitude, ``core.input_levels``); duty fractions
   ``u = code / levels`` split into positive and negative pulses;
2. line currents (µA) ``v_read · u± @ G±(t)`` with ``G(t)`` the drifted conductances; 4-ph
   reads each sign combination in its own phase, 1-ph all at once with the negative-voltage
   reads off by the per-device polarity asymmetry; each line saturates at ``i_sat_ua``
   (the phases are formed one by one only for the vectors that the saturation screen of
   :meth:`CoreInstance._screen` cannot clear; for the others their signed sum is one
   product). On a CPU with Intel AMX each array product is formed exactly from the codes and
   the conductances in fixed point (:func:`exact_products`, :mod:`chipsim.kernels.fixedmm`),
   elsewhere in float32 BLAS;
3. read (1/f) noise, drawn exactly in distribution for the whole column as
   ``sqrt(v_read² · u² @ Σ_devices (g(t)·σ_r)²) · N(0, 1)`` (one extra matrix product; the
   ``N(0, 1)`` of each conversion comes from the counter-based generator at the position
   :class:`ReadNoise` gives the vector, drawn inside the read-out kernel);
4. the ADC: output noise, per-column gain/offset spread, rounding and clipping to
   ``±core.adc_levels`` counts over the core's full scale
   (:attr:`CoreInstance.adc_full_scale_ua`: ``core.adc_full_scale_ua`` with
   ``core.adc_range = fixed``, calibrated per core with ``calibrated``, see
   :func:`program_core`). The output noise's σ is ``core.output_noise_std_fs`` × the core's
   full scale, so it is the same number of ADC counts whatever the range: the spec's
   default is the converter's own noise, about one 8-bit step rms over its range, and a
   CCO ADC's range is set by its current-to-frequency gain, which scales that noise with
   it (the HWA training's output noise is likewise a fraction of the range). A noise floor
   in µA that stays when the range shrinks is not modelled; the calibrated range's lower
   bound (:data:`ADC_RANGE_FLOOR`) limits how far the noise shrinks with it;
5. the LDPU affine in FP16 turns counts back into weight × input units, removing the ADC
   gain/offset, applying the core's weight scale and the GDC factor.

Approximation: read noise is added to the combined column signal after the per-phase line
saturation, rather than to each phase current before it (saturation is rare at the defaults).
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

import numba
import numpy as np

from ..device import PCMDevice, make_device
from ..errors import ChipsimError
from ..kernels import fp16_round
from ..kernels._sync import publish
from ..kernels._threads import helper_pool
from ..kernels.fixedmm import (
    ByteParts,
    FixedMatrix,
    amx_available,
    code_parts,
    code_range,
    fixed_matmul,
    fixed_pieces,
    fixed_unit,
    square_parts,
)
from ..kernels.normal import key_from
from ..kernels.pwm import code_norms, duty_parts
from ..kernels.readout import _currents, _noisy_counts, _noisy_ldpu
from ..spec import AdcRange, ChipSpec, CoreSpec, ReadMode

__all__ = ["CoreInstance", "program_core", "CoreReadState", "ReadNoise", "calibrated_full_scale",
           "ADC_RANGE_FLOOR", "SCREEN_GROUPS", "exact_products", "products_method"]

#: column groups of the saturation screen's group bound (:meth:`CoreInstance._may_saturate`):
#: its product has 2 × 16 columns, 1/8 of a 256-column core's product. Of ResNet-9's 691,300
#: inference vectors (100 images, shipped HWA weights) the norm bound flags 275 (the row bound
#: alone would flag 138,798, and the group bound after it 25,443), the row and group bounds
#: those 275 too, the per-column bound none (none saturates: the largest line current is
#: 62 µA against 100 µA).
SCREEN_GROUPS = 16

#: fewest vectors of a phase-by-phase read for which a core's read state keeps the
#: per-polarity conductances in fixed point (:meth:`CoreReadState.fixed`): a smaller read
#: (a GDC calibration read: 16 vectors of full-range codes) makes them for itself (about
#: 0.17 ms each for 256 × 256) and leaves them, instead of 0.2 MB each for every core's state
#: (the main job's peak memory: measured 1,490 MiB keeping them against 1,320 before exact
#: products)
KEEP_PHASE_ROWS = 256

#: fewest vectors of an exact read whose products run on a helper thread: beside this
#: thread's read-out, :data:`PIECE_ROWS` vectors at a time, when all its vectors take one
#: read path; else the variance product beside the signal's products
#: (:meth:`CoreInstance._read_beside`)
OVERLAP_ROWS = 256

#: vectors of a piece of a pipelined read (a multiple of 32, the product kernel's step):
#: 1,024 non-negative full-scale vectors took about as long in pieces of 128 or 256, longer
#: in pieces of 64 (the first piece's products are not overlapped)
PIECE_ROWS = 128

#: smallest calibrated ADC full scale, as a fraction of ``core.adc_full_scale_ua`` (the ADC's
#: largest range): a core whose calibration currents are all (nearly) zero still gets a
#: positive range. UNCONFIRMED: the trim range of the reference chip's ADC gain is not
#: published; 1/64 is six binary steps of gain.
ADC_RANGE_FLOOR = 1.0 / 64


def _matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b`` (float32, BLAS): every array product of a read goes through here, the one
    place where the float32 rounding of a row may depend on the rows beside it (as some BLAS
    kernels make it), so that tests can put an exactly ordered product in its place."""
    return np.matmul(a, b, out=out)


@dataclass(frozen=True, slots=True, eq=False)
class ReadNoise:
    """Where the Gaussian draws of a batch of MVMs come from.

    Vector ``b`` of the batch reads the standard normals at positions ``positions[b] · C +
    c`` (``c`` its column, ``C`` the block's columns) of the counter-based stream ``key``
    (:func:`~chipsim.kernels.standard_normal`), so its noise depends only on the key and its
    position, never on the batch, the thread or the process it is read in.

    Examples
    --------
    >>> import numpy as np
    >>> ReadNoise.of(np.random.default_rng(0), 3).positions
    array([0, 1, 2], dtype=uint64)
    """

    key: int
    positions: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", np.asarray(self.positions, dtype=np.uint64))

    @classmethod
    def of(cls, source: ReadNoise | np.random.Generator, batch: int) -> ReadNoise:
        """``source`` itself, or from a Generator a new key (one draw) and positions ``0 ..
        batch − 1``."""
        if isinstance(source, ReadNoise):
            if len(source.positions) != batch:
                raise ChipsimError(f"noise: {len(source.positions)} positions for a batch of "
                                   f"{batch} vectors")
            return source
        return cls(key_from(source), np.arange(batch, dtype=np.uint64))


@dataclass(frozen=True, slots=True, eq=False)
class CoreReadState:
    """Conductances of a core as seen at one time after programming (µS, float64).

    ``g[p]`` is the summed conductance (float32) of polarity ``p`` (0 = +, 1 = −) as read at
    positive voltage, ``g_neg_read[p]`` as read at negative voltage (1-ph); ``read_var`` the
    variance (µS²) of one read of a weight, summed over both polarities' devices;
    ``line_max_ua`` the largest line current any input could draw (all pulses full length;
    ``inf`` if a conductance read is negative, which only an asymmetry below −1 gives);
    ``g_diff`` and ``g_neg_read_diff`` are ``g[0] − g[1]`` and ``g_neg_read[0] −
    g_neg_read[1]``, the effective signed conductances when no line saturates.

    The saturation screen's bounds (float32, from the float32 conductances above):
    ``col_max_pos`` is ``max(|g[0]|, |g[1]|)`` element by element ((rows, cols)), the larger
    conductance that a positive pulse reads at each cross point; ``group_max_pos`` and
    ``group_max_neg`` ((rows, 2 × groups)) the largest |conductance| of each row over each of
    :data:`SCREEN_GROUPS` contiguous column groups, per polarity (polarity 0's groups first),
    that a positive and a negative pulse reads (``g_neg_read`` with a 1-ph read, ``g`` with
    4-ph, whose negative pulses read at positive voltage); ``row_max_g`` the largest
    |conductance| any pulse reads on each row ((rows,)); ``col_norm_max`` the largest
    Euclidean norm (float64) of a column of a conductance matrix that a pulse reads;
    ``reads_nonneg`` whether every conductance read is >= 0.
    """

    t_s: float
    g: np.ndarray
    g_neg_read: np.ndarray
    read_var: np.ndarray
    line_max_ua: float
    g_diff: np.ndarray
    g_neg_read_diff: np.ndarray
    row_max_g: np.ndarray
    col_max_pos: np.ndarray
    group_max_pos: np.ndarray
    group_max_neg: np.ndarray
    col_norm_max: float
    reads_nonneg: bool
    _fixed: dict = field(default_factory=dict, init=False, repr=False)  # fixed()'s cache

    #: the read's matrices in fixed point (:meth:`fixed`): the conductances per polarity as
    #: read at positive (``g``) and negative voltage (``gn``), their differences, the variance
    FIXED = {"g_diff": ("g", None), "g_neg_read_diff": ("gn", None), "g0": ("g", 0),
             "g1": ("g", 1), "gn0": ("gn", 0), "gn1": ("gn", 1), "read_var": (None, None)}

    def matrix(self, name: str) -> np.ndarray:
        """The matrix ``name`` (a key of :attr:`FIXED`) as float32."""
        source, polarity = self.FIXED[name]
        if source is None:
            return self.read_var
        if polarity is None:
            return self.g_diff if source == "g" else self.g_neg_read_diff
        return (self.g if source == "g" else self.g_neg_read)[polarity]

    def fixed(self, name: str, keep: bool = True) -> FixedMatrix:
        """The matrix ``name`` (a key of :attr:`FIXED`) in fixed point, as the read's exact
        products take it (:func:`~chipsim.kernels.fixedmm.fixed_matmul`), made on first use
        and kept with the state if ``keep``.

        The conductances share one unit, the finest that keeps each within ``2**22`` units
        (:func:`~chipsim.kernels.fixedmm.fixed_unit`), so that a difference's integers are
        the difference of its polarities'; the variance has its own."""
        fm = self._fixed.get(name)
        if fm is not None:
            return fm
        source, polarity = self.FIXED[name]
        if source is None:
            fm = FixedMatrix.of_floats(self.read_var,
                                       fixed_unit(float(self.read_var.max(initial=0.0))))
        else:
            unit = fixed_unit(max(float(np.abs(self.g).max(initial=0.0)),
                                  float(np.abs(self.g_neg_read).max(initial=0.0))))
            g = self.g if source == "g" else self.g_neg_read
            fm = (FixedMatrix.of_floats(g[0], unit, minus=g[1]) if polarity is None
                  else FixedMatrix.of_floats(g[polarity], unit))
        if keep:
            self._fixed[name] = fm
        return fm

    @classmethod
    def of(cls, t_s: float, g: np.ndarray, g_neg_read: np.ndarray, read_var: np.ndarray, *,
           one_phase: bool, v_read_v: float) -> CoreReadState:
        """The state of the conductances ``g`` and ``g_neg_read`` (µS, float64, (2, rows,
        cols): per polarity) and the read variance ``read_var`` (µS², (rows, cols)), with
        the screen's bounds derived from them.

        Examples
        --------
        >>> import numpy as np
        >>> g = np.stack([np.full((3, 2), 10.0), np.zeros((3, 2))])
        >>> st = CoreReadState.of(0.0, g, g, np.zeros((3, 2)), one_phase=False, v_read_v=0.2)
        >>> st.line_max_ua, round(st.col_norm_max ** 2, 9)  # 3 rows of 10 µS on a line
        (6.0, 300.0)
        """
        g32, gn32 = g.astype(np.float32), g_neg_read.astype(np.float32)
        # screen bounds: per cross point over both polarities, per row and column group
        # per polarity (the conductances each pulse sign reads)
        abs_pos = np.abs(g32)
        abs_neg = np.abs(gn32) if one_phase else abs_pos  # 4-ph: both signs read g
        starts = np.linspace(0, g32.shape[2], min(SCREEN_GROUPS, g32.shape[2]) + 1,
                             dtype=np.intp)[:-1]
        col_max_pos = np.maximum(abs_pos[0], abs_pos[1])
        group_max_pos = np.concatenate(np.maximum.reduceat(abs_pos, starts, axis=2), axis=1)
        row_max_g = col_max_pos.max(axis=1)
        if one_phase:
            group_max_neg = np.concatenate(np.maximum.reduceat(abs_neg, starts, axis=2),
                                           axis=1)
            row_max_g = np.maximum(row_max_g, abs_neg.max(axis=(0, 2)))
            reads_nonneg = bool((g32 >= 0).all() and (gn32 >= 0).all())
        else:
            group_max_neg = group_max_pos
            reads_nonneg = bool((g32 >= 0).all())
        col_norm_max = max(float(np.sqrt(np.square(a, dtype=np.float64).sum(axis=1)).max())
                           for a in ((abs_pos, abs_neg) if one_phase else (abs_pos,)))
        line_max = (float(v_read_v * max(g.sum(axis=1).max(), g_neg_read.sum(axis=1).max()))
                    if reads_nonneg else float("inf"))
        return cls(
            t_s=float(t_s), g=g32, g_neg_read=gn32, read_var=read_var.astype(np.float32),
            line_max_ua=line_max,
            g_diff=(g[0] - g[1]).astype(np.float32),
            g_neg_read_diff=(g_neg_read[0] - g_neg_read[1]).astype(np.float32),
            row_max_g=row_max_g, col_max_pos=col_max_pos, group_max_pos=group_max_pos,
            group_max_neg=group_max_neg, col_norm_max=col_norm_max, reads_nonneg=reads_nonneg)


def exact_products() -> bool:
    """Whether the reads of this process form their array products exactly (fixed point,
    :mod:`chipsim.kernels.fixedmm`) rather than with float32 BLAS, by the environment
    variable ``CHIPSIM_PRODUCTS``: ``auto`` (or unset) where the CPU has Intel AMX, ``exact``
    always (elsewhere by float64 BLAS: the same bits, slower), ``blas`` never. The two ways
    differ by float32 rounding (about 1e-7 of a product), as BLAS on different CPUs does."""
    choice = os.environ.get("CHIPSIM_PRODUCTS", "auto")
    if choice not in ("auto", "exact", "blas"):
        raise ChipsimError(f"CHIPSIM_PRODUCTS: must be auto, exact or blas, got {choice!r}")
    return choice == "exact" or (choice == "auto" and amx_available())


def products_method() -> str:
    """How this process forms the reads' array products (:func:`exact_products`), as the
    report's provenance records it."""
    if not exact_products():
        return "float32 BLAS"
    return "exact fixed point (" + ("Intel AMX" if amx_available() else "float64 BLAS") + ")"


@dataclass(slots=True, eq=False)
class _Inputs:
    """The PWM codes of one read (int16, (batch, rows)), their smallest and largest values
    (``lo``, ``hi``), ``levels`` and whether the read forms its products exactly
    (:func:`exact_products`, decided once per read); and, each formed on first use, what the
    read's steps take: the duty fractions (:func:`~chipsim.kernels.pwm.duty_parts`) and the
    codes as bytes (:func:`~chipsim.kernels.fixedmm.code_parts`, ``square_parts``)."""

    codes: np.ndarray
    lo: int
    hi: int
    levels: int
    exact: bool
    _duty: tuple | None = None
    _bytes: tuple | None = None

    @property
    def signed(self) -> bool:
        return self.lo < 0

    def duty(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """``(u_pos, u_neg, u_sq)`` (float32; ``u_neg`` None when no code is negative)."""
        if self._duty is None:
            self._duty = duty_parts(self.codes, self.levels)
        return self._duty

    def fractions(self, sign: str) -> np.ndarray:
        """The duty fractions of the ``"pos"``, ``"neg"`` or ``"signed"`` pulses."""
        u_pos, u_neg, _ = self.duty()
        return {"pos": u_pos, "neg": u_neg}[sign] if sign != "signed" else u_pos - u_neg

    def bytes(self, sign: str) -> ByteParts:
        """The codes of the ``"pos"``, ``"neg"`` or ``"signed"`` pulses as bytes."""
        if self._bytes is None:
            self._bytes = code_parts(self.codes, self.lo, self.hi)
        return self._bytes[("pos", "neg", "signed").index(sign)]

    def squares(self) -> ByteParts:
        """``code²`` as bytes."""
        return square_parts(self.codes, self.lo, self.hi)

    def subset(self, rows: np.ndarray) -> _Inputs:
        """The inputs of the vectors ``rows``, of the same sign structure (``lo``, ``hi``
        kept: a subset of signed codes is read as signed)."""
        duty = (None if self._duty is None
                else tuple(None if u is None else u[rows] for u in self._duty))
        return _Inputs(np.ascontiguousarray(self.codes[rows]), self.lo, self.hi, self.levels,
                       self.exact, duty)


@dataclass(frozen=True, slots=True, eq=False)
class CoreInstance:
    """A core programmed with one weight block; see :func:`program_core`.

    Attributes
    ----------
    core, device
        The core's specification and its resolved device model.
    w_max
        Weight that maps to ``device.polarity_g_max_us`` (max |W| of the block).
    weights
        The intended weight block (rows ≤ core rows, cols ≤ core cols), float64.
    g_prog, nu
        Programmed conductance (µS) and drift exponent of every element:
        shape (2 polarities, elements, rows, cols).
    asym
        One-phase polarity asymmetry of every device pair, shape (2, rows, cols).
    adc_gain, adc_offset_lsb
        Per-column ADC gain and offset (LSB), shape (cols,).
    cal_codes
        The fixed GDC calibration inputs (PWM codes), shape (n, rows): uniform random codes
        with a fixed ADC range, the block's own calibration inputs with a calibrated one.
    stuck_g
        Conductance (µS) of the stuck devices of every element (same shape as ``g_prog``,
        which then holds only the working devices' part), or None without stuck devices:
        stuck devices do not drift (``faults.stuck_fraction``).
    dead_cols
        Block columns whose ADC reads 0 counts (``faults.dead_adc_columns``), or None.
    adc_full_scale_ua
        The line current (µA, signed) of this core's full-scale ADC count: the spec's
        ``core.adc_full_scale_ua`` with ``core.adc_range = fixed``; with ``calibrated`` the
        value :func:`program_core` measured on the block's calibration inputs
        (:func:`calibrated_full_scale`). Rounding, clipping, :meth:`unit_scale` and the
        output noise (``core.output_noise_std_fs`` × this full scale) use it.
    range_calibration_mvms
        MVMs spent setting the calibrated range (``core.adc_range_calibration_mvms``; 0 with a
        fixed range), once after programming.

    Only the block's rows and columns are stored: the zero-filled rest of the crossbar gets
    no input pulses and its columns are not read, so it cannot change any output.
    gdc_reference
        Mean |output| of the calibration inputs measured just after programming.
    read_q
        The 1/f read-noise amplitude ``Q`` of ``g_prog`` (``device.read_q``), computed on
        construction when not given and kept: it does not change with time.
    """

    core: CoreSpec
    device: PCMDevice
    w_max: float
    weights: np.ndarray
    g_prog: np.ndarray
    nu: np.ndarray
    asym: np.ndarray
    adc_gain: np.ndarray
    adc_offset_lsb: np.ndarray
    cal_codes: np.ndarray
    gdc_reference: float = field(default=float("nan"))
    stuck_g: np.ndarray | None = None
    dead_cols: np.ndarray | None = None
    adc_full_scale_ua: float = field(default=float("nan"))
    range_calibration_mvms: int = 0
    read_q: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.adc_full_scale_ua):  # default: the spec's fixed range
            object.__setattr__(self, "adc_full_scale_ua", float(self.core.adc_full_scale_ua))
        if self.read_q is None:
            object.__setattr__(self, "read_q", self.device.read_q(self.g_prog))

    # ---------------------------------------------------------------- conductances
    def read_state(self, t_s: float) -> CoreReadState:
        """Drifted conductances and read-noise variances at ``t_s`` seconds after programming."""
        if not np.isfinite(t_s) or t_s < 0:
            raise ChipsimError(f"t_s: time since programming must be a finite number >= 0 s, "
                               f"got {t_s!r}")
        g_t = self.device.drift(self.g_prog, self.nu, t_s)
        # = device.read_sigma_rel(g_prog, t_s), with Q kept
        sigma = self.device.read_sigma_scale(t_s) * self.read_q
        var = (g_t * sigma) ** 2
        if self.stuck_g is not None:  # stuck devices: a fixed conductance, no drift
            g_t = g_t + self.stuck_g
            var += (self.stuck_g * self.device.read_sigma_rel(self.stuck_g, t_s)) ** 2
        g = g_t.sum(axis=1)
        read_var = var.sum(axis=1)
        return CoreReadState.of(t_s, g, g * (1.0 + self.asym), read_var[0] + read_var[1],
                                one_phase=self.core.read_mode is ReadMode.ONE_PHASE,
                                v_read_v=self.core.v_read_v)

    # ---------------------------------------------------------------- analog path
    def _inputs(self, codes: np.ndarray) -> _Inputs:
        """The read's inputs: ``codes`` checked (shape (batch, block rows), integers within
        ``±input_levels``; a :class:`ChipsimError` otherwise), as C-contiguous int16."""
        rows = self.weights.shape[0]
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != rows:
            raise ChipsimError(f"codes: must have shape (batch, {rows}), got {codes.shape}")
        if not np.issubdtype(codes.dtype, np.integer):
            raise ChipsimError(f"codes: must be integers (PWM codes), got dtype {codes.dtype}")
        top = self.core.input_levels
        if codes.dtype == np.int16:
            codes = np.ascontiguousarray(codes)
            lo, hi = code_range(codes)
        else:
            lo, hi = int(codes.min(initial=0)), int(codes.max(initial=0))
        if lo < -top or hi > top:
            raise ChipsimError(f"codes: must lie in [-{top}, {top}], got [{lo}, {hi}]")
        return _Inputs(np.ascontiguousarray(codes, dtype=np.int16), int(lo), int(hi), top,
                       exact_products())

    def mvm_counts(self, codes: np.ndarray, state: CoreReadState,
                   noise: ReadNoise | np.random.Generator) -> np.ndarray:
        """ADC counts (int32, (batch, cols)) of the PWM ``codes`` (int, (batch, rows)).

        ``noise`` says where the read and output noise of each vector comes from
        (:class:`ReadNoise`; a Generator gives a fresh key and positions ``0 .. batch − 1``).
        """
        return self._read(codes, state, noise, None, False)

    def mvm_ldpu(self, codes: np.ndarray, state: CoreReadState,
                 noise: ReadNoise | np.random.Generator, ldpu: tuple[np.ndarray, ...], *,
                 relu: bool = False, fp16: bool = False,
                 add: tuple[np.ndarray, float] | None = None,
                 requantize: float | None = None) -> np.ndarray:
        """The LDPU's FP16 outputs (float32, (batch, cols)) of the PWM ``codes``: the counts of
        :meth:`mvm_counts` through the per-column affine ``ldpu = (offset, scale, bias)``
        (:meth:`ldpu_params`; :func:`~chipsim.kernels.ldpu_affine`), in the same pass.
        ``fp16``: the parameters are already FP16 values (float32 arrays of
        :func:`~chipsim.kernels.fp16_round`), as the LDPU's registers hold them.

        The LDPU's INT8 steps of a partial-sum chain, in the same pass: ``add = (q, f)``
        adds the INT8 data ``q`` (int8, (batch, cols)) received for these vectors, of step
        ``f = accumulate_factor(scale)`` (:func:`~chipsim.kernels.accumulate_int8`);
        ``requantize = requantize_factor(out_scale)`` returns the sums re-quantized to INT8
        instead (int8, (batch, cols); :func:`~chipsim.kernels.requantize_int8`)."""
        if not fp16:
            ldpu = tuple(fp16_round(p) for p in ldpu)
        return self._read(codes, state, noise, ldpu, relu, add, requantize)

    def _read(self, codes, state, noise, ldpu16, relu, add=None, requantize=None
              ) -> np.ndarray:
        inp = self._inputs(codes)
        noise = ReadNoise.of(noise, len(inp.codes))
        out = np.empty((len(inp.codes), self.weights.shape[1]),
                       dtype=np.int32 if ldpu16 is None else np.float32)
        q_out = None if requantize is None else np.empty(out.shape, dtype=np.int8)
        int8 = (add, requantize, q_out)
        # read noise (exact in distribution per column) and output noise are independent
        # Gaussians added before the ADC: one draw with the summed variance
        if inp.exact and numba.get_num_threads() > 1 and len(inp.codes) >= OVERLAP_ROWS:
            self._read_beside(inp, noise, state, ldpu16, relu, out, int8)
        else:
            noise_var = self._variance(inp, state)
            for saturating, rows in self._parts(self._screen(inp, state)):
                self._readout(inp, noise_var, noise, state, saturating, ldpu16, relu, out,
                              rows, int8)
        return out if q_out is None else q_out

    @staticmethod
    def _parts(risky: np.ndarray | None) -> tuple[tuple[bool, np.ndarray | None], ...]:
        """The parts of a read: ``(saturating, rows)`` (None: every vector) by the verdict
        of :meth:`_screen`; only the vectors that may saturate pay for the phase-wise read."""
        if risky is None or not risky.any():
            return ((False, None),)
        if risky.all():
            return ((True, None),)
        return ((False, np.flatnonzero(~risky)), (True, np.flatnonzero(risky)))

    def _read_beside(self, inp: _Inputs, noise: ReadNoise, state: CoreReadState,
                     ldpu16: tuple[np.ndarray, ...] | None, relu: bool, out: np.ndarray,
                     int8: tuple) -> None:
        """The read of :meth:`_read` with its products on a helper thread
        (:meth:`_helper_products`), which makes the codes' bytes while this thread screens
        them. When every vector takes one read path, the helper forms the variance and
        signal products :data:`PIECE_ROWS` vectors at a time and this thread reads each
        piece out as soon as it is formed: the helper's tile products (the AMX unit) run
        beside this thread's read-out (the vector units), where a read-out split over both
        hyperthreads of the core gained only 1.2 ×. Otherwise the helper forms the variance
        product beside this thread's signal products. The same values as in line: a
        vector's products and read-out do not depend on the others."""
        batch, cols = len(inp.codes), self.weights.shape[1]
        noise_var = np.empty((batch, cols), dtype=np.float32)
        bounds = np.array([*range(0, batch, PIECE_ROWS), batch], dtype=np.int64)
        progress = np.zeros(1, dtype=np.int64)
        verdict: Future = Future()
        helper = helper_pool().submit(self._helper_products, inp, state, verdict, noise_var,
                                      bounds, progress)
        try:
            parts = self._parts(self._screen(inp, state))
            if len(parts) == 1:
                saturating = parts[0][0]
                products = np.empty((len(self._phase_mats(inp, saturating)), batch, cols),
                                    dtype=np.float32)
                verdict.set_result((saturating, products))
                self._read_out(products, saturating, noise_var, noise, ldpu16, relu, out,
                               None, None, int8, (bounds, progress))
            else:
                verdict.set_result(None)
                for saturating, rows in parts:
                    self._readout(inp, helper, noise, state, saturating, ldpu16, relu, out,
                                  rows, int8)
        finally:
            if not verdict.done():  # an error here: the helper stops
                verdict.set_result(None)
            helper.result()

    def _helper_products(self, inp: _Inputs, state: CoreReadState, verdict: Future,
                         noise_var: np.ndarray, bounds: np.ndarray, progress: np.ndarray
                         ) -> np.ndarray:
        """The helper thread's part of :meth:`_read_beside`: the codes' bytes and squares;
        then, by ``verdict`` (``(saturating, products)`` or None), the variance and signal
        products piece by piece (:func:`~chipsim.kernels.fixedmm.fixed_pieces`, publishing
        ``progress``) or the variance product alone, into ``noise_var`` (returned). On an
        error ``progress[0] = -1``: the read-out waiting for the pieces stops."""
        try:
            inp.bytes("pos")  # made (and kept by ``inp``) while the other thread screens
            variance = self._variance_operands(inp, state)
            plan = verdict.result()
            if plan is None:
                return fixed_matmul(*variance, out=noise_var)
            saturating, products = plan
            formed = [(*variance, noise_var)]
            formed += [(*operands, prod) for operands, prod in zip(
                self._exact_operands(inp, state, saturating), products, strict=True)]
            fixed_pieces(formed, bounds, progress)
            return noise_var
        except BaseException:
            publish(progress, -1)
            raise

    def _threshold(self, rows: int) -> float:
        """The saturation screen's threshold for vectors of ``rows`` inputs: ``i_sat_ua`` less
        a margin for the float32 rounding of its bounds (:meth:`_may_saturate`)."""
        return self.core.i_sat_ua * (1.0 - max(1e-3, 4.0 * (rows + 2) * 2.0**-24))

    def _screen(self, inp: _Inputs, state: CoreReadState) -> np.ndarray | None:
        """Which vectors of the read may saturate a line (bool, (batch,)); None, without
        forming anything, when no line can. With :func:`exact_products` the first two bounds
        of :meth:`_may_saturate` only, formed from the codes (:meth:`_norm_screen`): the
        phase-wise read of a vector they flag costs about what the other two bounds would;
        with BLAS products all four."""
        threshold = self._threshold(inp.codes.shape[1])
        if state.line_max_ua < threshold:
            return None
        if inp.exact:
            return self._norm_screen(inp, state, threshold)
        return self._may_saturate(*inp.duty(), state)

    def _norm_screen(self, inp: _Inputs, state: CoreReadState, threshold: float
                     ) -> np.ndarray:
        """Bounds 0 (Cauchy–Schwarz) and 1 (the rows) of :meth:`_may_saturate` of the read's
        codes, from their exact ``Σ code²`` and ``Σ |code| · ⌈row_max_g⌉``
        (:func:`~chipsim.kernels.pwm.code_norms`; ``row_max_g`` rounded up to integers of
        its fixed-point unit, :func:`~chipsim.kernels.fixedmm.fixed_unit`): a vector is
        flagged if both reach ``threshold``. The bounds' float64 rounding, and the exact
        products' fixed-point conductances exceeding the float32 ones the bounds take by at
        most 2⁻²³ of the largest, stay far inside the threshold's margin (at least 1e-3)."""
        core = self.core
        summed = not state.reads_nonneg and core.read_mode is ReadMode.ONE_PHASE
        unit = fixed_unit(float(state.row_max_g.max(initial=0.0)))
        row_weight = np.ceil(state.row_max_g.astype(np.float64) / unit)
        sq_sum, weighted = code_norms(inp.codes, row_weight)
        v = core.v_read_v / inp.levels
        norm_bound = np.sqrt(sq_sum) * (v * state.col_norm_max * (2.0 if summed else 1.0))
        return (norm_bound >= threshold) & (weighted * (v * unit) >= threshold)

    def _variance(self, inp: _Inputs, state: CoreReadState) -> np.ndarray:
        """The read-noise variance weights ``u² @ read_var`` of each vector and column
        (float32, (batch, cols)), ``u = |code| / input_levels``."""
        if inp.exact:
            return fixed_matmul(*self._variance_operands(inp, state))
        return _matmul(inp.duty()[2], state.read_var)

    @staticmethod
    def _variance_operands(inp: _Inputs, state: CoreReadState
                           ) -> tuple[ByteParts, FixedMatrix, float]:
        """The exact variance product's operands: ``code²`` as bytes, the variance matrix in
        fixed point and the factor ``1 / levels²``."""
        return inp.squares(), state.fixed("read_var"), 1.0 / inp.levels**2

    def _may_saturate(self, u_pos: np.ndarray, u_neg: np.ndarray | None, u_sq: np.ndarray,
                      state: CoreReadState) -> np.ndarray | None:
        """Which input vectors may drive some line to ``i_sat_ua`` (bool, (batch,)); None
        when none can, whatever the input. ``u_sq`` is ``(u_pos + u_neg)²`` (float32, as
        :func:`~chipsim.kernels.pwm.duty_parts` gives it).

        An exact screen: a vector that is not flagged has every line current of every
        read phase below ``i_sat_ua`` (4-ph: each input sign × polarity phase of each
        column; 1-ph: each polarity's line carrying both pulse signs), so clipping would
        leave its read unchanged. Four bounds, each a true upper bound of every such current
        of a vector, each computed only for the vectors that the one before flags (the last
        only for vectors without negative inputs); a vector is flagged if every bound computed
        for it reaches ``i_sat_ua · (1 − margin)``. A vector's verdict depends only on itself,
        never on the batch it is read in (its read path sets the rounding of its counts):

        0. Cauchy–Schwarz, ``v_read · ‖u‖ · col_norm_max`` (``‖u‖²``: the row sums of
           ``u_sq``, one matrix-vector product): every current a pulse train draws on a
           line is ``u_s @ g_c`` for one input sign ``s`` and a column ``c`` of a
           conductance matrix it reads, at most ``‖u_s‖ ‖g_c‖ <= ‖u‖ · col_norm_max``; of
           ResNet-9's 691,300 vectors (100 images) it leaves 275 to the next bounds;
        1. ``v_read · |u| @ row_max_g`` (one matrix-vector product): every conductance a
           pulse on row ``r`` reads is at most ``row_max_g[r]``;
        2. per polarity ``p`` and column group ``k``: ``b+ = u_pos @ group_max_pos[:, (p,
           k)]`` bounds the current of the positive pulses on every line of the group,
           ``b− = u_neg @ group_max_neg[:, (p, k)]`` that of the negative pulses;
        3. per column ``c``, inputs >= 0: ``b+ = u_pos @ col_max_pos[:, c]`` (``|u_pos @
           g[p][:, c]| <= u_pos @ max(|g[0]|, |g[1]|)[:, c]``). One product for such a vector,
           as much as the phase-wise read it may spare; a vector with pulses of both signs
           would need two against three spared, which measured slower on the core-MVM
           benchmark (uniform weights at full scale: 7.0 against 5.3 ms for 1,024 vectors),
           so it is read phase by phase once the group bound flags it.

        In 1–3 a 4-ph phase current is one of the positive or the negative pulses' currents,
        so ``max(b+, b−)`` bounds it; a 1-ph line carries ``p+ − p−`` of two non-negative
        currents, whose magnitude is at most ``max(p+, p−) <= max(b+, b−)`` (``b+ + b−`` if
        a conductance read is negative, which an asymmetry below −1 gives; in 0 then
        ``‖u_pos‖ + ‖u_neg‖ <= √2 ‖u‖``, bounded with a factor 2); the vector's bound is
        ``v_read ·`` the largest over its groups or columns.

        Rounding: the bounds 1–3 and the phase products are float32 sums of the same
        non-negative float32 terms (the bound's terms no smaller), each within a relative
        ``rows · 2⁻²⁴`` of its exact value whatever the summation order; bound 0 is the
        float64 root of such a float32 sum of squares (each within 2⁻²⁴); so the margin
        ``max(1e-3, 4 (rows + 2) · 2⁻²⁴)`` keeps every current that the phase-wise read
        could clip above the threshold.
        """
        core = self.core
        threshold = self._threshold(u_pos.shape[1])
        if state.line_max_ua < threshold:
            return None
        v = np.float32(core.v_read_v)
        thr32 = np.float32(threshold)
        summed = not state.reads_nonneg and core.read_mode is ReadMode.ONE_PHASE
        # ‖u‖² as a float32 matrix-vector product (BLAS; 6x faster than a float64 row sum)
        ones = np.ones(u_sq.shape[1], dtype=np.float32)
        norm = np.sqrt(_matmul(u_sq, ones).astype(np.float64))
        risky = norm * (core.v_read_v * state.col_norm_max * (2.0 if summed else 1.0)) \
            >= threshold

        def rows(u: np.ndarray, idx: np.ndarray) -> np.ndarray:
            return u if len(idx) == len(risky) else u[idx]  # no copy of the whole batch

        def clear(idx: np.ndarray, bound: np.ndarray) -> np.ndarray:
            """Unflag the vectors ``idx`` whose ``bound`` (largest over its last axis)
            stays below the threshold; the others."""
            keep = (bound.max(axis=1) if bound.ndim == 2 else bound) * v >= thr32
            risky[idx[~keep]] = False
            return idx[keep]

        idx = np.flatnonzero(risky)
        if len(idx):  # 1: the rows
            magnitude = (rows(u_pos, idx) if u_neg is None
                         else rows(u_pos, idx) + rows(u_neg, idx))
            idx = clear(idx, _matmul(magnitude, state.row_max_g))
        if len(idx):  # 2: the column groups
            bound = _matmul(rows(u_pos, idx), state.group_max_pos)
            if u_neg is not None:
                neg_bound = _matmul(rows(u_neg, idx), state.group_max_neg)
                if summed:
                    bound += neg_bound
                else:
                    np.maximum(bound, neg_bound, out=bound)
            idx = clear(idx, bound)
        if u_neg is not None:  # 3: the columns, for inputs >= 0 only
            idx = idx[~u_neg[idx].any(axis=1)]
        if len(idx):
            clear(idx, _matmul(rows(u_pos, idx), state.col_max_pos))
        return risky

    def _readout(self, inp: _Inputs, noise_var: np.ndarray | Future, noise: ReadNoise,
                 state: CoreReadState, saturating: bool,
                 ldpu16: tuple[np.ndarray, ...] | None, relu: bool, out: np.ndarray,
                 rows: np.ndarray | None,
                 int8: tuple = (None, None, None)) -> None:
        """ADC counts (or, with ``ldpu16``, LDPU outputs) of the read's inputs from their
        array products (:func:`~chipsim.kernels.noisy_readout`), into the rows ``rows`` of
        ``out`` (None: every row); ``int8 = (add, requantize, q_out)`` of :meth:`mvm_ldpu`
        (``q_out`` receives the re-quantized rows). ``noise_var``: the variance weights of
        every vector of the read, or the future that is forming them (waited for after the
        products).

        The products of a part of the batch are formed for the whole batch when it is at
        least half of it (no copy of its inputs; a product's row does not depend on the
        other rows)."""
        prow = rows
        if rows is not None and 2 * len(rows) < len(inp.codes):
            inp = inp.subset(rows)
            prow = np.arange(len(rows))
        products = self._products(inp, state, saturating)
        if isinstance(noise_var, Future):
            noise_var = noise_var.result()
        self._read_out(products, saturating, noise_var, noise, ldpu16, relu, out, prow, rows,
                       int8)

    def _read_out(self, products: np.ndarray, saturating: bool, noise_var: np.ndarray,
                  noise: ReadNoise, ldpu16: tuple[np.ndarray, ...] | None, relu: bool,
                  out: np.ndarray, prow: np.ndarray | None, rows: np.ndarray | None,
                  int8: tuple, after: tuple | None = None) -> None:
        """The read-out of :meth:`_readout` from the array products: the vectors ``rows``
        (None: all) from the product rows ``prow``; ``after = (bounds, progress)``: piece
        by piece as the products are formed (:meth:`_read_beside`)."""
        core = self.core
        # line currents, noise draw, ADC (and LDPU) in one pass (float32/float64 as the NumPy
        # formulation of the kernel's reference, bit for bit)
        full_scale = self.adc_full_scale_ua
        args = (products, saturating, core.read_mode is ReadMode.ONE_PHASE,
                np.float32(core.v_read_v), np.float32(core.i_sat_ua), float(core.i_sat_ua),
                noise_var, np.float32(core.v_read_v**2),
                np.float32((core.output_noise_std_fs * full_scale) ** 2),
                np.uint64(noise.key), noise.positions, self.adc_gain, self.adc_offset_lsb,
                float(full_scale), core.adc_levels, self._dead_mask)
        if ldpu16 is None:
            _noisy_counts(*args, out=out, prow=prow, orow=rows, after=after)
        else:
            add, requantize, q_out = int8
            _noisy_ldpu(*args, *ldpu16, relu, out=out, prow=prow, orow=rows, add=add,
                        q_out=q_out, inv16=requantize or 0.0, after=after)

    @property
    def _dead_mask(self) -> np.ndarray:
        """Which block columns read 0 counts (bool, (cols,))."""
        mask = np.zeros(self.weights.shape[1], dtype=np.bool_)
        if self.dead_cols is not None:
            mask[self.dead_cols] = True
        return mask

    def _products(self, inp: _Inputs, state: CoreReadState, saturating: bool) -> np.ndarray:
        """The array products (float32, (P, batch, cols)) that :meth:`_readout` combines, each
        ``u @ G`` of the duty fractions ``u`` of the positive or the negative pulses, or of
        both signed, and a conductance matrix (:meth:`CoreReadState.matrix`): exact with
        :func:`exact_products`, float32 BLAS otherwise (:meth:`_phase_mats`)."""
        mats = self._phase_mats(inp, saturating)
        products = np.empty((len(mats), len(inp.codes), state.g_diff.shape[1]),
                            dtype=np.float32)
        if inp.exact:
            for prod, operands in zip(products, self._exact_operands(inp, state, saturating),
                                      strict=True):
                fixed_matmul(*operands, out=prod)
        else:
            for prod, (sign, name) in zip(products, mats, strict=True):
                _matmul(inp.fractions(sign), state.matrix(name), out=prod)
        return products

    def _exact_operands(self, inp: _Inputs, state: CoreReadState, saturating: bool
                        ) -> list[tuple[ByteParts, FixedMatrix, float]]:
        """The exact signal products' operands (:meth:`_phase_mats`): the pulses as bytes,
        a conductance matrix in fixed point (the per-polarity ones kept by the state for a
        read of at least :data:`KEEP_PHASE_ROWS` vectors only) and the factor ``1 /
        levels``."""
        keep = not saturating or len(inp.codes) >= KEEP_PHASE_ROWS
        return [(inp.bytes(sign), state.fixed(name, keep), 1.0 / inp.levels)
                for sign, name in self._phase_mats(inp, saturating)]

    def _phase_mats(self, inp: _Inputs, saturating: bool) -> tuple[tuple[str, str], ...]:
        """The products :meth:`_products` forms: ``(sign, matrix)`` pairs of the pulses
        (:meth:`_Inputs.bytes`) and a conductance matrix (:meth:`CoreReadState.matrix`).

        Without saturation the signed sum of the read phases is one product (two for 1-ph
        inputs of both signs, whose negative pulses see the asymmetric conductances). With
        it each line of each phase is formed: the two polarities (inputs >= 0), or the four
        products of input sign × polarity."""
        one_phase = self.core.read_mode is ReadMode.ONE_PHASE
        if not saturating:
            if not inp.signed:
                mats = (("pos", "g_diff"),)
            elif one_phase:
                mats = (("pos", "g_diff"), ("neg", "g_neg_read_diff"))
            else:  # 4-ph: both input signs read the same conductances
                mats = (("signed", "g_diff"),)
        elif not inp.signed:
            mats = (("pos", "g0"), ("pos", "g1"))
        else:
            n0, n1 = ("gn0", "gn1") if one_phase else ("g0", "g1")
            mats = (("pos", "g0"), ("neg", n0), ("pos", "g1"), ("neg", n1))
        return mats

    def line_currents(self, codes: np.ndarray, state: CoreReadState) -> np.ndarray:
        """Signed column currents (µA, float32, (batch, cols)) that the PWM ``codes`` draw at
        ``state``, as the ADC receives them without noise: the read phases combined, each
        line saturating at ``i_sat_ua``; no read or output noise, no ADC.

        Every vector is read phase by phase when any of the batch may saturate a line.
        """
        core = self.core
        inp = self._inputs(codes)
        risky = self._screen(inp, state)
        saturating = risky is not None and bool(risky.any())
        products = self._products(inp, state, saturating)
        return _currents(products, saturating, core.read_mode is ReadMode.ONE_PHASE,
                         np.float32(core.v_read_v), np.float32(core.i_sat_ua),
                         float(core.i_sat_ua))

    def _corrected(self, counts: np.ndarray) -> np.ndarray:
        """Counts with the ADC offset and gain removed (float64), as the LDPU sees them."""
        if not self.core.ldpu_corrects_adc:
            return counts.astype(np.float64)
        return (counts - self.adc_offset_lsb.astype(np.float64)) / self.adc_gain

    def unit_scale(self) -> float:
        """Weight × duty-fraction units per ADC count (before the per-column gain)."""
        core = self.core
        return (self.w_max * self.adc_full_scale_ua
                / (core.adc_levels * core.v_read_v * self.device.polarity_g_max_us))

    # ---------------------------------------------------------------- GDC
    @property
    def calibration_mvms(self) -> int:
        """MVMs one GDC calibration read costs (``core.gdc_calibration_mvms``)."""
        return len(self.cal_codes)

    def calibration_magnitude(self, state: CoreReadState, rng: np.random.Generator) -> float:
        """Mean |LDPU-corrected output| of the calibration inputs at ``state`` (costs
        ``len(cal_codes)`` MVMs)."""
        counts = self.mvm_counts(self.cal_codes, state, rng)
        return float(np.mean(np.abs(self._corrected(counts))))

    def gdc_factor(self, state: CoreReadState, rng: np.random.Generator) -> float:
        """Global drift compensation: reference / current calibration magnitude."""
        current = self.calibration_magnitude(state, rng)
        if current <= 0.0:
            return 1.0
        return self.gdc_reference / current

    # ---------------------------------------------------------------- full MVM
    def ldpu_params(self, x_scale: float, gdc: float = 1.0,
                    col_scale: np.ndarray | None = None,
                    col_bias: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """The LDPU's per-column (offset, scale, bias) for outputs in weight × input units.

        ``col_scale``/``col_bias`` are a further per-column affine (folded batch-norm, bias)
        applied after the MVM, for the block's columns.
        """
        cols = self.weights.shape[1]
        offset = self.adc_offset_lsb if self.core.ldpu_corrects_adc else np.zeros(cols)
        gain = self.adc_gain if self.core.ldpu_corrects_adc else np.ones(cols)
        scale = self.unit_scale() * x_scale * gdc / gain.astype(np.float64)
        bias = np.zeros(cols)
        if col_scale is not None:
            scale *= col_scale
        if col_bias is not None:
            bias[:] = col_bias
        return (offset.astype(np.float32), scale.astype(np.float32), bias.astype(np.float32))

    def mvm(self, codes: np.ndarray, state: CoreReadState,
            rng: ReadNoise | np.random.Generator, *,
            x_scale: float = 1.0, gdc: float = 1.0, relu: bool = False) -> np.ndarray:
        """Noisy MVM of the PWM ``codes`` through the LDPU, in weight × input units.

        Returns float32 of shape (batch, block cols): FP16-representable values of
        ``(codes / input_levels · x_scale) @ W`` as the chip computes them.
        """
        return self.mvm_ldpu(codes, state, rng, self.ldpu_params(x_scale, gdc), relu=relu)


def program_core(weights: np.ndarray, chip: ChipSpec, rng: np.random.Generator, *,
                 core_id: int | None = None,
                 range_codes: np.ndarray | None = None) -> CoreInstance:
    """Program one weight block onto a core of ``chip``: one seeded chip instance.

    ``G = |W| · Gmax / Wmax`` on the positive or the
    negative devices (``Wmax`` = max |W| of the block), split evenly over the polarity's
    devices; programming error, drift exponents, 1-ph asymmetry and ADC spread are drawn from
    ``rng``. The chip's ``faults`` apply: stuck devices (drawn from ``rng`` after
    programming, only when ``faults.stuck_fraction > 0``) keep a fixed conductance and do not
    drift; the ADCs of ``faults.dead_adc_columns`` on core ``core_id`` read 0 counts.

    With ``core.adc_range = calibrated`` the core's ADC full scale is then set from
    ``range_codes``, the block's calibration inputs (:func:`calibrated_full_scale` of the
    line currents they draw right after programming; one MVM per vector), and the GDC reads
    use some of those vectors (``_calibrate_range`` says why). The GDC reference is
    measured last, right after programming, on the faulty array and over the core's own
    range. A calibrated range draws no random numbers, so a chip instance programmed from the
    same ``rng`` has the same devices with either range mode.

    Parameters
    ----------
    weights
        Float array (rows, cols), at most the core's size; finite.
    chip
        The chip; its ``core`` and ``device`` are used.
    rng
        Source of all randomness of this instance.
    core_id
        The core the block sits on (its dead ADC columns apply); None: no dead columns.
    range_codes
        PWM codes (int, (n, rows)) of the block's calibration inputs; required with
        ``core.adc_range = calibrated``, ignored with ``fixed``.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.spec import hermes
    >>> core = program_core(np.eye(4), hermes(), np.random.default_rng(0))
    >>> core.g_prog.shape
    (2, 1, 4, 4)
    """
    core = chip.core
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[0] > core.rows or w.shape[1] > core.cols or 0 in w.shape:
        raise ChipsimError(f"weights: must be a non-empty matrix of at most {core.rows} × "
                           f"{core.cols} (the core size), got shape {w.shape}")
    if not np.issubdtype(w.dtype, np.number) or np.iscomplexobj(w):
        raise ChipsimError(f"weights: must be real numbers, got dtype {w.dtype}")
    if not np.all(np.isfinite(w)):
        raise ChipsimError("weights: contain NaN or Inf")
    device = make_device(chip.device, core.devices_per_polarity)
    full = w.astype(np.float64)
    rows, cols = full.shape
    w_max = float(np.max(np.abs(full))) or 1.0
    g_pol = np.stack([np.clip(full, 0, None), np.clip(-full, 0, None)])
    g_pol *= device.polarity_g_max_us / w_max
    target = np.repeat((g_pol / device.elements)[:, None], device.elements, axis=1)
    g_prog = device.program(target, rng)
    nu = device.draw_nu(target, rng)
    asym = rng.normal(core.one_phase_asymmetry_mean, core.one_phase_asymmetry_std,
                      size=(2, rows, cols))
    adc_gain = (1.0 + core.adc_gain_std * rng.standard_normal(cols)).astype(np.float32)
    adc_offset = (core.adc_offset_std_lsb * rng.standard_normal(cols)).astype(np.float32)
    cal_codes = _calibration_codes(core, rows, rng)
    stuck_g = None
    if chip.faults.stuck_fraction > 0:
        g_prog, stuck_g = _stick(g_prog, device, core.devices_per_polarity, chip, rng)
    dead = sorted(c for k, c in chip.faults.dead_adc_columns if k == core_id and c < cols)
    inst = CoreInstance(core=core, device=device, w_max=w_max,
                        weights=full, g_prog=g_prog, nu=nu, asym=asym, adc_gain=adc_gain,
                        adc_offset_lsb=adc_offset, cal_codes=cal_codes, stuck_g=stuck_g,
                        dead_cols=np.array(dead, dtype=np.intp) if dead else None)
    state0 = inst.read_state(0.0)
    if core.adc_range is AdcRange.CALIBRATED:
        inst = _calibrate_range(inst, state0, range_codes)
    reference = inst.calibration_magnitude(state0, rng)
    return replace(inst, gdc_reference=reference)


def calibrated_full_scale(currents: np.ndarray, core: CoreSpec) -> float:
    """A core's calibrated ADC full scale (µA) from the line currents of its calibration
    inputs: the ``core.adc_range_percentile`` percentile of their magnitudes (NumPy's default
    linear interpolation, over every vector and column), clipped to ``[ADC_RANGE_FLOOR ×
    core.adc_full_scale_ua, core.adc_full_scale_ua]``.

    Examples
    --------
    >>> from chipsim.spec import CoreSpec
    >>> round(calibrated_full_scale(np.array([[3.0, -8.0], [1.0, 0.5]]), CoreSpec()), 4)
    7.9985
    >>> calibrated_full_scale(np.array([[300.0]]), CoreSpec())  # the ADC's largest range
    50.0
    """
    magnitude = np.abs(np.asarray(currents, dtype=np.float64)).ravel()
    value = float(np.percentile(magnitude, core.adc_range_percentile)) if magnitude.size else 0.0
    top = float(core.adc_full_scale_ua)
    return float(min(max(value, top * ADC_RANGE_FLOOR), top))


def _calibrate_range(inst: CoreInstance, state0: CoreReadState,
                     range_codes: np.ndarray | None) -> CoreInstance:
    """``inst`` with its ADC full scale calibrated on ``range_codes`` (``program_core``).

    The currents are the noiseless line currents of the programmed, not yet drifted
    conductances (programming error and faults included; read noise, output noise and ADC
    spread left out): the range is set once, by reading each calibration vector, and a
    percentile near the maximum of thousands of currents moves by a fraction of the read
    noise's σ (about 1 % of a current) if the reads are noisy; leaving the noise out keeps
    the calibration free of random draws, so fixed and calibrated runs of one seed program
    the same devices and read the same noise (a paired comparison). Dead ADC columns
    convert nothing and are left out of the percentile.

    The GDC reads then use ``core.gdc_calibration_mvms`` of these vectors (evenly spaced)
    instead of the uniform random full-range codes: on a range fitted to the block's real
    inputs those clip (ResNet-9 at 4 ADC bits: 11 % of the GDC counts on average, 85 % on
    one core) and bias the drift factor towards 1. Measured against the drift of the
    real inputs' noiseless currents, 1 h after programming, the per-core factor's rms error
    is 2.1 / 0.7 / 0.5 % at 4 / 6 / 8 bits with the real vectors, 2.5 % at every width
    with the random codes (shipped ResNet-9, seed 0).
    """
    rows = inst.weights.shape[0]
    if range_codes is None:
        raise ChipsimError("range_codes: the block's calibration inputs are required with "
                           "core.adc_range = calibrated")
    codes = np.asarray(range_codes)
    if codes.ndim != 2 or codes.shape[1] != rows or len(codes) == 0:
        raise ChipsimError(f"range_codes: must have shape (n >= 1, {rows}), got {codes.shape}")
    currents = inst.line_currents(codes, state0)
    if inst.dead_cols is not None:
        currents = np.delete(currents, inst.dead_cols, axis=1)
    n_gdc = len(inst.cal_codes)
    gdc_codes = codes[(2 * np.arange(n_gdc) + 1) * len(codes) // (2 * n_gdc)].astype(np.int16)
    return replace(inst, adc_full_scale_ua=calibrated_full_scale(currents, inst.core),
                   range_calibration_mvms=len(codes), cal_codes=gdc_codes)


def _stick(g_prog: np.ndarray, device: PCMDevice, devices_per_polarity: int, chip: ChipSpec,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stuck devices: (the working devices' part of ``g_prog``, the stuck devices' part).

    Each modelled element stands for ``m = devices_per_polarity / elements`` physical devices
    (1 for ``pcm_like``; the polarity's 1 or 2 devices for ``hermes``). Per element ``k ~
    Binomial(m, stuck_fraction)`` devices are stuck, ``k_set ~ Binomial(k,
    stuck_at_gmax_share)`` of them at one device's g_max, the rest at 0 µS; the working part
    keeps ``(m - k) / m`` of the programmed conductance.
    """
    faults = chip.faults
    m = max(devices_per_polarity // device.elements, 1)
    k = rng.binomial(m, faults.stuck_fraction, size=g_prog.shape)
    k_set = rng.binomial(k, faults.stuck_at_gmax_share)
    return g_prog * ((m - k) / m), k_set * (device.g_max_us / m)


def _calibration_codes(core: CoreSpec, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Fixed random full-range PWM inputs used by GDC on the block's rows (UNCONFIRMED
    choice: uniform codes)."""
    levels = core.input_levels
    return rng.integers(-levels, levels + 1, size=(core.gdc_calibration_mvms, rows),
                        dtype=np.int16)
