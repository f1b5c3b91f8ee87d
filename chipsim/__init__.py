"""chipsim: a cycle-level simulator of multi-core analog in-memory-computing chips.

The one entry point is :func:`simulate`; the README's "Python API" shows it at work. The names
below are imported on first use, so ``import chipsim`` (and ``chipsim --help``) stays fast.

- :func:`simulate`, :class:`RunConfig`: run a design point, and its run options;
- :func:`resolve_model`: a zoo name (with its shipped trained weights and task), a weights or
  an ONNX file;
- :func:`hermes`, :func:`preset`, :func:`load_chip`, :func:`override`: chips;
- :func:`apply_settings`: ``--set``-style settings (``core.adc_bits``, ``chip.cores``,
  ``run.samples``) on a chip and a run configuration;
- :func:`load_data`, :class:`Dataset`: your own samples to score a network on.
"""

__version__ = "0.1.0"

#: public name → module that defines it
_WHERE = {
    "simulate": "api", "RunConfig": "config", "resolve_model": "models",
    "hermes": "spec", "preset": "spec", "load_chip": "spec", "override": "spec",
    "apply_settings": "settings", "load_data": "data.user", "Dataset": "data.user",
    "Report": "report",
}

__all__ = [*_WHERE, "__version__"]


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'chipsim' has no attribute {name!r}")
