"""The error types a user can meet. The CLI turns each into a one-line message."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Sequence
from typing import Any

__all__ = ["ChipsimError", "brief", "did_you_mean"]


class ChipsimError(ValueError):
    """Base of every error caused by a user's input (spec, model, mapping, files, options)."""


class _Brief(reprlib.Repr):
    """``reprlib``'s cuts; an integer too long for ``repr`` is described instead."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = 80
        self.maxlevel = 3

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 4000:  # repr refuses integers of more than 4,300 digits
            return f"an integer of about {int(x.bit_length() * 0.30103) + 1} digits"
        return super().repr_int(x, level)


_BRIEF = _Brief()
_LONGEST = 100


def brief(value: Any) -> str:
    """``repr(value)`` for an error message, at most 100 characters: long strings and
    integers, long or deeply nested lists and mappings are cut (``...``), so a message stays
    one short line, built at once, whatever a file holds.

    Examples
    --------
    >>> len(brief("x" * 10**6)), brief(list(range(10))), brief(10**5000)
    (80, '[0, 1, 2, 3, 4, 5, ...]', 'an integer of about 5001 digits')
    """
    text = _BRIEF.repr(value)
    return text if len(text) <= _LONGEST else text[:_LONGEST - 3] + "..."


def did_you_mean(name: Any, names: Sequence[str]) -> str:
    """``"; did you mean 'a' or 'b'?"`` with the ``names`` closest to an unknown ``name``, or
    ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("blokcs", ["layers", "blocks"]), did_you_mean("x", ["layers"])
    ("; did you mean 'blocks'?", '')
    """
    close = difflib.get_close_matches(str(name)[:100], names, n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
