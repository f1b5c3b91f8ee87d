"""Subcommands of the ``chipsim`` CLI, one module each with ``add_parser`` and ``run``.

A command module imports only the standard library at module level (the parser of every
command is built for ``chipsim --help``); numpy, matplotlib, simpy and the rest of chipsim are
imported inside ``run``.
"""

from __future__ import annotations

import textwrap

__all__ = ["paragraph"]


def paragraph(text: str, width: int = 78) -> str:
    """``text`` wrapped to ``width`` columns: a command's description (argparse's raw
    formatter, which keeps the example lines of the epilog as written, does not wrap it).

    Examples
    --------
    >>> paragraph("a b c", width=3)
    'a b\\nc'
    """
    return textwrap.fill(text, width=width)
