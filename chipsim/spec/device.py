"""PCM device specification: which statistical device model and its parameters."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._fields import spec_field, validate

__all__ = ["DeviceModel", "DeviceSpec"]


class DeviceModel(enum.Enum):
    """Statistical PCM device models (formulas: ``shared/hermes.md`` §6, aihwkit [AK])."""

    PCM_LIKE = "pcm_like"
    """aihwkit ``PCMLikeNoiseModel`` (Nandakumar et al., ICECS 2019)."""
    HERMES = "hermes"
    """aihwkit ``HermesNoiseModel``: fitted on the 64-core chip, 1- or 2-device unit cells."""


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """The PCM devices of the crossbars.

    ``None`` for ``g_max_us``, ``t0_s`` and ``t_read_s`` selects the characterised value of the
    chosen model for the core's devices per polarity (see :mod:`chipsim.device`).
    """

    model: DeviceModel = spec_field(DeviceModel.HERMES, "statistical device model",
                                    choices=tuple(DeviceModel))
    g_max_us: float | None = spec_field(
        None, "conductance (µS) of one polarity that max|W| of a core maps to; None = model's "
        "characterised maximum (hermes: 20.7 TDP / 10.35 ODP; pcm_like: 25)",
        lo=0.0, lo_open=True, hi=1000.0)
    t0_s: float | None = spec_field(
        None, "time (s) of the programming reference read; None = model default "
        "(hermes: 300 TDP / 200 ODP; pcm_like: 20) [AK]", lo=0.0, lo_open=True)
    t_read_s: float | None = spec_field(
        None, "1/f read-noise integration parameter (s); None = model default "
        "(hermes: 512e-9; pcm_like: 250e-9) [AK]", lo=0.0, lo_open=True)
    prog_noise_scale: float = spec_field(1.0, "multiplier on programming-noise σ", lo=0.0,
                                         hi=100.0)
    read_noise_scale: float = spec_field(1.0, "multiplier on read-noise σ", lo=0.0, hi=100.0)
    drift_scale: float = spec_field(1.0, "multiplier on drift exponents ν", lo=0.0, hi=100.0)

    def __post_init__(self) -> None:
        validate(self)
