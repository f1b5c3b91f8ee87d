"""Slow, plain NumPy oracles of the kernels (no Numba), for testing.

Each function restates its kernel's formula with vectorised NumPy and takes arrays already in
the kernel's dtypes; there is no input validation. FP16 rounding is a cast to ``np.float16``
of the float64 result (NumPy casts float64 to float16 with one correct rounding).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "fp16_round",
    "pwm_quantize",
    "duty_split",
    "int_codes",
    "duty_square",
    "combine_phases",
    "analog_readout",
    "noisy_readout",
    "adc_convert",
    "ldpu_affine",
    "requantize_int8",
    "accumulate_int8",
    "standard_normal",
]


def _fp16(x: np.ndarray) -> np.ndarray:
    """float64 values rounded to FP16, as float64."""
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=np.float64).astype(np.float16).astype(np.float64)


def fp16_round(x: np.ndarray) -> np.ndarray:
    """``x`` rounded to FP16, as float32."""
    with np.errstate(over="ignore"):
        return np.asarray(x).astype(np.float16).astype(np.float32)


def pwm_quantize(x: np.ndarray, scale: float, levels: int) -> np.ndarray:
    """``clip(rint(x / scale * levels), -levels, levels)`` as int16."""
    code = np.rint(x.astype(np.float32).astype(np.float64) / scale * levels)
    return np.clip(code, -levels, levels).astype(np.int16)


def duty_split(codes: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """``u = codes / levels`` (float32); ``(max(u, 0), max(-u, 0))``."""
    u = codes.astype(np.float32) / np.float32(levels)
    zero = np.float32(0.0)
    return np.where(u > 0, u, zero), np.where(u < 0, -u, zero)


def int_codes(x: np.ndarray, step: float, levels: int) -> np.ndarray:
    """``clip(rint(x / step), -levels, levels)`` in float32, as int16."""
    q = np.rint(x.astype(np.float32) / np.float32(step))
    return np.clip(q, -levels, levels).astype(np.int16)


def duty_square(codes: np.ndarray, levels: int):
    """:func:`duty_split`, ``u_pos² + u_neg²`` (float32) and whether any code is negative."""
    u_pos, u_neg = duty_split(codes, levels)
    return u_pos, u_neg, u_pos * u_pos + u_neg * u_neg, bool((codes < 0).any())


def analog_readout(products: np.ndarray, noise_var: np.ndarray, z: np.ndarray, *,
                   saturating: bool, one_phase: bool, v_read_v: float, i_sat_ua: float,
                   noise_scale: float, noise_offset: float, gain: np.ndarray,
                   offset_lsb: np.ndarray, full_scale_ua: float, levels: int) -> np.ndarray:
    """Column currents from the products (float32 NumPy operations as in the core model),
    float32 noise, then :func:`adc_convert`."""
    v = np.float32(v_read_v)
    if len(products) == 1:
        i = v * products[0]
    elif len(products) == 2 and saturating:
        sat = np.float32(i_sat_ua)
        i = np.clip(v * products[0], -sat, sat) - np.clip(v * products[1], -sat, sat)
    elif len(products) == 2:
        i = v * (products[0] - products[1])
    else:
        i = combine_phases(products * v, one_phase, i_sat_ua)
    var = noise_var * np.float32(noise_scale)
    var += np.float32(noise_offset)
    i = i + np.sqrt(var) * z
    return adc_convert(i, gain, offset_lsb, full_scale_ua, levels)


def noisy_readout(products: np.ndarray, noise_var: np.ndarray, key: int,
                  positions: np.ndarray, *, dead: np.ndarray | None = None,
                  ldpu: tuple | None = None, relu: bool = False, add: tuple | None = None,
                  requantize: float | None = None, **readout) -> np.ndarray:
    """:func:`analog_readout` with ``z[b]`` the :func:`standard_normal` values of ``key`` at
    ``positions[b] · C + (0 .. C-1)``, dead columns set to 0 counts, then
    :func:`ldpu_affine` with ``ldpu = (offset, scale, bias)`` if given, then
    :func:`accumulate_int8` of ``add = (q, scale)`` and :func:`requantize_int8` with
    ``requantize`` if given."""
    cols = products.shape[2]
    z = np.zeros(products.shape[1:], dtype=np.float32)
    for b, p in enumerate(positions):
        z[b] = standard_normal(key, cols, offset=int(p) * cols)
    counts = analog_readout(products, noise_var, z, **readout)
    if dead is not None:
        counts[:, dead] = 0
    if ldpu is None:
        return counts
    values = ldpu_affine(counts, *ldpu, relu=relu)
    if add is not None:
        values = accumulate_int8(values, *add)
    return values if requantize is None else requantize_int8(values, requantize)


def combine_phases(products: np.ndarray, one_phase: bool, i_sat_ua: float) -> np.ndarray:
    """Four-phase: ``clip(p0) - clip(p1) - clip(p2) + clip(p3)``; one-phase:
    ``clip(p0 - p1) - clip(p2 - p3)``; float64 inside, float32 out."""
    p0, p1, p2, p3 = products.astype(np.float64)
    if one_phase:
        out = np.clip(p0 - p1, -i_sat_ua, i_sat_ua) - np.clip(p2 - p3, -i_sat_ua, i_sat_ua)
    else:
        c0, c1, c2, c3 = (np.clip(p, -i_sat_ua, i_sat_ua) for p in (p0, p1, p2, p3))
        out = c0 - c1 - c2 + c3
    return out.astype(np.float32)


def adc_convert(i_ua: np.ndarray, gain: np.ndarray, offset_lsb: np.ndarray,
                full_scale_ua: float, levels: int, z_out: np.ndarray | None = None,
                noise_std_fs: float = 0.0) -> np.ndarray:
    """``clip(rint(gain * (i / fs * levels + noise_std_fs * levels * z) + offset))``."""
    analog = i_ua.astype(np.float64) / full_scale_ua * levels
    if z_out is not None:
        analog = analog + (noise_std_fs * levels) * z_out.astype(np.float64)
    counts = np.rint(gain.astype(np.float64) * analog + offset_lsb.astype(np.float64))
    return np.clip(counts, -levels, levels).astype(np.int32)


def ldpu_affine(counts: np.ndarray, offset: np.ndarray, scale: np.ndarray, bias: np.ndarray,
                relu: bool = False) -> np.ndarray:
    """``fp16(fp16(fp16(counts - fp16(offset)) * fp16(scale)) + fp16(bias))``, then ReLU."""
    d = _fp16(counts.astype(np.float64) - _fp16(offset))
    with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, as in FP16 hardware
        v = _fp16(_fp16(d * _fp16(scale)) + _fp16(bias))
    if relu:
        v = np.where(v > 0, v, 0.0)
    return v.astype(np.float32)


def requantize_int8(v: np.ndarray, out_scale: float) -> np.ndarray:
    """``clip(rint(fp16(v * fp16(1 / out_scale))), -128, 127)`` as int8; NaN gives 0."""
    inv = np.float64(np.float16(1.0 / out_scale))
    q = np.rint(_fp16(v.astype(np.float64) * inv))
    return np.nan_to_num(np.clip(q, -128, 127), nan=0.0).astype(np.int8)


def accumulate_int8(acc: np.ndarray, q: np.ndarray, scale: float) -> np.ndarray:
    """``fp16(acc + fp16(q * fp16(scale)))``."""
    received = _fp16(q.astype(np.float64) * np.float64(np.float16(scale)))
    return _fp16(acc.astype(np.float64) + received).astype(np.float32)


_M64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15


def _mix64(z):
    """SplitMix64 finalizer on uint64 arrays or Python ints (wrapping)."""
    if isinstance(z, int):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        return z ^ (z >> 31)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _normal_gamma(key: int) -> int:
    """A key's odd SplitMix64 increment; XOR 0xaaaa... when it has < 24 bit transitions."""
    gamma = _mix64(key ^ _GAMMA) | 1
    if bin(gamma ^ (gamma >> 1)).count("1") < 24:
        gamma ^= 0xAAAAAAAAAAAAAAAA
    return gamma


def _normal_slow(key: int, pos: int, word: int, k, w, f, r: float) -> float:
    """One position past the fast rectangle: tail / wedge tests, re-draws from its
    sub-stream ``mix(mix(mix(key ^ salt) + (pos + 1) gamma) + a γ)``, ``a = 1, 2, ...``."""
    import math

    from .normal import SUB_SALT

    sub = _mix64((_mix64(key ^ SUB_SALT) + (pos + 1) * _normal_gamma(key)) & _M64)
    attempt = 0

    def draw():
        nonlocal attempt
        attempt += 1
        return _mix64((sub + attempt * _GAMMA) & _M64)

    def uniform():  # (0, 1], top 53 bits
        return (float(draw() >> 11) + 1.0) * 2.0**-53

    while True:
        i, negative, j = word & 0xFF, (word >> 8) & 1, word >> 12
        x = float(j) * float(w[i])
        if j < int(k[i]):
            return -x if negative else x
        if i == 0:
            while True:
                xx = -math.log(uniform()) / r
                yy = -math.log(uniform())
                if yy + yy > xx * xx:
                    return -(r + xx) if negative else r + xx
        y = float(f[i]) + uniform() * (float(f[i + 1]) - float(f[i]))
        if y < math.exp(-0.5 * x * x):
            return -x if negative else x
        word = draw()


def standard_normal(key: int, size, offset: int = 0) -> np.ndarray:
    """Counter-based ziggurat normals: element ``n`` from ``word = mix(mix(key) + (offset + n
    + 1) gamma(key))``: layer ``word & 255``, sign bit 8, ``j = word >> 12``; ``j * w[i]``
    when ``j < k[i]``, else the tail / wedge rejection of :mod:`chipsim.kernels.normal` (one
    position at a time). float64 inside, float32 out."""
    from .normal import ZIGGURAT_R, ziggurat_tables

    k, w, f, _ = ziggurat_tables()
    n = int(np.prod(size, dtype=np.int64))
    base = _mix64(key & _M64)
    pos = np.uint64(offset) + np.arange(n, dtype=np.uint64)
    word = _mix64(np.uint64(base) + (pos + np.uint64(1)) * np.uint64(_normal_gamma(key)))
    i = (word & np.uint64(0xFF)).astype(np.intp)
    j = word >> np.uint64(12)
    x = j.astype(np.float64) * w[i]
    x = np.where((word >> np.uint64(8)) & np.uint64(1), -x, x)
    for m in np.flatnonzero(j >= k[i]):
        x[m] = _normal_slow(key, offset + int(m), int(word[m]), k, w, f, ZIGGURAT_R)
    return x.astype(np.float32).reshape(size)


def fixed_ints(m: np.ndarray, unit: float) -> np.ndarray:
    """:meth:`chipsim.kernels.fixedmm.FixedMatrix.of_floats`'s integers: ``rint(m / unit)``
    (int64), half to even."""
    return np.rint(np.asarray(m, dtype=np.float64) / unit).astype(np.int64)


def fixed_matmul(a, fm, factor: float) -> np.ndarray:
    """:func:`chipsim.kernels.fixedmm.fixed_matmul` in int64 NumPy: ``Σ_p w_p · parts_p @ q``
    exact (the int64 arithmetic wraps like the kernel's; the total itself fits), then
    ``float32(float64(total) · (factor · unit))``."""
    q = fm.q
    total = np.zeros((a.rows, q.shape[1]), dtype=np.int64)
    for part, w in zip(a.parts, a.weights, strict=True):
        total += np.int64(w) * (part[:a.rows, :a.cols].astype(np.int64) @ q)
    return (total.astype(np.float64) * (float(factor) * fm.unit)).astype(np.float32)


def code_norms(codes: np.ndarray, row_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`chipsim.kernels.pwm.code_norms`: ``Σ code²`` and ``Σ |code| · row_weight``
    of each vector (exact, in int64; as float64)."""
    c = np.asarray(codes, dtype=np.int64)
    weighted = np.abs(c) @ np.asarray(row_weight, dtype=np.int64)
    return (c * c).sum(axis=1).astype(np.float64), weighted.astype(np.float64)
