"""``chipsim mvm-error``: MVM error of one core under the chip paper's protocol."""

from __future__ import annotations

import argparse
import json

from . import paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim mvm-error --json
  chipsim mvm-error --mode 1ph --devices 1 --t-seconds 86400 --no-gdc --json
  chipsim mvm-error --chip my_chip.yaml --adc-bits 6"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="characterise the MVM error of one core",
        description=paragraph(
            "Program one full core with uniform random weights (30 % zeros), multiply "
            "2,048 random inputs (30 % zeros) on it and compare with the exact product of the "
            "quantized inputs and the intended weights. Definitions: "
            "chipsim.functional.mvm_error."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chip", default="hermes", help="preset name or spec file (default hermes)")
    p.add_argument("--mode", choices=["1ph", "4ph"], help="read mode (default: the chip's)")
    p.add_argument("--devices", type=int, choices=[1, 2],
                   help="devices per polarity: 2 = TDP, 1 = ODP (default: the chip's)")
    p.add_argument("--adc-bits", type=int, help="ADC bits (default: the chip's)")
    p.add_argument("--t-seconds", type=float, default=60.0,
                   help="time since programming in s (default 60)")
    p.add_argument("--no-gdc", action="store_true", help="switch global drift compensation off")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--vectors", type=int, default=2048,
                   help="input vectors (default 2048; at most 100,000 for a 256×256 core: "
                   "chipsim.functional.mvm_error.max_vectors)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from ..functional.mvm_error import mvm_error, with_options
    from ..spec import resolve_chip

    chip = with_options(resolve_chip(args.chip), mode=args.mode, devices=args.devices,
                        adc_bits=args.adc_bits)
    result = mvm_error(chip, t_s=args.t_seconds, gdc=not args.no_gdc, seed=args.seed,
                       vectors=args.vectors)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        for key, value in result.to_dict().items():
            print(f"{key:>22}: {value}")
    return 0
