"""MVM error characterisation of one core, following the chip paper's protocol.

Protocol ([LG] §II): one full 256 × 256 core holds uniform random weights in [−1, 1] with 30 %
of them zero; 2,048 random input vectors, uniform in [−1, 1] with 30 % zeros, are quantized to
the PWM codes and multiplied on the simulated core, ``t_s`` seconds after programming.

Definitions (``y``: the chip's outputs in weight × input units; ``y_ideal``: the exact float
product of the quantized inputs and the intended weights, over all vectors and columns):

- ``relative_error_l2 = ‖y − y_ideal‖₂ / ‖y_ideal‖₂``;
- ``error_std_percent = 100 · std(y − y_ideal) / max|y_ideal|``: the error's σ as a percentage
  of the largest ideal output;
- ``effective_weight_bits``: the weight precision ``b`` (sign + ``b − 1`` magnitude bits,
  uniform, scaled to max |W|) at which a digital MVM with the same quantized inputs has the same
  ``relative_error_l2`` as the chip; interpolated log-linearly between whole bits.

With ``core.adc_range = calibrated`` the core's ADC range is calibrated on
``core.adc_range_calibration_mvms`` evenly spaced vectors of those inputs (counted in
``range_calibration_mvms``; ``adc_full_scale_ua`` is the range used).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import ChipsimError
from ..kernels import pwm_quantize
from ..spec import ChipSpec, override
from .core import program_core

__all__ = ["MVMErrorResult", "mvm_error", "effective_bits", "with_options", "MAX_VALUES",
           "max_vectors"]

#: The most input and output values one measurement holds, ``vectors × (rows + cols)``: its
#: memory grows with them (about 2 GB at this bound, 100,000 vectors of a 256 × 256 core, in
#: 12 s). For more statistics, combine measurements with other seeds.
MAX_VALUES = 100_000 * 512


def max_vectors(chip: ChipSpec) -> int:
    """The most input vectors :func:`mvm_error` takes for a core of ``chip``
    (:data:`MAX_VALUES` over the core's rows + columns).

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> max_vectors(hermes())
    100000
    """
    return MAX_VALUES // (chip.core.rows + chip.core.cols)


@dataclass(frozen=True, slots=True)
class MVMErrorResult:
    """Result of :func:`mvm_error`; see the module docstring for the definitions."""

    relative_error_l2: float
    error_std_percent: float
    effective_weight_bits: float
    read_mode: str
    devices_per_polarity: int
    device_model: str
    adc_bits: int
    t_seconds: float
    gdc: bool
    gdc_factor: float
    calibration_mvms: int
    vectors: int
    seed: int
    adc_full_scale_ua: float
    range_calibration_mvms: int

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def _sparse_uniform(rng: np.random.Generator, shape: tuple[int, ...],
                    sparsity: float) -> np.ndarray:
    x = rng.uniform(-1.0, 1.0, size=shape)
    x[rng.random(shape) < sparsity] = 0.0
    return x


def _rel_l2(y: np.ndarray, ideal: np.ndarray) -> float:
    return float(np.linalg.norm(y - ideal) / np.linalg.norm(ideal))


def effective_bits(u: np.ndarray, weights: np.ndarray, rel_error: float,
                   max_bits: int = 16) -> float:
    """Weight bits of a digital MVM ``u @ Wq`` whose relative L2 error equals ``rel_error``.

    ``Wq`` is ``weights`` quantized uniformly to ``2**(b-1) - 1`` magnitude levels of max |W|.
    The result is interpolated log-linearly in the error between whole bits and clipped to
    ``[1, max_bits]``.
    """
    ideal = u @ weights
    w_max = np.max(np.abs(weights))
    bits = np.arange(1, max_bits + 1)
    errs = []
    for b in bits:
        levels = max(2 ** (int(b) - 1) - 1, 1)
        wq = np.rint(weights / w_max * levels) * (w_max / levels)
        errs.append(_rel_l2(u @ wq, ideal))
    log_err = np.log(np.maximum(np.array(errs), 1e-300))
    target = np.log(max(rel_error, 1e-300))
    # errors fall with bits: interpolate on the reversed (increasing) sequence
    return float(np.clip(np.interp(target, log_err[::-1], bits[::-1].astype(float)), 1,
                         max_bits))


def mvm_error(chip: ChipSpec, *, t_s: float = 60.0, gdc: bool = True, seed: int = 0,
              vectors: int = 2048, sparsity: float = 0.3) -> MVMErrorResult:
    """Characterise the MVM error of one core of ``chip`` (protocol in the module docstring).

    Parameters
    ----------
    chip
        The chip; read mode, devices per polarity, ADC bits and the device model come from it.
    t_s
        Time since programming (s).
    gdc
        Apply global drift compensation (its calibration MVMs are counted in the result).
    seed
        Seed of the weights, inputs, chip instance and read noise.
    vectors, sparsity
        Number of input vectors (at most :func:`max_vectors`: 100,000 for a 256 × 256 core)
        and fraction of zeros in inputs and weights.

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> r = mvm_error(hermes(), vectors=64)
    >>> 0 < r.relative_error_l2 < 1
    True
    """
    most = max_vectors(chip)
    if isinstance(vectors, bool) or not isinstance(vectors, int) or not 1 <= vectors <= most:
        raise ChipsimError(f"vectors: must be an integer >= 1 and <= {most:,} for a core of "
                           f"{chip.core.rows}×{chip.core.cols} (memory grows with vectors × "
                           f"(rows + cols); combine runs with other seeds for more), got "
                           f"{vectors!r}")
    if not 0.0 <= sparsity < 1.0:
        raise ChipsimError(f"sparsity: must be in [0, 1), got {sparsity!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ChipsimError(f"seed: must be an integer >= 0, got {seed!r}")
    with threadpool_limits(1):  # BLAS's float sums may depend on its thread count
        return _measure(chip, t_s, gdc, seed, vectors, sparsity)


def _measure(chip: ChipSpec, t_s: float, gdc: bool, seed: int, vectors: int,
             sparsity: float) -> MVMErrorResult:
    core = chip.core
    data_ss, prog_ss, read_ss = np.random.SeedSequence(seed).spawn(3)
    data_rng = np.random.default_rng(data_ss)
    weights = _sparse_uniform(data_rng, (core.rows, core.cols), sparsity)
    x = _sparse_uniform(data_rng, (vectors, core.rows), sparsity)
    codes = pwm_quantize(x.astype(np.float32), 1.0, core.input_levels)
    u = codes.astype(np.float64) / core.input_levels
    ideal = u @ weights

    # the chip's core 0: its dead ADC columns apply (stuck devices apply to every core); a
    # calibrated ADC range is set on evenly spaced vectors of the protocol's inputs
    n_cal = core.adc_range_calibration_mvms
    range_codes = codes[(2 * np.arange(n_cal) + 1) * len(codes) // (2 * n_cal)]
    inst = program_core(weights, chip, np.random.default_rng(prog_ss), core_id=0,
                        range_codes=range_codes)
    read_rng = np.random.default_rng(read_ss)
    state = inst.read_state(t_s)
    factor = inst.gdc_factor(state, read_rng) if gdc else 1.0
    y = inst.mvm(codes, state, read_rng, x_scale=1.0, gdc=factor).astype(np.float64)

    rel = _rel_l2(y, ideal)
    err = y - ideal
    return MVMErrorResult(
        relative_error_l2=rel,
        error_std_percent=float(100.0 * err.std() / np.max(np.abs(ideal))),
        effective_weight_bits=effective_bits(u, weights, rel),
        read_mode=core.read_mode.value,
        devices_per_polarity=core.devices_per_polarity,
        device_model=chip.device.model.value,
        adc_bits=core.adc_bits,
        t_seconds=float(t_s),
        gdc=gdc,
        gdc_factor=float(factor),
        calibration_mvms=inst.calibration_mvms * (2 if gdc else 1),
        vectors=vectors,
        seed=seed,
        adc_full_scale_ua=float(inst.adc_full_scale_ua),
        range_calibration_mvms=inst.range_calibration_mvms,
    )


def with_options(chip: ChipSpec, *, mode: str | None = None, devices: int | None = None,
                 adc_bits: int | None = None) -> ChipSpec:
    """``chip`` with the read mode, devices per polarity and ADC bits replaced where given."""
    for key, value in (("core.read_mode", mode), ("core.devices_per_polarity", devices),
                       ("core.adc_bits", adc_bits)):
        if value is not None:
            chip = override(chip, key, value)
    return chip
