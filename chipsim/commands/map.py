"""``chipsim map``: partition, (replicate) and place a network on a chip.

MODEL is resolved as ``chipsim run`` resolves it (a zoo name with its shipped weights by
default, ``--weights`` as there; a ``.npz`` or ``.onnx`` file), the chip from ``--chip`` and
``--set`` (chip spec fields and ``chip.cores``, :mod:`chipsim.settings`), and the layers are
replicated onto spare cores by default, as ``chipsim run`` maps them with its default on-chip
transport (``--no-replicate``: one copy of each layer, the chip as built).

``--out DIR`` writes ``mapping.yaml`` and ``core_grid.png`` as chipsim writes every output
directory (:mod:`chipsim.outdir`): checked before the mapping starts, built beside DIR and
renamed into place; an existing DIR is replaced only when ``chipsim map`` wrote it and neither
file was changed since (a hand-edited ``mapping.yaml`` stops the command, named)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import add_chip_options, chip_source, paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim map resnet9
  chipsim map resnet9 --chip hermes --no-replicate --json
  chipsim map resnet9 --set chip.cores=128 --set core.read_mode=1ph
  chipsim map resnet32 --chip hermes256 --weights random
  chipsim map lstm-ptb --chip my_chip.yaml --exclude 0,7 --out mappings/lstm
  chipsim map resnet50 --system 9xhermes --set system.topology=mesh"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="map a network onto the chip's cores",
        description=paragraph(
            "Split every weight layer into the fewest equal blocks that fit a core, "
            "optionally put copies of the slowest layers on spare cores (pipelined mode: as "
            "many as shorten its slowest stage, counting MVM, LDPU and link time), and "
            "place the blocks on the core graph so that partial sums, activations and residuals "
            "travel few hops. Prints a per-layer table (or JSON); --out writes mapping.yaml and "
            "core_grid.png."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="zoo network (resnet9, lstm-ptb, resnet32, "
                   "char-transformer, resnet18, resnet50, bert-base, speech-lstm) with its "
                   "shipped weights, or a .npz weights or .onnx file")
    add_chip_options(p)
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="chip spec field (core.read_mode=1ph, chip.cores=128); repeatable")
    p.add_argument("--weights", default="hwa", metavar="hwa|plain|random|PATH",
                   help="weights of a zoo network, as chipsim run takes them (default hwa; "
                   "random: the zoo network as the chip paper sized it, e.g. ResNet-9 on "
                   "3-channel images)")
    rep = p.add_mutually_exclusive_group()
    rep.add_argument("--replicate", dest="replicate", action="store_true", default=True,
                     help="copy the slowest layers onto spare cores (default; pipelined mode, "
                     "as chipsim run maps with on-chip transport)")
    rep.add_argument("--no-replicate", dest="replicate", action="store_false",
                     help="one copy of each layer (the chip as built, off-chip transport)")
    p.add_argument("--exclude", default="", metavar="IDS",
                   help="comma-separated core ids never to use (e.g. dead cores)")
    p.add_argument("--seed", type=int, default=0, help="placement search seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", metavar="DIR", help="write mapping.yaml and core_grid.png into this "
                   "directory (an existing one is replaced only if chipsim map wrote it and "
                   "its files are unchanged: a hand-edited mapping.yaml is never overwritten)")
    p.set_defaults(run=run)


def _workload_layers(model: str, weights: str) -> tuple[str, tuple[Any, ...]]:
    """Name and lowered layers of ``model`` as ``chipsim run`` resolves it
    (:func:`chipsim.models.resolve_model`)."""
    from ..models import resolve_model

    workload = resolve_model(model, weights).workload
    return getattr(workload, "name", model) or model, tuple(workload.lowered())


def _chip(args: argparse.Namespace) -> Any:
    """The chip of ``--chip`` with every ``--set`` applied in order."""
    from ..errors import ChipsimError
    from ..settings import parse_setting
    from ..spec import SpecError, override, resolve_chip

    chip = resolve_chip(args.chip)
    for item in args.sets:
        key, value = parse_setting(item)
        if key.startswith("run."):
            raise ChipsimError(f"--set {item!r}: chipsim map takes chip settings only (run "
                               "options belong to chipsim run)")
        try:
            chip = override(chip, key, value)
        except SpecError as exc:
            raise ChipsimError(f"--set {exc}") from None
    return chip


def _parse_exclude(text: str) -> tuple[int, ...]:
    from ..mapping import MappingError

    out = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            raise MappingError(f"--exclude: {part!r} is not a core id") from None
    return tuple(out)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    chip_source(args)
    from ..mapping import (
        StageCosts,
        map_workload,
        plot_core_grid,
        replication_plan,
        save_mapping,
    )
    from ..outdir import building, check_output_dir

    out = None if args.out is None else check_output_dir(args.out, "mapping")
    chip = _chip(args)
    exclude = _parse_exclude(args.exclude)
    name, layers = _workload_layers(args.model, args.weights)
    m = map_workload(layers, chip, replicate=args.replicate, exclude=exclude, seed=args.seed,
                     workload_name=name)
    base = sum(ly.blocks for ly in m.layers)
    plan = replication_plan(layers, (chip.core.rows, chip.core.cols),
                            [ly.replicas for ly in m.layers],
                            spare_cores=chip.n_cores - len(m.excluded_cores) - base,
                            costs=StageCosts.of(chip))
    from ..cost import Latencies

    mvm_ns = Latencies.of(chip).mvm_ps / 1e3
    before_s, after_s = plan.inferences_per_s(mvm_ns)
    predicted = plan.predicted_per_s
    written: dict[str, str] = {}
    if out is not None:
        with building(out, "mapping") as tmp:
            save_mapping(m, tmp / "mapping.yaml")
            plot_core_grid(m, tmp / "core_grid.png")
        written = {"mapping": str(out / "mapping.yaml"), "core_grid": str(out / "core_grid.png")}
    weights = sum(ly.rows * ly.cols for ly in m.layers)
    if args.json:
        result = {
            "workload": m.workload, "chip": m.chip, "n_cores": m.n_cores,
            "core": [m.core_rows, m.core_cols], "excluded_cores": list(m.excluded_cores),
            "weights": weights, "cores_used": m.cores_used,
            "placement_cost": m.placement_cost,
            "layers": [{"name": ly.name, "rows": ly.rows, "cols": ly.cols,
                        "vectors": ly.vectors, "blocks": ly.blocks, "cores": ly.cores,
                        "replicas": ly.replicas, "utilization": ly.utilization}
                       for ly in m.layers],
            **_chips_json(m, layers, chip),
            "replicate": bool(args.replicate),
            "replicated_layers": list(plan.replicated_layers),
            "idle_cores": chip.n_cores - len(m.excluded_cores) - m.cores_used,
            "throughput": {
                "unit": "inferences per MVM time (MVM-limited layer pipeline)",
                "mvm_ns": mvm_ns,
                "before": {"per_mvm": plan.throughput_before, "per_s": before_s},
                "after": {"per_mvm": plan.throughput_after, "per_s": after_s},
                "predicted": {"unit": "inferences/s, slowest stage counting MVM, LDPU and "
                                      "link time", "before": predicted[0],
                              "after": predicted[1]},
            },
            "files": written,
        }
        print(json.dumps(result))
        return 0
    _print_table(m, chip, weights)
    for line in _chips_text(m, layers, chip):
        print(line)
    if args.replicate:
        reps = ", ".join(f"{n} ×{m.layer(n).replicas}" for n in plan.replicated_layers)
        print(f"replicated: {reps or 'none'}; idle cores: "
              f"{chip.n_cores - len(m.excluded_cores) - m.cores_used}")
    if args.replicate:
        print(f"pipeline throughput, one copy of each layer → replicated: {before_s:,.0f} → "
              f"{after_s:,.0f} inferences/s counting MVMs only ({mvm_ns:g} ns each); "
              f"{predicted[0]:,.0f} → {predicted[1]:,.0f} predicted counting MVM, LDPU and "
              "link time (chipsim run simulates it)")
    else:
        print(f"pipeline throughput: {before_s:,.0f} inferences/s counting MVMs only "
              f"({mvm_ns:g} ns each); {predicted[0]:,.0f} predicted counting MVM, LDPU and "
              "link time (chipsim run simulates it; --replicate uses the spare cores)")
    for what, path in written.items():
        print(f"wrote {what}: {path}")
    return 0


def _print_table(m: Any, chip: Any, weights: int) -> None:
    width = max([5] + [len(ly.name) for ly in m.layers])
    where = m.chip if m.chips == 1 else (f"{m.chips} × {m.chip} ({chip.system.topology.value} "
                                         "of chips)")
    print(f"{m.workload} on {where}: {m.n_cores} cores of {m.core_rows}×{m.core_cols}, "
          f"{chip.network.topology.value} links")
    print(f"{'layer':<{width}}  {'matrix':>11}  {'blocks':>6}  {'cores':>5}  {'util':>6}  "
          f"{'replicas':>8}")
    for ly in m.layers:
        shape = f"{ly.rows}×{ly.cols}"
        print(f"{ly.name:<{width}}  {shape:>11}  {ly.blocks:>6}  {ly.cores:>5}  "
              f"{ly.utilization:>6.1%}  {ly.replicas:>8}")
    used_area = m.cores_used * m.core_rows * m.core_cols
    copies = sum(ly.rows * ly.cols * ly.replicas for ly in m.layers)
    print(f"{'total':<{width}}  {weights:>11,}  {sum(ly.blocks for ly in m.layers):>6}  "
          f"{m.cores_used:>5}  {copies / used_area:>6.1%}")
    print(f"cores used: {m.cores_used} of {m.n_cores}"
          + (f" ({len(m.excluded_cores)} excluded)" if m.excluded_cores else "")
          + f"; placement cost: {m.placement_cost:,.0f} value-hops per inference")


def _per_chip(m: Any) -> list[tuple[int, list[str], int]]:
    """Per chip holding blocks: (chip, its layers in execution order, cores used)."""
    rows = []
    for k in sorted({m.chip_of(b.core) for b in m.blocks}):
        mine = [b for b in m.blocks if m.chip_of(b.core) == k]
        rows.append((k, list(dict.fromkeys(b.layer for b in mine)), len(mine)))
    return rows


def _chips_json(m: Any, layers: Any, chip: Any) -> dict[str, Any]:
    if m.chips == 1:
        return {}
    from ..mapping.chips import system_plan

    blocks = sum(ly.blocks for ly in m.layers)
    one_copy = system_plan(layers, chip, m.excluded_cores)[0].chips_used
    return {"chips": m.chips, "chips_used": m.chips_used, "chips_one_copy": one_copy,
            "chips_lower_bound": -(-blocks // m.cores_per_chip),
            "per_chip": [{"chip": k, "layers": names, "cores_used": n}
                         for k, names, n in _per_chip(m)]}


def _chips_text(m: Any, layers: Any, chip: Any) -> list[str]:
    """Why the network takes the chips it does (systems of several chips only)."""
    if m.chips == 1:
        return []
    info = _chips_json(m, layers, chip)
    split = [ly.name for ly in m.layers if ly.blocks > m.cores_per_chip]
    one = info["chips_one_copy"]
    blocks = sum(ly.blocks for ly in m.layers)
    lines = [f"chips used: {m.chips_used} of {m.chips}: one copy of the network takes {one} "
             f"({blocks} blocks need at least "
             f"{info['chips_lower_bound']} chips of {m.cores_per_chip} cores; whole layers "
             "stay on one chip where they fit"
             + (f", {', '.join(split)} split over chips as larger than a chip" if split
                else "") + "; the cuts between chips carry the least traffic)"
             + ("; the other cores hold copies of layers" if m.cores_used > blocks else "")]
    for row in info["per_chip"]:
        names = row["layers"]
        span = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]}"
        lines.append(f"  chip {row['chip']}: {row['cores_used']} cores, {len(names)} layer(s) "
                     f"{span}")
    return lines
