"""``chipsim run``: one design point: accuracy, latency, throughput, energy, TOPS/W.

A thin layer over :func:`chipsim.simulate`: the chip comes from ``--chip`` and ``--set``, the
network from MODEL and ``--weights`` (:func:`chipsim.models.resolve_model`), the run options
from the flags and ``--set run.FIELD=VALUE`` (:class:`chipsim.RunConfig`).

``--ci-width W`` (``RunConfig.ci_width``, also ``--set run.ci_width=W``) stops the accuracy
measurement once the chip score's 95 % interval is at most W wide (top-1 percentage points,
or bits per character); ``--samples`` and ``--instances`` are then maxima. It programmes the
first min(3, K) chip instances, scores them on the test samples in stages of 100 (in the test
split's fixed order), checks the interval (Student t over the instances, clipped to the
metric's range: ``chip_ci95``) after every stage, and, with all samples used, adds one
instance at a time (each scored on all samples) up to K. Each stage is one chip batch with
its own read-noise seed and BLAS runs on one thread, so the result depends only on the seed,
W and the maxima, never on ``run.batch``, threads or timing; a run that stops at n samples
and k instances reports the scores of ``--samples n --instances k`` with any W it cannot
reach. The interval is the chip-to-chip spread on the samples used, not the test set's own
sampling error. ``accuracy.ci_reached`` says whether W was reached, ``samples`` and
``instances`` what was used, ``ci95_width`` the width achieved.

``--set KEY=VALUE`` (repeatable, applied in order after ``--chip``):

- a chip spec field by its dotted path, e.g. ``core.adc_bits=6``, ``chip.grid=16x16`` (or
  ``grid=16x16``), ``device.model=pcm_like``, ``network.topology=mesh``; validated as in a
  spec file (:func:`chipsim.spec.override`);
- a :class:`~chipsim.RunConfig` field with the prefix ``run.``, e.g. ``run.t_seconds=86400``,
  ``run.samples=50``, ``run.quantize=false``, ``run.batch=50``; applied after the flags, so it
  wins over them.

JSON keys (``--json``; one object, the same keys in every run, None for what was not measured):

the report's ``summary``
    ``model``, ``chip``, ``cores``, ``cores_used``, ``idle_cores`` (working cores without a
    block), ``read_mode``, ``devices_per_polarity``, ``input_bits``, ``adc_bits``,
    ``adc_kind``, ``adc_range``; the areas (:func:`chipsim.cost.chip_area`): ``area_mm2``
    (the die), ``mvm_area_mm2`` (all cores' crossbars, ADCs and PWM drivers),
    ``core_area_mm2``, ``area_breakdown_mm2`` (``core``: crossbar, adc, pwm, ldpu, rest;
    ``chip``: cores, gdpu, network, periphery, attention); ``t_seconds``, ``gdc``,
    ``transport`` and, when measured, ``metric``, ``software``, ``chip_mean``, ``chip_ci95``,
    the timing figures below, ``tops_per_mm2`` (TOPS over the MVM area, the chip paper's
    convention) and ``tops_per_mm2_chip`` (over the die). On a system of several chips
    (``--system``) also ``chips``, ``chips_used``, ``c2c_energy_share`` and
    ``c2c_latency_share`` (the chip-to-chip links' share of the energy per inference and of
    the latency; the latter None without timing).
``accuracy``
    ``metric`` (``top1`` in %, or ``bpc`` bits per character), ``software`` (float forward),
    ``chip_mean`` and ``chip_ci95`` ([lo, hi], Student t over the instances), ``instances``,
    ``samples`` (those used), ``chip`` (score of each instance), ``t_seconds``, ``gdc``,
    ``ci95_width`` (hi − lo), ``ci_target`` (``--ci-width``, or None), ``ci_reached`` (None
    without a target), ``samples_max``, ``instances_max`` (the limits), ``ci_stages`` (every
    check of a sequential measurement: ``samples``, ``instances``, ``chip_mean``,
    ``chip_ci95``), ``data`` (the built-in task's name, or the ``--data`` file); None when
    accuracy was not measured (``--no-accuracy``, or a model without a built-in task and no
    ``--data``).
``latency_ns``, ``throughput_inf_per_s``, ``tops``, ``energy_uj_per_inference``, ``tops_per_w``,
``tops_per_w_mvm``
    Latency of the first inference, steady-state inferences per second, core MVM
    tera-operations per second, whole-chip energy per inference (µJ), operations per joule of
    all energy and of MVM energy only (Table I's convention); None with ``--no-timing``.
``transport``, ``inferences``, ``cores_used``, ``mvms_per_inference``, ``ops_per_inference``,
``makespan_ns``
    How activations travel (``onchip`` layer-pipelined, ``offchip`` through the host),
    inferences simulated, cores holding a block, core MVMs and operations per inference,
    simulated time of the run.
``setup_ns``, ``range_calibration_mvms``, ``setup_energy_uj``
    One-time set-up before the first inference: the calibration reads that set calibrated ADC
    ranges (``core.adc_range=calibrated``; 0 otherwise): time (all cores at once), MVMs and
    energy; paid once per deployment, so in no inference's latency or energy.
``energy_breakdown``
    µJ per inference per component (``pwm``, ``array``, ``adc``, ``mvm_static``, ``ldpu``,
    ``buffer``, ``link``, ``gdpu``, ``offchip``, ``c2c``, ``core_static``, ``gdpu_static``,
    ``chip_static``, ``attention``, ``attention_ops``, ``attention_memory``,
    ``attention_static``).
``accuracy_vs_time``
    With ``--t-sweep``: a list of ``{t_seconds, chip_mean, chip_ci95, software, chip,
    reused_instances}``.
``report_dir``
    The directory written by ``--out`` (None without it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import add_chip_options, chip_source, paragraph

__all__ = ["add_parser", "run"]

EXAMPLE = """examples:
  chipsim run                                      # ResNet-9, HWA weights, reference chip
  chipsim run --out reports/example                # and write the report directory
  chipsim run resnet9 --set core.adc_bits=6 --set chip.grid=16x16 --json
  chipsim run resnet9 --set run.t_seconds=86400 --no-gdc --samples 100 --instances 5
  chipsim run lstm-ptb --transport offchip --no-accuracy --json
  chipsim run resnet9 --t-sweep 60,3600,86400,2592000 --out reports/drift
  chipsim run resnet9 --no-timing --ci-width 1 --samples 1000 --instances 10 --json
  chipsim run my_net.onnx --chip my_chip.yaml --no-accuracy
  chipsim run my_net.npz --data my_test_set.npz --samples 1000
  chipsim run resnet50 --system 9xhermes --no-accuracy   # a system of 9 chips"""

#: command-line flag → RunConfig field (flags whose value is given as is)
_FLAGS = {"seed": "seed", "t_seconds": "t_seconds", "transport": "transport",
          "replicate": "replicate", "samples": "samples", "instances": "instances",
          "inferences": "inferences", "gdc_interval_us": "gdc_interval_us"}


def add_parser(sub: argparse._SubParsersAction, name: str) -> None:
    """Register the command."""
    p = sub.add_parser(
        name, help="simulate one design point: accuracy, latency, throughput, energy",
        description=paragraph(
            "Map a network onto the chip and run it: accuracy on the model's test data "
            "over independently programmed chip instances (mean and 95 % confidence interval), "
            "and latency, throughput, TOPS, energy per inference and TOPS/W from the cycle-level "
            "timing engine, from the same mapping. Prints a summary table (or one JSON object "
            "with --json); --out writes a report directory (report.json, report.md, a "
            "self-contained report.html and figures). --set KEY=VALUE changes a chip spec field "
            "(core.adc_bits=6, chip.grid=16x16, device.model=pcm_like) or, with the prefix 'run.', "
            "a run option (run.t_seconds=86400, run.samples=50, run.quantize=false). JSON keys: "
            "see chipsim.commands.run."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", nargs="?", default="resnet9",
                   help="zoo network (resnet9, lstm-ptb, resnet32, char-transformer, "
                   "resnet18, resnet50, bert-base, speech-lstm), a .npz weights file or an "
                   ".onnx file (default resnet9)")
    add_chip_options(p)
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="chip spec field (core.adc_bits=6) or run option (run.samples=50); "
                   "repeatable")
    p.add_argument("--weights", default="hwa", metavar="hwa|plain|random|PATH",
                   help="weights of a zoo network: shipped hardware-aware (hwa, default) or "
                   "plain training, seeded random, or a .npz file")
    p.add_argument("--mapping", metavar="FILE", help="use this mapping file instead of mapping")
    p.add_argument("--data", metavar="FILE.npz",
                   help="score the network on these samples instead of its built-in task's: "
                   "an .npz with x (inputs), y (class labels, or next-token ids of a sequence "
                   "model) and optionally x_calib (see chipsim.data.user)")
    g = p.add_argument_group("run options (defaults: chipsim.RunConfig)")
    g.add_argument("--samples", type=int, metavar="N",
                   help="test samples for accuracy (default 300, or all there are if fewer; "
                   "at most the samples of the test data)")
    g.add_argument("--instances", type=int, metavar="K",
                   help="independently programmed chip instances (default 3)")
    g.add_argument("--t-seconds", type=float, metavar="T",
                   help="time since programming in s (default 3600)")
    g.add_argument("--no-gdc", dest="gdc", action="store_false", default=None,
                   help="switch global drift compensation off")
    g.add_argument("--transport", choices=["onchip", "offchip"],
                   help="activations between layers: on-chip, layer-pipelined (default) or "
                   "off-chip through the host (as built)")
    rep = g.add_mutually_exclusive_group()
    rep.add_argument("--replicate", dest="replicate", action="store_true", default=None,
                     help="copy the slowest layers onto spare cores (default: with onchip)")
    rep.add_argument("--no-replicate", dest="replicate", action="store_false")
    g.add_argument("--inferences", type=int, metavar="N",
                   help="inferences simulated by the timing engine (default 4)")
    g.add_argument("--gdc-interval-us", type=float, metavar="US",
                   help="drift-compensation recalibration interval in the timing run "
                   "(default: none)")
    g.add_argument("--no-accuracy", dest="accuracy", action="store_false", default=None,
                   help="skip the accuracy measurement")
    g.add_argument("--no-timing", dest="timing", action="store_false", default=None,
                   help="skip the timing and energy simulation")
    g.add_argument("--ci-width", metavar="W",
                   help="stop sampling once the chip score's 95 %% interval is at most W wide "
                   "(top-1 points or bits per character); --samples and --instances are then "
                   "maxima (default: no target, all of them)")
    g.add_argument("--seed", type=int, metavar="S", help="seed of everything random (default 0)")
    g.add_argument("--t-sweep", metavar="T1,T2,...",
                   help="also measure accuracy at these times since programming (s); stored "
                   "as accuracy_vs_time and drawn in the report")
    o = p.add_argument_group("output")
    o.add_argument("--out", metavar="DIR", help="write the report directory here (an existing "
                   "one is replaced only if chipsim wrote it and all its files are unchanged: "
                   "see chipsim.outdir)")
    o.add_argument("--json", action="store_true", help="print one JSON object")
    o.add_argument("--quiet", action="store_true",
                   help="no progress bars and no 'wrote' line (results are still printed)")
    p.set_defaults(run=run)


# ---------------------------------------------------------------------------- options
def _parse_sets(items: list[str]) -> list[tuple[str, str, str]]:
    """``KEY=VALUE`` items → (item, key, value); a malformed item is a ChipsimError."""
    from ..errors import ChipsimError

    out = []
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ChipsimError(f"--set {item!r}: expected KEY=VALUE, e.g. core.adc_bits=6 or "
                               "run.samples=50")
        out.append((item, key, value.strip()))
    return out


def _apply_sets(chip: Any, config: Any, sets: list[tuple[str, str, str]]) -> tuple[Any, Any]:
    """``(chip, config)`` with every --set applied in order, as ``chipsim sweep`` applies its
    settings (:func:`chipsim.settings.apply_setting`); chip values stay text, which the spec
    parses by field (``chip.grid=16x16``), run values are read as YAML scalars."""
    from ..errors import ChipsimError
    from ..settings import apply_setting, parse_value
    from ..spec import SpecError

    for _item, key, value in sets:
        try:
            chip, config = apply_setting(chip, config, key, parse_value(value)
                                         if key.startswith("run.") else value)
        except SpecError as exc:
            raise ChipsimError(f"--set {exc}") from None
    return chip, config


def _run_config(args: argparse.Namespace) -> Any:
    """The RunConfig of the flags."""
    from ..config import RunConfig
    from ..errors import ChipsimError
    from ..spec import SpecError, from_dict

    given = {field: getattr(args, flag) for flag, field in _FLAGS.items()
             if getattr(args, flag) is not None}
    for flag in ("gdc", "accuracy", "timing"):
        if getattr(args, flag) is not None:
            given[flag] = getattr(args, flag)
    if args.ci_width is not None:
        try:
            given["ci_width"] = float(args.ci_width)
        except ValueError:
            raise ChipsimError(f"--ci-width: must be a number > 0 (the interval's width in the "
                               f"metric's unit), got {args.ci_width!r}") from None
    try:
        return from_dict(RunConfig, given)
    except SpecError as exc:
        flag = "--" + exc.path.split(".")[0].replace("_", "-")
        raise ChipsimError(f"{flag}: {exc.message}") from None


def _check_samples(args: argparse.Namespace, config: Any, task: str | None, data: Any) -> None:
    """Refuse ``--samples`` (or ``--set run.samples``) beyond the samples the test data hold:
    the default (300) takes all of a smaller data set, a number given is meant as is."""
    flag = next((f"--set {key}" for _, key, _ in _parse_sets(args.sets) if key == "run.samples"),
                "--samples" if args.samples is not None else None)
    if flag is None or not config.accuracy or (task is None and data is None):
        return
    check_samples(flag, config.samples, task, data, args.data)


def check_samples(flag: str, samples: int, task: str | None, data: Any,
                  data_path: str | None) -> None:
    """Refuse ``samples`` (given by ``flag``) beyond those of the ``data`` set read from
    ``data_path``, or without data, of the test split of ``task``."""
    from ..errors import ChipsimError

    if data is not None:
        have, what = len(data.y), data_path
    else:
        from ..functional.tasks import task_data

        have, what = len(task_data(task, "test")[1]), f"the {task} task's test split"
    if samples > have:
        got = samples if samples < 10**12 else f"{samples:.3g}"
        raise ChipsimError(f"{flag}: must be <= {have} (the samples of {what}), got {got}")


def _parse_times(text: str | None) -> list[float]:
    from ..errors import ChipsimError

    if text is None:
        return []
    out = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        try:
            t = float(part)
        except ValueError:
            raise ChipsimError(f"--t-sweep: {part!r} is not a time in seconds") from None
        if not (t >= 0.0 and t < float("inf")):
            raise ChipsimError(f"--t-sweep: times must be finite and >= 0, got {part!r}")
        out.append(t)
    if not out:
        raise ChipsimError("--t-sweep: give at least one time, e.g. 60,3600,86400")
    return sorted(set(out))


def _command(args: argparse.Namespace) -> str:
    """The command line of this run, with every given option (for the provenance)."""
    import shlex

    parts = ["chipsim", "run", args.model, "--chip", args.chip, "--weights", args.weights]
    for item in args.sets:
        parts += ["--set", item]
    for flag in ("mapping", "data", "samples", "instances", "t_seconds", "transport", "inferences",
                 "gdc_interval_us", "ci_width", "seed", "t_sweep", "out"):
        value = getattr(args, flag)
        if value is not None:
            parts += ["--" + flag.replace("_", "-"), str(value)]
    if args.replicate is not None:
        parts.append("--replicate" if args.replicate else "--no-replicate")
    for flag in ("gdc", "accuracy", "timing"):
        if getattr(args, flag) is False:
            parts.append(f"--no-{flag}")
    return shlex.join(parts)


def _progress(quiet: bool) -> Any:
    """A tqdm factory for the loops a user waits for (None when quiet).

    Bars go to stderr and vanish when done; tqdm's ``disable=None`` hides them when stderr is
    not a terminal.
    """
    if quiet:
        return None
    import functools

    from tqdm import tqdm

    return functools.partial(tqdm, disable=None, leave=False, file=sys.stderr,
                             dynamic_ncols=True)


def _source(text: str) -> str:
    """A model source path relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return text if rel.startswith("..") or not Path(text).exists() else rel


# ---------------------------------------------------------------------------- running
def run(args: argparse.Namespace) -> int:
    """Run the command."""
    chip_source(args)
    import dataclasses
    import json

    from ..api import simulate
    from ..data.user import load_data
    from ..errors import ChipsimError
    from ..mapping import load_mapping
    from ..models import resolve_model
    from ..outdir import check_output_dir
    from ..report import json_summary, terminal_text, write_report
    from ..spec import resolve_chip

    chip, config = _apply_sets(resolve_chip(args.chip), _run_config(args),
                               _parse_sets(args.sets))
    times = _parse_times(args.t_sweep)
    if args.out is not None:
        check_output_dir(args.out, "report")  # before the long run, not after
        from ..report.figures import warm_up

        warm_up()  # the figures' imports meanwhile, on the CPU the mapping leaves idle
    resolved = resolve_model(args.model, args.weights)
    data = load_data(args.data, resolved.workload) if args.data else None
    _check_samples(args, config, resolved.task, data)
    if times and not (config.accuracy and (resolved.task or data)):
        raise ChipsimError("--t-sweep: needs the accuracy measurement (a model with a built-in "
                           "task or --data, without --no-accuracy)")
    mapping = None
    if args.mapping:
        mapping = load_mapping(args.mapping, tuple(resolved.workload.lowered()), chip)
    progress = _progress(args.quiet)
    report = simulate(resolved.workload, chip, mapping, config, task=resolved.task, data=data,
                      t_sweep=times, command=_command(args), progress=progress)
    report = dataclasses.replace(report, workload=dataclasses.replace(
        report.workload, source=_source(resolved.source)))
    written = str(write_report(report, args.out)) if args.out is not None else None
    if args.json:
        print(json.dumps({**json_summary(report), "report_dir": written}))
        return 0
    print(terminal_text(report))
    if written and not args.quiet:
        print(f"wrote {written}/report.html (report.md, report.json, figures/)")
    return 0
