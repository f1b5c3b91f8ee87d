"""``chipsim validate``: the chip paper's Table I simulated through the timing engine."""

from __future__ import annotations

import argparse
import json

from . import paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim validate
  chipsim validate --json
  chipsim validate --chip my_chip.yaml"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="reproduce Table I (TOPS, TOPS/W, energy, latency) with the engine",
        description=paragraph(
            "Simulate the three use cases of the chip paper's Table I (an MVM on all "
            "cores; one input of a 2016x224 ResNet-9 layer on 8 cores; one LSTM step on 32 cores "
            "with the GDPU) in the one- and four-phase read modes, and compare TOPS, TOPS/W, "
            "energy and latency with the paper (chipsim/calibration/table1.yaml). Exit status 1 "
            "when a value is off by more than the file's tolerance (5 %)."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chip", default="hermes", help="preset name or spec file (default hermes)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of {use_case, mode, metric, simulated, reference, "
                   "rel_error}")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from ..calibration.golden import load_table1
    from ..calibration.validate import validate
    from ..spec import resolve_chip

    rows = validate(resolve_chip(args.chip))
    tol = float(load_table1()["tolerance"])
    if args.json:
        print(json.dumps([r.to_dict() for r in rows]))
    else:
        print(f"{'use case':<14} {'mode':<4} {'metric':<11} {'simulated':>11} {'paper':>9} "
              f"{'error':>8}")
        for r in rows:
            flag = "" if abs(r.rel_error) <= tol else "  <-- outside ±" f"{tol:.0%}"
            print(f"{r.use_case:<14} {r.mode:<4} {r.metric:<11} {r.simulated:>11.4g} "
                  f"{r.reference:>9.4g} {r.rel_error:>+8.2%}{flag}")
        worst = max(rows, key=lambda r: abs(r.rel_error))
        print(f"largest error: {worst.rel_error:+.2%} ({worst.use_case} {worst.mode} "
              f"{worst.metric}); tolerance ±{tol:.0%}")
    return 0 if all(abs(r.rel_error) <= tol for r in rows) else 1
