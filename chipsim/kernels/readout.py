"""Combining the line currents of the read phases into one signed column current; the whole
column read-out after the array products (currents, noise, ADC) in one pass; and the same pass
drawing its own noise from the counter-based generator and, optionally, applying the LDPU
affine (:func:`noisy_readout`)."""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

from ..errors import ChipsimError
from . import _checks
from ._sync import wait_for
from ._threads import helper_pool
from .adc import _INT32_MAX, _adc_count
from .fp16 import _fp16_plain, _fp16_plain_ok, _fp16_scalar, _int8_code
from .ldpu import _fp16_vector, accumulate_factor, requantize_factor
from .normal import _fill_span, _stream, _uint64

__all__ = ["combine_phases", "analog_readout", "noisy_readout"]


@njit(cache=True, nogil=True)
def _clip(value, bound):
    if value > bound:
        return bound
    if value < -bound:
        return -bound
    return value


def combine_phases(products, one_phase, i_sat_ua) -> np.ndarray:
    """Signed column currents (µA) from the four input-sign × weight-sign products.

    ``products[k]`` is ``V · u @ G`` for one combination of input sign (duty fractions
    ``u_pos``/``u_neg``) and weight polarity (``G_pos``/``G_neg``); ``G_pos'``/``G_neg'`` are the
    conductances as read at negative voltage::

        products[0] = V · u_pos @ G_pos      products[1] = V · u_neg @ G_pos'
        products[2] = V · u_pos @ G_neg      products[3] = V · u_neg @ G_neg'

    A bit line saturates at ``i_sat_ua``, so every line current is clipped to
    ``[-i_sat_ua, i_sat_ua]`` before the currents are combined:

    * four-phase read (``one_phase=False``): each product is the line current of its own read
      phase, clipped on its own; ``i = clip(p0) - clip(p1) - clip(p2) + clip(p3)``.
    * one-phase read (``one_phase=True``): both input signs drive the rows at once, so the
      positive line carries ``p0 - p1`` and the negative line ``p2 - p3``;
      ``i = clip(p0 - p1) - clip(p2 - p3)``.

    Arithmetic is float64 (left to right, as written), rounded once to float32.

    Parameters
    ----------
    products : array_like of float, shape (4, B, C)
        The four products in µA, converted to float32; must be finite.
    one_phase : bool
        True for the one-phase read, False for the four-phase read.
    i_sat_ua : float
        Saturation current of a bit line (µA); finite and > 0.

    Returns
    -------
    numpy.ndarray of float32, shape (B, C)
        Column currents in µA.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, NaN/Inf in ``products``, a non-bool ``one_phase`` or
        ``i_sat_ua <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[[120.0]], [[10.0]], [[30.0]], [[5.0]]], dtype=np.float32)
    >>> combine_phases(p, False, 100.0)  # 100 - 10 - 30 + 5
    array([[65.]], dtype=float32)
    >>> combine_phases(p, True, 100.0)  # min(110, 100) - 25
    array([[75.]], dtype=float32)
    """
    arr = _checks.as_real("products", products, 3)
    _checks.leading_axis("products", arr, 4, "(4, B, C), one (B, C) product per phase")
    one_phase = _checks.flag("one_phase", one_phase)
    i_sat = _checks.positive("i_sat_ua", i_sat_ua)
    return _currents(arr, True, one_phase, np.float32(1.0), np.float32(i_sat), i_sat)


@njit(cache=True, inline="always")
def _current_row(products, saturating, one_phase, v, sat32, sat64, b, out):
    """The signed column currents of vector ``b`` into ``out`` (float32): ``V · p0`` (one
    product), ``V · (p0 − p1)`` (two, no saturation), ``clip(V · p0) − clip(V · p1)`` (two,
    saturating; bound ``sat32``), or the four phases of :func:`combine_phases` (float64,
    bound ``sat64``). A loop per case, so that each vectorizes."""
    n_prod, _, cols = products.shape
    if n_prod == 1:
        for c in range(cols):
            out[c] = v * products[0, b, c]
    elif n_prod == 2 and saturating:
        for c in range(cols):
            out[c] = _clip(v * products[0, b, c], sat32) - _clip(v * products[1, b, c], sat32)
    elif n_prod == 2:
        for c in range(cols):
            out[c] = v * (products[0, b, c] - products[1, b, c])
    elif one_phase:
        for c in range(cols):
            p0 = np.float64(v * products[0, b, c])
            p1 = np.float64(v * products[1, b, c])
            p2 = np.float64(v * products[2, b, c])
            p3 = np.float64(v * products[3, b, c])
            out[c] = _clip(p0 - p1, sat64) - _clip(p2 - p3, sat64)
    else:
        for c in range(cols):
            p0 = np.float64(v * products[0, b, c])
            p1 = np.float64(v * products[1, b, c])
            p2 = np.float64(v * products[2, b, c])
            p3 = np.float64(v * products[3, b, c])
            out[c] = (((_clip(p0, sat64) - _clip(p1, sat64)) - _clip(p2, sat64))
                      + _clip(p3, sat64))


@njit(cache=True, nogil=True)
def _currents(products, saturating, one_phase, v, sat32, sat64):
    """Signed column currents (float32) from the array products (:func:`_current_row` of
    every row)."""
    _, rows, cols = products.shape
    out = np.empty((rows, cols), dtype=np.float32)
    for b in range(rows):
        _current_row(products, saturating, one_phase, v, sat32, sat64, b, out[b])
    return out


@njit(cache=True, nogil=True)
def _analog_readout(products, saturating, one_phase, v, sat32, sat64, noise_var, noise_scale,
                    noise_offset, z, gain, offset_lsb, full_scale, levels):
    current = _currents(products, saturating, one_phase, v, sat32, sat64)
    rows, cols = current.shape
    out = np.empty((rows, cols), dtype=np.int32)
    top = np.float64(levels)
    for b in range(rows):
        for c in range(cols):
            var = noise_var[b, c] * noise_scale
            var = var + noise_offset
            # float32 square root: rounding the float64 root once is exact for sqrt
            std = np.float32(math.sqrt(np.float64(var)))
            i = current[b, c] + std * z[b, c]
            analog = np.float64(i) / full_scale * top
            out[b, c] = _adc_count(analog, gain[c], offset_lsb[c], top)
    return out


def analog_readout(products, noise_var, z, *, saturating, one_phase, v_read_v, i_sat_ua,
                   noise_scale, noise_offset, gain, offset_lsb, full_scale_ua,
                   levels) -> np.ndarray:
    """ADC counts of a core's columns from its array products, in one pass.

    The read-out of :meth:`~chipsim.functional.core.CoreInstance.mvm_counts` after its matrix
    products: with ``V = float32(v_read_v)`` and ``products[k] = u @ G`` (float32, µS):

    * one product: ``i = V · p0`` (no line can saturate, one input sign);
    * two products, ``saturating=False``: ``i = V · (p0 - p1)`` (no line can saturate; inputs
      of both signs, ``p1`` from the negative pulses);
    * two products, ``saturating=True``: ``i = clip(V · p0) - clip(V · p1)`` with the bound
      ``float32(i_sat_ua)``: the lines of the two weight polarities, inputs >= 0;
    * four products: ``V · products`` then :func:`combine_phases` (float64, bound
      ``i_sat_ua``).

    Then the noise, in float32: ``i = i + sqrt(noise_var · float32(noise_scale) +
    float32(noise_offset)) · z``, and the ideal-column ADC of :func:`adc_convert` (per-column
    ``gain`` and ``offset_lsb``, no further noise). Every operation is the one the NumPy
    formulation performs, in the same precision, so the counts are equal bit for bit.

    Parameters
    ----------
    products : array_like of float, shape (P, B, C), P in {1, 2, 4}
        Array products (float32; converted if not).
    noise_var : array_like of float, shape (B, C)
        Read-noise variance weights ``u² @ var`` (float32).
    z : array_like of float, shape (B, C)
        Standard-normal draws (float32).
    saturating, one_phase : bool
        The lines may saturate (two products: clip each; four: the read mode).
    v_read_v, i_sat_ua, noise_scale, noise_offset : float
        Read voltage, line saturation current (> 0), and the noise variance's scale and
        offset (>= 0).
    gain, offset_lsb : array_like of float, shape (C,)
        Per-column ADC gain (> 0) and offset (LSB).
    full_scale_ua : float
        Current (µA) of ``levels`` counts; > 0.
    levels : int
        Largest count magnitude, in ``[1, 2**31 - 1]``.

    Returns
    -------
    numpy.ndarray of int32, shape (B, C)
        Counts in ``[-levels, levels]``.

    Raises
    ------
    ValueError
        On wrong shapes or dtypes, NaN/Inf, a number of products other than 1, 2 or 4,
        non-positive ``i_sat_ua``, ``full_scale_ua`` or gains, negative noise parameters or
        ``levels`` out of range.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[[120.0, 10.0]], [[30.0, 5.0]]], dtype=np.float32)
    >>> zero = np.zeros((1, 2), np.float32)
    >>> analog_readout(p, zero, zero, saturating=True, one_phase=False, v_read_v=1.0,
    ...                i_sat_ua=100.0, noise_scale=0.0, noise_offset=0.0, gain=np.ones(2),
    ...                offset_lsb=np.zeros(2), full_scale_ua=100.0, levels=127)
    array([[89,  6]], dtype=int32)
    """
    arr = _checks.as_real("products", products, 3)
    if arr.shape[0] not in (1, 2, 4):
        raise ChipsimError(f"products: must have shape (P, B, C) with P in 1, 2, 4, "
                           f"got {arr.shape}")
    shape = arr.shape[1:]
    var = _checks.as_real("noise_var", noise_var, 2)
    _checks.same_shape("noise_var", var, "products[0]", shape)
    z_arr = _checks.as_real("z", z, 2)
    _checks.same_shape("z", z_arr, "products[0]", shape)
    gain_arr = _checks.as_real("gain", gain, 1)
    _checks.per_column("gain", gain_arr, shape[1])
    _checks.positive_values("gain", gain_arr, "column gain")
    offset_arr = _checks.as_real("offset_lsb", offset_lsb, 1)
    _checks.per_column("offset_lsb", offset_arr, shape[1])
    i_sat = _checks.positive("i_sat_ua", i_sat_ua)
    scale = _checks.non_negative("noise_scale", noise_scale)
    offset = _checks.non_negative("noise_offset", noise_offset)
    if var.size and float(var.min()) < 0.0:
        raise ChipsimError("noise_var: variances must be >= 0")
    return _analog_readout(arr, _checks.flag("saturating", saturating),
                           _checks.flag("one_phase", one_phase),
                           np.float32(_checks.positive("v_read_v", v_read_v)),
                           np.float32(i_sat), i_sat, var, np.float32(scale), np.float32(offset),
                           z_arr, gain_arr, offset_arr,
                           _checks.positive("full_scale_ua", full_scale_ua),
                           _checks.levels_int("levels", levels, _INT32_MAX))


@njit(cache=True, nogil=True)
def _noisy_rows(products, saturating, one_phase, v, sat32, sat64, noise_var, noise_scale,
                noise_offset, key, positions, gain, offset_lsb, full_scale, levels, dead,
                ldpu, offset16, scale16, bias16, relu, table, add_q, add16, inv16, prow, orow,
                lo, hi, counts_out, values_out, q_out):
    """:func:`_analog_readout` of the vectors ``orow[lo:hi]`` (rows of ``noise_var``,
    ``positions`` and the outputs), whose products are the rows ``prow[lo:hi]`` of
    ``products``, each with the draws of its position (0 counts on a dead column), into
    ``counts_out``; with ``ldpu`` the LDPU affine of :func:`~chipsim.kernels.ldpu._ldpu_affine`
    of each row's counts, into ``values_out`` (looked up in ``table``, :func:`_ldpu_table`,
    when it is not empty); then, when ``add_q`` is not empty, the INT8 data ``add_q`` of
    the same rows added (:func:`~chipsim.kernels.ldpu._accumulate_int8` with ``add16``), and
    when ``q_out`` is not empty the values re-quantized into it
    (:func:`~chipsim.kernels.ldpu._requantize_int8` with ``inv16``).

    One row at a time, in steps that each stay in cache and (but the draw) vectorize: the
    draws, the currents, the conversion, the LDPU. (One loop doing all four per element
    ran 1.6 times slower than the separate whole-array passes; a per-element helper holding
    the draw, five times.)"""
    cols = products.shape[2]
    base, gamma, base2 = _stream(key)
    top = np.float64(levels)
    z = np.zeros(cols, dtype=np.float32)
    slow = np.empty(cols, dtype=np.bool_)
    summed = np.empty(cols, dtype=np.float32)
    current = np.empty(cols, dtype=np.float32)
    row = np.empty(cols, dtype=np.int32)
    any_dead = dead.any()
    lookup = table.shape[0] > 0
    for i in range(lo, hi):
        b = orow[i]
        _fill_span(base, gamma, base2, positions[b] * np.uint64(cols), z, 0, cols, slow)
        _current_row(products, saturating, one_phase, v, sat32, sat64, prow[i], current)
        for c in range(cols):
            var = noise_var[b, c] * noise_scale
            var = var + noise_offset
            std = np.float32(math.sqrt(np.float64(var)))
            ic = current[c] + std * z[c]
            row[c] = _adc_count(np.float64(ic) / full_scale * top, gain[c], offset_lsb[c], top)
        if any_dead:
            for c in range(cols):
                if dead[c]:
                    row[c] = 0
        if not ldpu:
            for c in range(cols):
                counts_out[b, c] = row[c]
        elif lookup:
            for c in range(cols):
                values_out[b, c] = table[c, row[c] + levels]
        else:
            for c in range(cols):
                values_out[b, c] = _ldpu_value(row[c], offset16[c], scale16[c], bias16[c],
                                               relu)
        if add_q.shape[0] > 0:
            # the common case for the whole row (it vectorizes), then the exact rounding if
            # some magnitude needs it (subnormal, overflow, NaN): the same values
            plain = 0
            for c in range(cols):
                x = np.float64(add_q[b, c]) * add16
                y = np.float64(values_out[b, c]) + _fp16_plain(x)
                summed[c] = _fp16_plain(y)
                plain += _fp16_plain_ok(x) + _fp16_plain_ok(y)
            if plain == 2 * cols:
                for c in range(cols):
                    values_out[b, c] = summed[c]
            else:
                for c in range(cols):
                    received = _fp16_scalar(np.float64(add_q[b, c]) * add16)
                    values_out[b, c] = _fp16_scalar(np.float64(values_out[b, c]) + received)
        if q_out.shape[0] > 0:
            for c in range(cols):
                # via int32, whose conversion vectorizes
                q_out[b, c] = np.int32(_int8_code(np.float64(values_out[b, c]) * inv16))


@njit(cache=True, nogil=True)
def _noisy_pieces(head, bounds, progress, counts_out, values_out, q_out):
    """:func:`_noisy_rows` (its leading arguments ``head``) of the rows ``bounds[k] ..
    bounds[k + 1]``, each once ``progress[0] > k`` (:func:`~chipsim.kernels._sync.wait_for`);
    none after ``progress[0] < 0`` (their products were not formed)."""
    for k in range(len(bounds) - 1):
        if wait_for(progress, k) < 0:
            return
        _noisy_rows(*head, bounds[k], bounds[k + 1], counts_out, values_out, q_out)


@njit(cache=True, nogil=True)
def _ldpu_table(levels, offset16, scale16, bias16, relu):
    """The LDPU value of each column's ``2·levels + 1`` possible counts (float32, (C, 2·levels
    + 1)): the same values as :func:`_ldpu_value`, looked up instead when a read has more
    vectors than that."""
    cols = offset16.shape[0]
    table = np.empty((cols, 2 * levels + 1), dtype=np.float32)
    for c in range(cols):
        for k in range(2 * levels + 1):
            table[c, k] = _ldpu_value(k - levels, offset16[c], scale16[c], bias16[c], relu)
    return table


@njit(cache=True, inline="always")
def _ldpu_value(count, offset16, scale16, bias16, relu):
    """The LDPU affine of :func:`~chipsim.kernels.ldpu._ldpu_affine` of one count."""
    x = _fp16_scalar(np.float64(count) - np.float64(offset16))
    x = _fp16_scalar(x * np.float64(scale16))
    x = _fp16_scalar(x + np.float64(bias16))
    if relu and not x > 0.0:
        x = 0.0
    return np.float32(x)


#: fewest vectors a thread of the read-out takes (fewer: the read stays on one thread, whose
#: hand-over would cost more than it saves)
CHUNK_ROWS = 64

def _read(products, args, ldpu16, relu, counts_out, values_out, prow=None, orow=None,
          int8=None, after=None):
    """:func:`_noisy_rows` of the vectors ``orow`` (None: every row of the outputs) from the
    product rows ``prow`` (None: the same rows), split over the calling thread's Numba thread
    count (:func:`numba.get_num_threads`; set it to 1 in threads that already share the
    CPU). A vector's result depends only on its own position, not on the split. ``int8``:
    ``(add_q, add16, inv16, q_out)`` of :func:`_noisy_rows` (None: neither step).

    ``after = (bounds, progress)``: the read as its products arrive, on the calling thread
    alone, one ``nogil`` call: the vectors ``orow[bounds[k]:bounds[k + 1]]`` once
    ``progress[0] > k``, none after ``progress[0] < 0``
    (:func:`~chipsim.kernels.fixedmm.fixed_pieces`)."""
    if orow is None:
        orow = np.arange(max(counts_out.shape[0], values_out.shape[0]), dtype=np.int64)
    if prow is None:
        prow = orow
    rows = len(orow)
    chunks = max(1, min(numba.get_num_threads(), rows // CHUNK_ROWS))
    unused = np.empty(0, dtype=np.float32)
    if ldpu16 is None:
        ldpu_args = (False, unused, unused, unused, False, np.empty((0, 0), np.float32))
    else:
        levels = args[-2]
        # the LDPU of a column is a function of its 2·levels + 1 possible counts: a table of
        # them (the same values) when the read has more vectors than that
        table = (_ldpu_table(levels, *ldpu16, relu) if rows > 2 * levels + 1
                 else np.empty((0, 0), np.float32))
        ldpu_args = (True, *ldpu16, relu, table)
    if int8 is None:
        no_q = np.empty((0, 0), dtype=np.int8)
        int8 = (no_q, 0.0, 0.0, no_q)
    add_q, add16, inv16, q_out = int8
    head = (products, *args, *ldpu_args, add_q, add16, inv16, prow, orow)
    if after is not None:
        _noisy_pieces(head, *after, counts_out, values_out, q_out)
        return
    bounds = [(k * rows // chunks, (k + 1) * rows // chunks) for k in range(chunks)]
    others = [helper_pool().submit(_noisy_rows, *head, lo, hi, counts_out, values_out, q_out)
              for lo, hi in bounds[1:]]
    _noisy_rows(*head, *bounds[0], counts_out, values_out, q_out)
    for future in others:
        future.result()


def _noisy_counts(products, *args, out=None, prow=None, orow=None, after=None):
    """ADC counts (int32) of :func:`_noisy_rows` (into the rows ``orow`` of ``out``;
    ``after`` of :func:`_read`)."""
    if out is None:
        out = np.empty(args[5].shape, dtype=np.int32)
    _read(products, args, None, False, out, np.empty((0, 0), dtype=np.float32), prow, orow,
          after=after)
    return out


def _noisy_ldpu(products, *args, out=None, prow=None, orow=None, add=None, q_out=None,
                inv16=0.0, after=None):
    """LDPU values (float32) of :func:`_noisy_rows` (into the rows ``orow`` of ``out``;
    ``after`` of :func:`_read`);
    ``args`` end with the LDPU's ``offset16, scale16, bias16, relu``. ``add = (add_q,
    add16)``: received INT8 data added; ``q_out``: the values re-quantized into it too
    (with ``inv16``)."""
    *readout, offset16, scale16, bias16, relu = args
    if out is None:
        out = np.empty(readout[5].shape, dtype=np.float32)
    no_q = np.empty((0, 0), dtype=np.int8)
    add_q, add16 = add if add is not None else (no_q, 0.0)
    _read(products, tuple(readout), (offset16, scale16, bias16), relu,
          np.empty((0, 0), dtype=np.int32), out, prow, orow,
          (add_q, float(add16), float(inv16), no_q if q_out is None else q_out), after)
    return out


def noisy_readout(products, noise_var, key, positions, *, saturating, one_phase, v_read_v,
                  i_sat_ua, noise_scale, noise_offset, gain, offset_lsb, full_scale_ua, levels,
                  dead=None, ldpu=None, relu=False, add=None, requantize=None) -> np.ndarray:
    """:func:`analog_readout` drawing its own standard normals, then optionally the LDPU.

    The draw of column ``c`` of vector ``b`` is the value at position ``positions[b] · C +
    c`` of stream ``key`` of :func:`~chipsim.kernels.standard_normal` (``C`` the number of
    columns): with ``z`` those values, the counts equal ``analog_readout(products,
    noise_var, z, ...)`` bit for bit, and a vector's counts depend only on the key, its
    position and its own inputs, whatever the batch it is read in. Columns flagged in
    ``dead`` read 0 counts (their draws are skipped). With ``ldpu = (offset, scale,
    bias)`` the counts go on through :func:`~chipsim.kernels.ldpu_affine` (same rounding,
    ``relu`` as there) in the same pass, and the LDPU values are returned instead; with
    ``add = (q, scale)`` the received INT8 data ``q`` are added to them as by
    :func:`~chipsim.kernels.accumulate_int8`, and with ``requantize = out_scale`` they are
    returned re-quantized to INT8 as by :func:`~chipsim.kernels.requantize_int8` (a partial
    sum put on the wire), still in the same pass.

    Parameters
    ----------
    products, noise_var, saturating, one_phase, v_read_v, i_sat_ua, noise_scale, noise_offset,
    gain, offset_lsb, full_scale_ua, levels
        As :func:`analog_readout`.
    key : int
        Stream key in ``[0, 2**64)``.
    positions : array_like of int, shape (B,)
        Each vector's position in the stream, ``>= 0``; distinct vectors of one key need
        distinct positions (their draws are then independent).
    dead : array_like of bool, shape (C,), optional
        Columns whose ADC reads 0 counts.
    ldpu : tuple of three array_like of float, shape (C,), optional
        The LDPU's per-column ``(offset, scale, bias)``.
    relu : bool, default False
        With ``ldpu``: apply ``max(v, 0)``.
    add : tuple (array_like of int, shape (B, C); float), optional
        With ``ldpu``: INT8 data and the value of one of its steps, added to the LDPU values.
    requantize : float, optional
        With ``ldpu``: the value of one INT8 step of the returned data (a NaN value, an
        ``inf − inf`` of the LDPU, is sent as 0).

    Returns
    -------
    numpy.ndarray, shape (B, C)
        int32 counts, or float32 FP16-representable LDPU values with ``ldpu``, or int8 data
        with ``requantize``.

    Raises
    ------
    ValueError
        As :func:`analog_readout`, and on a key or position outside ``[0, 2**64)``, positions
        whose draws would pass ``2**64``, or ``dead``/``ldpu`` of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from chipsim.kernels import analog_readout, standard_normal
    >>> p = np.array([[[12.0, 30.0], [-5.0, 1.0]]], dtype=np.float32)
    >>> var = np.ones((2, 2), np.float32)
    >>> kw = dict(saturating=False, one_phase=False, v_read_v=1.0, i_sat_ua=100.0,
    ...           noise_scale=1.0, noise_offset=0.0, gain=np.ones(2), offset_lsb=np.zeros(2),
    ...           full_scale_ua=50.0, levels=127)
    >>> counts = noisy_readout(p, var, 7, np.array([3, 0]), **kw)
    >>> z = np.stack([standard_normal(7, 2, offset=3 * 2), standard_normal(7, 2, offset=0)])
    >>> bool((counts == analog_readout(p, var, z, **kw)).all())
    True
    """
    arr = _checks.as_real("products", products, 3)
    if arr.shape[0] not in (1, 2, 4):
        raise ChipsimError(f"products: must have shape (P, B, C) with P in 1, 2, 4, "
                           f"got {arr.shape}")
    rows, cols = arr.shape[1:]
    var = _checks.as_real("noise_var", noise_var, 2)
    _checks.same_shape("noise_var", var, "products[0]", (rows, cols))
    if var.size and float(var.min()) < 0.0:
        raise ChipsimError("noise_var: variances must be >= 0")
    key = _uint64("key", key)
    pos = np.asarray(positions)
    if pos.shape != (rows,) or not (np.issubdtype(pos.dtype, np.integer) or pos.size == 0):
        raise ChipsimError(f"positions: must be {rows} integers (one per vector), got shape "
                           f"{pos.shape} of {pos.dtype}")
    if pos.size and (int(pos.min()) < 0 or (int(pos.max()) + 1) * cols > 2**64):
        raise ChipsimError("positions: must be >= 0 with (position + 1) × columns <= 2**64")
    gain_arr = _checks.as_real("gain", gain, 1)
    _checks.per_column("gain", gain_arr, cols)
    _checks.positive_values("gain", gain_arr, "column gain")
    offset_arr = _checks.as_real("offset_lsb", offset_lsb, 1)
    _checks.per_column("offset_lsb", offset_arr, cols)
    dead_arr = np.zeros(cols, dtype=np.bool_) if dead is None else np.asarray(dead)
    if dead_arr.shape != (cols,) or dead_arr.dtype != np.bool_:
        raise ChipsimError(f"dead: must be {cols} booleans (one per column), got shape "
                           f"{dead_arr.shape} of {dead_arr.dtype}")
    i_sat = _checks.positive("i_sat_ua", i_sat_ua)
    args = (arr, _checks.flag("saturating", saturating), _checks.flag("one_phase", one_phase),
            np.float32(_checks.positive("v_read_v", v_read_v)), np.float32(i_sat), i_sat, var,
            np.float32(_checks.non_negative("noise_scale", noise_scale)),
            np.float32(_checks.non_negative("noise_offset", noise_offset)), np.uint64(key),
            pos.astype(np.uint64), gain_arr, offset_arr,
            _checks.positive("full_scale_ua", full_scale_ua),
            _checks.levels_int("levels", levels, _INT32_MAX), dead_arr)
    if ldpu is None:
        for name, given in (("add", add), ("requantize", requantize)):
            if given is not None:
                raise ChipsimError(f"{name}: a step of the LDPU's, needs ldpu")
        return _noisy_counts(*args)
    if not (isinstance(ldpu, tuple | list) and len(ldpu) == 3):
        raise ChipsimError("ldpu: must be a tuple (offset, scale, bias) of per-column values")
    fp16 = [_fp16_vector(name, val, cols)
            for name, val in zip(("ldpu offset", "ldpu scale", "ldpu bias"), ldpu, strict=True)]
    if add is not None:
        if not (isinstance(add, tuple | list) and len(add) == 2):
            raise ChipsimError("add: must be a tuple (q, scale) of INT8 data and its step")
        q = _checks.as_int("add", add[0], 2, lo=-128, hi=127, dtype=np.int8)
        _checks.same_shape("add", q, "products[0]", (rows, cols))
        add = (q, accumulate_factor(add[1]))
    q_out = inv16 = None
    if requantize is not None:
        inv16 = requantize_factor(requantize)
        q_out = np.empty((rows, cols), dtype=np.int8)
    out = _noisy_ldpu(*args, *fp16, _checks.flag("relu", relu), add=add, q_out=q_out,
                      inv16=inv16 or 0.0)
    return out if q_out is None else q_out
