"""Input validation shared by the public kernel wrappers.

Every public kernel calls these helpers before its private ``@njit`` helper, so a bad input is
a :class:`~chipsim.errors.ChipsimError` (a ``ValueError``) naming the argument and what is
allowed, never a Numba typing error. Arrays come back C-contiguous in the requested dtype.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import ChipsimError

__all__ = [
    "FP16_OVERFLOW",
    "FP16_ZERO",
    "as_real",
    "as_int",
    "positive",
    "non_negative",
    "levels_int",
    "flag",
    "same_shape",
    "leading_axis",
    "per_column",
    "positive_values",
    "fp16_range",
    "fp16_nonzero",
]

FP16_OVERFLOW = 65520.0
"""Smallest magnitude that rounds to ±inf in IEEE half precision."""
FP16_ZERO = 2.0**-25
"""Largest magnitude that rounds to zero in IEEE half precision (ties to even)."""


def _array(name: str, x: object) -> np.ndarray:
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise ChipsimError(f"{name}: must be a numeric array, got {type(x).__name__} "
                           f"({exc})") from None
    return arr


def _ndim(name: str, arr: np.ndarray, ndim: int | None) -> None:
    if ndim is not None and arr.ndim != ndim:
        raise ChipsimError(f"{name}: must be a {ndim}-D array, got shape {arr.shape}")


def as_real(name: str, x: object, ndim: int | None, *, dtype: type | None = np.float32,
            finite: bool = True) -> np.ndarray:
    """``x`` as a C-contiguous ``dtype`` array (dtype kept when None) of ``ndim`` dimensions
    (any when None).

    Integer and float inputs are accepted; bool, complex, str and object are not. With
    ``finite``, NaN and ±Inf are rejected, also those a conversion to ``dtype`` creates.
    """
    arr = _array(name, x)
    if arr.dtype.kind not in "iuf":
        raise ChipsimError(f"{name}: must be a real (integer or float) array, got dtype "
                           f"{arr.dtype}")
    _ndim(name, arr, ndim)
    with np.errstate(over="ignore"):
        out = np.asarray(arr, dtype=dtype, order="C")
    if finite and out.dtype.kind == "f" and not np.isfinite(out).all():
        raise ChipsimError(f"{name}: must be finite (in {out.dtype}), got NaN or Inf")
    return out


def as_int(name: str, x: object, ndim: int, *, lo: int, hi: int,
           dtype: type = np.int32) -> np.ndarray:
    """``x`` as a C-contiguous integer ``dtype`` array with every value in ``[lo, hi]``."""
    arr = _array(name, x)
    if arr.dtype.kind not in "iu":
        raise ChipsimError(f"{name}: must be an integer array, got dtype {arr.dtype}")
    _ndim(name, arr, ndim)
    if arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        raise ChipsimError(f"{name}: values must lie in [{lo}, {hi}], got "
                           f"[{int(arr.min())}, {int(arr.max())}]")
    return np.asarray(arr, dtype=dtype, order="C")


def _unwrap(x: object) -> object:
    """A 0-d array as its scalar; anything else unchanged."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _real_scalar(name: str, x: object) -> float:
    x = _unwrap(x)
    if isinstance(x, bool | np.bool_) or not isinstance(x, numbers.Real):
        raise ChipsimError(f"{name}: must be a real number, got {type(x).__name__} {x!r}")
    value = float(x)
    if not np.isfinite(value):
        raise ChipsimError(f"{name}: must be finite, got {value!r}")
    return value


def positive(name: str, x: object) -> float:
    """``x`` as a finite float > 0."""
    value = _real_scalar(name, x)
    if value <= 0.0:
        raise ChipsimError(f"{name}: must be > 0, got {value!r}")
    return value


def non_negative(name: str, x: object) -> float:
    """``x`` as a finite float >= 0."""
    value = _real_scalar(name, x)
    if value < 0.0:
        raise ChipsimError(f"{name}: must be >= 0, got {value!r}")
    return value


def levels_int(name: str, x: object, hi: int) -> int:
    """``x`` as an int in ``[1, hi]`` (the largest code magnitude of a quantizer)."""
    x = _unwrap(x)
    if isinstance(x, bool | np.bool_) or not isinstance(x, numbers.Integral):
        raise ChipsimError(f"{name}: must be an integer in [1, {hi}], got "
                           f"{type(x).__name__} {x!r}")
    value = int(x)
    if not 1 <= value <= hi:
        raise ChipsimError(f"{name}: must be an integer in [1, {hi}], got {value}")
    return value


def flag(name: str, x: object) -> bool:
    """``x`` as a bool; only ``True``/``False`` (Python or NumPy) are accepted."""
    x = _unwrap(x)
    if not isinstance(x, bool | np.bool_):
        raise ChipsimError(f"{name}: must be True or False, got {type(x).__name__} {x!r}")
    return bool(x)


def same_shape(name: str, arr: np.ndarray, ref_name: str, shape: tuple[int, ...]) -> None:
    """Require ``arr.shape == shape``, the shape of the argument ``ref_name``."""
    if arr.shape != tuple(shape):
        raise ChipsimError(f"{name}: must have the shape of {ref_name} {tuple(shape)}, got "
                           f"{arr.shape}")


def leading_axis(name: str, arr: np.ndarray, size: int, shape_text: str) -> None:
    """Require ``arr.shape[0] == size`` (``shape_text`` names the expected shape)."""
    if arr.shape[0] != size:
        raise ChipsimError(f"{name}: must have shape {shape_text}, got {arr.shape}")


def per_column(name: str, arr: np.ndarray, cols: int) -> None:
    """Require a (C,) vector with ``C == cols``."""
    if arr.shape != (cols,):
        raise ChipsimError(f"{name}: must have shape (C,) = ({cols},), one value per column, "
                           f"got {arr.shape}")


def positive_values(name: str, arr: np.ndarray, what: str) -> None:
    """Require every value of ``arr`` to be > 0 (``what`` names one value, e.g. "column gain")."""
    if arr.size and float(arr.min()) <= 0.0:
        raise ChipsimError(f"{name}: every {what} must be > 0, got min {float(arr.min())!r}")


def fp16_range(name: str, arr: np.ndarray) -> None:
    """Require every value to round to a finite FP16 number (``|x| < 65520``)."""
    if arr.size and float(np.abs(arr).max()) >= FP16_OVERFLOW:
        raise ChipsimError(f"{name}: values must fit an FP16 register (|x| < 65520), got "
                           f"max |x| = {float(np.abs(arr).max())!r}")


def fp16_nonzero(name: str, value: float, what: str) -> None:
    """Require ``value`` (derived from the argument ``name``) to round to a finite, non-zero
    FP16 number, i.e. ``2**-25 < |value| < 65520``."""
    if not FP16_ZERO < abs(value) < FP16_OVERFLOW:
        raise ChipsimError(f"{name}: {what} = {value!r} must round to a finite non-zero FP16 "
                           f"value, i.e. lie in (2**-25, 65520)")
