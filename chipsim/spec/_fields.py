"""Field declarations and validation shared by all spec dataclasses.

Every spec field is declared with :func:`spec_field`, which stores a one-line description
(with unit and source) and the allowed range in the field's metadata. :func:`validate` checks
types and ranges from that metadata, so a dataclass's ``__post_init__`` is one call and the
file loader, the ``--set`` overrides and direct construction all give the same messages.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from typing import Any

from ..errors import ChipsimError, brief

__all__ = ["SpecError", "spec_field", "validate", "field_doc"]

_INT64 = 2**63


class SpecError(ChipsimError):
    """A spec value that is wrong; ``path`` is the dotted field path (e.g. ``core.adc_bits``)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)

    def under(self, prefix: str) -> SpecError:
        """The same error with ``prefix`` put before its path."""
        path = f"{prefix}.{self.path}" if self.path else prefix
        return SpecError(path, self.message)


def spec_field(
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    choices: tuple | None = None,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """Declare a spec field with its description and allowed values.

    Parameters
    ----------
    default, default_factory
        As for :func:`dataclasses.field`.
    doc
        One line: meaning, unit and source of the value.
    lo, hi
        Inclusive bounds for numbers (``lo`` exclusive when ``lo_open``); for tuples of numbers
        they bound every element.
    choices
        The allowed values, when they are a short list.
    """
    meta = {"doc": doc, "lo": lo, "hi": hi, "lo_open": lo_open, "choices": choices}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def field_doc(cls: type, name: str) -> str:
    """The description of field ``name`` of spec class ``cls``."""
    return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}[name]


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(hint: Any) -> str:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in hint)
    if isinstance(hint, type):
        return {"int": "an integer", "float": "a number", "bool": "true or false",
                "str": "a string"}.get(hint.__name__, hint.__name__)
    return str(hint).replace("typing.", "")


def _check_type(path: str, value: Any, hint: Any) -> None:
    """Raise :class:`SpecError` when ``value`` is not of type ``hint``."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return
        inner = [a for a in args if a is not type(None)]
        errors = []
        for a in inner:
            try:
                _check_type(path, value, a)
                return
            except SpecError as exc:
                errors.append(exc.message)
        raise SpecError(path, " or ".join(errors))
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, tuple):
            raise SpecError(path, f"must be a list, got {brief(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            for i, v in enumerate(value):
                _check_type(f"{path}[{i}]", v, args[0])
            return
        if len(value) != len(args):
            raise SpecError(path, f"must have {len(args)} elements, got {len(value)}")
        for i, (v, a) in enumerate(zip(value, args, strict=True)):
            _check_type(f"{path}[{i}]", v, a)
        return
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            raise SpecError(path, f"must be a finite number, got {brief(value)}")
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and not -_INT64 <= value < _INT64:  # what NumPy and the kernels can hold
            raise SpecError(path, f"must be an integer of at most 64 bits (|x| < 9.2e18), got "
                            f"{brief(value)}")
    elif hint is bool:
        ok = isinstance(value, bool)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        ok = isinstance(value, hint)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise SpecError(path, f"must be {_type_name(hint)}, got {brief(value)} "
                        f"({type(value).__name__})")


def _check_range(path: str, value: Any, meta: dict) -> None:
    lo, hi, lo_open, choices = meta.get("lo"), meta.get("hi"), meta.get("lo_open"), meta.get(
        "choices")
    if value is None:
        return
    if isinstance(value, tuple):
        for i, v in enumerate(value):
            if not isinstance(v, tuple):
                _check_range(f"{path}[{i}]", v, meta)
        return
    if choices is not None and value not in choices:
        allowed = ", ".join(repr(getattr(c, "value", c)) for c in choices)
        raise SpecError(path, f"must be one of {allowed}, got {brief(value)}")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and value > hi
    if bad_lo or bad_hi:
        lo_txt = "" if lo is None else (f"> {lo}" if lo_open else f">= {lo}")
        hi_txt = "" if hi is None else f"<= {hi}"
        allowed = " and ".join(t for t in (lo_txt, hi_txt) if t)
        raise SpecError(path, f"must be {allowed}, got {brief(value)}")


def validate(obj: Any) -> None:
    """Check every field of the spec dataclass ``obj`` against its type hint and metadata
    (integers must fit in 64 bits, numbers must be finite).

    Raises
    ------
    SpecError
        Naming the first field that is wrong, what it is and what is allowed.
    """
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, hint):
                raise SpecError(f.name, f"must be a {hint.__name__}, got {type(value).__name__}")
            continue  # validated by its own __post_init__
        _check_type(f.name, value, hint)
        _check_range(f.name, value, f.metadata)
