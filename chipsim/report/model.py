"""The :class:`Report`: everything one design point produced, as plain JSON-ready data.

A report is a nested dict with fixed top-level sections: ``provenance``, ``summary``,
``chip``, ``config``, ``workload``, ``mapping``, ``layers``, ``accuracy`` (None when not
measured), ``timing`` (None when not simulated) and ``mvm_counts``. It is written as
``report.json`` and read back with :meth:`Report.from_json`; the Markdown/HTML views and the
figures are rendered from it alone, so ``chipsim report DIR`` can redraw them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ChipsimError
from ..spec import to_dict

__all__ = ["Report", "TIMELINE_LIMIT", "TIMELINE_INFERENCES", "TIMELINE_PIXELS"]

#: at most this many timeline entries are kept in a report (the earliest ones)
TIMELINE_LIMIT = 3000
#: the report's timeline covers the simulated time until this many inferences completed
TIMELINE_INFERENCES = 2
#: entries of one core and action closer than the window over this many are merged
TIMELINE_PIXELS = 2000
#: completion times of at most this many inferences are kept (``timing.completion_ns``)
COMPLETIONS = 1000


@dataclass(frozen=True, slots=True)
class Report:
    """One design point's results; ``data`` is the JSON content."""

    data: dict[str, Any]

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, *, provenance, chip, config, workload, mapping, mapping_dict, accuracy,
              timing) -> Report:
        """Assemble a report from the run's pieces (see :func:`chipsim.simulate`)."""
        t = None
        if timing is not None:
            t = {
                **timing.summary(),
                "core_utilization": {str(k): v for k, v in sorted(
                    timing.core_utilization.items())},
                "ldpu_utilization": {str(k): v for k, v in sorted(
                    timing.ldpu_utilization.items())},
                "link_utilization": dict(sorted(timing.link_utilization.items())),
                "link_peak_queue": dict(sorted(timing.link_peak_queue.items())),
                "core_counts": {str(k): v for k, v in sorted(timing.core_counts.items())},
                # when each inference was complete (its outputs at the host), the first ones
                "completion_ns": [c / 1e3 for c in timing.completion_ps[:COMPLETIONS]],
                **_timeline(timing),
            }
        layers = _layer_table(mapping, timing)
        counts = _mvm_counts(mapping, accuracy, timing)
        summary = _summary(workload, chip, config, mapping, accuracy, t)
        data = {
            "provenance": provenance,
            "summary": summary,
            "chip": to_dict(chip),
            "config": to_dict(config),
            "workload": {"name": workload.name, "architecture": workload.architecture,
                         "weights": workload.num_weights,
                         "layers": len(workload.lowered())},
            "mapping": mapping_dict,
            "layers": layers,
            "accuracy": accuracy,
            "timing": t,
            "mvm_counts": counts,
        }
        return cls(_plain(data))

    # ------------------------------------------------------------ files
    def with_section(self, name: str, value: Any) -> Report:
        """A copy of the report with section ``name`` set to ``value`` (JSON-ready data).

        Examples
        --------
        >>> Report({"summary": {}}).with_section("note", (1, 2)).data["note"]
        [1, 2]
        """
        return Report({**self.data, name: _plain(value)})

    def to_json(self) -> str:
        """The report as JSON text (deterministic for equal content)."""
        return json.dumps(self.data, indent=1, allow_nan=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "report.json") -> Report:
        """Read a report from JSON text; a malformed one is a :class:`ChipsimError`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ChipsimError(f"{source}: not valid JSON: {exc}") from None
        missing = [k for k in ("provenance", "summary", "chip", "mapping", "layers")
                   if not isinstance(data, dict) or k not in data]
        if missing:
            raise ChipsimError(f"{source}: not a chipsim report (missing {', '.join(missing)})")
        return cls(data)

    @property
    def summary(self) -> dict[str, Any]:
        """The key figures."""
        return self.data["summary"]


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _timeline(timing) -> dict[str, Any]:
    """The report's view of the per-core timeline: the first inferences, merged to spans.

    Entries ``[core, start_ps, end_ps, action]`` that start before the first
    :data:`TIMELINE_INFERENCES` inferences completed (the window). Entries of one core and
    action less than a gap apart are merged into one busy span: the gap starts at
    ``window / TIMELINE_PIXELS`` (below a figure's pixel) and doubles until at most
    :data:`TIMELINE_LIMIT` spans remain (at most 8 times; then the earliest spans are kept and
    the window ends where they end). Spans are sorted by core and start.
    """
    k = min(TIMELINE_INFERENCES, timing.inferences)
    done = sorted(timing.completion_ps)
    end = (done[k - 1] if len(done) >= k else 0) or timing.makespan_ps
    entries = sorted((e for e in timing.timeline if e[1] < end), key=lambda e: (e[1], e[0]))
    gap = max(1, end // TIMELINE_PIXELS)
    for _ in range(8):
        spans = _merge(entries, gap)
        if len(spans) <= TIMELINE_LIMIT:
            break
        gap *= 2
    if len(spans) > TIMELINE_LIMIT:
        end = spans[TIMELINE_LIMIT][1]
        spans = spans[:TIMELINE_LIMIT]
    spans.sort(key=lambda e: (e[0], e[1], e[3]))
    return {"timeline": spans, "timeline_window_ns": [0.0, end / 1e3],
            "timeline_inferences": k, "timeline_merge_gap_ns": gap / 1e3}


def _merge(entries, gap: int) -> list[list[Any]]:
    """Entries sorted by start, merged per (core, action) when less than ``gap`` apart."""
    spans: list[list[Any]] = []
    last: dict[tuple[int, str], list[Any]] = {}
    for core, start, stop, action in entries:
        cur = last.get((core, action))
        if cur is not None and start - cur[2] <= gap:
            cur[2] = max(cur[2], int(stop))
            continue
        cur = [int(core), int(start), int(stop), str(action)]
        last[(core, action)] = cur
        spans.append(cur)
    return spans


def _summary(workload, chip, config, mapping, accuracy, timing) -> dict[str, Any]:
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
        s.update(metric=accuracy["metric"], software=accuracy["software"],
                 chip_mean=accuracy["chip_mean"], chip_ci95=list(accuracy["chip_ci95"]))
        if accuracy.get("ci_target") is not None:  # a sequential measurement: where it stopped
            s.update(ci_target=accuracy["ci_target"], ci_reached=accuracy["ci_reached"],
                     ci95_width=accuracy["ci95_width"], samples=accuracy["samples"],
                     instances=accuracy["instances"])
        ranges = [v for inst in accuracy.get("adc_full_scale_ua_per_core", ()) for v in inst
                  if v > 0]
        if ranges:  # the ADC full scales the accuracy path used, over cores and instances
            s["adc_full_scale_ua"] = {"min": min(ranges), "median": float(np.median(ranges)),
                                      "max": max(ranges)}
    if timing is not None:
        s.update({k: timing[k] for k in ("latency_ns", "throughput_inf_per_s", "tops",
                                         "energy_uj_per_inference", "tops_per_w",
                                         "tops_per_w_mvm")})
        s["tops_per_mm2"] = timing["tops"] / s["mvm_area_mm2"]
        s["tops_per_mm2_chip"] = timing["tops"] / s["area_mm2"]
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
                     "periphery": a.periphery_mm2}},
    }


def _layer_table(mapping, timing) -> list[dict[str, Any]]:
    """Per layer: cores, utilization, MVMs, and its share of MVM time and core energy."""
    rows = []
    cores_of = {ly.name: sorted({b.core for b in mapping.blocks_of(ly.name)})
                for ly in mapping.layers}
    busy = mvm_e = ldpu_e = {}
    if timing is not None:
        cc = timing.core_counts
        busy = {n: sum(cc.get(c, {}).get("mvm_busy_ps", 0) for c in cs)
                for n, cs in cores_of.items()}
        mvm_e = {n: sum(cc.get(c, {}).get("mvms", 0) for c in cs) for n, cs in cores_of.items()}
        ldpu_e = {n: sum(cc.get(c, {}).get("ldpu_values", 0) for c in cs)
                  for n, cs in cores_of.items()}
        e = timing.energy
        e_mvm, e_ldpu = e.mvm_pj, e.as_dict().get("ldpu", 0.0)
        tot_busy = sum(busy.values()) or 1
        tot_m = sum(mvm_e.values()) or 1
        tot_l = sum(ldpu_e.values()) or 1
    for ly in mapping.layers:
        row = {"name": ly.name, "rows": ly.rows, "cols": ly.cols, "blocks": ly.blocks,
               "replicas": ly.replicas, "cores": ly.cores, "utilization": ly.utilization,
               "mvms_per_inference": ly.vectors * ly.blocks}
        if timing is not None:
            row["time_share"] = busy[ly.name] / tot_busy
            share = (e_mvm * mvm_e[ly.name] / tot_m + e_ldpu * ldpu_e[ly.name] / tot_l)
            row["energy_share"] = share / ((e_mvm + e_ldpu) or 1)
        rows.append(row)
    return rows


def _mvm_counts(mapping, accuracy, timing) -> dict[str, Any] | None:
    """Core MVMs per inference as the functional and the timing paths counted them."""
    out: dict[str, Any] = {}
    cores = sorted({b.core for b in mapping.blocks})
    if accuracy is not None:
        n = accuracy["samples"]
        f = accuracy["mvms_per_core"]
        out["functional_per_sample"] = {str(c): f[c] / n for c in cores}
    if timing is not None:
        n = timing.inferences
        out["timing_per_inference"] = {str(c): timing.core_counts.get(c, {}).get("mvms", 0) / n
                                       for c in cores}
    return out or None
