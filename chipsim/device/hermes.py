"""Fits of aihwkit's ``HermesNoiseModel``, characterised on the 64-core PCM chip.

Pure functions of relative conductances ``gr = g / g_max`` (arrays of any shape), transcribed
from IBM aihwkit, ``src/aihwkit/inference/noise/hermes.py`` ([AK], ``shared/hermes.md`` §6).
``devices`` is the number of PCM devices per weight polarity: 1 (ODP, one device) or 2 (TDP,
the two-device pair modelled, as in aihwkit, as ONE element whose statistics are the fitted pair
statistics). Each piecewise fit uses its low branch for ``gr < threshold`` and its high branch
for ``gr >= threshold``, as aihwkit does. The fits were made for ``0 <= gr <= 1``; outside that
range they are extrapolated as in aihwkit (some high branches turn negative far above 1).

Examples
--------
>>> import numpy as np
>>> from chipsim.device import hermes
>>> mu, sigma = hermes.nu_stats(np.array([0.05, 0.5]), devices=2)
>>> np.round(mu, 4).tolist(), np.round(sigma, 4).tolist()
([0.0977, 0.0564], [0.0294, 0.009])
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import polynomial as _poly

__all__ = [
    "G_MAX_US", "T0_S", "T_READ_S", "PROG_COEFFS", "PROG_G_MAX_REF_US",
    "prog_sigma_us", "nu_stats", "read_q",
]

G_MAX_US = {1: 10.35, 2: 20.7}
"""Characterised maximum conductance of one polarity (µS) by devices per polarity [AK]."""
T0_S = {1: 200.0, 2: 300.0}
"""Time of the programming reference read (s) by devices per polarity [AK]."""
T_READ_S = 512.0e-9
"""Parameter of the 1/f read-noise fit (s) [AK]."""
PROG_COEFFS = {
    1: (0.15781817, 2.32443916, -2.16310839, 0.68841818),
    2: (0.16603222, 4.71806468, -8.48101252, 4.68961419),
}
"""Programming σ cubic ``Σ c_i gr^i`` (µS at the reference ``g_max``) [AK]."""
PROG_G_MAX_REF_US = G_MAX_US
"""``g_max`` at which :data:`PROG_COEFFS` were fitted; σ scales with ``g_max / ref`` [AK]."""


def _check(devices: int) -> None:
    if devices not in (1, 2):
        raise ValueError(f"devices: must be 1 or 2 devices per polarity, got {devices!r}")


def prog_sigma_us(gr: np.ndarray, g_max_us: float, devices: int) -> np.ndarray:
    """Programming-noise σ (µS): ``Σ c_i gr^i · g_max / ref`` (ref 20.7 TDP, 10.35 ODP).

    Parameters
    ----------
    gr : ndarray
        Target conductance over ``g_max`` (not clipped, as in aihwkit).
    g_max_us : float
        Maximum conductance of the element (µS).
    devices : {1, 2}
        Devices per polarity: selects the fit.

    Returns
    -------
    ndarray
        σ of the additive Gaussian programming error (µS).

    Examples
    --------
    >>> round(float(prog_sigma_us(np.array(0.0), 20.7, 2)), 8)
    0.16603222
    """
    _check(devices)
    return _poly.polyval(gr, PROG_COEFFS[devices]) * (g_max_us / PROG_G_MAX_REF_US[devices])


def nu_stats(gr: np.ndarray, devices: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and σ of the drift exponent's underlying normal, from the TARGET ``gr``.

    ``μν``: ``gr < 0.0945``: ``clip(-0.0387 ln gr - 0.0182, 0.0720, 0.13)``, else
    ``-0.0436 gr² - 0.0126 gr + 0.0736`` (both device counts).
    ``σν`` (1 device): ``gr < 0.3039``: ``clip(-0.0120 ln gr - 0.0023, 0.0124, 0.04)``, else
    ``-0.0165 gr² + 0.0116 gr + 0.0104``;
    (2 devices): ``gr < 0.3055``: ``clip(-0.0117 ln gr - 0.0057, 0.0091, 0.04)``, else
    ``-0.0118 gr² + 0.0093 gr + 0.0073``.

    Parameters
    ----------
    gr : ndarray
        ``|g_target| / g_max``, already clipped to ``>= 1e-7`` by the caller.
    devices : {1, 2}
        Devices per polarity: selects the σν fit.

    Returns
    -------
    (ndarray, ndarray)
        ``(mu_nu, sigma_nu)``, before any drift scale.

    Examples
    --------
    >>> [round(float(v), 4) for v in nu_stats(np.array(0.5), 1)]
    [0.0564, 0.0121]
    """
    _check(devices)
    log_gr = np.log(gr)
    mu = np.where(gr < 0.0945, np.clip(-0.0387 * log_gr - 0.0182, 0.0720, 0.13),
                  -0.0436 * gr**2 - 0.0126 * gr + 0.0736)
    if devices == 1:
        sigma = np.where(gr < 0.3039, np.clip(-0.0120 * log_gr - 0.0023, 0.0124, 0.04),
                         -0.0165 * gr**2 + 0.0116 * gr + 0.0104)
    else:
        sigma = np.where(gr < 0.3055, np.clip(-0.0117 * log_gr - 0.0057, 0.0091, 0.04),
                         -0.0118 * gr**2 + 0.0093 * gr + 0.0073)
    return mu, sigma


def read_q(gr_p: np.ndarray, devices: int) -> np.ndarray:
    """1/f read-noise amplitude ``Q`` from the PROGRAMMED ``gr_p = |g_prog| / g_max``.

    (1 device) ``gr_p < 0.1591``: ``clip(-0.0078 ln gr_p + 0.0038, 0.0179, 0.04)``, else
    ``0.0664 gr_p³ - 0.1352 gr_p² + 0.0768 gr_p + 0.0088``;
    (2 devices) ``gr_p < 0.16``: ``clip(-0.0117 ln gr_p - 0.0069, 0.015, 0.04)``, else
    ``0.0069 gr_p³ - 0.0280 gr_p² + 0.0211 gr_p + 0.0123``.

    Parameters
    ----------
    gr_p : ndarray
        ``|g_prog| / g_max``, clipped to ``>= 1e-7`` by the caller (aihwkit takes ``ln 0 = -inf``
        and clips to the upper bound 0.04; clipping first gives the same value).
    devices : {1, 2}
        Devices per polarity: selects the fit.

    Returns
    -------
    ndarray
        ``Q`` (dimensionless).

    Examples
    --------
    >>> round(float(read_q(np.array(1.0), 2)), 4)
    0.0123
    """
    _check(devices)
    log_gr = np.log(gr_p)
    if devices == 1:
        return np.where(gr_p < 0.1591, np.clip(-0.0078 * log_gr + 0.0038, 0.0179, 0.04),
                        0.0664 * gr_p**3 - 0.1352 * gr_p**2 + 0.0768 * gr_p + 0.0088)
    return np.where(gr_p < 0.16, np.clip(-0.0117 * log_gr - 0.0069, 0.015, 0.04),
                    0.0069 * gr_p**3 - 0.0280 * gr_p**2 + 0.0211 * gr_p + 0.0123)
