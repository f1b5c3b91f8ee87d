"""Each fit of aihwkit's PCM models at hand-picked points.

The expected numbers are computed here by plain Python arithmetic from the formulas as written
in aihwkit (``src/aihwkit/inference/noise/pcm.py`` and ``hermes.py``; ``shared/hermes.md`` §6),
independently of :mod:`chipsim.device`. Points sit on both sides of every branch threshold and
inside and outside every clip.
"""

import math

import numpy as np
import pytest

from chipsim.device import hermes, make_device, pcm_like
from chipsim.spec import DeviceModel, DeviceSpec

ln = math.log


def clip(x, lo, hi):
    return min(max(x, lo), hi)


def _check(fn, points, *args):
    gr = np.array([p for p, _ in points])
    expected = np.array([e for _, e in points])
    np.testing.assert_allclose(fn(gr, *args), expected, rtol=1e-12, atol=0.0)


# --------------------------------------------------------------------------- PCM_LIKE
def test_pcm_like_programming_sigma():
    for gr in [0.0, 0.02, 0.5, 1.0]:
        expected = 0.26348 + 1.9650 * gr - 1.1731 * gr * gr
        assert float(pcm_like.prog_sigma_us(np.array(gr), 25.0)) == pytest.approx(expected,
                                                                                   rel=1e-12)
        # scaled by g_max / 25
        assert float(pcm_like.prog_sigma_us(np.array(gr), 20.0)) == pytest.approx(
            expected * 20.0 / 25.0, rel=1e-12)
    assert float(pcm_like.prog_sigma_us(np.array(0.5), 25.0)) == pytest.approx(0.952705)


def test_pcm_like_drift_stats():
    mu_points = [
        (1e-7, 0.1),                                  # clipped at the top
        (1e-3, clip(-0.0155 * ln(1e-3) + 0.0244, 0.049, 0.1)),  # 0.1315 -> 0.1
        (0.01, -0.0155 * ln(0.01) + 0.0244),          # 0.09578, inside
        (0.1, -0.0155 * ln(0.1) + 0.0244),            # 0.06009, inside
        (0.5, 0.049),                                 # 0.03514 clipped at the bottom
        (1.0, 0.049),
    ]
    sigma_points = [
        (1e-7, 0.045),
        (0.01, 0.045),                                # 0.05166 clipped at the top
        (0.1, -0.0125 * ln(0.1) - 0.0059),            # 0.02288, inside
        (0.3, -0.0125 * ln(0.3) - 0.0059),            # 0.00915, inside
        (0.5, 0.008),                                 # 0.00276 clipped at the bottom
        (1.0, 0.008),
    ]
    _check(lambda g: pcm_like.nu_stats(g)[0], mu_points)
    _check(lambda g: pcm_like.nu_stats(g)[1], sigma_points)
    assert -0.0155 * ln(0.01) + 0.0244 == pytest.approx(0.09578, abs=1e-5)


def test_pcm_like_read_q():
    points = [
        (1e-7, 0.2),                                  # gr^0.65 < 1e-3 -> 8.8 -> capped 0.2
        (3e-4, 0.2),                                  # 0.0088 / 0.00514 = 1.71 -> 0.2
        (0.02, 0.0088 / 0.02**0.65),                  # 0.1118, inside
        (0.1, 0.0088 / 0.1**0.65),                    # 0.03931
        (1.0, 0.0088),
    ]
    _check(pcm_like.read_q, points)


# --------------------------------------------------------------------------- HERMES
@pytest.mark.parametrize("devices", [1, 2])
def test_hermes_programming_sigma(devices):
    c = {2: [0.16603222, 4.71806468, -8.48101252, 4.68961419],
         1: [0.15781817, 2.32443916, -2.16310839, 0.68841818]}[devices]
    ref = {2: 20.7, 1: 10.35}[devices]
    for gr in [0.0, 0.1, 0.5, 1.0]:
        expected = c[0] + c[1] * gr + c[2] * gr**2 + c[3] * gr**3
        for g_max in [ref, 0.5 * ref]:
            got = float(hermes.prog_sigma_us(np.array(gr), g_max, devices))
            assert got == pytest.approx(expected * g_max / ref, rel=1e-12)


def test_hermes_drift_mean():
    # the same for 1 and 2 devices; low branch for gr < 0.0945, high branch from 0.0945 on
    points = [
        (1e-7, 0.13),                                  # 0.6056 clipped at the top
        (0.01, clip(-0.0387 * ln(0.01) - 0.0182, 0.0720, 0.13)),  # 0.1600 -> 0.13
        (0.05, -0.0387 * ln(0.05) - 0.0182),           # 0.09774, inside
        (0.09, clip(-0.0387 * ln(0.09) - 0.0182, 0.0720, 0.13)),  # 0.07499, inside
        (0.0945, -0.0436 * 0.0945**2 - 0.0126 * 0.0945 + 0.0736),  # high branch at threshold
        (0.5, -0.0436 * 0.25 - 0.0126 * 0.5 + 0.0736),  # 0.0564
        (1.0, -0.0436 - 0.0126 + 0.0736),               # 0.0174
    ]
    assert points[3][1] == pytest.approx(0.07499, abs=1e-5)
    # the low branch just below the threshold differs from the high branch at it
    assert -0.0387 * ln(0.0945) - 0.0182 == pytest.approx(0.07310, abs=1e-5)
    assert points[4][1] == pytest.approx(0.07202, abs=1e-5)
    for devices in (1, 2):
        _check(lambda g, d=devices: hermes.nu_stats(g, d)[0], points)


def test_hermes_drift_sigma_one_device():
    points = [
        (1e-7, 0.04),                                  # 0.1911 clipped at the top
        (0.01, 0.04),                                  # 0.0530 -> 0.04
        (0.1, -0.0120 * ln(0.1) - 0.0023),             # 0.02533, inside
        (0.3, 0.0124),                                 # 0.01215 clipped at the bottom
        (0.3039, -0.0165 * 0.3039**2 + 0.0116 * 0.3039 + 0.0104),  # high branch at threshold
        (0.6, -0.0165 * 0.36 + 0.0116 * 0.6 + 0.0104),
        (1.0, -0.0165 + 0.0116 + 0.0104),
    ]
    assert -0.0120 * ln(0.3) - 0.0023 < 0.0124
    _check(lambda g: hermes.nu_stats(g, 1)[1], points)


def test_hermes_drift_sigma_two_devices():
    points = [
        (1e-7, 0.04),
        (0.02, clip(-0.0117 * ln(0.02) - 0.0057, 0.0091, 0.04)),  # 0.04007 -> 0.04
        (0.05, -0.0117 * ln(0.05) - 0.0057),           # 0.02935, inside
        (0.3, 0.0091),                                 # 0.00839 clipped at the bottom
        (0.3055, -0.0118 * 0.3055**2 + 0.0093 * 0.3055 + 0.0073),  # high branch at threshold
        (0.6, -0.0118 * 0.36 + 0.0093 * 0.6 + 0.0073),
        (1.0, -0.0118 + 0.0093 + 0.0073),
    ]
    assert -0.0117 * ln(0.3) - 0.0057 < 0.0091
    _check(lambda g: hermes.nu_stats(g, 2)[1], points)


def test_hermes_read_q_one_device():
    def high(x):
        return 0.0664 * x**3 - 0.1352 * x**2 + 0.0768 * x + 0.0088

    points = [
        (1e-7, 0.04),                                  # 0.1295 clipped at the top
        (1e-3, clip(-0.0078 * ln(1e-3) + 0.0038, 0.0179, 0.04)),  # 0.05768 -> 0.04
        (0.02, -0.0078 * ln(0.02) + 0.0038),           # 0.03431, inside
        (0.15, clip(-0.0078 * ln(0.15) + 0.0038, 0.0179, 0.04)),  # 0.01860, inside
        (0.1591, high(0.1591)),                        # high branch at threshold
        (0.5, high(0.5)),
        (1.0, 0.0664 - 0.1352 + 0.0768 + 0.0088),      # 0.0168
    ]
    _check(lambda g: hermes.read_q(g, 1), points)


def test_hermes_read_q_two_devices():
    def high(x):
        return 0.0069 * x**3 - 0.0280 * x**2 + 0.0211 * x + 0.0123

    points = [
        (1e-7, 0.04),
        (0.01, clip(-0.0117 * ln(0.01) - 0.0069, 0.015, 0.04)),  # 0.04698 -> 0.04
        (0.05, -0.0117 * ln(0.05) - 0.0069),           # 0.02815, inside
        (0.15, clip(-0.0117 * ln(0.15) - 0.0069, 0.015, 0.04)),  # 0.01530, inside
        (0.16, high(0.16)),                            # high branch at threshold
        (0.5, high(0.5)),
        (1.0, 0.0069 - 0.0280 + 0.0211 + 0.0123),      # 0.0123
    ]
    _check(lambda g: hermes.read_q(g, 2), points)


# --------------------------------------------------------------------------- through PCMDevice
def test_device_uses_target_for_nu_and_programmed_for_q():
    dev = make_device(DeviceSpec(model=DeviceModel.HERMES), 2)  # g_max 20.7
    mu, sigma = dev.drift_stats(np.array([0.0, 1.035, 10.35]))
    np.testing.assert_allclose(mu, [0.13, -0.0387 * ln(0.05) - 0.0182,
                                    -0.0436 * 0.25 - 0.0126 * 0.5 + 0.0736], rtol=1e-12)
    np.testing.assert_allclose(sigma, [0.04, -0.0117 * ln(0.05) - 0.0057,
                                       -0.0118 * 0.25 + 0.0093 * 0.5 + 0.0073], rtol=1e-12)
    np.testing.assert_allclose(dev.read_q(np.array([0.0, 1.035])),
                               [0.04, -0.0117 * ln(0.05) - 0.0069], rtol=1e-12)
    t = 86400.0
    expected = (-0.0117 * ln(0.05) - 0.0069) * math.sqrt(ln((t + 300.0 + 512e-9) / 1024e-9))
    assert float(dev.read_sigma_rel(1.035, t)) == pytest.approx(expected, rel=1e-12)


def test_pcm_like_two_elements_use_element_g_max():
    dev = make_device(DeviceSpec(model=DeviceModel.PCM_LIKE, g_max_us=40.0), 2)  # 20 per device
    gr = 0.1
    g = gr * 20.0
    assert float(dev.prog_sigma_us(g)) == pytest.approx(
        (0.26348 + 1.9650 * gr - 1.1731 * gr * gr) * 20.0 / 25.0, rel=1e-12)
    assert float(dev.drift_stats(g)[0]) == pytest.approx(-0.0155 * ln(gr) + 0.0244, rel=1e-12)
    assert float(dev.read_q(g)) == pytest.approx(0.0088 / gr**0.65, rel=1e-12)
    t = 0.0
    assert float(dev.read_sigma_rel(g, t)) == pytest.approx(
        0.0088 / gr**0.65 * math.sqrt(ln((t + 20.0 + 250e-9) / 500e-9)), rel=1e-12)
