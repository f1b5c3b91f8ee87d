"""The typed sections of a :class:`~chipsim.report.Report` that no other layer defines.

The chip (:class:`~chipsim.spec.ChipSpec`), the run options (:class:`~chipsim.RunConfig`), the
mapping (:class:`~chipsim.mapping.Mapping`) and the accuracy
(:class:`~chipsim.functional.accuracy.AccuracyResult`) are the types their layers produce; the
report adds the sections here: where it came from, the workload, the per-layer table, the
timing figures, the MVM counts of both paths and the accuracy at other times since
programming. Field names carry their units; dict keys that are core ids are integers.

Examples
--------
>>> from chipsim.spec import from_dict, to_dict
>>> row = LayerRow("conv1", rows=27, cols=56, blocks=1, replicas=2, cores=2,
...                utilization=0.02, mvms_per_inference=1024, sources=("conv0",))
>>> from_dict(LayerRow, to_dict(row)) == row
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..mapping import Mapping
    from ..spec import ChipSpec
    from ..timing.result import TimingResult

__all__ = ["Provenance", "WorkloadInfo", "LayerRow", "TimingSection", "MvmCounts",
           "AccuracyAtTime", "ChipRow", "SystemSection", "TIMELINE_LIMIT", "TIMELINE_INFERENCES",
           "TIMELINE_PIXELS", "COMPLETIONS"]

#: at most this many timeline entries are kept in a report (the earliest ones)
TIMELINE_LIMIT = 3000
#: the report's timeline covers the simulated time until this many inferences completed
TIMELINE_INFERENCES = 2
#: entries of one core and action closer than the window over this many are merged
TIMELINE_PIXELS = 2000
#: completion times of at most this many inferences are kept (``timing.completion_ns``)
COMPLETIONS = 1000


@dataclass(frozen=True, slots=True)
class Provenance:
    """What made the report: versions, the chip spec's hash, the seed, the command line, when
    and where, and how the cores' array products were formed (``products``:
    :func:`chipsim.functional.core.products_method`; their rounding differs between the
    two). ``volatile_fields`` names the fields (dotted paths) that change from run to run;
    everything else is determined by the inputs and the seed."""

    chipsim: str
    spec_hash: str
    seed: int
    command: str | None
    date: str
    host: str
    python: str
    numpy: str
    volatile_fields: tuple[str, ...]
    products: str = "float32 BLAS"


@dataclass(frozen=True, slots=True)
class WorkloadInfo:
    """The network: its name, architecture, number of weights and of weight layers, and the
    file it came from (None when built in Python)."""

    name: str
    architecture: str
    weights: int
    layers: int
    source: str | None = None


@dataclass(frozen=True, slots=True)
class LayerRow:
    """One weight layer: its matrix (``rows`` inputs × ``cols`` outputs), its blocks, copies
    and cores, the fraction of its cores' cells it uses, its core MVMs per inference and the
    layers it reads (``sources``, residual inputs included).

    With a timing run (None without one): ``time_share`` is its share of all cores' MVM busy
    time and ``energy_share`` its share of the MVM and LDPU energy; ``first_inference_ns`` is
    when its cores started the first inference's first MVM and finished its last LDPU output
    (the first inference's latency is the report's latency), ``adds_ns`` how much later it
    finished than the last of its sources (than time 0 without one): the time it adds to the
    inference along its path; ``critical`` whether it lies on the critical path, the chain from
    the layer that finished last back through the source that finished last.
    """

    name: str
    rows: int
    cols: int
    blocks: int
    replicas: int
    cores: int
    utilization: float
    mvms_per_inference: int
    sources: tuple[str, ...] = ()
    time_share: float | None = None
    energy_share: float | None = None
    first_inference_ns: tuple[float, float] | None = None
    adds_ns: float | None = None
    critical: bool | None = None


@dataclass(frozen=True, slots=True)
class TimingSection:
    """The timing run's figures (:class:`~chipsim.timing.result.TimingResult`, in ns, µJ and
    per second) and its per-core and per-link detail.

    ``timeline`` holds busy spans ``(core, start_ps, end_ps, action)`` of the first
    ``timeline_inferences`` inferences (:meth:`of` explains the merging), ``completion_ns``
    when each of the first :data:`COMPLETIONS` inferences was complete (outputs at the host).
    """

    transport: str
    inferences: int
    cores_used: int
    latency_ns: float
    throughput_inf_per_s: float
    tops: float
    energy_uj_per_inference: float
    tops_per_w: float
    tops_per_w_mvm: float
    mvms_per_inference: float
    ops_per_inference: float
    makespan_ns: float
    setup_ns: float
    range_calibration_mvms: int
    setup_energy_uj: float
    energy_breakdown: dict[str, float]
    core_utilization: dict[int, float]
    ldpu_utilization: dict[int, float]
    link_utilization: dict[str, float]
    link_peak_queue: dict[str, int]
    core_counts: dict[int, dict[str, int]]
    completion_ns: tuple[float, ...]
    timeline: tuple[tuple[int, int, int, str], ...]
    timeline_window_ns: tuple[float, float]
    timeline_inferences: int
    timeline_merge_gap_ns: float

    @property
    def static_power_mw(self) -> float:
        """Average static power of the chip over the run (mW).

        The static components of the energy breakdown
        (:data:`chipsim.cost.energy.STATIC_COMPONENTS`: MVM periphery, LDPU leakage and clock,
        GDPU slices, chip-level clocks and control, each a power times an active time) summed
        per inference, times the inferences, over the simulated time of the run
        (``makespan_ns``): ``µJ / ns = 1e6 mW``; 0 for a run that took no time.
        """
        from ..cost.energy import STATIC_COMPONENTS

        if not self.makespan_ns:
            return 0.0
        uj = sum(self.energy_breakdown.get(c, 0.0) for c in STATIC_COMPONENTS)
        return uj * self.inferences / self.makespan_ns * 1e6

    @classmethod
    def of(cls, timing: TimingResult) -> TimingSection:
        """The section of a timing run.

        The timeline keeps the entries that start before the first
        :data:`TIMELINE_INFERENCES` inferences completed (the window). Entries of one core and
        action less than a gap apart are merged into one busy span: the gap starts at
        ``window / TIMELINE_PIXELS`` (below a figure's pixel) and doubles until at most
        :data:`TIMELINE_LIMIT` spans remain (at most 8 times; then the earliest spans are kept
        and the window ends where they end). Spans are sorted by core and start.
        """
        s = timing.summary()
        shown = min(TIMELINE_INFERENCES, timing.inferences)
        done = sorted(timing.completion_ps)
        end = (done[shown - 1] if len(done) >= shown else 0) or timing.makespan_ps
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
        floats = {key: float(s[key]) for key in (
            "latency_ns", "throughput_inf_per_s", "tops", "energy_uj_per_inference",
            "tops_per_w", "tops_per_w_mvm", "mvms_per_inference", "ops_per_inference",
            "makespan_ns", "setup_ns", "setup_energy_uj")}
        return cls(
            transport=str(s["transport"]), inferences=int(s["inferences"]),
            cores_used=int(s["cores_used"]),
            range_calibration_mvms=int(s["range_calibration_mvms"]), **floats,
            energy_breakdown={str(k): float(v) for k, v in s["energy_breakdown"].items()},
            core_utilization=_sorted(timing.core_utilization, float),
            ldpu_utilization=_sorted(timing.ldpu_utilization, float),
            link_utilization=_sorted(timing.link_utilization, float),
            link_peak_queue=_sorted(timing.link_peak_queue, int),
            core_counts={int(c): {str(k): int(v) for k, v in d.items()}
                         for c, d in sorted(timing.core_counts.items())},
            completion_ns=tuple(c / 1e3 for c in timing.completion_ps[:COMPLETIONS]),
            timeline=tuple(spans), timeline_window_ns=(0.0, end / 1e3),
            timeline_inferences=shown, timeline_merge_gap_ns=gap / 1e3)


def _sorted(d: dict, kind: type) -> dict:
    return {k: kind(v) for k, v in sorted(d.items())}


def _merge(entries, gap: int) -> list[tuple[int, int, int, str]]:
    """Entries sorted by start, merged per (core, action) when less than ``gap`` apart."""
    spans: list[list] = []
    last: dict[tuple[int, str], list] = {}
    for core, start, stop, action in entries:
        cur = last.get((core, action))
        if cur is not None and start - cur[2] <= gap:
            cur[2] = max(cur[2], int(stop))
            continue
        cur = [int(core), int(start), int(stop), str(action)]
        last[(core, action)] = cur
        spans.append(cur)
    return [tuple(s) for s in spans]


@dataclass(frozen=True, slots=True)
class MvmCounts:
    """Core MVMs per core as the two paths counted them: per test sample on the accuracy path
    (None without a measurement) and per inference on the timing path (None without a run)."""

    functional_per_sample: dict[int, float] | None = None
    timing_per_inference: dict[int, float] | None = None


@dataclass(frozen=True, slots=True)
class AccuracyAtTime:
    """The chip's score ``t_seconds`` after programming (the same instances read again):
    the instances' mean, its 95 % interval, every instance's score, the software score and how
    many instances were reused rather than programmed."""

    t_seconds: float
    chip_mean: float
    chip_ci95: tuple[float, float]
    software: float
    chip: tuple[float, ...]
    reused_instances: int


@dataclass(frozen=True, slots=True)
class ChipRow:
    """One chip of a system: the layers it holds (execution order), its cores in use and
    their mean MVM utilization over the run (None without a timing run)."""

    chip: int
    layers: tuple[str, ...]
    cores_used: int
    mvm_utilization: float | None = None


@dataclass(frozen=True, slots=True)
class SystemSection:
    """A system of several chips: where the network sits and what crossing chips costs.

    ``c2c_bits_per_inference`` counts bits × chip-to-chip links crossed;
    ``c2c_energy_share`` is the links' share of the energy per inference;
    ``latency_alone_ns`` and ``latency_ideal_links_ns`` the latency of one inference run
    alone with the links as they are and with ideal chip-to-chip links (no latency, a value
    per ps; two more timing runs), and ``c2c_latency_share`` the part of that latency that
    crossing chips adds, ``1 - ideal / alone``. The timing figures are None without a timing
    run.

    Examples
    --------
    >>> from chipsim.spec import from_dict, to_dict
    >>> s = SystemSection(2, 2, "ring", 25.0, 20.0, (ChipRow(0, ("fc",), 4),))
    >>> from_dict(SystemSection, to_dict(s)) == s
    True
    """

    chips: int
    chips_used: int
    topology: str
    link_bandwidth_gbps: float
    link_latency_ns: float
    chip_rows: tuple[ChipRow, ...]
    c2c_bits_per_inference: float | None = None
    c2c_energy_uj_per_inference: float | None = None
    c2c_energy_share: float | None = None
    latency_alone_ns: float | None = None
    latency_ideal_links_ns: float | None = None
    c2c_latency_share: float | None = None
    c2c_link_utilization: dict[str, float] | None = None

    @classmethod
    def of(cls, chip: ChipSpec, mapping: Mapping,
           timing: TimingResult | None) -> SystemSection | None:
        """The section of a run on ``chip`` (None for a single chip)."""
        if chip.chips == 1:
            return None
        rows = []
        for k in range(chip.chips):
            cores = sorted({b.core for b in mapping.blocks if mapping.chip_of(b.core) == k})
            if not cores:
                continue
            names = tuple(dict.fromkeys(b.layer for b in mapping.blocks
                                        if mapping.chip_of(b.core) == k))
            util = None
            if timing is not None:
                util = sum(timing.core_utilization.get(c, 0.0) for c in cores) / len(cores)
            rows.append(ChipRow(k, names, len(cores), util))
        sysm = chip.system
        base = cls(chip.chips, len(rows), sysm.topology.value, sysm.link_bandwidth_gbps,
                   sysm.link_latency_ns, tuple(rows))
        if timing is None:
            return base
        n = timing.inferences
        total = timing.energy.total_pj
        ideal, alone = timing.latency_ideal_links_ps, timing.latency_alone_ps
        c2c_names = {f"{a}->{b}" for a, b in _c2c_links(chip)}
        return replace(
            base, c2c_bits_per_inference=timing.counts.c2c_bits / n,
            c2c_energy_uj_per_inference=timing.energy.c2c_pj / n * 1e-6,
            c2c_energy_share=timing.energy.c2c_pj / total if total else 0.0,
            latency_alone_ns=None if alone is None else alone / 1e3,
            latency_ideal_links_ns=None if ideal is None else ideal / 1e3,
            c2c_latency_share=None if ideal is None or not alone else 1.0 - ideal / alone,
            c2c_link_utilization={k: v for k, v in timing.link_utilization.items()
                                  if k in c2c_names})


def _c2c_links(chip: ChipSpec) -> list[tuple[int, int]]:
    from ..noc.topology import chip_links

    return [p for a, b in chip_links(chip) for p in ((a, b), (b, a))]
