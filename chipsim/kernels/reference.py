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
    "adc_convert",
    "ldpu_affine",
    "requantize_int8",
    "accumulate_int8",
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
    """``clip(rint(fp16(v * fp16(1 / out_scale))), -128, 127)`` as int8."""
    inv = np.float64(np.float16(1.0 / out_scale))
    q = np.rint(_fp16(v.astype(np.float64) * inv))
    return np.clip(q, -128, 127).astype(np.int8)


def accumulate_int8(acc: np.ndarray, q: np.ndarray, scale: float) -> np.ndarray:
    """``fp16(acc + fp16(q * fp16(scale)))``."""
    received = _fp16(q.astype(np.float64) * np.float64(np.float16(scale)))
    return _fp16(acc.astype(np.float64) + received).astype(np.float32)
