"""Counter-based standard normals: value ``p`` of a stream depends only on ``(key, p)``.

Every value is a pure function of a 64-bit ``key`` and its 64-bit position ``p`` (the
``offset`` of the first element plus its flat C-order index), so the same key and positions
give bit-identical float32 values whatever the number of threads, the batch size, the chunking
of a range of positions into calls, or the worker process that draws them. Callers keep
explicit seeds: :func:`key_from` draws a key from a :class:`numpy.random.Generator`, a
:class:`numpy.random.SeedSequence` or an int seed.

Method
------
**Uniform bits.** The 64-bit word of position ``p`` is output ``p + 1`` of the SplitMix64
stream (Steele, Lea & Flood 2014; Java's ``SplittableRandom``) whose seed and odd increment
("gamma") both come from the key::

    mix(z)  = the SplitMix64 finalizer (z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
              z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31)
    base    = mix(key)
    gamma   = mix(key ^ 0x9e3779b97f4a7c15) | 1, XOR 0xaaaa...aa when it has fewer than 24
              bit transitions (SplittableRandom's ``mixGamma`` rule against weak increments)
    word(p) = mix(base + (p + 1) * gamma)                   (uint64, wrapping)

``mix`` and multiplication by an odd gamma are bijections of 64-bit words, so distinct
positions of one key give distinct words; consecutive counters through the finalizer are the
SplitMix64 generator, which passes BigCrush. With a per-key gamma, two keys' streams are not
shifted copies of each other (as they would be with one fixed increment, for keys whose seeds
differ by a multiple of it); scrambling the key makes related keys (0, 1, 2, ...) unrelated.

**Gaussian.** A 256-layer ziggurat (Marsaglia & Tsang 2000, the 64-bit layout of Doornik's
ZIGNOR and NumPy's ``standard_normal``): of ``word(p)``, 8 bits choose a layer ``i``, 1 bit
the sign, 52 bits an integer ``j``; ``x = j * w[i]`` is uniform on ``[0, X[i])``. When
``j < k[i]`` (``x < X[i+1]``: about 99 % of draws) the point lies under the density and ``x``
is returned with no further work. Otherwise the exact rejection steps follow: in the base
layer the tail beyond ``r = 3.654...`` is drawn by Marsaglia's exact tail method (``x =
-log(U1) / r``, ``y = -log(U2)``, accept if ``2y > x²``, return ``r + x``); in the other layers
a height ``y`` uniform in the layer's wedge is accepted if ``y < exp(-x²/2)``, else the whole
draw restarts. The extra words of those steps come from a sub-stream of the position, ``sub(p,
a) = mix(mix(base2 + (p + 1) * gamma) + a * γ)`` for attempts ``a = 1, 2, ...`` with ``base2
= mix(key ^ 0x5851f42d4c957f2d)`` and γ = 0x9e3779b97f4a7c15, so they too depend only on
``(key, p)``.

Why exact: the ziggurat is a rejection sampler of the whole density, layers of equal area
cover it (the tables below are computed from the defining recursion with ``r`` solved to
double precision), points under the curve are accepted and the rest are re-drawn or sampled
exactly in the tail; no step approximates the inverse CDF. What remains is the 2^-52
resolution of the uniforms and the double-precision rounding of the tables, far below the
float32 output's 2^-24; the result is rounded once from float64 to float32.
"""

from __future__ import annotations

import math
import numbers

import numba
import numpy as np
from numba import njit

from ..errors import ChipsimError
from ._threads import helper_pool

__all__ = ["standard_normal", "standard_normal_rows", "key_from", "subkey", "ziggurat_tables",
           "ZIGGURAT_R"]

_U64 = np.uint64
_MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
"""The SplitMix64 golden increment (2^64 / golden ratio, odd): the sub-streams' increment,
and XORed into the key to draw a key's own increment."""
SUB_SALT = 0x5851F42D4C957F2D
"""XORed into the key to seed the rejection sub-streams."""
ZIGGURAT_R = 3.6541528853610088
"""Start of the tail of the 256-layer ziggurat (Marsaglia & Tsang 2000)."""
_LAYERS = 256
_BLOCK = 4096  # positions per pass of the two-pass fill; pieces of a split start at multiples


def ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 256-layer ziggurat of ``f(x) = exp(-x²/2)``: ``(k, w, f, x)``.

    ``x[0] = v / f(r)`` (the base layer's virtual width: the rectangle under ``f(r)`` plus the
    tail, area ``v``), ``x[1] = r``, ``x[i+1] = f⁻¹(f(x[i]) + v / x[i])``, ``x[256] = 0``; layer
    ``i`` is ``[0, x[i]) × [f(x[i]), f(x[i+1])]``. ``w[i] = x[i] / 2^52`` scales a 52-bit
    integer ``j`` to ``[0, x[i])``; ``k[i] = floor(x[i+1] / x[i] * 2^52)`` (uint64) is the
    bound below which ``j * w[i] < x[i+1]``, inside the curve; ``f[i] = f(x[i])``. Returned
    arrays are new (float64 except ``k``; ``x`` and ``f`` have 257 entries).
    """
    r = ZIGGURAT_R
    fr = math.exp(-0.5 * r * r)
    v = r * fr + math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))
    x = np.empty(_LAYERS + 1)
    x[0] = v / fr
    x[1] = r
    for i in range(1, _LAYERS - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(v / x[i] + math.exp(-0.5 * x[i] * x[i])))
    x[_LAYERS] = 0.0
    scale = 2.0**52
    k = np.array([math.floor(x[i + 1] / x[i] * scale) for i in range(_LAYERS)], dtype=np.uint64)
    w = x[:_LAYERS] / scale
    f = np.exp(-0.5 * x * x)
    return k, w, f, x


_K, _W, _F, _X = ziggurat_tables()

_TWO52 = 2.0**52
_EXP52 = 0x4330000000000000  # the bits of the double 2**52

if not numba.config.DISABLE_JIT:
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def _double_bits(typingctx, word):
        """The double whose 64 bits are ``word`` (uint64)."""
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(word), codegen
else:
    def _double_bits(word):
        return float(np.uint64(word).view(np.float64))


@njit(cache=True, inline="always")
def _small_to_double(j):
    """``float64(j)`` of a uint64 ``j < 2**52``, exactly: the double ``2**52 + j`` (its
    mantissa is ``j``) minus ``2**52``. An OR and a subtraction in place of the int64
    conversion, which AVX2 has only as a scalar instruction (with the slice of
    :func:`_fill_span`, the draw took 0.75 of the time on an AMD Zen 3).

    Examples
    --------
    >>> import numpy as np
    >>> _small_to_double(np.uint64(2**52 - 1)) == 2.0**52 - 1
    True
    """
    return _double_bits(j | _U64(_EXP52)) - _TWO52


@njit(cache=True, inline="always")
def _mix(z):
    """The SplitMix64 finalizer (a bijection of uint64)."""
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


@njit(cache=True)
def _stream(key):
    """``(base, gamma, base2)`` of a key: the seed and odd increment of its SplitMix64 stream
    and the seed of its rejection sub-streams."""
    gamma = _mix(key ^ _U64(GAMMA)) | _U64(1)
    flips = gamma ^ (gamma >> _U64(1))
    transitions = 0
    while flips:
        flips &= flips - _U64(1)
        transitions += 1
    if transitions < 24:
        gamma ^= _U64(0xAAAAAAAAAAAAAAAA)
    return _mix(key), gamma, _mix(key ^ _U64(SUB_SALT))


@njit(cache=True)
def _uniform(word):
    """A uniform double in (0, 1] from the top 53 bits of ``word``."""
    return (np.float64(np.int64(word >> _U64(11))) + 1.0) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _slow(base2, gamma, pos, word, k, w, f):
    """The value at ``pos`` whose first word ``word`` fell outside the fast rectangle: the
    tail or wedge test, then fresh draws from the position's sub-stream until one is
    accepted."""
    sub = _mix(base2 + (pos + _U64(1)) * gamma)
    attempt = _U64(0)
    while True:
        i = np.int64(word & _U64(0xFF))
        negative = (word >> _U64(8)) & _U64(1)
        j = word >> _U64(12)
        x = np.float64(np.int64(j)) * w[i]
        if j < k[i]:
            return -x if negative else x
        if i == 0:  # Marsaglia's exact tail method beyond r
            while True:
                attempt += _U64(1)
                u1 = _uniform(_mix(sub + attempt * _U64(GAMMA)))
                attempt += _U64(1)
                u2 = _uniform(_mix(sub + attempt * _U64(GAMMA)))
                xx = -math.log(u1) / ZIGGURAT_R
                yy = -math.log(u2)
                if yy + yy > xx * xx:
                    t = ZIGGURAT_R + xx
                    return -t if negative else t
        attempt += _U64(1)
        u = _uniform(_mix(sub + attempt * _U64(GAMMA)))
        y = f[i] + u * (f[i + 1] - f[i])
        if y < math.exp(-0.5 * x * x):
            return -x if negative else x
        attempt += _U64(1)
        word = _mix(sub + attempt * _U64(GAMMA))


@njit(cache=True, inline="always")
def _fill_span(base, gamma, base2, start, out, lo, hi, slow):
    """``out[n]`` = the standard normal (rounded to float32) at position ``start + n`` of the
    stream ``(base, gamma, base2)`` (:func:`_stream`), for ``n`` in ``[lo, hi)``; ``slow``
    (bool, at least ``hi − lo`` long) is scratch space.

    Two passes: the first takes every value's fast rectangle (the 99 % case) and marks the
    others, in a loop without calls or branches that the compiler vectorizes; the second
    replaces the marked values by their exact tail or wedge draw (:func:`_slow`). The same
    values as one branching pass, 2.2 times faster (AVX2, 256 × 1,024 values, measured
    while writing it); its counter advanced by adding ``gamma`` rather than multiplied per
    value, which LLVM had left as a 64-bit vector multiply each (0.62 → 0.51 ms for 1,024
    rows of 256 on AVX-512, the same values). On AVX2 LLVM leaves the loop scalar (gathers
    cost more than they save there): its conversion of ``j`` (:func:`_small_to_double`) and
    its stores into a slice from 0 made it 1.34 × faster on an AMD Zen 3 (1.00 → 0.75 ms for
    262,144 values, the same values). The tables are the module's constants, not
    arguments: a load from an argument array at a computed index may alias the stores, which
    kept LLVM from vectorizing the loop on AVX-512 (first pass 0.62 against 0.46 ms for
    262,144 values).
    """
    counter = base + (start + _U64(lo) + _U64(1)) * gamma
    span = out[lo:hi]  # indices from 0: no negative-index wrap-around per store
    for t in range(hi - lo):
        word = _mix(counter)
        counter += gamma  # (wrapping) the next position's: no 64-bit multiply per value
        i = np.int64(word & _U64(0xFF))
        j = word >> _U64(12)
        x = _small_to_double(j) * _W[i]
        sign = 1.0 - np.float64((word >> _U64(8)) & _U64(1)) * 2.0
        span[t] = np.float32(x * sign)  # the sign flip is exact (-0.0 for j = 0, as -x)
        slow[t] = j >= _K[i]
    for n in range(lo, hi):
        if slow[n - lo]:
            pos = start + _U64(n)
            word = _mix(base + (pos + _U64(1)) * gamma)
            out[n] = np.float32(_slow(base2, gamma, pos, word, _K, _W, _F))


@njit(cache=True, nogil=True)
def _fill(key, start, out, lo, hi):
    """``out[n]`` = the standard normal of ``(key, start + n)`` for ``n`` in ``[lo, hi)``
    (float32, 1-D), ``_BLOCK`` positions at a time."""
    base, gamma, base2 = _stream(key)
    slow = np.empty(_BLOCK, dtype=np.bool_)
    for a in range(lo, hi, _BLOCK):
        _fill_span(base, gamma, base2, start, out, a, min(a + _BLOCK, hi), slow)


@njit(cache=True, nogil=True)
def _fill_rows(key, positions, out):
    """``out[b, c]`` = the standard normal of ``(key, positions[b] · C + c)``."""
    base, gamma, base2 = _stream(key)
    rows, cols = out.shape
    slow = np.empty(cols, dtype=np.bool_)
    for b in range(rows):
        _fill_span(base, gamma, base2, positions[b] * _U64(cols), out[b], 0, cols, slow)


def _uint64(name: str, value: object) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise ChipsimError(f"{name}: must be an integer in [0, 2**64), got {value!r}")
    value = int(value)
    if not 0 <= value <= _MASK:
        raise ChipsimError(f"{name}: must be in [0, 2**64), got {value}")
    return value


def key_from(source: object) -> int:
    """A 64-bit key for :func:`standard_normal` from an explicit seed.

    Parameters
    ----------
    source : numpy.random.Generator, numpy.random.SeedSequence or int
        A Generator gives one ``uint64`` draw (and advances); a SeedSequence its first 64-bit
        state word (``generate_state``; use :meth:`~numpy.random.SeedSequence.spawn` for
        independent streams); an int ``>= 0`` is a seed for a SeedSequence.

    Returns
    -------
    int
        The key, in ``[0, 2**64)``.

    Raises
    ------
    ValueError
        When ``source`` is none of these, or a negative int.

    Examples
    --------
    >>> import numpy as np
    >>> key_from(np.random.SeedSequence(7)) == key_from(7)
    True
    >>> key_from(np.random.default_rng(7)) < 2**64
    True
    """
    if isinstance(source, np.random.Generator):
        return int(source.integers(0, 2**64, dtype=np.uint64))
    if isinstance(source, np.random.SeedSequence):
        return int(source.generate_state(1, dtype=np.uint64)[0])
    if isinstance(source, numbers.Integral) and not isinstance(source, bool | np.bool_):
        if source < 0:
            raise ChipsimError(f"source: an int seed must be >= 0, got {source}")
        return key_from(np.random.SeedSequence(int(source)))
    raise ChipsimError("source: must be a numpy.random.Generator, SeedSequence or int seed, "
                       f"got {type(source).__name__}")


def _mix_int(z: int) -> int:
    """:func:`_mix` on a Python int."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def subkey(key: int, index: int) -> int:
    """The key of sub-stream ``index`` of stream ``key``: ``mix(mix(key ^ SUB_SALT) + (index
    + 1) · GAMMA)`` (64-bit wrapping), so that one explicit key names as many independent
    streams as a caller needs (one per programmed core, say). ``mix`` is a bijection and
    GAMMA is odd, so distinct indices of one key give distinct keys.

    Examples
    --------
    >>> subkey(7, 0) != subkey(7, 1) != subkey(8, 0)
    True
    """
    key = _uint64("key", key)
    index = _uint64("index", index)
    return _mix_int((_mix_int(key ^ SUB_SALT) + (index + 1) * GAMMA) & _MASK)


def standard_normal(key, size=None, *, offset=0, out=None, parallel=True) -> np.ndarray:
    """Standard normals (float32) at positions ``offset, offset + 1, ...`` of stream ``key``.

    Element ``n`` (flat, C order) of the result is a pure function of ``(key, offset + n)``:
    any split of a range of positions into calls (``offset`` arithmetic), any thread count and
    ``parallel`` on or off give the same bits. The method (SplitMix64 counter hash, 256-layer
    ziggurat with exact tail and wedge rejection) is in the module docstring.

    Parameters
    ----------
    key : int
        Stream key in ``[0, 2**64)``, e.g. from :func:`key_from`.
    size : int or tuple of int, optional
        Shape of a new result; exactly one of ``size`` and ``out`` is given.
    offset : int, default 0
        Position of the first element, ``>= 0``; ``offset + number of elements <= 2**64``.
    out : numpy.ndarray of float32, optional
        C-contiguous, writeable array filled in place (and returned).
    parallel : bool, default True
        Split the fill at multiples of 4,096 positions over Numba's thread count, the caller
        and Python helper threads (:mod:`chipsim.kernels._threads`) each taking a piece (the
        same values as serial).

    Returns
    -------
    numpy.ndarray of float32
        ``out``, or a new array of shape ``size``.

    Raises
    ------
    ValueError
        On a key or offset that is not an integer in ``[0, 2**64)``, a range of positions past
        ``2**64``, a negative size, both or neither of ``size`` and ``out``, or an ``out`` that
        is not a C-contiguous writeable float32 array.

    Examples
    --------
    >>> z = standard_normal(12345, (2, 3))
    >>> z.dtype, z.shape
    (dtype('float32'), (2, 3))
    >>> bool((standard_normal(12345, 4, offset=2) == z.ravel()[2:]).all())
    True
    """
    key = _uint64("key", key)
    offset = _uint64("offset", offset)
    if (size is None) == (out is None):
        raise ChipsimError("size, out: give exactly one (the shape of a new array, or a "
                           "float32 array to fill)")
    if out is None:
        shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
                   for s in shape):
            raise ChipsimError(f"size: must be a non-negative int or tuple of them, got {size!r}")
        out = np.empty(shape, dtype=np.float32)
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float32
              and out.flags.c_contiguous and out.flags.writeable):
        raise ChipsimError("out: must be a C-contiguous, writeable float32 numpy array, got "
                           f"{getattr(out, 'dtype', type(out).__name__)}")
    if offset + out.size > _MASK + 1:
        raise ChipsimError(f"offset: offset + {out.size} elements passes 2**64 (got {offset})")
    flat = out.reshape(-1)
    size = flat.size
    parts = max(1, min(numba.get_num_threads(), size // _BLOCK)) if parallel else 1
    cuts = [k * (size // _BLOCK) // parts * _BLOCK for k in range(parts)] + [size]
    args = (_U64(key), _U64(offset), flat)
    with np.errstate(over="ignore"):  # uint64 wrapping, in pure Python (NUMBA_DISABLE_JIT)
        others = [helper_pool().submit(_fill, *args, lo, hi)
                  for lo, hi in zip(cuts[1:-1], cuts[2:], strict=True)]
        _fill(*args, cuts[0], cuts[1])
        for future in others:
            future.result()
    return out


def standard_normal_rows(key, positions, cols) -> np.ndarray:
    """Rows of standard normals (float32, (B, ``cols``)): row ``b`` holds the values of stream
    ``key`` at positions ``positions[b] · cols + (0 .. cols − 1)``, as
    :func:`standard_normal` gives them; the draws of a batch of vectors that each own a
    position, wherever each sits in the batch.

    Examples
    --------
    >>> z = standard_normal_rows(5, np.array([2, 0]), 3)
    >>> bool((z[0] == standard_normal(5, 3, offset=6)).all())
    True
    """
    key = _uint64("key", key)
    pos = np.asarray(positions)
    if pos.ndim != 1 or not (np.issubdtype(pos.dtype, np.integer) or pos.size == 0):
        raise ChipsimError(f"positions: must be a 1-D integer array, got shape {pos.shape} "
                           f"of {pos.dtype}")
    cols = _uint64("cols", cols)
    if pos.size and (int(pos.min()) < 0 or (int(pos.max()) + 1) * cols > _MASK + 1):
        raise ChipsimError("positions: must be >= 0 with (position + 1) × cols <= 2**64")
    out = np.empty((pos.size, cols), dtype=np.float32)
    with np.errstate(over="ignore"):
        _fill_rows(_U64(key), pos.astype(np.uint64), out)
    return out
