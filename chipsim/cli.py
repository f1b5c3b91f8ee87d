"""The ``chipsim`` command line: a thin layer over the library.

Each subcommand lives in :mod:`chipsim.commands` as a module with ``add_parser(subparsers)``
and ``run(args) -> int``. Modules are imported only when their command runs (except for
building the parser), so ``chipsim --help`` stays fast. Every command ends in one of these
ways, in one place (:func:`main`):

- user errors (:class:`ChipsimError`, unreadable files) and usage errors: one line
  ``chipsim COMMAND: error: ...``, exit status 2;
- Ctrl-C (SIGINT) anywhere: one line ``chipsim COMMAND: interrupted`` (a command may add a
  hint: its parser default ``interrupted(args) -> str``), exit status 130 (128 + SIGINT); the
  output directories are built beside their place and renamed there only when complete
  (:mod:`chipsim.outdir`), so nothing partial is left. Run as the process's command (``argv``
  None: the ``chipsim`` script, ``python -m chipsim``), the process then ends at once if
  helper threads are still finishing the piece of computation they are in (the accuracy
  path's threads, the timing run's; the exit would wait seconds for work that is thrown
  away): the interrupt has gone through every ``with`` and ``finally`` block by then
  (temporary files removed, a sweep's worker processes stopped);
- the reader of the output went away (``chipsim run --json | head -c1``): one line, exit
  status 141 (128 + SIGPIPE, as a program ended by SIGPIPE), and no complaint at exit.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
import threading

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
    prog, args = "chipsim", None
    try:
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
        prog = f"chipsim {args.command}"
        return _run(args, prog)
    except KeyboardInterrupt:
        hint = getattr(args, "interrupted", None)
        print(f"{prog}: interrupted" + (f"; {hint(args)}" if hint else ""), file=sys.stderr)
        if argv is None and _busy_threads():  # see the module docstring
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            os._exit(130)
        return 130


def _busy_threads() -> bool:
    """Whether a thread the interpreter would wait for at exit is still running."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def _run(args: argparse.Namespace, prog: str) -> int:
    """The command's exit status; a user error or a closed output pipe is one line."""
    try:
        status = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        # nothing more can reach the reader; stdout to /dev/null, so the flush at exit is quiet
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{prog}: error: output closed by its reader before the end (broken pipe)",
              file=sys.stderr)
        return 141
    except ChipsimError as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        print(f"{prog}: error: {name}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
