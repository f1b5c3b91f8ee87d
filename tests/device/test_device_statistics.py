"""Sample statistics of the device model's random draws against their exact distributions.

Every test fixes its seed. Tolerances: each sample moment must lie within ``Z = 5`` standard
errors of its exact value, the standard error estimated from the sample itself (mean:
``s / sqrt(n)``; standard deviation, delta method: ``sqrt((m4 - s^4) / n) / (2 s)``;
fraction: ``sqrt(p (1 - p) / n)``). With ``N = 200_000`` draws per conductance level a
5-SE band is ~1.1 % of σ for a standard deviation and 5 σ / 447 for a mean.
"""

import math

import numpy as np
import pytest
from scipy import stats

from chipsim.device import make_device
from chipsim.spec import DeviceModel, DeviceSpec

N = 200_000
Z = 5.0
LEVELS = np.array([0.0, 0.02, 0.1, 0.3, 0.6, 0.95])  # gr = g / g_max of an element


def _mean_se(x: np.ndarray) -> float:
    return float(x.std(ddof=1)) / math.sqrt(x.size)


def _std_se(x: np.ndarray) -> float:
    s = float(x.std(ddof=1))
    m4 = float(np.mean((x - x.mean()) ** 4))
    return math.sqrt(max(m4 - s**4, 0.0) / x.size) / (2.0 * s)


def _assert_moments(x: np.ndarray, mean: float, std: float, what: str) -> None:
    """Sample mean and std of ``x`` within Z standard errors of ``mean`` and ``std``."""
    tol_mean = Z * _mean_se(x) + 1e-12
    tol_std = Z * _std_se(x) + 1e-12
    assert abs(x.mean() - mean) <= tol_mean, (what, "mean", x.mean(), mean, tol_mean)
    assert abs(x.std(ddof=1) - std) <= tol_std, (what, "std", x.std(ddof=1), std, tol_std)


def _rectified_normal(m: float, s: float) -> tuple[float, float]:
    """Exact mean and std of ``max(X, 0)``, ``X ~ N(m, s)`` (the clamp at 0)."""
    a = m / s
    cdf, pdf = stats.norm.cdf(a), stats.norm.pdf(a)
    e1 = m * cdf + s * pdf
    e2 = (m * m + s * s) * cdf + m * s * pdf
    return e1, math.sqrt(e2 - e1 * e1)


# --------------------------------------------------------------------------- programming
def test_programming_matches_clamped_normal_at_every_level(dev):
    g_t = LEVELS * dev.g_max_us
    target = np.repeat(g_t[:, None], N, axis=1)
    g_prog = dev.program(target, np.random.default_rng(1))
    assert g_prog.shape == target.shape and g_prog.min() >= 0.0
    sigma = dev.prog_sigma_us(g_t)
    for k, (gk, sk) in enumerate(zip(g_t, sigma, strict=True)):
        mean, std = _rectified_normal(gk, sk)
        _assert_moments(g_prog[k], mean, std, f"g_T={gk}")


def test_programming_unclamped_levels_have_mean_target_and_std_sigma(dev):
    g_t = LEVELS * dev.g_max_us
    sigma = dev.prog_sigma_us(g_t)
    keep = g_t >= 4.0 * sigma  # clamp at 0 negligible: P(X < 0) <= 3.2e-5
    assert keep.sum() >= 3  # several levels across the range are tested this way
    target = np.repeat(g_t[keep][:, None], N, axis=1)
    err = dev.program(target, np.random.default_rng(2)) - target
    for k, sk in enumerate(sigma[keep]):
        _assert_moments(err[k], 0.0, sk, f"g_T={g_t[keep][k]}")


def test_programming_at_zero_target_is_half_normal(dev):
    g_prog = dev.program(np.zeros(N), np.random.default_rng(3))
    sigma = float(dev.prog_sigma_us(0.0))
    zeros = np.mean(g_prog == 0.0)
    assert abs(zeros - 0.5) <= Z * math.sqrt(0.25 / N)
    positive = g_prog[g_prog > 0]
    # |N(0, σ)| (half-normal): mean σ·sqrt(2/π), std σ·sqrt(1 - 2/π)
    _assert_moments(positive, sigma * math.sqrt(2 / math.pi), sigma * math.sqrt(1 - 2 / math.pi),
                    "half-normal")


def test_prog_noise_scale_scales_the_error(config):
    model, devices = config
    base = make_device(DeviceSpec(model=model), devices)
    scaled = make_device(DeviceSpec(model=model, prog_noise_scale=2.5), devices)
    target = np.full(1000, 0.5 * base.g_max_us)
    np.testing.assert_allclose(scaled.prog_sigma_us(target), 2.5 * base.prog_sigma_us(target),
                               rtol=1e-14)
    e1 = base.program(target, np.random.default_rng(4)) - target
    g2 = scaled.program(target, np.random.default_rng(4))
    live = g2 > 0  # where the scaled draw was not clamped at 0
    assert live.mean() > 0.9
    np.testing.assert_allclose((g2 - target)[live], 2.5 * e1[live], rtol=1e-9, atol=1e-12)
    zero = make_device(DeviceSpec(model=model, prog_noise_scale=0.0), devices)
    np.testing.assert_array_equal(zero.program(target, np.random.default_rng(4)), target)


# --------------------------------------------------------------------------- drift exponent
def test_nu_is_folded_normal_of_drift_stats(dev):
    g_t = LEVELS * dev.g_max_us
    target = np.repeat(g_t[:, None], N, axis=1)
    nu = dev.draw_nu(target, np.random.default_rng(5))
    assert nu.min() >= 0.0
    mu, sigma = dev.drift_stats(g_t)
    for k in range(len(g_t)):
        folded = stats.foldnorm(c=abs(mu[k]) / sigma[k], scale=sigma[k])
        _assert_moments(nu[k], float(folded.mean()), float(folded.std()), f"g_T={g_t[k]}")


def test_folded_normal_moments_closed_form():
    # scipy's foldnorm against the closed form of |N(μ, σ)|, at a low-μ/σ point where they
    # differ visibly from (μ, σ)
    mu, s = 0.02, 0.03
    mean = s * math.sqrt(2 / math.pi) * math.exp(-mu**2 / (2 * s**2)) + mu * math.erf(
        mu / (s * math.sqrt(2)))
    std = math.sqrt(mu**2 + s**2 - mean**2)
    folded = stats.foldnorm(c=mu / s, scale=s)
    assert folded.mean() == pytest.approx(mean, rel=1e-12)
    assert folded.std() == pytest.approx(std, rel=1e-9)


def test_drift_scale_scales_nu(config):
    model, devices = config
    base = make_device(DeviceSpec(model=model), devices)
    scaled = make_device(DeviceSpec(model=model, drift_scale=2.5), devices)
    target = np.linspace(0, base.g_max_us, 1001)
    nu1 = base.draw_nu(target, np.random.default_rng(6))
    nu2 = scaled.draw_nu(target, np.random.default_rng(6))
    np.testing.assert_allclose(nu2, 2.5 * nu1, rtol=1e-14)
    for a, b in zip(base.drift_stats(target), scaled.drift_stats(target), strict=True):
        np.testing.assert_array_equal(a, b)  # drift_stats is before drift_scale
    off = make_device(DeviceSpec(model=model, drift_scale=0.0), devices)
    assert np.all(off.draw_nu(target, np.random.default_rng(6)) == 0.0)


# --------------------------------------------------------------------------- read noise
@pytest.mark.parametrize("t_s", [0.0, 3600.0, 3.15e7])
def test_read_matches_clamped_relative_normal(dev, t_s):
    gr_p = LEVELS[1:]
    g_prog = np.repeat((gr_p * dev.g_max_us)[:, None], N, axis=1)
    nu = 0.06
    g_t = dev.drift(g_prog, nu, t_s)
    reads = dev.read(g_prog, nu, t_s, np.random.default_rng(7))
    assert reads.min() >= 0.0
    rel = reads / g_t  # = max(1 + σ_r N(0, 1), 0)
    sigma = dev.read_sigma_rel(gr_p * dev.g_max_us, t_s)
    for k, sk in enumerate(sigma):
        mean, std = _rectified_normal(1.0, sk)
        _assert_moments(rel[k], mean, std, f"gr_p={gr_p[k]}")
        if sk <= 0.25:  # clamp negligible (1 >= 4 σ_r): plain relative σ
            _assert_moments(rel[k] - 1.0, 0.0, sk, f"gr_p={gr_p[k]} unclamped")


def test_read_sigma_grows_like_sqrt_log_time(dev):
    g = np.array([0.05, 0.3, 0.9]) * dev.g_max_us
    t0, tr = dev.t0_s, dev.t_read_s
    ref = dev.read_sigma_rel(g, 0.0)
    previous = ref
    for t in [1.0, 60.0, 3600.0, 86400.0, 3.15e7]:
        sig = dev.read_sigma_rel(g, t)
        ratio = math.sqrt(math.log((t + t0 + tr) / (2 * tr)) / math.log((t0 + tr) / (2 * tr)))
        np.testing.assert_allclose(sig / ref, ratio, rtol=1e-12)
        assert np.all(sig > previous)
        previous = sig
    # absolute value: Q · sqrt(ln((t + t0 + t_read) / (2 t_read))), aihwkit's t_total = t + t0
    t = 3600.0
    np.testing.assert_allclose(dev.read_sigma_rel(g, t),
                               dev.read_q(g) * math.sqrt(math.log((t + t0 + tr) / (2 * tr))),
                               rtol=1e-14)


def test_read_noise_scale(config):
    model, devices = config
    base = make_device(DeviceSpec(model=model), devices)
    g = np.linspace(0, base.g_max_us, 101)
    nu = np.full_like(g, 0.05)
    scaled = make_device(DeviceSpec(model=model, read_noise_scale=3.0), devices)
    np.testing.assert_allclose(scaled.read_sigma_rel(g, 100.0), 3 * base.read_sigma_rel(g, 100.0),
                               rtol=1e-14)
    off = make_device(DeviceSpec(model=model, read_noise_scale=0.0), devices)
    for t in [0.0, 100.0, 1e6]:
        np.testing.assert_array_equal(off.read(g, nu, t, np.random.default_rng(8)),
                                      off.drift(g, nu, t))
        assert np.all(off.read_sigma_rel(g, t) == 0.0)


def test_read_of_zero_conductance_is_zero(dev):
    out = dev.read(np.zeros(100), 0.05, 10.0, np.random.default_rng(9))
    np.testing.assert_array_equal(out, 0.0)


# --------------------------------------------------------------------------- TDP vs ODP
@pytest.mark.parametrize("gr", [0.3, 0.5, 0.7])
def test_tdp_relative_programming_error_smaller_than_odp(gr):
    odp = make_device(DeviceSpec(model=DeviceModel.HERMES), 1)
    tdp = make_device(DeviceSpec(model=DeviceModel.HERMES), 2)
    rel_odp = float(odp.prog_sigma_us(gr * odp.g_max_us)) / odp.g_max_us
    rel_tdp = float(tdp.prog_sigma_us(gr * tdp.g_max_us)) / tdp.g_max_us
    assert rel_tdp < 0.8 * rel_odp
    # and measured, not only from the formula
    rng = np.random.default_rng(10)
    e_odp = odp.program(np.full(N, gr * odp.g_max_us), rng) / odp.g_max_us - gr
    e_tdp = tdp.program(np.full(N, gr * tdp.g_max_us), rng) / tdp.g_max_us - gr
    assert e_tdp.std() + Z * _std_se(e_tdp) < e_odp.std() - Z * _std_se(e_odp)
