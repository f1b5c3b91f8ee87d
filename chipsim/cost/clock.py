"""Clock periods in integer picoseconds (the timing engine's time unit).

Examples
--------
>>> period_ps(400.0), align_up(1, 2500)
(2500, 2500)
"""

from __future__ import annotations

__all__ = ["period_ps", "align_up"]


def period_ps(mhz: float) -> int:
    """Clock period (ps) of a ``mhz`` clock, rounded to the nearest picosecond (at least 1).

    Examples
    --------
    >>> period_ps(1000.0), period_ps(400.0), period_ps(333.0)
    (1000, 2500, 3003)
    """
    if not mhz > 0:
        raise ValueError(f"a clock frequency must be > 0 MHz, got {mhz}")
    return max(1, round(1e6 / mhz))


def align_up(t_ps: int, period: int) -> int:
    """The first edge of a clock of ``period`` ps at or after ``t_ps`` (edges at multiples).

    Examples
    --------
    >>> align_up(133000, 2500), align_up(135000, 2500)
    (135000, 135000)
    """
    return -(-t_ps // period) * period
