"""The :class:`Report`: everything one design point produced, in typed sections.

A report holds the run's ``provenance`` (:class:`~chipsim.report.sections.Provenance`), the
``chip`` (:class:`~chipsim.spec.ChipSpec`), the run options ``config``
(:class:`~chipsim.RunConfig`), the ``workload``, the ``mapping``
(:class:`~chipsim.mapping.Mapping`), the per-layer table ``layers``, ``accuracy``
(:class:`~chipsim.functional.accuracy.AccuracyResult`, None when not measured), ``timing``
(:class:`~chipsim.report.sections.TimingSection`, None when not simulated), ``mvm_counts`` and
``accuracy_vs_time`` (None unless asked for). :attr:`Report.summary` derives the key figures.

The JSON form exists only in :meth:`Report.to_json` / :meth:`Report.from_json` (and
:meth:`Report.to_dict`, which the Markdown/HTML views and figures inside this package render
from); they round-trip exactly. ``report.json`` holds these sections and the summary, so
``chipsim report DIR`` can redraw a report from the file alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import RunConfig
from ..errors import ChipsimError
from ..functional.accuracy import AccuracyResult
from ..inputs import FileKind, parse_document
from ..mapping import Mapping, mapping_from_plain, mapping_to_dict
from ..spec import ChipSpec, SpecError, from_dict, to_dict
from .sections import (
    COMPLETIONS,
    TIMELINE_INFERENCES,
    TIMELINE_LIMIT,
    TIMELINE_PIXELS,
    AccuracyAtTime,
    LayerRow,
    MvmCounts,
    Provenance,
    SystemSection,
    TimingSection,
    WorkloadInfo,
)

__all__ = ["Report", "TIMELINE_LIMIT", "TIMELINE_INFERENCES", "TIMELINE_PIXELS", "COMPLETIONS"]

#: the sections of ``report.json`` that must be there (the others may be null)
_REQUIRED = ("provenance", "chip", "config", "workload", "mapping", "layers")

#: ``report.json`` for :mod:`chipsim.inputs`
REPORT_FILE = FileKind("report", empty="chipsim run MODEL --out DIR writes one")


@dataclass(frozen=True, slots=True)
class Report:
    """One design point's results, in typed sections (see the module's docstring).

    Examples
    --------
    >>> from chipsim import RunConfig, simulate
    >>> r = simulate("resnet9", "hermes", config=RunConfig(samples=50, instances=1,
    ...                                                     inferences=2))
    >>> r.accuracy.metric, r.timing.inferences, r.summary["cores_used"]
    ('top1', 2, 64)
    >>> Report.from_json(r.to_json()) == r
    True
    """

    provenance: Provenance
    chip: ChipSpec
    config: RunConfig
    workload: WorkloadInfo
    mapping: Mapping
    layers: tuple[LayerRow, ...]
    accuracy: AccuracyResult | None = None
    timing: TimingSection | None = None
    mvm_counts: MvmCounts | None = None
    accuracy_vs_time: tuple[AccuracyAtTime, ...] | None = None
    system: SystemSection | None = None

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, *, provenance: Provenance, chip: ChipSpec, config: RunConfig, workload,
              mapping: Mapping, accuracy: AccuracyResult | None, timing) -> Report:
        """Assemble a report from the run's pieces (see :func:`chipsim.simulate`):
        ``workload`` is the :class:`~chipsim.workload.graph.Workload`, ``timing`` the
        :class:`~chipsim.timing.result.TimingResult` or None."""
        return cls(
            provenance=provenance,
            # as read back from a file: a number given as an integer to a float field is a float
            chip=from_dict(ChipSpec, to_dict(chip)), config=from_dict(RunConfig, to_dict(config)),
            workload=WorkloadInfo(workload.name, workload.architecture,
                                  int(workload.num_weights), len(workload.lowered())),
            mapping=mapping, layers=_layer_table(mapping, workload.lowered(), timing),
            accuracy=accuracy,
            timing=None if timing is None else TimingSection.of(timing),
            mvm_counts=_mvm_counts(mapping, accuracy, timing),
            system=SystemSection.of(chip, mapping, timing))

    # ------------------------------------------------------------ views
    @property
    def summary(self) -> dict[str, Any]:
        """The key figures, flat (the ``summary`` of ``report.json`` and of
        ``chipsim run --json``): model, chip, precision, area, and the accuracy and timing
        figures when measured."""
        return _summary(self.workload, self.chip, self.config, self.mapping, self.accuracy,
                        self.timing, self.system)

    def to_dict(self) -> dict[str, Any]:
        """The JSON content: every section as plain data, and the summary."""
        return {
            "provenance": to_dict(self.provenance),
            "summary": _plain(self.summary),
            "chip": to_dict(self.chip),
            "config": to_dict(self.config),
            "workload": to_dict(self.workload),
            "mapping": mapping_to_dict(self.mapping),
            "layers": [to_dict(ly) for ly in self.layers],
            "accuracy": None if self.accuracy is None else self.accuracy.to_dict(),
            "timing": None if self.timing is None else to_dict(self.timing),
            "mvm_counts": None if self.mvm_counts is None else to_dict(self.mvm_counts),
            "accuracy_vs_time": None if self.accuracy_vs_time is None
            else [to_dict(e) for e in self.accuracy_vs_time],
            # only for a system of several chips: one chip's report is as before
            **({} if self.system is None else {"system": to_dict(self.system)}),
        }

    # ------------------------------------------------------------ files
    def to_json(self) -> str:
        """The report as JSON text (deterministic for equal content)."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "report.json") -> Report:
        """Read a report from JSON text; a malformed one is a :class:`ChipsimError` naming
        ``source`` and what is wrong (the checks of :func:`chipsim.inputs.parse_document`:
        not empty, nested at most 100 levels, no key twice)."""
        return cls.from_dict(parse_document(text, "json", source, REPORT_FILE), source)

    @classmethod
    def from_dict(cls, data: Any, source: str = "report.json") -> Report:
        """The report :meth:`to_dict` wrote (the summary is derived, not read)."""
        missing = [k for k in _REQUIRED if not isinstance(data, dict) or k not in data]
        if missing:
            raise ChipsimError(f"{source}: not a chipsim report (missing {', '.join(missing)})")
        try:
            acc = data.get("accuracy")
            times = data.get("accuracy_vs_time")
            return cls(
                provenance=from_dict(Provenance, data["provenance"], "provenance"),
                chip=from_dict(ChipSpec, data["chip"], "chip"),
                config=from_dict(RunConfig, data["config"], "config"),
                workload=from_dict(WorkloadInfo, data["workload"], "workload"),
                mapping=_mapping(data["mapping"]),
                layers=tuple(from_dict(LayerRow, ly, f"layers[{i}]")
                             for i, ly in enumerate(_list(data["layers"], "layers"))),
                accuracy=None if acc is None else AccuracyResult.from_dict(acc),
                timing=_optional(TimingSection, data.get("timing"), "timing"),
                mvm_counts=_optional(MvmCounts, data.get("mvm_counts"), "mvm_counts"),
                accuracy_vs_time=None if times is None else tuple(
                    from_dict(AccuracyAtTime, e, f"accuracy_vs_time[{i}]")
                    for i, e in enumerate(_list(times, "accuracy_vs_time"))),
                system=_optional(SystemSection, data.get("system"), "system"))
        except SpecError as exc:
            raise ChipsimError(f"{source}: not a chipsim report of this version: "
                               f"{exc}") from None


def _optional(cls: type, value: Any, path: str) -> Any:
    return None if value is None else from_dict(cls, value, path)


def _list(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise SpecError(path, f"must be a list, got {type(value).__name__}")
    return value


def _mapping(value: Any) -> Mapping:
    try:
        return mapping_from_plain(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError("mapping", f"not a mapping as chipsim writes it ({exc!r})") from None


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _summary(workload, chip, config, mapping, accuracy, timing, system) -> dict[str, Any]:
    s: dict[str, Any] = {
        "model": workload.name,
        "chip": chip.name,
        "cores": chip.n_cores,
        "cores_used": mapping.cores_used,
        # working cores without a block: no copy of a layer would have made it faster
        "idle_cores": chip.n_cores - len(mapping.excluded_cores) - mapping.cores_used,
        "read_mode": chip.core.read_mode.value,
        "devices_per_polarity": chip.core.devices_per_polarity,
        "input_bits": chip.core.input_bits,
        "adc_bits": chip.core.adc_bits,
        "adc_kind": chip.core.adc_kind.value,
        "adc_range": chip.core.adc_range.value,
        **_area(chip),
        "t_seconds": config.t_seconds,
        "gdc": config.gdc,
        "transport": config.transport.value,
        "faults": to_dict(chip.faults),
    }
    if accuracy is not None:
        s.update(metric=accuracy.metric, software=accuracy.software,
                 chip_mean=accuracy.chip_mean, chip_ci95=list(accuracy.chip_ci95))
        if accuracy.ci_target is not None:  # a sequential measurement: where it stopped
            s.update(ci_target=accuracy.ci_target, ci_reached=accuracy.ci_reached,
                     ci95_width=accuracy.ci95_width, samples=accuracy.samples,
                     instances=accuracy.instances)
        ranges = [v for inst in accuracy.adc_full_scale_ua_per_core for v in inst if v > 0]
        if ranges:  # the ADC full scales the accuracy path used, over cores and instances
            s["adc_full_scale_ua"] = {"min": min(ranges), "median": float(np.median(ranges)),
                                      "max": max(ranges)}
    if timing is not None:
        s.update({k: getattr(timing, k) for k in (
            "latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
            "tops_per_w", "tops_per_w_mvm")})
        s["tops_per_mm2"] = timing.tops / s["mvm_area_mm2"]
        s["tops_per_mm2_chip"] = timing.tops / s["area_mm2"]
    if system is not None:
        s.update(chips=system.chips, chips_used=system.chips_used,
                 c2c_energy_share=system.c2c_energy_share,
                 c2c_latency_share=system.c2c_latency_share)
    return s


def _area(chip) -> dict[str, Any]:
    """The chip's areas (mm², :func:`chipsim.cost.chip_area`): die, all cores' MVM area,
    one core, and the breakdown of a core and of the die."""
    from ..cost import chip_area

    a = chip_area(chip)
    c = a.core
    return {
        "area_mm2": a.total_mm2, "mvm_area_mm2": a.mvm_mm2, "core_area_mm2": c.total_mm2,
        "area_breakdown_mm2": {
            "core": {"crossbar": c.crossbar_mm2, "adc": c.adc_mm2, "pwm": c.pwm_mm2,
                     "ldpu": c.ldpu_mm2, "rest": c.rest_mm2},
            "chip": {"cores": a.cores_mm2, "gdpu": a.gdpu_mm2, "network": a.network_mm2,
                     "periphery": a.periphery_mm2, "attention": a.attention_mm2}},
    }


def _layer_table(mapping, lowered, timing) -> tuple[LayerRow, ...]:
    """Per layer: cores, utilization, MVMs, its share of MVM time and core energy, and its
    part in the first inference (:class:`~chipsim.report.sections.LayerRow`)."""
    sources = {ly.name: tuple(dict.fromkeys(s for s in (*ly.sources, *ly.residual_sources)
                                            if s != ly.name)) for ly in lowered}
    cores_of = {ly.name: sorted({b.core for b in mapping.blocks_of(ly.name)})
                for ly in mapping.layers}
    extra: dict[str, dict[str, Any]] = {ly.name: {} for ly in mapping.layers}
    if timing is not None:
        cc = timing.core_counts

        def total(name: str, key: str) -> int:
            return sum(cc.get(c, {}).get(key, 0) for c in cores_of[name])

        busy = {n: total(n, "mvm_busy_ps") for n in cores_of}
        mvms = {n: total(n, "mvms") for n in cores_of}
        ldpu = {n: total(n, "ldpu_values") for n in cores_of}
        e_mvm, e_ldpu = timing.energy.mvm_pj, timing.energy.as_dict().get("ldpu", 0.0)
        tot_busy = sum(busy.values()) or 1
        tot_m = sum(mvms.values()) or 1
        tot_l = sum(ldpu.values()) or 1
        for n in cores_of:
            share = e_mvm * mvms[n] / tot_m + e_ldpu * ldpu[n] / tot_l
            extra[n] = {"time_share": float(busy[n] / tot_busy),
                        "energy_share": float(share / ((e_mvm + e_ldpu) or 1))}
        windows = _first_inference(mapping, timing)
        on_path = _critical_path(windows, sources)
        for n, (start, end) in windows.items():
            before = max((windows[s][1] for s in sources.get(n, ()) if s in windows), default=0)
            extra[n].update(first_inference_ns=(start / 1e3, end / 1e3),
                            adds_ns=(end - before) / 1e3, critical=n in on_path)
    return tuple(LayerRow(ly.name, ly.rows, ly.cols, ly.blocks, ly.replicas, ly.cores,
                          float(ly.utilization), ly.vectors * ly.blocks,
                          sources.get(ly.name, ()), **extra[ly.name])
                 for ly in mapping.layers)


def _first_inference(mapping, timing) -> dict[str, tuple[int, int]]:
    """Per layer, when its cores started the first inference's first MVM and finished its last
    LDPU output (ps); empty without a recorded timeline.

    A core runs its vectors inference after inference, as many in each (its MVMs over the
    inferences), with one MVM and one LDPU entry per vector in the timeline; so the first
    inference's are the first of each, by start. A timeline that does not fit that gives no
    windows rather than wrong ones.
    """
    starts: dict[int, list[int]] = {}
    ldpus: dict[int, list[tuple[int, int]]] = {}
    for core, start, end, action in timing.timeline:
        if action == "mvm":
            starts.setdefault(core, []).append(start)
        elif action == "ldpu":
            ldpus.setdefault(core, []).append((start, end))
    layer_of = {b.core: b.layer for b in mapping.blocks}
    out: dict[str, tuple[int, int]] = {}
    for core, firsts in starts.items():
        n = timing.core_counts.get(core, {}).get("mvms", 0)
        per, rest = divmod(n, timing.inferences)
        outs = sorted(ldpus.get(core, ()))
        if rest or not per or len(firsts) != n or len(outs) != n or core not in layer_of:
            return {}
        begin, end = min(firsts), max(e for _, e in outs[:per])
        name = layer_of[core]
        if name in out:
            begin, end = min(begin, out[name][0]), max(end, out[name][1])
        out[name] = (begin, end)
    return out


def _critical_path(windows: dict[str, tuple[int, int]],
                   sources: dict[str, tuple[str, ...]]) -> set[str]:
    """The layers from the one that finished the first inference last back through, each
    time, the source that finished last."""
    path: set[str] = set()
    cur = max(windows, key=lambda n: windows[n][1], default=None)
    while cur is not None and cur not in path:
        path.add(cur)
        before = [s for s in sources.get(cur, ()) if s in windows]
        cur = max(before, key=lambda s: windows[s][1], default=None)
    return path


def _mvm_counts(mapping, accuracy, timing) -> MvmCounts | None:
    """Core MVMs per inference as the functional and the timing paths counted them."""
    if accuracy is None and timing is None:
        return None
    cores = sorted({b.core for b in mapping.blocks})
    functional = per_inference = None
    if accuracy is not None:
        n = accuracy.samples
        functional = {c: accuracy.mvms_per_core[c] / n for c in cores}
    if timing is not None:
        n = timing.inferences
        per_inference = {c: timing.core_counts.get(c, {}).get("mvms", 0) / n for c in cores}
    return MvmCounts(functional, per_inference)
