"""Numba kernels of the analog core's numerics: PWM inputs, phase read-out, ADC, FP16 LDPU.

Every kernel is pure (arrays in, arrays out) and batched over input vectors (the leading axis
``B``); :func:`analog_readout` takes its standard normals from the caller; :func:`noisy_readout`
(the one the core model uses) draws them itself from :func:`standard_normal`.
:func:`standard_normal` is a counter-based generator that is itself a pure function of an
explicit key (derived from a seeded generator by ``normal.key_from``) and each value's
position, so its values do not depend on threads, batches or workers. Each public function
validates its inputs (raising :class:`~chipsim.errors.ChipsimError`, a ``ValueError``, that
names the argument) and then calls a private ``@njit(cache=True)`` helper.
:mod:`chipsim.kernels.reference` holds a slow NumPy oracle for each kernel.

Examples
--------
>>> import numpy as np
>>> from chipsim.kernels import duty_split, pwm_quantize
>>> codes = pwm_quantize(np.array([[0.25, -1.0]]), 1.0, 127)
>>> codes
array([[  32, -127]], dtype=int16)
>>> [u.tolist() for u in duty_split(codes, 127)]
[[[0.25196850299835205, 0.0]], [[0.0, 1.0]]]
"""

from .adc import adc_convert
from .fp16 import fp16_round
from .ldpu import accumulate_int8, ldpu_affine, requantize_int8
from .normal import standard_normal
from .pwm import duty_split, duty_square, int_codes, pwm_quantize
from .readout import analog_readout, combine_phases, noisy_readout

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
