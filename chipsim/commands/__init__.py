"""Subcommands of the ``chipsim`` CLI, one module each with ``add_parser`` and ``run``.

A command module imports only the standard library at module level (the parser of every
command is built for ``chipsim --help``); numpy, matplotlib, simpy and the rest of chipsim are
imported inside ``run``.
"""

from __future__ import annotations

import argparse
import textwrap

__all__ = ["paragraph", "add_chip_options", "chip_source"]


def paragraph(text: str, width: int = 78) -> str:
    """``text`` wrapped to ``width`` columns: a command's description (argparse's raw
    formatter, which keeps the example lines of the epilog as written, does not wrap it).

    Examples
    --------
    >>> paragraph("a b c", width=3)
    'a b\\nc'
    """
    return textwrap.fill(text, width=width)


def add_chip_options(p: argparse.ArgumentParser, what: str = "") -> None:
    """``--chip`` (a preset or spec file) and ``--system NxCHIP`` (N such chips joined by
    chip-to-chip links); :func:`chip_source` reads them."""
    p.add_argument("--chip", default=None,
                   help=f"preset name or spec file{what} (default hermes)")
    p.add_argument("--system", default=None, metavar="NxCHIP",
                   help="a system of N chips joined by chip-to-chip links, e.g. 8xhermes or "
                   "4xmy_chip.yaml (the same as --chip NxCHIP; system.* settings change its "
                   "links)")


def chip_source(args: argparse.Namespace) -> str:
    """The chip the options name (``--system`` or ``--chip``; hermes by default), also set
    as ``args.chip``; both at once is a one-line error.

    Examples
    --------
    >>> chip_source(argparse.Namespace(chip=None, system="4xhermes"))
    '4xhermes'
    """
    from ..errors import ChipsimError

    if args.system is not None and args.chip is not None:
        raise ChipsimError("--chip and --system: give one of them (--system 4xhermes is "
                           "--chip 4xhermes)")
    args.chip = args.system if args.system is not None else args.chip or "hermes"
    return args.chip
