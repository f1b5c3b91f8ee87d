"""The machine a benchmark ran on: CPU, cores, BLAS, versions, load."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

__all__ = ["machine_info"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict[str, Any]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - threadpoolctl comes with scipy/sklearn
        threadpool_info = None
    if threadpool_info is not None:
        import numpy  # noqa: F401 - loads numpy's BLAS so that it is listed

        for pool in threadpool_info():
            if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
                return {k: pool.get(k) for k in ("internal_api", "version", "num_threads",
                                                 "architecture", "threading_layer")}
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"internal_api": blas.get("name"), "version": blas.get("version")}
    except Exception:  # pragma: no cover - older NumPy
        return {}


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores (and those this process may use), BLAS of NumPy, versions of
    Python and the numeric libraries, and the load average when called."""
    import numba
    import numpy as np
    import simpy

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "blas": _blas(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "numba": numba.__version__,
        "simpy": simpy.__version__,
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
