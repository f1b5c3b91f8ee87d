"""Exact products of PWM codes with fixed-point matrices on Intel AMX: a read's array products.

A core's read forms products ``(codes / L) @ G`` of PWM codes (integers, ``|code| <= L``)
with conductance or variance matrices ``G``. On a CPU with Intel AMX (``amx-int8``: Xeon
Sapphire Rapids and later) the core model holds ``G`` in fixed point (:class:`FixedMatrix`:
integers ``q`` of a power-of-two ``unit``, ``|q| <= 2**22``: at the matrix's largest entry
nearly as fine as float32) and forms the integer sum ``Σ_r code_r · q[r, c]`` **exactly**, then
scales it once: ``float32(float64(sum) · (factor · unit))``. Such a product does not depend
on the summation order, the thread count or the rows beside it.

The kernel: the codes split into unsigned bytes (:class:`ByteParts`; a code's positive or
negative part, or its square, in one to four bytes), ``q`` into balanced signed base-256
digits; each byte part × digit is a sum of ``TDPBUSD`` tile instructions (unsigned × signed
8-bit dot products into int32), and the sums are combined with their powers of 256. Without
AMX the same sums come from float64 BLAS (exact too, slower).
:func:`chipsim.kernels.reference.fixed_matmul` is their int64 NumPy oracle. The core model
takes the exact products where there is AMX, float32 BLAS elsewhere unless asked
(:func:`chipsim.functional.core.exact_products`).

Examples
--------
>>> import numpy as np
>>> fm = fixed_point(np.array([[1.5, -2.0], [0.25, 4.0]]))
>>> codes = np.array([[2, 1]], dtype=np.int16)
>>> fixed_matmul(code_parts(codes)[0], fm, 0.5)  # (codes / 2) @ G
array([[1.625, 0.   ]], dtype=float32)
"""

from __future__ import annotations

import ctypes
import functools
import math
import platform
import sys
import threading
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..errors import ChipsimError
from ._sync import publish

__all__ = ["FixedMatrix", "ByteParts", "fixed_point", "fixed_unit", "code_parts", "square_parts",
           "code_range", "fixed_matmul", "fixed_pieces", "amx_available"]

#: largest magnitude of a fixed-point matrix's integers, ``2**Q_BITS`` (four digits)
Q_BITS = 23
#: bits of a matrix's largest entry by default (:func:`fixed_unit`): three digits hold
#: ``2**22``, and the difference of two such matrices of one sign
UNIT_BITS = 22
#: tile geometry of the AMX kernel: 16 rows of 64 bytes; a step covers 32 rows × 32 columns
_TILE_ROWS, _TILE_BYTES, _BLOCK = 16, 64, 32


# ------------------------------------------------------------------------------ fixed point
def fixed_unit(max_abs: float, bits: int = UNIT_BITS) -> float:
    """The power of two ``unit`` such that ``|x| <= max_abs`` gives ``|rint(x / unit)| <=
    2**bits``.

    Examples
    --------
    >>> fixed_unit(4.0, 2), fixed_unit(5.0, 2), fixed_unit(0.0)
    (1.0, 2.0, 1.0)
    """
    if not np.isfinite(max_abs) or max_abs < 0:
        raise ChipsimError(f"max_abs: must be a finite number >= 0, got {max_abs!r}")
    if max_abs == 0.0:
        return 1.0
    mantissa, exponent = math.frexp(max_abs)  # max_abs = mantissa · 2**exponent, in [0.5, 1)
    if mantissa == 0.5:
        exponent -= 1
    return math.ldexp(1.0, exponent - bits)


@dataclass(frozen=True, slots=True, eq=False)
class FixedMatrix:
    """A (K, N) matrix in fixed point: integers ``q`` (``|q| <= 2**23``) of ``unit`` (a power
    of two); each entry's value is ``q · unit``.

    ``digits`` (int8, (Np/32, D, Kp/4, 128), ``Kp``, ``Np`` rounded up to 64 and 32): the
    fewest balanced base-256 digits of ``q`` (each in [-128, 127]), least significant first,
    zero-padded, in the kernel's layout: per block of 32 columns and digit, four consecutive
    rows of a column side by side (digit ``d`` of ``q[k, n]`` at ``[n // 32, d, k // 4, 4 (n
    % 32) + k % 4]``), each block contiguous (a block's rows 128 bytes apart, not a whole
    row of the matrix: those would fall into few L1 sets and evict each other).
    """

    shape: tuple[int, int]
    unit: float
    digits: np.ndarray

    @classmethod
    def of_ints(cls, q: np.ndarray, unit: float) -> FixedMatrix:
        """The matrix of integers ``q`` (2-D, ``|q| <= 2**23``) of ``unit``."""
        q = np.ascontiguousarray(q, dtype=np.int64)
        if q.ndim != 2:
            raise ChipsimError(f"q: must be a 2-D integer array, got shape {q.shape}")
        top = int(np.abs(q).max(initial=0))
        if top > 2**Q_BITS:
            raise ChipsimError(f"q: entries must lie within ±2**{Q_BITS}")
        digits = _blank_digits(q.shape, _digits_for(top))
        _pack_digits(q, digits)
        return cls(q.shape, float(unit), digits)

    @classmethod
    def of_floats(cls, m: np.ndarray, unit: float, minus: np.ndarray | None = None
                  ) -> FixedMatrix:
        """``m`` (float, 2-D, finite) in integers of ``unit`` (a power of two): ``rint(m /
        unit)``, half to even (:func:`chipsim.kernels.reference.fixed_ints`), less those of
        ``minus`` (the same shape) if given; a :class:`~chipsim.errors.ChipsimError` beyond
        ``2**23`` of them."""
        m = np.ascontiguousarray(m)
        other = m if minus is None else np.ascontiguousarray(minus)
        if m.ndim != 2 or other.shape != m.shape:
            raise ChipsimError(f"fixed point: needs 2-D matrices of one shape, got {m.shape}"
                               f" and {other.shape}")
        q = np.empty(m.shape, dtype=np.int64)
        top = _fixed_q(m, other, 1.0 / unit, minus is not None, q)  # 1 / unit: exact
        if not top <= 2**Q_BITS:  # NaN: a value was not finite
            raise ChipsimError(f"fixed point: entries must be finite and within 2**{Q_BITS} "
                               f"units of {unit!r}")
        digits = _blank_digits(m.shape, _digits_for(int(top)))
        _pack_digits(q, digits)
        return cls(m.shape, float(unit), digits)

    @property
    def q(self) -> np.ndarray:
        """The integers (int64, (K, N))."""
        k, n = self.shape
        blocks, n_digits, kp4, _ = self.digits.shape
        d = self.digits.astype(np.int64).reshape(blocks, n_digits, kp4, _BLOCK, 4)
        d = d.transpose(1, 2, 4, 0, 3).reshape(n_digits, 4 * kp4, blocks * _BLOCK)
        return sum(256**j * d[j] for j in range(n_digits))[:k, :n]


def fixed_point(m: np.ndarray, unit: float | None = None) -> FixedMatrix:
    """``m`` (float, (K, N)) rounded to integers of ``unit`` (a power of two; None: the
    finest for ``max |m|``, :func:`fixed_unit`), half to even (:meth:`FixedMatrix.of_floats`)."""
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2:
        raise ChipsimError(f"fixed_point: needs a 2-D matrix, got shape {m.shape}")
    if unit is None:
        unit = fixed_unit(float(np.abs(m).max(initial=0.0)))
    return FixedMatrix.of_floats(m, unit)


def _digits_for(top: int) -> int:
    """The fewest balanced base-256 digits that hold ``±top``: d digits reach 127 · (1 + 256
    + …) upwards, one more downwards."""
    n_digits = 1
    while top > 127 * sum(256**d for d in range(n_digits)):
        n_digits += 1
    return n_digits


def _blank_digits(shape: tuple[int, int], n_digits: int) -> np.ndarray:
    k, n = shape
    return _aligned((_round_up(n, _BLOCK) // _BLOCK, n_digits, _round_up(k, _TILE_BYTES) // 4,
                     4 * _BLOCK), np.int8, zero=True)


@njit(cache=True, nogil=True)
def _fixed_q(m, other, inv, diff, q):
    """The integers of :meth:`FixedMatrix.of_floats` into ``q`` (int64); their largest
    magnitude, or NaN if a value is not finite or beyond 2**62 units."""
    ok = True
    for k in range(m.shape[0]):
        src, sub, dst = m[k], other[k], q[k]
        for n in range(m.shape[1]):  # a loop per row: it vectorizes
            a = np.rint(np.float64(src[n]) * inv)
            b = np.rint(np.float64(sub[n]) * inv) if diff else 0.0
            ok &= abs(a) < 2.0**62 and abs(b) < 2.0**62
            dst[n] = np.int64(a) - np.int64(b)
    if not ok:
        return np.nan
    top = 0
    for k in range(m.shape[0]):
        for n in range(m.shape[1]):
            top = max(top, abs(q[k, n]))
    return np.float64(top)


@njit(cache=True, nogil=True)
def _pack_digits(q, out):
    """The balanced base-256 digits of ``q`` into ``out`` (:attr:`FixedMatrix.digits`)."""
    rows, cols = q.shape
    for k in range(rows):
        src = q[k]
        k4, ki = k // 4, k % 4
        for n in range(cols):
            rest = src[n]
            nb, j = n // 32, 4 * (n % 32) + ki
            for d in range(out.shape[1]):
                digit = ((rest + 128) & 255) - 128  # two's complement: in [-128, 127]
                out[nb, d, k4, j] = digit
                rest = (rest - digit) >> 8  # exact: a multiple of 256


def _round_up(x: int, step: int) -> int:
    return -(-x // step) * step


def _aligned(shape: tuple[int, ...], dtype: type, zero: bool = False) -> np.ndarray:
    """A C-contiguous array starting on a 64-byte boundary: a tile row that straddles two
    cache lines makes a tile load six times slower (measured: 15 against 2.4 ns)."""
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = (np.zeros if zero else np.empty)(n + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + n].view(dtype).reshape(shape)


# ------------------------------------------------------------------------------ inputs
@dataclass(frozen=True, slots=True, eq=False)
class ByteParts:
    """Non-negative integer inputs ``a = Σ_p weights[p] · parts[p]`` (int64 weights: a sign
    times a power of 256), each part unsigned bytes (uint8, (P, Bp, Kp): rows rounded up to
    32, columns to 64, zero-padded); its first ``rows`` × ``cols`` are real."""

    parts: np.ndarray
    weights: np.ndarray
    rows: int
    cols: int


def code_parts(codes: np.ndarray, lo: int | None = None, hi: int | None = None
               ) -> tuple[ByteParts, ByteParts | None, ByteParts | None]:
    """The PWM ``codes`` (int16, (B, K)) as bytes: ``(pos, neg, signed)``, the positive parts
    ``max(code, 0)``, the negative parts ``max(−code, 0)`` and the signed codes (``pos −
    neg``, sharing their bytes); ``neg`` and ``signed`` None when no code is negative. One
    byte per part, two (weights 1, 256) for magnitudes above 255. ``lo``, ``hi``: the
    smallest and largest code, if known (:func:`code_range`)."""
    codes = _codes(codes)
    if lo is None or hi is None:
        lo, hi = code_range(codes)
    n_bytes = 1 if max(-lo, hi) <= 255 else 2
    signed = lo < 0
    out = _blank(2 * n_bytes if signed else n_bytes, codes.shape)
    _fill_bytes(codes, 1, out[:n_bytes])
    scale = np.array([256**j for j in range(n_bytes)], dtype=np.int64)
    pos = ByteParts(out[:n_bytes], scale, *codes.shape)
    if not signed:
        return pos, None, None
    _fill_bytes(codes, -1, out[n_bytes:])
    return (pos, ByteParts(out[n_bytes:], scale, *codes.shape),
            ByteParts(out, np.concatenate([scale, -scale]), *codes.shape))


def square_parts(codes: np.ndarray, lo: int | None = None, hi: int | None = None
                 ) -> ByteParts:
    """``code²`` of the PWM ``codes`` (int16, (B, K)) as bytes: two, or four for magnitudes
    above 255 (``lo``, ``hi`` as in :func:`code_parts`)."""
    codes = _codes(codes)
    if lo is None or hi is None:
        lo, hi = code_range(codes)
    n_bytes = 2 if max(-lo, hi) <= 255 else 4
    out = _blank(n_bytes, codes.shape)
    _fill_bytes(codes, 2, out)
    return ByteParts(out, np.array([256**j for j in range(n_bytes)], dtype=np.int64),
                     *codes.shape)


def _codes(codes: np.ndarray) -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.dtype != np.int16:
        raise ChipsimError(f"codes: must be a 2-D int16 array, got {codes.dtype} of shape "
                           f"{codes.shape}")
    return np.ascontiguousarray(codes)


def _blank(n: int, shape: tuple[int, int]) -> np.ndarray:
    """Parts to fill: the padding zero, the rest left to :func:`_fill_bytes`."""
    b, k = shape
    out = _aligned((n, _round_up(b, _BLOCK), _round_up(k, _TILE_BYTES)), np.uint8)
    out[:, b:] = 0
    out[:, :b, k:] = 0
    return out


@njit(cache=True, nogil=True)
def _byte_value(x, mode):
    if mode == 1:
        return max(x, 0)
    if mode == -1:
        return max(-x, 0)
    return x * x


@njit(cache=True, nogil=True)
def _fill_bytes(codes, mode, out):
    """Bytes of ``max(code, 0)`` (``mode`` 1), ``max(−code, 0)`` (−1) or ``code²`` (2), least
    significant first, into ``out[j]`` (its first rows and columns). One or two bytes in one
    pass (a loop per case, so that each vectorizes), more a pass each; the squares' two
    bytes in a function of their own (:func:`_fill_square_bytes`: in this one's loop they
    ran 2.7 times slower, one loop storing both 3.4 times; 1,024 × 256 codes)."""
    rows, cols = codes.shape
    n_bytes = out.shape[0]
    if n_bytes == 2 and mode == 2:
        _fill_square_bytes(codes, out)
        return
    for b in range(rows):
        src = codes[b]
        low = out[0, b]
        if n_bytes == 1:
            for c in range(cols):
                low[c] = np.uint8(_byte_value(np.int32(src[c]), mode) & 255)
        elif n_bytes == 2:
            high = out[1, b]
            for c in range(cols):
                v = _byte_value(np.int32(src[c]), mode)
                low[c] = np.uint8(v & 255)
                high[c] = np.uint8((v >> 8) & 255)
        else:
            for j in range(n_bytes):
                dst = out[j, b]
                for c in range(cols):
                    dst[c] = np.uint8((_byte_value(np.int32(src[c]), mode) >> (8 * j)) & 255)


@njit(cache=True, nogil=True)
def _fill_square_bytes(codes, out):
    """The two bytes of ``code²`` (``|code| <= 255``) into ``out[0]`` and ``out[1]``."""
    rows, cols = codes.shape
    for b in range(rows):
        src, low, high = codes[b], out[0, b], out[1, b]
        for c in range(cols):
            low[c] = np.uint8((np.int32(src[c]) * np.int32(src[c])) & 255)
        for c in range(cols):
            high[c] = np.uint8(((np.int32(src[c]) * np.int32(src[c])) >> 8) & 255)


@njit(cache=True, nogil=True)
def code_range(codes):
    """Smallest and largest of the int16 ``codes`` (2-D, C-contiguous), and 0."""
    flat = codes.ravel()
    lo = hi = np.int16(0)
    for i in range(flat.size):  # one flat loop of int16 compares: it vectorizes
        v = flat[i]
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return int(lo), int(hi)


# ------------------------------------------------------------------------------ products
def fixed_matmul(a: ByteParts, fm: FixedMatrix, factor: float,
                 out: np.ndarray | None = None, rows: tuple[int, int] | None = None
                 ) -> np.ndarray:
    """``float32(float64(Σ_p w_p · parts_p @ q) · (factor · unit))`` (float32, (B, N)), the
    integer sum exact (int64; its float64 rounded once if above ``2**53``): on AMX
    (:func:`amx_available`), elsewhere with float64 BLAS, one product per byte part (each
    partial sum an integer below ``2**53``: exact in any order), the same bits more slowly.

    ``out``: a C-contiguous float32 array of shape (B, N) to write into. ``rows = (lo,
    hi)``: only the rows ``lo .. hi`` of the product, into those of ``out`` (``lo`` a
    multiple of 32); a row's value does not depend on the others."""
    if a.cols != fm.shape[0]:
        raise ChipsimError(f"fixed_matmul: inputs of {a.cols} rows for a matrix of "
                           f"{fm.shape[0]}")
    if out is None:
        out = np.empty((a.rows, fm.shape[1]), dtype=np.float32)
    lo, hi = (0, a.rows) if rows is None else rows
    _check_rows("fixed_matmul", lo, hi, a.rows)
    scale = float(factor) * fm.unit
    if not (amx_available() or numba.config.DISABLE_JIT):
        _blas_rows(a, fm.q.astype(np.float64), scale, out, lo, hi)
        return out
    weights, wide = _sum_weights(a, fm)
    scratch = _scratch((len(weights), _BLOCK, fm.digits.shape[0] * _BLOCK))
    # one thread: two threads of one core share its AMX unit (on this project's 2-vCPU
    # machine the split ran slower than one thread)
    _amx_rows(a.parts, fm.digits, weights, wide, scale, out, lo, hi, scratch, _CONFIG)
    return out


def fixed_pieces(products: list[tuple[ByteParts, FixedMatrix, float, np.ndarray]],
                 bounds: np.ndarray, progress: np.ndarray) -> None:
    """:func:`fixed_matmul` of each ``(a, fm, factor, out)`` of ``products``, piece by piece:
    the rows ``bounds[k] .. bounds[k + 1]`` (``bounds`` int64, multiples of 32 but the last)
    of every product, then ``progress[0] = k + 1`` (int64, published as by
    :func:`~chipsim.kernels._sync.publish`, for a reader on another thread,
    :func:`~chipsim.kernels._sync.wait_for`). On AMX one ``nogil`` call. On an error
    ``progress[0] = -1`` (the reader stops instead of waiting forever), then it is raised."""
    try:
        pieces = [(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        for a, fm, _factor, out in products:
            if a.cols != fm.shape[0] or out.shape != (a.rows, fm.shape[1]):
                raise ChipsimError(f"fixed_pieces: inputs {a.rows} × {a.cols}, matrix "
                                   f"{fm.shape}, out {out.shape}")
            for lo, hi in pieces:
                _check_rows("fixed_pieces", lo, hi, a.rows)
        if not amx_available():
            # each matrix's integers once (2.4 ms for 256 × 256), not once per piece
            qs = [fm.q.astype(np.float64) for _a, fm, _f, _o in products]
            for k, (lo, hi) in enumerate(pieces):
                for (a, fm, factor, out), q in zip(products, qs, strict=True):
                    _blas_rows(a, q, float(factor) * fm.unit, out, lo, hi)
                publish(progress, k + 1)
            return
        jobs, shapes = [], []
        for a, fm, factor, out in products:
            weights, wide = _sum_weights(a, fm)
            jobs.append((a.parts, fm.digits, weights, wide, float(factor) * fm.unit, out))
            shapes.append((len(weights), _BLOCK, fm.digits.shape[0] * _BLOCK))
        buf = _aligned((max(math.prod(shape) for shape in shapes),), np.int32)
        # one scratch for all: the products are formed one after the other
        _amx_pieces(tuple((*job, buf[:math.prod(shape)].reshape(shape))
                          for job, shape in zip(jobs, shapes, strict=True)),
                    bounds, progress, _CONFIG)
    except BaseException:
        publish(progress, -1)
        raise


def _blas_rows(a: ByteParts, q: np.ndarray, scale: float, out: np.ndarray, lo: int,
               hi: int) -> None:
    """The rows ``lo .. hi`` of the product of :func:`fixed_matmul` without AMX, into
    ``out``: ``q`` the matrix's integers as float64, one float64 BLAS product per byte part
    (each an integer sum below ``2**53``: exact in any order), summed in int64."""
    total = np.zeros((hi - lo, out.shape[1]), dtype=np.int64)
    for part, w in zip(a.parts, a.weights, strict=True):
        total += w * (part[lo:hi, :a.cols].astype(np.float64) @ q).astype(np.int64)
    np.multiply(total.astype(np.float64), scale, out=out[lo:hi], casting="unsafe")


def _check_rows(name: str, lo: int, hi: int, rows: int) -> None:
    """A :class:`~chipsim.errors.ChipsimError` unless ``lo .. hi`` are rows of ``rows``
    starting at a multiple of the kernel's step."""
    if lo % _BLOCK or not 0 <= lo <= hi <= rows:
        raise ChipsimError(f"{name}: rows {lo} .. {hi} of {rows} (from a multiple of "
                           f"{_BLOCK})")


def _sum_weights(a: ByteParts, fm: FixedMatrix) -> tuple[np.ndarray, bool]:
    """The weight of each byte part × digit sum of :func:`_amx_rows` (int64), and whether
    their sum needs int64 (``wide``)."""
    n_digits = fm.digits.shape[1]
    weights = np.array([int(w) * 256**d for w in a.weights for d in range(n_digits)],
                       dtype=np.int64)
    # each sum of a byte part × digit is below rows · 255 · 128 in magnitude: the float64
    # sum of them is exact if that times Σ |weights| stays below 2**53
    return weights, a.cols * 255 * 128 * float(np.abs(weights).sum()) >= 2.0**53


_SCRATCH = threading.local()


def _scratch(shape: tuple[int, ...]) -> np.ndarray:
    """The calling thread's scratch space for :func:`_amx_rows` (int32, ``shape``, 64-byte
    aligned), kept between calls: a fresh one, its cache lines cold, made a 1,024 × 256 ×
    256 product 0.29 instead of 0.23 ms (measured while writing this)."""
    size = math.prod(shape)
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < size:
        buf = _SCRATCH.buf = _aligned((size,), np.int32)
    return buf[:size].reshape(shape)


# ------------------------------------------------------------------------------ AMX
@functools.cache
def amx_available() -> bool:
    """Whether this process can run the AMX kernel: an x86-64 Linux CPU with ``amx-tile`` and
    ``amx-int8`` that Numba compiles for (its host CPU), and the kernel's permission to use
    the tile registers (``arch_prctl(ARCH_REQ_XCOMP_PERM)``, Linux 5.16+), requested here."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return False
    if numba.config.CPU_NAME not in (None, "host") or numba.config.CPU_FEATURES:
        return False
    from llvmlite import binding

    features = binding.get_host_cpu_features()
    if not (features.get("amx-tile") and features.get("amx-int8")):
        return False
    sys_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata = 158, 0x1023, 18
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(sys_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0
    except (OSError, AttributeError):
        return False


def _tile_config() -> np.ndarray:
    """The 64-byte tile configuration: palette 1, eight tiles of 16 rows × 64 bytes."""
    cfg = _aligned((64,), np.uint8, zero=True)
    cfg[0] = 1
    cfg[16:32].view(np.uint16)[:] = _TILE_BYTES
    cfg[48:56] = _TILE_ROWS
    return cfg


_CONFIG = _tile_config()
if not numba.config.DISABLE_JIT:  # the tile instructions, as LLVM intrinsics
    _I8 = ir.IntType(8)
    _PTR = _I8.as_pointer()

    def _call(builder: ir.IRBuilder, name: str, argtys: list, args: list) -> None:
        fn = cgutils.get_or_insert_function(builder.module,
                                            ir.FunctionType(ir.VoidType(), argtys), name)
        builder.call(fn, args)

    def _byte_pointer(context, builder, arr_type, arr, offset):
        data = context.make_array(arr_type)(context, builder, arr).data
        return builder.gep(builder.bitcast(data, _PTR), [offset])

    @intrinsic
    def _ldtilecfg(typingctx, cfg):
        def codegen(context, builder, sig, args):
            _call(builder, "llvm.x86.ldtilecfg", [_PTR],
                  [_byte_pointer(context, builder, sig.args[0], args[0], ir.Constant(
                      ir.IntType(64), 0))])
        return types.void(cfg), codegen

    @intrinsic
    def _tilerelease(typingctx):
        def codegen(context, builder, sig, args):
            _call(builder, "llvm.x86.tilerelease", [], [])
        return types.void(), codegen

    def _tile_ops(tile: int):
        """Load, store and zero of tile register ``tile`` (its number is an immediate)."""
        t = ir.Constant(_I8, tile)

        def memory(name: str):  # a tile load or store: tile, address, row stride
            @intrinsic
            def op(typingctx, arr, offset, stride):
                def codegen(context, builder, sig, args):
                    _call(builder, name, [_I8, _PTR, ir.IntType(64)],
                          [t, _byte_pointer(context, builder, sig.args[0], args[0], args[1]),
                           args[2]])
                return types.void(arr, offset, stride), codegen
            return op

        load, store = memory("llvm.x86.tileloadd64"), memory("llvm.x86.tilestored64")

        @intrinsic
        def zero(typingctx):
            def codegen(context, builder, sig, args):
                _call(builder, "llvm.x86.tilezero", [_I8], [t])
            return types.void(), codegen

        return load, store, zero

    def _dot(c: int, a: int, b: int):
        """``TDPBUSD`` tile ``c`` += tile ``a`` (u8) · tile ``b`` (s8, four rows interleaved)."""
        ops = [ir.Constant(_I8, x) for x in (c, a, b)]

        @intrinsic
        def dot(typingctx):
            def codegen(context, builder, sig, args):
                _call(builder, "llvm.x86.tdpbusd", [_I8, _I8, _I8], ops)
            return types.void(), codegen

        return dot


else:  # pure Python (the kernel tests' coverage run): the tiles emulated in NumPy
    _TILES = np.zeros((8, _TILE_ROWS, _TILE_BYTES), dtype=np.uint8)

    def _ldtilecfg(cfg):
        _TILES[:] = 0

    def _tilerelease():
        _TILES[:] = 0

    def _tile_ops(tile: int):
        def load(arr, offset, stride):
            flat = arr.reshape(-1).view(np.uint8)
            for r in range(_TILE_ROWS):
                _TILES[tile, r] = flat[offset + r * stride:offset + r * stride + _TILE_BYTES]

        def store(arr, offset, stride):
            flat = arr.reshape(-1).view(np.uint8)
            for r in range(_TILE_ROWS):
                flat[offset + r * stride:offset + r * stride + _TILE_BYTES] = _TILES[tile, r]

        def zero():
            _TILES[tile] = 0

        return load, store, zero

    def _dot(c: int, a: int, b: int):
        def dot():
            # c[m, n] += Σ_k a[m, 4 k + i] · b[k, 4 n + i], unsigned × signed bytes
            left = _TILES[a].astype(np.int64).reshape(_TILE_ROWS, 16, 4)
            right = _TILES[b].view(np.int8).astype(np.int64).reshape(16, 16, 4)
            acc = _TILES[c].view(np.int32)
            acc += np.einsum("mki,kni->mn", left, right).astype(np.int32)

        return dot


_load0, _store0, _zero0 = _tile_ops(0)
_load1, _store1, _zero1 = _tile_ops(1)
_load2, _store2, _zero2 = _tile_ops(2)
_load3, _store3, _zero3 = _tile_ops(3)
_load4, _, _ = _tile_ops(4)
_load5, _, _ = _tile_ops(5)
_load6, _, _ = _tile_ops(6)
_load7, _, _ = _tile_ops(7)
_dot0, _dot1, _dot2, _dot3 = _dot(0, 4, 6), _dot(1, 4, 7), _dot(2, 5, 6), _dot(3, 5, 7)


@njit(cache=True, nogil=True)
def _amx_rows(parts, digits, weights, wide, scale, out, lo, hi, scratch, cfg):
    """Rows ``lo .. hi`` (``lo`` a multiple of 32, ``hi`` at most ``out``'s rows) of the
    product into ``out``, 32 rows at a time: each part × digit × block of 32 columns as four
    16 × 16 int32 tiles (tiles 0–3 the sums, 4–5 two 16-row slices of the part, 6–7 two
    16-column slices of the digit) into ``scratch`` (J, 32, Np), then row by row ``out =
    float32(float64(Σ_j weights[j] · scratch[j]) · scale)``, the sum in float64 (exact: every
    partial sum an integer below 2**53) or, ``wide``, in int64."""
    n_parts, rows_pad, k_pad = parts.shape
    n_blocks, n_digits, k4, _ = digits.shape
    cols = out.shape[1]
    part_bytes, digit_bytes = rows_pad * k_pad, k4 * 128
    n_sums, _, n_pad = scratch.shape
    row_bytes = 4 * n_pad
    wf = weights.astype(np.float64)
    total = np.empty(cols, dtype=np.float64)
    total64 = np.empty(cols, dtype=np.int64)
    _ldtilecfg(cfg)
    for m in range(lo, hi, 32):
        for p in range(n_parts):
            for d in range(n_digits):
                j = p * n_digits + d
                for nb in range(n_blocks):
                    _zero0()
                    _zero1()
                    _zero2()
                    _zero3()
                    for k in range(0, k_pad, 64):
                        a0 = p * part_bytes + m * k_pad + k
                        b0 = (nb * n_digits + d) * digit_bytes + (k // 4) * 128
                        _load4(parts, a0, k_pad)
                        _load5(parts, a0 + 16 * k_pad, k_pad)
                        _load6(digits, b0, 128)
                        _load7(digits, b0 + 64, 128)
                        _dot0()
                        _dot1()
                        _dot2()
                        _dot3()
                    s0 = j * 32 * row_bytes + 128 * nb
                    _store0(scratch, s0, row_bytes)
                    _store1(scratch, s0 + 64, row_bytes)
                    _store2(scratch, s0 + 16 * row_bytes, row_bytes)
                    _store3(scratch, s0 + 16 * row_bytes + 64, row_bytes)
        for r in range(min(32, hi - m)):
            dst = out[m + r]
            if wide:
                total64[:] = 0
                for j in range(n_sums):
                    w = weights[j]
                    src = scratch[j, r]
                    for c in range(cols):
                        total64[c] += w * np.int64(src[c])
                for c in range(cols):
                    dst[c] = np.float32(np.float64(total64[c]) * scale)
            else:  # three sums a pass (exact in any order), the last pass into ``out``
                for j in range(0, n_sums, 3):
                    w0, w1, w2 = wf[j], 0.0, 0.0
                    s0 = s1 = s2 = scratch[j, r]
                    if j + 1 < n_sums:
                        w1, s1 = wf[j + 1], scratch[j + 1, r]
                    if j + 2 < n_sums:
                        w2, s2 = wf[j + 2], scratch[j + 2, r]
                    last = j + 3 >= n_sums
                    for c in range(cols):
                        v = (w0 * np.float64(s0[c]) + w1 * np.float64(s1[c])
                             + w2 * np.float64(s2[c]))
                        if j > 0:
                            v += total[c]
                        if last:
                            dst[c] = np.float32(v * scale)
                        else:
                            total[c] = v
    _tilerelease()


@njit(cache=True, nogil=True)
def _amx_pieces(jobs, bounds, progress, cfg):
    """:func:`_amx_rows` of each job ``(parts, digits, weights, wide, scale, out, scratch)``
    piece by piece (:func:`fixed_pieces`)."""
    for k in range(len(bounds) - 1):
        for job in jobs:
            parts, digits, weights, wide, scale, out, scratch = job
            _amx_rows(parts, digits, weights, wide, scale, out, bounds[k], bounds[k + 1],
                      scratch, cfg)
        publish(progress, k + 1)
