"""The counter-based Gaussian generator: bits against its NumPy oracle, the distribution
(moments, KS, tails), independence of threads, chunking and keys, and its inputs.

The statistical tests use fixed keys (deterministic) and bounds of 5 standard errors, or
binomial intervals of probability 1 - 1e-6; they carry the mark ``many_draws``, which the
pure-Python coverage run (NUMBA_DISABLE_JIT=1, tests/kernels/test_coverage.py) deselects; the
small exactness tests run there too.
"""

import math

import numba
import numpy as np
import pytest
from scipy import stats

from chipsim.errors import ChipsimError
from chipsim.kernels import normal, reference, standard_normal
from chipsim.kernels.normal import ZIGGURAT_R, key_from, ziggurat_tables

#: 10^6-10^8 draws: too slow without the JIT, so the coverage run deselects them
many_draws = pytest.mark.many_draws

KEY = 0x0123456789ABCDEF


def test_tables_have_equal_areas_and_cover_the_density():
    k, w, f, x = ziggurat_tables()
    r = ZIGGURAT_R
    v = r * f[1] + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    areas = x[1:256] * (f[2:257] - f[1:256])  # layers 1..255; the last one reaches f(0) = 1
    np.testing.assert_allclose(areas, v, rtol=1e-11)
    assert x[0] * f[1] == pytest.approx(v, rel=1e-15)  # the base layer with its tail
    assert np.all(np.diff(x[1:]) < 0) and f[256] == 1.0
    assert k.dtype == np.uint64 and k[255] == 0  # the top layer is all wedge
    np.testing.assert_array_equal(w, x[:256] / 2.0**52)


@pytest.mark.parametrize("key, offset, shape", [
    (0, 0, (40_000,)),
    (KEY, 10**12, (97, 311)),
    (2**64 - 1, 2**64 - 30_001, (30_000,)),
])
def test_matches_reference_bit_for_bit(key, offset, shape):
    got = standard_normal(key, shape, offset=offset)
    want = reference.standard_normal(key, shape, offset=offset)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_array_equal(got, want)


def test_matches_reference_on_random_keys_and_offsets():
    rng = np.random.default_rng(20261206)
    slow = tails = 0
    k = ziggurat_tables()[0]
    for _ in range(6):
        key = key_from(rng)
        offset = int(rng.integers(0, 2**63, dtype=np.int64)) * 2 + int(rng.integers(2))
        got = standard_normal(key, 20_000, offset=offset)
        np.testing.assert_array_equal(got, reference.standard_normal(key, 20_000, offset))
        tails += int((np.abs(got) > ZIGGURAT_R).sum())
        # the positions whose first word fell outside the fast rectangle
        base = reference._mix64(key)
        pos = np.uint64(offset) + np.arange(20_000, dtype=np.uint64)
        word = reference._mix64(np.uint64(base) + (pos + np.uint64(1))
                                * np.uint64(reference._normal_gamma(key)))
        slow += int(((word >> np.uint64(12)) >= k[(word & np.uint64(255)).astype(int)]).sum())
    assert slow > 100 and tails > 3  # the wedge and tail paths were compared too


@many_draws
def test_moments_of_ten_million_draws():
    n = 10_000_000
    z = standard_normal(KEY, n).astype(np.float64)
    se = 1.0 / math.sqrt(n)
    assert abs(z.mean()) < 5 * se
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2.0) * se
    assert abs(stats.skew(z)) < 5 * math.sqrt(6.0) * se
    assert abs(stats.kurtosis(z)) < 5 * math.sqrt(24.0) * se  # excess kurtosis


@many_draws
def test_kolmogorov_smirnov_against_the_normal():
    z = standard_normal(KEY, 1_000_000, offset=5 * 10**9).astype(np.float64)
    assert stats.kstest(z, stats.norm.cdf).pvalue > 1e-3
    # and across the layer boundaries: a chi-square over 1,000 equiprobable bins
    counts = np.bincount(np.minimum((stats.norm.cdf(z) * 1000).astype(int), 999),
                         minlength=1000)
    assert stats.chisquare(counts).pvalue > 1e-3


@many_draws
def test_tail_frequencies_within_binomial_bounds():
    n = 100_000_000
    thresholds = np.array([3.0, ZIGGURAT_R, 4.0, 5.0])
    upper = np.zeros(len(thresholds), dtype=np.int64)
    lower = np.zeros(len(thresholds), dtype=np.int64)
    r32 = np.float32(ZIGGURAT_R)
    beyond_r = []
    for start in range(0, n, 10_000_000):
        z = standard_normal(KEY + 1, 10_000_000, offset=start)
        for m, t in enumerate(thresholds.astype(np.float32)):  # 3.654... is rounded
            upper[m] += np.count_nonzero(z > t)
            lower[m] += np.count_nonzero(z < -t)
        beyond_r.append(np.abs(z[np.abs(z) > r32]))
    # the shape beyond r (the exact tail method's draws): the normal truncated at r
    t = np.concatenate(beyond_r).astype(np.float64)
    sf_r = stats.norm.sf(float(r32))
    assert stats.kstest(t, lambda v: 1.0 - stats.norm.sf(v) / sf_r).pvalue > 1e-3
    for t, up, lo in zip(thresholds.astype(np.float32).astype(float), upper, lower,
                         strict=True):
        p = stats.norm.sf(t)
        lo_b, hi_b = stats.binom.interval(1 - 1e-6, n, p)
        assert lo_b <= up <= hi_b, (t, up, n * p)
        assert lo_b <= lo <= hi_b, (t, lo, n * p)
        lo_b, hi_b = stats.binom.interval(1 - 1e-6, n, 2 * p)
        assert lo_b <= up + lo <= hi_b, (t, up + lo, 2 * n * p)


@many_draws
def test_same_bits_with_one_or_two_threads_and_serial():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = standard_normal(KEY, (1000, 1003), offset=77)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = standard_normal(KEY, (1000, 1003), offset=77)
    finally:
        numba.set_num_threads(before)
    serial = standard_normal(KEY, (1000, 1003), offset=77, parallel=False)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, serial)


def test_threaded_and_serial_fill_agree():
    # also in pure-Python mode: the parallel helper over several blocks
    a = standard_normal(KEY, 3 * 4096 + 5, offset=3)
    b = standard_normal(KEY, 3 * 4096 + 5, offset=3, parallel=False)
    np.testing.assert_array_equal(a, b)


def test_any_split_of_a_range_gives_the_same_values():
    rng = np.random.default_rng(3)
    offset, n = 2**40 + 11, 50_001
    whole = standard_normal(KEY, n, offset=offset)
    for _ in range(5):
        cuts = np.sort(rng.choice(np.arange(1, n), size=rng.integers(1, 8), replace=False))
        parts = [standard_normal(KEY, int(b - a), offset=offset + int(a))
                 for a, b in zip(np.r_[0, cuts], np.r_[cuts, n], strict=True)]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    # the shape does not matter either: flat C order
    out = np.empty((3, 7, 11), dtype=np.float32)
    assert standard_normal(KEY, offset=offset + 5, out=out) is out
    np.testing.assert_array_equal(out.ravel(), whole[5:5 + 231])


@many_draws
def test_streams_of_different_keys_and_lags_are_uncorrelated():
    n = 2_000_000
    bound = 5.0 / math.sqrt(n)
    base = standard_normal(0, n + 1).astype(np.float64)
    others = {
        "key 1": standard_normal(1, n),
        "key 2**63": standard_normal(2**63, n),
        "key from a Generator": standard_normal(key_from(np.random.default_rng(0)), n),
        "lag 1": base[1:],
    }
    a = base[:n]
    for name, b in others.items():
        b = np.asarray(b, dtype=np.float64)
        assert abs(np.corrcoef(a, b)[0, 1]) < bound, name
        assert abs(np.corrcoef(a * a, b * b)[0, 1]) < bound, name  # beyond linear
        assert not np.array_equal(a[:1000], b[:1000]), name


def test_float32_output_and_empty_shapes():
    assert standard_normal(1, (2, 0)).shape == (2, 0)
    assert standard_normal(1, 0).dtype == np.float32
    z = standard_normal(1, (4, 5))
    assert z.dtype == np.float32 and z.flags.c_contiguous and np.isfinite(z).all()


def test_key_from_explicit_seeds():
    assert key_from(7) == key_from(np.random.SeedSequence(7))
    assert key_from(7) != key_from(8)
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    assert key_from(r1) == key_from(r2) and key_from(r1) != key_from(np.random.default_rng(5))
    assert 0 <= key_from(np.uint64(3)) < 2**64
    for bad in (-1, 1.5, "7", True, None):
        with pytest.raises(ChipsimError, match="source"):
            key_from(bad)


@pytest.mark.parametrize("kwargs, arg", [
    ({"key": -1, "size": 3}, "key"),
    ({"key": 2**64, "size": 3}, "key"),
    ({"key": 1.0, "size": 3}, "key"),
    ({"key": True, "size": 3}, "key"),
    ({"key": 1, "size": 3, "offset": -1}, "offset"),
    ({"key": 1, "size": 3, "offset": 2**64 - 2}, "offset"),
    ({"key": 1, "size": 3, "offset": 0.5}, "offset"),
    ({"key": 1}, "size, out"),
    ({"key": 1, "size": 3, "out": np.empty(3, np.float32)}, "size, out"),
    ({"key": 1, "size": -1}, "size"),
    ({"key": 1, "size": (2, 1.5)}, "size"),
    ({"key": 1, "out": np.empty(3)}, "out"),
    ({"key": 1, "out": np.empty((4, 4), np.float32)[:, ::2]}, "out"),
    ({"key": 1, "out": [0.0, 1.0]}, "out"),
])
def test_bad_input_names_the_argument(kwargs, arg):
    with pytest.raises(ChipsimError, match=arg):
        standard_normal(**kwargs)
    readonly = np.empty(3, np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ChipsimError, match="out"):
        standard_normal(1, out=readonly)


def test_last_positions_of_the_counter_space():
    z = standard_normal(KEY, 3, offset=2**64 - 3)
    np.testing.assert_array_equal(z, reference.standard_normal(KEY, 3, offset=2**64 - 3))


def test_weak_increments_are_replaced():
    # a key whose raw increment has few bit transitions gets SplittableRandom's fix
    def transitions(g):
        return bin(g ^ (g >> 1)).count("1")

    raw = [reference._mix64(key ^ reference._GAMMA) | 1 for key in range(300)]
    weak = [key for key, g in enumerate(raw) if transitions(g) < 24]
    strong = next(key for key, g in enumerate(raw) if transitions(g) >= 24)
    assert weak and transitions(reference._normal_gamma(weak[0])) >= 24
    assert reference._normal_gamma(strong) == raw[strong]
    for key in (weak[0], strong):
        np.testing.assert_array_equal(standard_normal(key, 5000),
                                      reference.standard_normal(key, 5000))


def test_rows_are_the_values_at_their_positions():
    pos = np.array([7, 0, 3, 2**20])
    z = normal.standard_normal_rows(42, pos, 5)
    assert z.dtype == np.float32 and z.shape == (4, 5)
    for row, p in zip(z, pos, strict=True):
        np.testing.assert_array_equal(row, standard_normal(42, 5, offset=int(p) * 5))
    assert normal.standard_normal_rows(42, np.array([], dtype=int), 5).shape == (0, 5)
    with pytest.raises(ValueError, match="^positions"):
        normal.standard_normal_rows(42, np.array([-1]), 5)
    with pytest.raises(ValueError, match="^positions"):
        normal.standard_normal_rows(42, np.array([[1]]), 5)


def test_subkeys_are_distinct_and_validated():
    keys = {normal.subkey(k, i) for k in (0, 1, 2**64 - 1) for i in range(100)}
    assert len(keys) == 300
    with pytest.raises(ValueError, match="^index"):
        normal.subkey(1, -1)
