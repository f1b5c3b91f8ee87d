"""``chipsim validate``: the chip paper's Table I simulated through the timing engine, and a
held-out check of the fit behind it."""

from __future__ import annotations

import argparse
import json

from . import paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim validate
  chipsim validate --json
  chipsim validate --chip my_chip.yaml --no-held-out"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="reproduce Table I (TOPS, TOPS/W, energy, latency) with the engine",
        description=paragraph(
            "Simulate the three use cases of the chip paper's Table I (an MVM on all "
            "cores; one input of a 2016x224 ResNet-9 layer on 8 cores; one LSTM step on 32 cores "
            "with the GDPU) in the one- and four-phase read modes, and compare TOPS, TOPS/W, "
            "energy and latency with the paper (chipsim/calibration/table1.yaml). Exit status 1 "
            "when a value is off by more than the file's tolerance (5 %).")
        + "\n\n" + paragraph(
            "Then a held-out check (about 5 s): for each use case, the chip's energy table and "
            "pipeline depths are fitted to the other two use cases only (the fit of "
            "python -m chipsim.calibration.fit; what two use cases cannot constrain stays at "
            "its prior) and the held-out use case's 8 cells are predicted. It reports, it does "
            "not set the exit status."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chip", default="hermes", help="preset name or spec file (default hermes)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: rows (a list of {use_case, mode, metric, "
                   "simulated, reference, rel_error}), tolerance, max_abs_rel_error and "
                   "held_out (per held-out use case: fitted_on, depths, at_prior, rows, "
                   "max_abs_rel_error, worst; null with --no-held-out)")
    p.add_argument("--no-held-out", dest="held_out", action="store_false",
                   help="skip the held-out check")
    p.set_defaults(run=run)


def _print_held_out(folds) -> None:
    from ..calibration.golden import METRICS

    print()
    print("held-out check: each use case predicted by a fit to the other two (same fit; what "
          "they cannot constrain stays at its prior)")
    print(f"{'held out':<14} {'mode':<4} " + " ".join(f"{m:>11}" for m in METRICS))
    for f in folds:
        for mode in ("1ph", "4ph"):
            err = {r.metric: r.rel_error for r in f.rows if r.mode == mode}
            print(f"{f.held_out:<14} {mode:<4} " + " ".join(f"{err[m]:>+11.2%}" for m in METRICS))
    for f in folds:
        d = f.to_dict()
        depths = ", ".join(f"{k}={v}" for k, v in d["depths"].items())
        prior = f"; at prior: {', '.join(d['at_prior'])}" if d["at_prior"] else ""
        print(f"{f.held_out}: largest error {f.worst.rel_error:+.2%} ({f.worst.mode} "
              f"{f.worst.metric}); fitted on {', '.join(d['fitted_on'])}: {depths}{prior}")


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from ..calibration.golden import load_table1
    from ..calibration.heldout import leave_one_out
    from ..calibration.validate import validate
    from ..spec import resolve_chip

    chip = resolve_chip(args.chip)
    table = load_table1()
    rows = validate(chip)
    tol = float(table["tolerance"])
    folds = leave_one_out(chip, table) if args.held_out else None
    worst = max(rows, key=lambda r: abs(r.rel_error))
    if args.json:
        print(json.dumps({
            "rows": [r.to_dict() for r in rows],
            "tolerance": tol,
            "max_abs_rel_error": abs(worst.rel_error),
            "held_out": None if folds is None else [f.to_dict() for f in folds],
        }))
    else:
        print(f"{'use case':<14} {'mode':<4} {'metric':<11} {'simulated':>11} {'paper':>9} "
              f"{'error':>8}")
        for r in rows:
            flag = "" if abs(r.rel_error) <= tol else "  <-- outside ±" f"{tol:.0%}"
            print(f"{r.use_case:<14} {r.mode:<4} {r.metric:<11} {r.simulated:>11.4g} "
                  f"{r.reference:>9.4g} {r.rel_error:>+8.2%}{flag}")
        print(f"largest error: {worst.rel_error:+.2%} ({worst.use_case} {worst.mode} "
              f"{worst.metric}); tolerance ±{tol:.0%}")
        if folds is not None:
            _print_held_out(folds)
    return 0 if all(abs(r.rel_error) <= tol for r in rows) else 1
