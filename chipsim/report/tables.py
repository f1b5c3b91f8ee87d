"""Tables of a report, as rows of strings, shared by the terminal, Markdown and HTML views.

Everything here reads the report's JSON content (``Report.to_dict()``) only, so a report file
renders without the inputs that produced it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TIMING_KEYS", "ACCURACY_KEYS", "flat_summary", "summary_rows", "layer_rows",
           "critical_path_text",
           "ci_text", "energy_explained", "energy_rows", "accuracy_time_rows", "fmt_time_s",
           "fmt_ns"]

#: timing figures copied to the top level of ``chipsim run --json`` (None without timing)
TIMING_KEYS = ("transport", "inferences", "cores_used", "latency_ns", "throughput_inf_per_s",
               "tops", "energy_uj_per_inference", "tops_per_w", "tops_per_w_mvm",
               "mvms_per_inference", "ops_per_inference", "makespan_ns", "setup_ns",
               "range_calibration_mvms", "setup_energy_uj", "energy_breakdown")

#: keys of the ``accuracy`` object of ``chipsim run --json``
ACCURACY_KEYS = ("metric", "software", "chip_mean", "chip_ci95", "instances", "samples",
                 "chip", "t_seconds", "gdc", "ci95_width", "ci_target", "ci_reached",
                 "samples_max", "instances_max", "ci_stages", "data")

_METRIC = {"top1": ("top-1 accuracy", "%", "higher is better"),
           "bpc": ("bits per character", "bit/char", "lower is better")}


def flat_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON object of ``chipsim run --json``: the ``summary`` section, the timing figures
    of :data:`TIMING_KEYS` at top level (None when timing was not simulated), ``accuracy``
    (the keys of :data:`ACCURACY_KEYS`, or None) and ``accuracy_vs_time`` (or None).

    Examples
    --------
    >>> flat_summary({"summary": {"model": "m"}, "timing": None, "accuracy": None})["tops"]
    """
    out = dict(data["summary"])
    timing = data.get("timing") or {}
    for key in TIMING_KEYS:
        if key not in out or out[key] is None:
            out[key] = timing.get(key)
    acc = data.get("accuracy")
    out["accuracy"] = None if acc is None else {k: acc[k] for k in ACCURACY_KEYS if k in acc}
    out["accuracy_vs_time"] = data.get("accuracy_vs_time")
    return out


def fmt_time_s(t: float) -> str:
    """``3600`` → ``1 h``: a time since programming in the largest whole unit."""
    for unit, secs in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if t >= secs:
            return f"{t / secs:.3g} {unit}"
    return f"{t:.3g} s"


def fmt_ns(ns: float) -> str:
    """``268205.6`` → ``268.2 µs``: a duration in ns with a readable unit."""
    if ns >= 1e6:
        return f"{ns / 1e6:.4g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.4g} µs"
    return f"{ns:.4g} ns"


def ci_text(entry: dict[str, Any], instances: int) -> str:
    """``mean [lo, hi]`` of a chip score, or the one instance's score alone (one instance has
    no interval).

    Examples
    --------
    >>> ci_text({"chip_mean": 97.5, "chip_ci95": [96.0, 99.0]}, 3)
    '97.50 [96.00, 99.00]'
    >>> ci_text({"chip_mean": 97.5, "chip_ci95": [97.5, 97.5]}, 1)
    '97.50'
    """
    if instances < 2:
        return f"{entry['chip_mean']:.2f}"
    lo, hi = entry["chip_ci95"]
    return f"{entry['chip_mean']:.2f} [{lo:.2f}, {hi:.2f}]"


def _accuracy_text(acc: dict[str, Any]) -> str:
    name, unit, _better = _METRIC.get(acc["metric"], (acc["metric"], "", ""))
    n = acc["instances"]
    what = (f"mean [CI95] of {n} instances × {acc['samples']} samples" if n > 1 else
            f"one chip instance × {acc['samples']} samples: no interval")
    return (f"{name}: software {acc['software']:.2f} {unit}, chip {ci_text(acc, n)} {unit} "
            f"({what})" + _target_text(acc))


def _target_text(acc: dict[str, Any]) -> str:
    """Where a sequential measurement (``--ci-width``) stopped; empty without a target."""
    target = acc.get("ci_target")
    if target is None:
        return ""
    width = acc["ci95_width"]
    used = (f"{acc['instances']} of {acc['instances_max']} instances × {acc['samples']} of "
            f"{acc['samples_max']} samples")
    if acc["ci_reached"]:
        return f"; CI width {width:.3g} ≤ target {target:g}: reached with {used}"
    return f"; CI width {width:.3g} > target {target:g}: not reached with {used}"


def system_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """Header and rows of the chips of a system (None for one chip): cores used, their
    mean MVM utilization, the layers on the chip; and the crossing in a sentence
    (:func:`system_text`)."""
    system = data.get("system")
    if system is None:
        return None
    rows = []
    for r in system["chip_rows"]:
        names = r["layers"]
        span = names[0] if len(names) == 1 else f"{names[0]} .. {names[-1]} ({len(names)})"
        util = "" if r["mvm_utilization"] is None else f"{r['mvm_utilization']:.1%}"
        rows.append([str(r["chip"]), str(r["cores_used"]), util, span])
    return ["chip", "cores used", "MVM utilization", "layers"], rows


def system_text(data: dict[str, Any]) -> str:
    """The system of chips and what crossing them costs, in a sentence ('' for one chip)."""
    system = data.get("system")
    if system is None:
        return ""
    text = (f"{system['chips']} chips ({system['topology']}), chip-to-chip links of "
            f"{system['link_bandwidth_gbps']:g} Gbit/s and {system['link_latency_ns']:g} ns.")
    if system.get("c2c_bits_per_inference") is not None:
        text += (f" Crossing chips: {_crossing_text(system)}. The latency share is that of "
                 "one inference run alone: 1 − (its latency with ideal links) / (its latency "
                 "with these), two more timing runs; ideal links can let transfers meet in "
                 "another order, so a share near zero may be a little negative.")
    return text


#: completions further apart than this ratio (largest gap over smallest) are not yet steady
UNSTEADY_GAPS = 1.25


def _steadiness(completion_ns: list[float]) -> str:
    """A warning when the inferences completed at uneven intervals: the throughput, taken
    over them all, is then not yet the pipeline's steady state ('' otherwise, or with fewer
    than three inferences).

    Examples
    --------
    >>> _steadiness([100.0, 200.0, 300.0])
    ''
    >>> _steadiness([364225.6, 523415.6, 639430.6, 742445.6]).split(";")[0]
    ' (not yet steady: the inferences completed 159.2, 116.0, 103.0 µs apart'
    """
    gaps = [b - a for a, b in zip(completion_ns, completion_ns[1:], strict=False)]
    if len(gaps) < 2 or min(gaps) <= 0 or max(gaps) / min(gaps) <= UNSTEADY_GAPS:
        return ""
    shown = ", ".join(f"{g / 1e3:.1f}" for g in gaps[:8]) + (", ..." if len(gaps) > 8 else "")
    return (f" (not yet steady: the inferences completed {shown} µs apart; more of them, "
            "e.g. --set run.inferences=16, give a steadier figure)")


def _crossing_text(system: dict[str, Any]) -> str:
    """What crossing chips cost: traffic, its share of the energy and of the latency."""
    text = (f"{system['chips_used']} of {system['chips']} chips used; "
            f"{system['c2c_bits_per_inference'] / 8e3:,.1f} kB per inference on "
            f"{system['link_bandwidth_gbps']:g} Gbit/s chip-to-chip links (counted on each link "
            f"crossed): {system['c2c_energy_share']:.2%} of the energy")
    share = system.get("c2c_latency_share")
    if share is not None:
        text += (f", {share:.2%} of the latency of an inference alone "
                 f"({fmt_ns(system['latency_alone_ns'])}; with ideal links "
                 f"{fmt_ns(system['latency_ideal_links_ns'])})")
    return text


def summary_rows(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the key figures: model, chip, cores, accuracy, timing, energy."""
    s = data["summary"]
    wl = data.get("workload") or {}
    cfg = data.get("config") or {}
    t = data.get("timing")
    acc = data.get("accuracy")
    model = s["model"]
    extra = []
    if wl.get("weights"):
        extra.append(f"{wl['weights']:,} weights")
    if wl.get("source"):
        extra.append(str(wl["source"]))
    if extra:
        model += f" ({'; '.join(extra)})"
    devices = {1: "ODP", 2: "TDP"}.get(s["devices_per_polarity"],
                                       f"{s['devices_per_polarity']} devices/polarity")
    system = data.get("system")
    chip = s["chip"] if system is None else (f"{system['chips']} × {s['chip']} "
                                              f"({system['topology']})")
    rows = [
        ("model", model),
        ("chip", f"{chip}: {s['cores']} cores, {s['read_mode']}, {devices}, "
                 f"{s['input_bits']}-bit PWM inputs, {s['adc_bits']}-bit {s['adc_kind']} ADC "
                 f"({s['adc_range']} range)"),
        ("area", f"{s['area_mm2']:.4g} mm² die; MVM area {s['mvm_area_mm2']:.4g} mm² "
                 f"({s['core_area_mm2']:.4g} mm² per core)"),
        ("cores used", f"{s['cores_used']} of {s['cores']}" + (
            f" ({s['idle_cores']} idle)" if s.get("idle_cores") else "")),
        ("time since programming", f"{fmt_time_s(s['t_seconds'])}, GDC "
                                   f"{'on' if s['gdc'] else 'off'}"),
    ]
    if acc is not None:
        rows.append(("accuracy", _accuracy_text(acc)))
        fs = s.get("adc_full_scale_ua")
        if fs:
            rows.append(("ADC full scale", f"{s['adc_range']}: {fs['min']:.3g} / "
                         f"{fs['median']:.3g} / {fs['max']:.3g} µA (min / median / max over "
                         "cores and instances)"))
    else:
        why = ("not measured (no built-in task for this model: give --data FILE.npz)"
               if cfg.get("accuracy", True) else "not measured (--no-accuracy)")
        rows.append(("accuracy", why))
    if t is not None:
        mode = ("on-chip, layer-pipelined" if s["transport"] == "onchip"
                else "off-chip, through the host")
        rows += [
            ("transport", f"{s['transport']} ({mode}); {t['inferences']} "
                          f"inference{'' if t['inferences'] == 1 else 's'} simulated"),
            ("latency", fmt_ns(t["latency_ns"])),
            ("throughput", f"{t['throughput_inf_per_s']:,.1f} inferences/s"
                           + _steadiness(t.get("completion_ns") or [])),
            ("TOPS", f"{t['tops']:.4g}"),
            ("energy / inference", f"{t['energy_uj_per_inference']:.4g} µJ"),
            ("TOPS/W", f"{t['tops_per_w']:.4g} (MVM energy only: {t['tops_per_w_mvm']:.4g})"),
            ("TOPS/mm²", f"{s['tops_per_mm2']:.4g} of MVM area ([LG]'s convention); "
                         f"{s['tops_per_mm2_chip']:.4g} of the die"),
        ]
        if system is not None:
            rows.append(("chip-to-chip", _crossing_text(system)))
        if t.get("setup_ns"):
            rows.append(("one-time set-up", f"ADC range calibration: "
                         f"{t['range_calibration_mvms']:,} MVMs, {fmt_ns(t['setup_ns'])}, "
                         f"{t['setup_energy_uj']:.4g} µJ (in no inference)"))
    else:
        rows.append(("timing", "not simulated (--no-timing)"))
    return rows


def layer_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-layer table (cores, utilization, MVMs, time/energy share,
    and the first inference: when the layer worked on it, the time it added, ``*`` on the
    critical path)."""
    timed = any(ly.get("time_share") is not None for ly in data["layers"])
    paths = any(ly.get("first_inference_ns") is not None for ly in data["layers"])
    head = ["layer", "matrix", "blocks", "replicas", "cores", "utilization", "MVMs/inference"]
    if timed:
        head += ["time share", "energy share"]
    if paths:
        head += ["inference 1 (µs)", "adds (µs)"]
    rows = []
    for ly in data["layers"]:
        row = [ly["name"], f"{ly['rows']}×{ly['cols']}", str(ly["blocks"]),
               str(ly["replicas"]), str(ly["cores"]), f"{ly['utilization']:.1%}",
               f"{ly['mvms_per_inference']:,}"]
        if timed:
            row += [f"{ly.get('time_share') or 0.0:.1%}", f"{ly.get('energy_share') or 0.0:.1%}"]
        if paths:
            window = ly.get("first_inference_ns")
            row += ["—", "—"] if window is None else [
                f"{window[0] / 1e3:.4g} – {window[1] / 1e3:.4g}",
                f"{ly['adds_ns'] / 1e3:.4g}" + (" *" if ly.get("critical") else "")]
        rows.append(row)
    return head, rows


def critical_path_text(data: dict[str, Any]) -> str:
    """The first inference's critical path, one sentence (empty without one).

    Examples
    --------
    >>> print(critical_path_text({"timing": {"latency_ns": 2500.0}, "layers": [
    ...     {"name": "a", "first_inference_ns": [0.0, 1000.0], "adds_ns": 1000.0,
    ...      "critical": True},
    ...     {"name": "b", "first_inference_ns": [500.0, 2400.0], "adds_ns": 1400.0,
    ...      "critical": True}]}))  # doctest: +NORMALIZE_WHITESPACE
    Critical path of inference 1 (latency 2.5 µs): a (adds 1 µs) → b (1.4 µs); the rest is
    the host's receipt of the outputs. Marked * in the table and outlined on the timeline: each
    layer adds the time from its last source's last output to its own.
    """
    path = sorted((ly for ly in data.get("layers") or () if ly.get("critical")),
                  key=lambda ly: ly["first_inference_ns"][1])
    t = data.get("timing")
    if not path or not t:
        return ""
    steps = [f"{ly['name']} ({'adds ' if i == 0 else ''}{fmt_ns(ly['adds_ns'])})"
             for i, ly in enumerate(path)]
    return (f"Critical path of inference 1 (latency {fmt_ns(t['latency_ns'])}): "
            f"{' → '.join(steps)}; the rest is the host's receipt of the outputs. Marked * in "
            "the table and outlined on the timeline: each layer adds the time from its last "
            "source's last output to its own.")


def energy_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the energy breakdown (µJ per inference and share), largest first."""
    t = data.get("timing") or {}
    parts = t.get("energy_breakdown") or {}
    total = sum(parts.values()) or 1.0
    rows = [[k, f"{v:.4g}", f"{v / total:.1%}"]
            for k, v in sorted(parts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return ["component", "µJ / inference", "share"], rows


#: what each energy component outside Table I's MVM-only figure is (the report's explanation)
_WHAT = {"ldpu": "the LDPUs' digital post-processing of every ADC output",
         "buffer": "activation and partial-sum buffers", "link": "on-chip links",
         "gdpu": "the global digital units (LSTM gates)", "offchip": "the chip-host path",
         "c2c": "the chip-to-chip links",
         "core_static": "cores' digital static power over the run",
         "gdpu_static": "the global units' static power",
         "chip_static": "the chip's static power over the run",
         "attention": "the attention units' MACs: q·kᵀ, ·v, LayerNorm",
         "attention_ops": "the attention units' other operations: softmax, GELU, sums",
         "attention_memory": "the attention units' local memory: queries, keys, values",
         "attention_static": "the attention units' static power"}


def energy_explained(data: dict[str, Any]) -> str:
    """Where the energy goes against the chip paper's MVM-only TOPS/W (Table I counts the PWM
    drivers, the crossbar, the ADCs and the MVM periphery's static power; the whole chip adds
    the digital units, buffers, links and static power), with the attention units' share
    when the chip has them: one paragraph, or empty without timing.

    Examples
    --------
    >>> data = {"timing": {"tops_per_w": 0.6, "tops_per_w_mvm": 2.4, "energy_breakdown": {
    ...     "pwm": 1.0, "array": 1.0, "adc": 2.0, "mvm_static": 1.0, "ldpu": 6.0,
    ...     "core_static": 4.0, "link": 0.5}}}
    >>> print(energy_explained(data))  # doctest: +NORMALIZE_WHITESPACE
    0.6 TOPS/W for the whole chip against 2.4 TOPS/W counting the MVMs' energy only (Table
    I's convention: PWM drivers, crossbar, ADCs and the MVM periphery's static power), which
    is 32.3% of the energy here. The rest: ldpu 38.7% (the LDPUs' digital post-processing of
    every ADC output), core_static 25.8% (cores' digital static power over the run), link
    3.2% (on-chip links).
    >>> data["timing"]["energy_breakdown"].update(attention=0.4, attention_memory=0.6)
    >>> energy_explained(data).split(". ")[-1]
    'The attention units (MACs, other operations, local memory, static power) take 6.1%.'
    """
    from ..cost.energy import MVM_COMPONENTS

    t = data.get("timing")
    if not t or not t.get("energy_breakdown"):
        return ""
    parts = t["energy_breakdown"]
    total = sum(parts.values()) or 1.0
    mvm = sum(parts.get(c, 0.0) for c in MVM_COMPONENTS) / total
    rest = sorted(((v / total, k) for k, v in parts.items()
                   if k not in MVM_COMPONENTS and v > 0), reverse=True)
    shown = [f"{k} {share:.1%} ({_WHAT.get(k, k)})" for share, k in rest[:4]]
    text = (f"{t['tops_per_w']:.3g} TOPS/W for the whole chip against "
            f"{t['tops_per_w_mvm']:.3g} TOPS/W counting the MVMs' energy only (Table I's "
            "convention: PWM drivers, crossbar, ADCs and the MVM periphery's static power), "
            f"which is {mvm:.1%} of the energy here.")
    attention = sum(v for k, v in parts.items() if k.startswith("attention")) / total
    return (text + (f" The rest: {', '.join(shown)}." if shown else "")
            + (f" The attention units (MACs, other operations, local memory, static power) "
               f"take {attention:.1%}." if attention else ""))


def accuracy_time_rows(data: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the accuracy-versus-time table (empty without that section)."""
    rows = []
    n = (data.get("accuracy") or {}).get("instances", 2)
    for e in data.get("accuracy_vs_time") or []:
        lo, hi = e["chip_ci95"]
        rows.append([fmt_time_s(e["t_seconds"]), f"{e['t_seconds']:g}",
                     f"{e['chip_mean']:.2f}", f"[{lo:.2f}, {hi:.2f}]" if n > 1 else "—"])
    return ["time since programming", "t (s)", "chip mean", "CI95"], rows
