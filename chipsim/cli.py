"""The ``chipsim`` command line: a thin layer over the library.

Each subcommand lives in :mod:`chipsim.commands` as a module with ``add_parser(subparsers)``
and ``run(args) -> int``. Modules are imported only when their command runs (except for
building the parser), so ``chipsim --help`` stays fast. User errors (:class:`ChipsimError`,
unreadable files) and usage errors print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .errors import ChipsimError

__all__ = ["main", "build_parser"]

#: command name -> module under chipsim.commands
COMMANDS = {
    "mvm-error": "mvm_error",
    "map": "map",
    "validate": "validate",
    "run": "run",
    "report": "report",
    "sweep": "sweep",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``chipsim run: error: ...``)."""

    def error(self, message: str):
        """Print ``message`` on one line and exit with status 2 (argparse's hook)."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line."""
    return "; ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(
        prog="chipsim",
        description="Simulate a multi-core analog in-memory-computing chip: accuracy, latency, "
        "throughput and energy from one mapping.",
        epilog="example: chipsim mvm-error --chip hermes --mode 4ph --json",
    )
    parser.add_argument("--version", action="version", version=f"chipsim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(f"chipsim.commands.{module}").add_parser(sub, name)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error, already reported on one line
        if exc.code == 2:
            return 2
        raise
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except ChipsimError as exc:
        print(f"chipsim {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        print(f"chipsim {args.command}: error:{name}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
