"""``chipsim run``: timing and energy of a mapped network (latency, throughput, energy, TOPS/W).

JSON keys (flat; ``--json``):

``model``, ``chip``, ``transport``
    What ran and how activations travel between layers (``offchip`` as built, ``onchip``
    layer-pipelined).
``inferences``
    Inferences simulated (images; time steps for a sequence model).
``cores_used``
    Cores that computed MVMs.
``latency_ns``
    Latency of the first inference (host sends its input → host holds its output).
``throughput_inf_per_s``
    Steady-state inferences per second (between the first and last completion).
``tops``
    Core MVM tera-operations per second at that throughput (1 MAC = 2 ops).
``energy_uj_per_inference``
    Whole-chip energy per inference (µJ), every component.
``tops_per_w``
    MVM operations per joule of that energy; ``tops_per_w_mvm``: per joule of MVM energy only
    (array + ADCs + PWM, the chip paper's Table I convention).
``mvms_per_inference``, ``ops_per_inference``, ``makespan_ns``
    Core MVMs and their operations per inference; simulated time of the whole run.
``energy_breakdown``
    µJ per inference per component (``pwm``, ``array``, ``adc``, ``mvm_static``, ``ldpu``,
    ``buffer``, ``link``, ``gdpu``, ``offchip``, ``core_static``, ``gdpu_static``,
    ``chip_static``).
"""

from __future__ import annotations

import argparse
import json

EXAMPLE = """examples:
  chipsim run resnet9 --transport offchip --json
  chipsim run resnet9 --transport onchip --inferences 8
  chipsim run lstm-ptb --transport onchip --chip hermes256 --json
  chipsim run resnet9 --mapping mappings/resnet9/mapping.yaml --gdc-interval-us 100"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="simulate the timing and energy of a mapped network",
        description="Map a zoo network onto the chip (or read a mapping file) and simulate "
        "inferences through the cycle-level timing engine: latency, throughput, TOPS, energy "
        "per inference with its breakdown and TOPS/W. Keys of --json: see "
        "chipsim.commands.run.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="zoo network (resnet9, lstm-ptb, resnet32)")
    p.add_argument("--chip", default="hermes", help="preset name or spec file (default hermes)")
    p.add_argument("--transport", choices=["offchip", "onchip"], default="offchip",
                   help="activations between layers: off-chip through the host (as built, "
                   "default) or on-chip, layer-pipelined")
    p.add_argument("--inferences", type=int, default=4,
                   help="inferences to simulate (default 4)")
    rep = p.add_mutually_exclusive_group()
    rep.add_argument("--replicate", dest="replicate", action="store_true", default=None,
                     help="copy the slowest layers onto spare cores (default: with onchip)")
    rep.add_argument("--no-replicate", dest="replicate", action="store_false")
    p.add_argument("--mapping", metavar="FILE", help="use this mapping file instead of mapping")
    p.add_argument("--gdc-interval-us", type=float, default=None, metavar="US",
                   help="drift-compensation recalibration interval (default: none in the run)")
    p.add_argument("--seed", type=int, default=0, help="placement search seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    from ..errors import ChipsimError
    from ..mapping import load_mapping, map_workload
    from ..spec import resolve_chip
    from ..timing import TimingConfig, TransportMode
    from ..timing.run import simulate_timing
    from ..workload import build

    if args.inferences < 1:
        raise ChipsimError(f"--inferences must be >= 1, got {args.inferences}")
    chip = resolve_chip(args.chip)
    layers = tuple(build(args.model).lowered())
    transport = TransportMode(args.transport)
    replicate = (transport is TransportMode.ONCHIP if args.replicate is None
                 else args.replicate)
    if args.mapping:
        mapping = load_mapping(args.mapping, layers, chip)
    else:
        mapping = map_workload(layers, chip, replicate=replicate, seed=args.seed,
                               workload_name=args.model)
    cfg = TimingConfig(transport=transport, inferences=args.inferences, timeline=False,
                       gdc_interval_us=args.gdc_interval_us)
    result = simulate_timing(mapping, layers, chip, cfg)
    out = {"model": args.model, "chip": chip.name, **result.summary()}
    if args.json:
        print(json.dumps(out))
        return 0
    for key, value in out.items():
        if key == "energy_breakdown":
            print(f"{'energy_breakdown':>24}: (µJ per inference)")
            for comp, v in value.items():
                print(f"{comp:>24}  {v:.6g}")
        else:
            print(f"{key:>24}: {value:.6g}" if isinstance(value, float)
                  else f"{key:>24}: {value}")
    return 0
