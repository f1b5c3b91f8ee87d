"""Statistical PCM device models: programming noise, drift and 1/f read noise.

Formulas as in IBM aihwkit ([AK], ``src/aihwkit/inference/noise/pcm.py`` and ``hermes.py``;
``shared/hermes.md`` §6). :func:`make_device` resolves a :class:`~chipsim.spec.DeviceSpec` into a
:class:`PCMDevice` whose methods program, drift and read arrays of element conductances (µS).
The fits themselves are pure functions in :mod:`chipsim.device.pcm_like` and
:mod:`chipsim.device.hermes`.

Examples
--------
>>> import numpy as np
>>> from chipsim.device import make_device
>>> from chipsim.spec import DeviceSpec
>>> dev = make_device(DeviceSpec(), devices_per_polarity=2)
>>> rng = np.random.default_rng(0)
>>> target = np.array([0.0, 5.0, 20.7])
>>> g_prog = dev.program(target, rng)
>>> nu = dev.draw_nu(target, rng)
>>> dev.read(g_prog, nu, 3600.0, rng).shape
(3,)
"""

from . import hermes, pcm_like
from .pcm_device import PCMDevice, make_device

__all__ = ["PCMDevice", "make_device", "hermes", "pcm_like"]
