"""The calibration data: Table I of the chip paper (golden values) and the fitted parameter set.

Examples
--------
>>> t = load_table1()
>>> t["use_cases"]["all_cores"]["modes"]["4ph"]["latency_ns"]
520
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..yamltext import load_yaml

__all__ = ["TABLE1_PATH", "FIT_PATH", "METRICS", "load_table1", "load_fit"]

TABLE1_PATH = Path(__file__).with_name("table1.yaml")
"""Table I of [LG] with its source and conventions."""

FIT_PATH = Path(__file__).with_name("hermes_fit.yaml")
"""The parameter set fitted to Table I by ``python -m chipsim.calibration.fit``."""

METRICS = ("tops", "tops_per_w", "energy_uj", "latency_ns")
"""The four metrics of Table I, in its column order."""


def load_table1() -> dict[str, Any]:
    """Table I as a nested dict: ``use_cases -> name -> modes -> "1ph"|"4ph" -> metric``."""
    return load_yaml(TABLE1_PATH.read_text(encoding="utf-8"))


def load_fit() -> dict[str, Any]:
    """The fit file: parameters (value, unit, meaning, prior, source) and residuals."""
    return load_yaml(FIT_PATH.read_text(encoding="utf-8"))
