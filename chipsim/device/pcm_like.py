"""Fits of aihwkit's ``PCMLikeNoiseModel`` (Nandakumar et al., ICECS 2019).

Pure functions of relative conductances ``gr = g / g_max`` (arrays of any shape), transcribed
from IBM aihwkit, ``src/aihwkit/inference/noise/pcm.py`` ([AK], ``shared/hermes.md`` §6). The
fits were made for ``0 <= gr <= 1``; outside that range they are extrapolated exactly as aihwkit
does. Validation, clipping of ``gr`` and the shared laws (drift, 1/f time factor) live in
:mod:`chipsim.device.pcm_device`.

Examples
--------
>>> import numpy as np
>>> from chipsim.device import pcm_like
>>> mu, sigma = pcm_like.nu_stats(np.array([0.01, 0.5]))
>>> np.round(mu, 4).tolist(), np.round(sigma, 4).tolist()
([0.0958, 0.049], [0.045, 0.008])
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import polynomial as _poly

__all__ = [
    "G_MAX_US", "T0_S", "T_READ_S", "PROG_COEFFS", "PROG_G_MAX_REF_US",
    "prog_sigma_us", "nu_stats", "read_q",
]

G_MAX_US = 25.0
"""Characterised maximum conductance of one device (µS) [AK]."""
T0_S = 20.0
"""Time of the programming reference read, origin of the drift law (s) [AK]."""
T_READ_S = 250.0e-9
"""Parameter of the 1/f read-noise fit (s) [AK]."""
PROG_COEFFS = (0.26348, 1.9650, -1.1731)
"""Programming σ polynomial ``Σ c_i gr^i`` (µS at ``g_max = 25``) [AK]."""
PROG_G_MAX_REF_US = 25.0
"""``g_max`` at which :data:`PROG_COEFFS` were fitted; σ scales with ``g_max / 25`` [AK]."""


def prog_sigma_us(gr: np.ndarray, g_max_us: float) -> np.ndarray:
    """Programming-noise σ (µS): ``(0.26348 + 1.9650 gr - 1.1731 gr²) · g_max / 25``.

    Parameters
    ----------
    gr : ndarray
        Target conductance over ``g_max`` (not clipped, as in aihwkit).
    g_max_us : float
        Maximum conductance of the element (µS).

    Returns
    -------
    ndarray
        σ of the additive Gaussian programming error (µS).

    Examples
    --------
    >>> round(float(prog_sigma_us(np.array(1.0), 25.0)), 5)
    1.05538
    """
    return _poly.polyval(gr, PROG_COEFFS) * (g_max_us / PROG_G_MAX_REF_US)


def nu_stats(gr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and σ of the drift exponent's underlying normal, from the TARGET ``gr``.

    ``μν = clip(-0.0155 ln gr + 0.0244, 0.049, 0.1)``,
    ``σν = clip(-0.0125 ln gr - 0.0059, 0.008, 0.045)``.

    Parameters
    ----------
    gr : ndarray
        ``|g_target| / g_max``, already clipped to ``>= 1e-7`` by the caller.

    Returns
    -------
    (ndarray, ndarray)
        ``(mu_nu, sigma_nu)``, before any drift scale.

    Examples
    --------
    >>> [round(float(v), 4) for v in nu_stats(np.array(0.01))]
    [0.0958, 0.045]
    """
    log_gr = np.log(gr)
    mu = np.clip(-0.0155 * log_gr + 0.0244, 0.049, 0.1)
    sigma = np.clip(-0.0125 * log_gr - 0.0059, 0.008, 0.045)
    return mu, sigma


def read_q(gr_p: np.ndarray) -> np.ndarray:
    """1/f read-noise amplitude ``Q = min(0.0088 / max(gr_p^0.65, 1e-3), 0.2)``.

    Parameters
    ----------
    gr_p : ndarray
        ``|g_prog| / g_max`` (the PROGRAMMED conductance, as in aihwkit).

    Returns
    -------
    ndarray
        ``Q`` (dimensionless).

    Examples
    --------
    >>> round(float(read_q(np.array(1.0))), 4)
    0.0088
    """
    return np.minimum(0.0088 / np.maximum(gr_p**0.65, 1e-3), 0.2)
