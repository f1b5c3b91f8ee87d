"""chipsim: a cycle-level simulator of multi-core analog in-memory-computing chips.

The one entry point is :func:`simulate`; see the README for the data flow.
"""

__version__ = "0.1.0"

__all__ = ["simulate", "RunConfig", "__version__"]


def __getattr__(name: str):
    # lazy: ``import chipsim`` (and ``chipsim --help``) stays fast
    if name == "simulate":
        from .api import simulate

        return simulate
    if name == "RunConfig":
        from .config import RunConfig

        return RunConfig
    raise AttributeError(f"module 'chipsim' has no attribute {name!r}")
