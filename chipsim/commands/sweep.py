"""``chipsim sweep``: the cartesian product of a grid of settings, resumable, in parallel.

A thin layer over :func:`chipsim.explore.run_sweep`. The base design point is that of
``chipsim run`` (MODEL with its shipped HWA weights, the reference chip, RunConfig's defaults:
1 h after programming, on-chip transport, ...), changed by ``--samples``, ``--instances`` and
``--set``; every ``--grid KEY=V1,V2,...`` is an axis (first axis slowest). Keys:

- a chip spec field by its dotted path (``core.adc_bits``, ``core.read_mode``, ``chip.grid``,
  ``core.devices_per_polarity``, ``device.model``, ``network.topology``, ...);
- a RunConfig field with the prefix ``run.`` (``run.t_seconds``, ``run.transport``, ...);
- ``chip.cores=N,...``: the grid set to the most square factorisation of N, rows <= columns
  (32 → 4x8, 64 → 8x8, 128 → 8x16; only the grid changes).

``--set run.ci_width=W`` (or an axis ``--grid run.ci_width=W1,W2``) measures every point's
accuracy sequentially (:class:`chipsim.RunConfig`'s ``ci_width``, ``chipsim run
--ci-width``): a point stops sampling once its chip score's 95 % interval is at most W wide,
``--samples`` and ``--instances`` being maxima; the table then adds the columns
``ci_reached``, ``samples`` and ``instances`` (what each point used). A point's result
depends only on its seed and W, whichever executor runs it.

Every key and value is checked before any point runs. ``--out DIR`` receives ``sweep.json``
(the sweep's arguments), ``points/<id>.json`` (one record per point, written as it finishes),
``table.csv``, ``table.md`` and ``figures/pareto_*.png``; rerun the same command to resume an
interrupted sweep (finished points are loaded, not recomputed). File formats: see
:mod:`chipsim.explore.sweep`, :mod:`chipsim.explore.worker`, :mod:`chipsim.explore.table`.

Exit status: 0 when every point is ``ok`` or ``infeasible`` (a network that does not fit the
point's chip), 1 when a point failed otherwise (its record says why; a rerun retries it), 2
for a usage error, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys

from . import add_chip_options, chip_source, paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim sweep resnet9 --grid core.adc_bits=4,6,8 --grid chip.cores=32,64,128 --out sweeps/a
  chipsim sweep resnet9 --grid core.read_mode=1ph,4ph --grid core.devices_per_polarity=1,2 \\
      --samples 100 --instances 2 --workers 2 --out sweeps/b
  chipsim sweep lstm-ptb --grid run.t_seconds=60,3600,86400 --set run.gdc=false --out sweeps/c
  chipsim sweep resnet9 --grid chip.cores=64,128 --dask tcp://127.0.0.1:8786 --out sweeps/d
  chipsim sweep resnet9 --grid core.adc_bits=4,6,8 --set run.ci_width=1 --instances 10 \\
      --out sweeps/e"""


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="sweep a grid of chip and run settings (table + Pareto figures)",
        description=paragraph(
            "Run the cartesian product of the --grid axes over the base design point of "
            "'chipsim run' (MODEL with its shipped HWA weights, the reference chip, 1 h after "
            "programming, on-chip transport), changed by --set. Keys: chip spec paths "
            "(core.adc_bits, core.read_mode, chip.grid, device.model, network.topology, ...), "
            "run options with the prefix 'run.' (run.t_seconds, run.transport, ...), and "
            "chip.cores=N: the most square grid of N cores, rows <= columns (32 -> 4x8, "
            "64 -> 8x8, 128 -> 8x16). Each point is stored in DIR/points/ as it finishes; a "
            "point whose network does not fit is recorded as infeasible with the reason. Rerun "
            "the same command to resume. At the end DIR holds table.csv, table.md and "
            "figures/pareto_*.png. Exit status 1 if a point failed, 2 for a usage error."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL",
                   help="zoo network (resnet9, lstm-ptb, resnet32, char-transformer, "
                   "resnet18, resnet50, bert-base, speech-lstm), a .npz weights file or an "
                   ".onnx file")
    p.add_argument("--grid", dest="grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="an axis of the sweep (repeatable; the first varies slowest)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting of the base point (chip spec path or run.FIELD); repeatable")
    add_chip_options(p, " of the base chip")
    p.add_argument("--weights", default="hwa", metavar="hwa|plain|random|PATH",
                   help="weights of a zoo network (default hwa: shipped hardware-aware)")
    p.add_argument("--data", metavar="FILE.npz",
                   help="score the network on these samples instead of its built-in task's "
                   "(as chipsim run --data; checked before the sweep starts)")
    p.add_argument("--samples", type=int, metavar="N",
                   help="test samples for accuracy (default: RunConfig's, 300)")
    p.add_argument("--instances", type=int, metavar="K",
                   help="chip instances for accuracy (default: RunConfig's, 3)")
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--workers", type=int, default=1, metavar="N",
                    help="local processes, one thread each (default 1: in this process; at "
                    "most 4 x the CPUs: more only add memory; for more machines use --dask)")
    ex.add_argument("--dask", metavar="ADDRESS",
                    help="run the points on this dask.distributed scheduler (extra 'dask')")
    p.add_argument("--max-points", type=int, metavar="N",
                   help="the most points the grid may have (default 10,000: "
                   "chipsim.explore.grid.MAX_POINTS, each point being a whole simulation); a "
                   "larger grid is refused before any point runs")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep directory (created, "
                   "or resumed when it holds the same sweep)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar, no table on stdout")
    p.set_defaults(run=run, interrupted=_interrupted)


def _interrupted(args: argparse.Namespace) -> str:
    """What the CLI adds to its one line on Ctrl-C (:func:`chipsim.cli.main`)."""
    return (f"finished points are stored in {args.out}/points: rerun the same command to "
            "resume")


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    chip_source(args)
    from ..explore.executors import check_workers
    from ..explore.grid import MAX_POINTS, parse_axis, parse_setting
    from ..explore.sweep import SweepSpec, run_sweep
    from ..outdir import output_path

    check_workers(args.workers)
    output_path(args.out, "sweep")  # before the data file is read
    spec = SweepSpec(
        model=args.model, axes=tuple(parse_axis(item) for item in args.grid),
        sets=tuple(parse_setting(item) for item in args.sets), chip=args.chip,
        weights=args.weights, samples=args.samples, instances=args.instances, data=args.data)
    if args.data or args.samples is not None:  # a bad file or --samples fails here, once
        from ..data.user import load_data
        from ..models import resolve_model
        from .run import check_samples

        resolved = resolve_model(args.model, args.weights)
        data = load_data(args.data, resolved.workload) if args.data else None
        if args.samples is not None and (data is not None or resolved.task):
            check_samples("--samples", args.samples, resolved.task, data, args.data)
    result = run_sweep(spec, args.out, workers=args.workers, dask=args.dask,
                       progress=not args.quiet,
                       max_points=MAX_POINTS if args.max_points is None else args.max_points)
    if not args.quiet:
        from ..explore.table import table_markdown

        keys = [a.key for a in spec.axes]
        sys.stdout.write(table_markdown(result.records, keys))
        print(f"wrote {args.out}/table.csv, table.md and {len(result.files) - 2} figures "
              f"({result.computed} points computed, {result.loaded} loaded)")
    for rec in result.errors:
        print(f"chipsim sweep: point {rec['settings']} failed: {rec['reason']} (a rerun "
              "retries it)", file=sys.stderr)
    return 1 if result.errors else 0
