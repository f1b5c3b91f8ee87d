"""A design-space sweep: the cartesian product of a grid of settings over a base design point.

The base point is that of ``chipsim run``: a model with its weights (shipped HWA weights by
default), a chip (the reference chip ``hermes`` by default), :class:`~chipsim.RunConfig`'s
defaults (1 h after programming, on-chip transport, ...) changed by ``samples``,
``instances`` and the ``--set`` items. Every grid point changes the settings of its axes
(:mod:`chipsim.explore.grid`).

A sweep directory holds

``sweep.json``
    The sweep's identity (:meth:`SweepSpec.identity`): model, weights, chip, grid, ``--set``
    items, samples, instances, data, the base chip's spec hash and RunConfig, the list of
    points (index, id, settings) and the :meth:`SweepSpec.sources`: the chipsim version and
    the SHA-256 of the content of every input file (model, chip spec, data). A directory made
    by a different sweep, or by the same command on inputs whose content has changed since,
    is refused with one line naming what differs: a finished point is never reused for other
    inputs.
``points/<id>.json``
    One record per point (:func:`chipsim.explore.worker.run_point`), written atomically as
    soon as the point finishes; ``<id>`` is :func:`point_id` of its settings; its ``sources``
    say what it was computed from. A rerun loads the records with status ``ok`` or
    ``infeasible`` and the sweep's sources and computes only the others; a file there that
    is not a record of its point is refused, not overwritten.
``table.csv``, ``table.md``
    One row per point in the grid's order (:mod:`chipsim.explore.table`).
``figures/pareto_*.png``
    Pareto figures (:mod:`chipsim.explore.figures`).
``.chipsim-files.json``
    The marker of a directory chipsim wrote (:mod:`chipsim.outdir`): the directory is made
    beside ``--out`` and renamed into place, and the table and figures are replaced at the
    end of each run only if they are the files chipsim wrote there, unchanged.

Examples
--------
>>> from chipsim.explore import SweepSpec, parse_axis
>>> spec = SweepSpec("resnet9", (parse_axis("core.adc_bits=4,8"),), samples=10, instances=1)
>>> result = run_sweep(spec, "sweeps/adc")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ChipsimError
from .figures import FIGURES
from .grid import MAX_POINTS, Axis, Point, apply_setting, canonical_key, grid_points

__all__ = ["SWEEP_FORMAT", "FINAL_STATUSES", "RESULT_FILES", "SweepSpec", "SweepResult",
           "point_id", "plan_jobs", "run_sweep", "load_records"]

log = logging.getLogger(__name__)

#: the ``format`` field of ``sweep.json``
SWEEP_FORMAT = "chipsim-sweep/1"
#: statuses of a finished point (a rerun loads them); ``error`` points are computed again
FINAL_STATUSES = ("ok", "infeasible")
#: fields of ``sweep.json`` that may differ between runs of the same sweep
_INFORMATIVE = ("created",)
#: what a changed field of :meth:`SweepSpec.sources` means, for the refusal's message
_CHANGED = {"chipsim": "it was made by another chipsim version",
            "model_sha256": "the model file changed since it was made",
            "chip_sha256": "the chip spec file changed since it was made",
            "data_sha256": "the data file changed since it was made"}
#: the files every run writes at its end (relative to the sweep directory)
RESULT_FILES = ("table.csv", "table.md", *(f"figures/{name}" for name in FIGURES))


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def point_id(settings: dict[str, Any]) -> str:
    """The stable name of a point: 16 hex digits of SHA-256 of its settings, in axis order.

    Examples
    --------
    >>> point_id({"core.adc_bits": 4, "chip.cores": 64})
    '30152bba98b2b5b0'
    >>> point_id({"core.adc_bits": 4}) == point_id({"core.adc_bits": 4})
    True
    """
    text = _canonical_json([[k, v] for k, v in settings.items()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """What a sweep runs (everything that defines its results, and nothing else).

    Attributes
    ----------
    model
        Zoo name, ``.npz`` weights file or ``.onnx`` file (:func:`chipsim.models.resolve_model`).
    axes
        The grid, first axis slowest.
    sets
        ``(key, value)`` settings applied to the base point, in order, before the grid.
    chip
        Preset name or spec file of the base chip.
    weights
        ``hwa``, ``plain``, ``random`` or a weights file (zoo models).
    samples, instances
        Test samples and chip instances of the accuracy measurement (None: RunConfig's
        defaults); applied before ``sets``.
    data
        A data file to score the network on instead of its built-in task's
        (:mod:`chipsim.data.user`).

    The identity (:meth:`identity`) holds the content hash of every input file
    (:meth:`sources`), so a resumed sweep never reuses points computed from other contents.
    """

    model: str
    axes: tuple[Axis, ...]
    sets: tuple[tuple[str, Any], ...] = ()
    chip: str = "hermes"
    weights: str = "hwa"
    samples: int | None = None
    instances: int | None = None
    data: str | None = None

    def base(self) -> tuple[Any, Any]:
        """The base ``(ChipSpec, RunConfig)``; an invalid option is a :class:`ChipsimError`."""
        from ..config import RunConfig
        from ..spec import SpecError, resolve_chip

        chip = resolve_chip(self.chip)
        config = RunConfig()
        for flag, value in (("samples", self.samples), ("instances", self.instances)):
            if value is not None:
                try:
                    _, config = apply_setting(chip, config, f"run.{flag}", value)
                except SpecError as exc:
                    raise ChipsimError(f"--{flag}: {exc.message}") from None
        for key, value in self.sets:
            try:
                chip, config = apply_setting(chip, config, key, value)
            except ChipsimError as exc:
                raise ChipsimError(f"--set {key}={value}: {exc}") from None
        return chip, config

    def points(self, max_points: int = MAX_POINTS) -> list[Point]:
        """Every point of the grid, validated (see :func:`~chipsim.explore.grid.grid_points`).

        Raises
        ------
        ChipsimError
            For an empty grid, more than ``max_points`` points, a key both in the grid and in
            ``sets``, an unknown key or a value that is not allowed.
        """
        if not self.axes:
            raise ChipsimError("--grid: give at least one axis, e.g. --grid core.adc_bits=4,6,8")
        set_keys = {canonical_key(k): k for k, _ in self.sets}
        for axis in self.axes:
            if canonical_key(axis.key) in set_keys:
                raise ChipsimError(f"--grid {axis.key}: also given with --set "
                                   f"{set_keys[canonical_key(axis.key)]}")
        chip, config = self.base()
        return grid_points(chip, config, self.axes, max_points)

    def sources(self) -> dict[str, str | None]:
        """What every point's result depends on beside the settings: the chipsim version and
        the SHA-256 of the content of each input file (None where there is none).

        ``model_sha256`` is the hash of the file the model is read from: the ``.npz`` or
        ``.onnx`` MODEL, or for a zoo name the weights file it resolves to (shipped
        ``hwa``/``plain`` weights or a ``weights`` file; None for seeded random weights).
        ``chip_sha256`` is that of a chip spec file (None for a preset), ``data_sha256`` that
        of the data file.

        Raises
        ------
        ChipsimError
            When the model cannot be resolved or a file cannot be read.
        """
        from .. import __version__
        from ..spec.io import chip_file
        from .worker import model_source

        spec_file = chip_file(self.chip)
        _, model_sha = model_source(_abs_if_file(self.model), _abs_if_file(self.weights))
        return {"chipsim": __version__, "model_sha256": model_sha,
                "chip_sha256": None if spec_file is None else _file_sha256(spec_file, "chip"),
                "data_sha256": None if self.data is None else _file_sha256(self.data, "data")}

    def identity(self, points: list[Point] | None = None,
                 sources: dict[str, str | None] | None = None) -> dict[str, Any]:
        """The content of ``sweep.json`` (JSON-ready); equal for equal sweeps on inputs of
        equal content (``sources``: :meth:`sources`, computed when not given)."""
        from ..api import spec_hash
        from ..spec import to_dict

        chip, config = self.base()
        points = self.points() if points is None else points
        data = {
            "format": SWEEP_FORMAT,
            **(self.sources() if sources is None else sources),
            "model": self.model,
            "weights": self.weights,
            "chip": self.chip,
            "grid": [{"key": a.key, "values": list(a.values)} for a in self.axes],
            "sets": [{"key": k, "value": v} for k, v in self.sets],
            "samples": self.samples,
            "instances": self.instances,
            "data": self.data,
            "base_spec_hash": spec_hash(chip),
            # without a target, as before run.ci_width existed (older sweeps still resume)
            "base_config": {k: v for k, v in to_dict(config).items()
                            if not (k == "ci_width" and v is None)},
            "points": [{"index": p.index, "id": point_id(p.settings), "settings": p.settings}
                       for p in points],
        }
        return json.loads(json.dumps(data))


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    records
        Every point's record, in the grid's order.
    computed, loaded
        Points computed by this run, and finished points loaded from the directory.
    files
        ``{name: path}`` of the files written at the end (``table.csv``, ``table.md`` and the
        figures).
    """

    records: list[dict[str, Any]]
    computed: int
    loaded: int
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Records with status ``error`` (a rerun computes them again)."""
        return [r for r in self.records if r["status"] == "error"]


def _file_sha256(path: str, what: str) -> str:
    """SHA-256 of the content of the ``what`` file ``path`` (:func:`chipsim.fileio.file_sha256`;
    an unreadable file is a :class:`ChipsimError`)."""
    from ..fileio import file_sha256

    try:
        return file_sha256(path)
    except OSError as exc:
        raise ChipsimError(f"{what} {path}: cannot be read ({exc.strerror})") from None


def _abs_if_file(text: str) -> str:
    p = Path(text)
    return str(p.resolve()) if p.suffix and p.is_file() else text


def plan_jobs(spec: SweepSpec, points: list[Point],
              sources: dict[str, str | None] | None = None) -> list[dict[str, Any]]:
    """The worker jobs of ``points`` (see :mod:`chipsim.explore.worker`); ``sources`` is
    :meth:`SweepSpec.sources` (computed when not given)."""
    from ..spec import to_dict

    model, weights = _abs_if_file(spec.model), _abs_if_file(spec.weights)
    data = None if spec.data is None else str(Path(spec.data).resolve())
    sources = spec.sources() if sources is None else sources
    return [{"index": p.index, "id": point_id(p.settings), "settings": p.settings,
             "model": model, "weights": weights, "chip": to_dict(p.chip),
             "config": to_dict(p.config), "cores": p.chip.n_cores, "data": data,
             "sources": sources}
            for p in points]


def _open_dir(out: Path, identity: dict[str, Any]) -> None:
    """Create ``out`` with its ``sweep.json`` (built beside and renamed into place), or check
    that it holds the same sweep and that its result files are chipsim's, unchanged."""
    from ..fileio import atomic_write
    from ..outdir import building, check_owned

    meta = out / "sweep.json"
    if meta.is_file():
        try:
            old = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ChipsimError(f"{meta}: unreadable sweep file ({exc}); use another --out") \
                from None
        diff = [k for k in identity if k not in _INFORMATIVE and old.get(k) != identity[k]]
        if diff:
            why = "; ".join(_CHANGED[k] for k in diff if k in _CHANGED)
            raise ChipsimError(f"--out {out}: holds a different sweep ({', '.join(diff)} differ"
                               + (f": {why}" if why else "")
                               + "); use another --out, or delete it to start over")
        check_owned(out, "sweep", RESULT_FILES)
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ChipsimError(f"--out {out}: exists and is not a sweep directory (no sweep.json)")
    from datetime import UTC, datetime

    with building(out, "sweep", replace=False) as tmp:
        (tmp / "points").mkdir()
        data = {**identity, "created": datetime.now(UTC).isoformat(timespec="seconds")}
        atomic_write(tmp / "sweep.json", json.dumps(data, indent=1) + "\n")


def load_records(out: str | os.PathLike, jobs: list[dict[str, Any]]) -> dict[str, dict]:
    """The finished records of ``jobs`` found in ``out``: status ``ok`` or ``infeasible`` and
    computed from the job's ``sources``.

    A record with status ``error``, or computed from other sources, is left out (the point is
    computed again and its file replaced).

    Raises
    ------
    ChipsimError
        For a point file that is not a record chipsim wrote for its point (unreadable, or of
        another point): it is not overwritten.
    """
    found = {}
    for job in jobs:
        path = Path(out) / "points" / f"{job['id']}.json"
        if not (path.exists() or path.is_symlink()):
            continue
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ChipsimError(f"{path}: not a point record chipsim wrote ({exc}); move it "
                               "away, and rerun to compute the point again") from None
        if (not isinstance(rec, dict) or rec.get("id") != job["id"]
                or rec.get("settings") != job["settings"]):
            raise ChipsimError(f"{path}: not the record of point {job['settings']}; move it "
                               "away, and rerun to compute the point again")
        if rec.get("sources") != job["sources"]:
            log.warning("%s: computed from other inputs; computing it again", path)
        elif rec.get("status") in FINAL_STATUSES:
            found[job["id"]] = rec
    return found


def _store(out: Path, job: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    from ..fileio import atomic_write

    record = {**record, "index": job["index"], "cores": job["cores"]}
    atomic_write(out / "points" / f"{job['id']}.json",
                 json.dumps(record, indent=1, allow_nan=True) + "\n")
    return record


def run_sweep(spec: SweepSpec, out: str | os.PathLike, *, workers: int = 1,
              dask: str | None = None, progress: bool = False,
              max_points: int = MAX_POINTS) -> SweepResult:
    """Run (or resume) the sweep ``spec`` in directory ``out``; write its table and figures.

    Parameters
    ----------
    spec
        The sweep.
    out
        The sweep directory (created; a directory of the same sweep is resumed).
    workers
        Local processes (1: in this process, one point after another).
    dask
        Address of a ``dask.distributed`` scheduler to run the points on instead.
    progress
        Show a progress bar over the points (on a terminal).
    max_points
        The most points the grid may have (:data:`~chipsim.explore.grid.MAX_POINTS`).

    Returns
    -------
    SweepResult
        The records in the grid's order and the files written.

    Raises
    ------
    ChipsimError
        Before any point runs: an invalid grid (or one of more than ``max_points`` points),
        option, model or executor, a model too large for a point's ``run.max_vectors``, an
        unusable ``out`` (:func:`chipsim.outdir.output_path`), or an ``out`` that holds another
        sweep, another sweep's inputs (:meth:`SweepSpec.sources`) or files chipsim did not
        write where it writes. A point that fails does not raise: its record says why.
    """
    from ..api import check_workload_size
    from ..outdir import output_path
    from .executors import check_workers, make_executor
    from .worker import model_source

    if dask is None:
        check_workers(workers)
    out = output_path(out, "sweep")
    points = spec.points(max_points)
    sources = spec.sources()  # a bad model fails here
    identity = spec.identity(points, sources)
    model, _ = model_source(_abs_if_file(spec.model), _abs_if_file(spec.weights))
    layers = tuple(model.workload.lowered())
    for p in points:  # and one too large for a point's run.max_vectors
        check_workload_size(model.workload.name, layers, p.config)
    jobs = plan_jobs(spec, points, sources)
    _open_dir(out, identity)
    done = load_records(out, jobs)
    todo = [j for j in jobs if j["id"] not in done]
    records = {j["id"]: {**done[j["id"]], "index": j["index"], "cores": j["cores"]}
               for j in jobs if j["id"] in done}
    if todo:
        with make_executor(workers, dask) as ex:
            log.info("sweep: %d points, %d finished, %d to run (%s)", len(jobs), len(done),
                     len(todo), ex.label)
            bar = _bar(len(jobs), len(done), progress)
            try:
                for job, rec in ex.run(todo):
                    records[job["id"]] = _store(out, job, rec)
                    bar.update(1)
                    if rec["status"] != "ok":
                        log.info("point %s: %s: %s", job["settings"], rec["status"],
                                 rec["reason"])
            finally:
                bar.close()
    ordered = [records[j["id"]] for j in jobs]
    files = _finish(out, spec, ordered)
    return SweepResult(ordered, len(todo), len(done), files)


def _bar(total: int, initial: int, show: bool) -> Any:
    import sys

    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="sweep", unit="point", file=sys.stderr,
                disable=None if show else True, dynamic_ncols=True)


def _finish(out: Path, spec: SweepSpec, records: list[dict[str, Any]]) -> dict[str, Path]:
    """Write the table and the figures of the finished sweep (a figure without data is
    removed); return ``{file name: path}`` of those written."""
    from ..outdir import update_files
    from .figures import figure_png
    from .table import table_csv, table_markdown

    keys = [a.key for a in spec.axes]
    files = {"table.csv": table_csv(records, keys).encode(),
             "table.md": table_markdown(records, keys).encode(),
             **{f"figures/{name}": figure_png(records, x, y)
                for name, (x, y) in FIGURES.items()}}
    return {Path(name).name: path for name, path in update_files(out, "sweep", files).items()}
