"""The result of a timing run: latency, throughput, energy, utilizations, counts, timeline.

Examples
--------
>>> from chipsim.mapping import map_workload
>>> from chipsim.spec import hermes
>>> from chipsim.timing import simulate_timing
>>> from chipsim.workload.lowered import LoweredLayer
>>> layers, chip = [LoweredLayer("fc", "linear", 256, 256, 1)], hermes()
>>> r = simulate_timing(map_workload(layers, chip), layers, chip)
>>> r.summary()["inferences"], r.summary()["latency_ns"] > 0
(4, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..cost.energy import ActionCounts, EnergyBreakdown, energy
from ..spec import AttentionSpec, CoreSpec, EnergySpec, SystemSpec

__all__ = ["TimingResult"]


@dataclass(frozen=True, slots=True)
class TimingResult:
    """What a timing run measured (times in ps, energies in pJ).

    Attributes
    ----------
    transport
        ``"offchip"`` or ``"onchip"``.
    inferences
        Inferences simulated.
    latency_ps
        Latency of the first inference: from the host starting to send its input to the host
        holding its last output (from time 0 to the last action without a host).
    inference_latency_ps, completion_ps
        Latency and completion time of every inference.
    makespan_ps
        End of the last action or transfer.
    throughput_inf_per_s
        Steady-state inferences per second: ``(N - 1)`` over the time between the first and
        the last completion (``1 / latency`` for one inference).
    ops_per_inference
        Core MVM operations per inference (``2 · rows · cols`` of the block per MVM;
        calibration MVMs not counted).
    mvm_active_ps
        Time during which any core computes an MVM.
    counts
        Chip-wide action counts, the inputs of the energy model.
    energy
        Energy of the whole run per component.
    energy_spec, core_spec
        The energy table ``energy`` was computed with, and the cores whose precision laws
        scale it (:data:`chipsim.cost.energy.COMPONENTS`).
    setup_counts
        The one-time set-up before the first inference, apart from the run's ``counts``: the
        reads that set calibrated ADC ranges (none with fixed ranges). Its time
        (:attr:`setup_ps`) is in no latency and its energy (:attr:`setup_energy`) in no
        inference's: like programming the chip, it is paid once per deployment.
    setup_ps
        Time of that set-up (all cores read their calibration vectors at once).
    core_counts
        Per core: ``mvms``, ``gdc_mvms``, ``ldpu_values``, ``ops``, busy times.
    gdpu_counts
        Per GDPU slice used: ``inputs``, ``outputs``, ``busy_ps``.
    core_utilization, ldpu_utilization
        Per core: MVM-unit and LDPU busy time over the makespan.
    link_utilization, link_peak_queue
        Per link used (``"a->b"``; ``"host->chip"``, ``"chip->host"``): busy time over the
        makespan, and the most transfers holding or waiting for it at once.
    buffer_peak
        Per buffer (``"core 12 in"``, ``"core 12 act conv1"``, ...): the most vectors (pieces)
        it held or had promised at once.
    timeline
        ``(core, start_ps, end_ps, action)`` with action ``"mvm"``, ``"ldpu"`` or ``"gdc"``
        (empty unless recorded).
    attention_counts
        Per digital attention unit used: the ``vectors`` (tokens) it computed for the layers'
        inputs, their ``macs``, other ``ops`` and local-memory ``memory_bytes``
        (:mod:`chipsim.cost.attention`), and ``busy_ps``, the time it was at work.
    attention_spec
        The attention units whose energies ``energy`` used (``chip.attention``).
    system_spec
        The system whose chip-to-chip links' energy ``energy`` used (``chip.system``).
    latency_alone_ps, latency_ideal_links_ps
        On a system of several chips: the latency of one inference run alone, with the
        chip-to-chip links as they are and with ideal ones (no latency, a value per ps;
        :func:`~chipsim.timing.simulate_timing`); None on one chip.
    """

    transport: str
    inferences: int
    latency_ps: int
    inference_latency_ps: tuple[int, ...]
    completion_ps: tuple[int, ...]
    makespan_ps: int
    throughput_inf_per_s: float
    ops_per_inference: float
    mvm_active_ps: int
    counts: ActionCounts
    energy: EnergyBreakdown
    energy_spec: EnergySpec
    core_spec: CoreSpec
    setup_counts: ActionCounts
    setup_ps: int
    core_counts: dict[int, dict[str, int]]
    gdpu_counts: dict[int, dict[str, int]]
    core_utilization: dict[int, float]
    ldpu_utilization: dict[int, float]
    link_utilization: dict[str, float]
    link_peak_queue: dict[str, int]
    buffer_peak: dict[str, int]
    timeline: tuple[tuple[int, int, int, str], ...]
    attention_counts: dict[int, dict[str, int]] = field(default_factory=dict)
    attention_spec: AttentionSpec = field(default_factory=AttentionSpec)
    system_spec: SystemSpec = field(default_factory=SystemSpec)
    latency_alone_ps: int | None = None
    latency_ideal_links_ps: int | None = None

    @property
    def setup_energy(self) -> EnergyBreakdown:
        """Energy of the one-time set-up, per component."""
        return energy(self.setup_counts, self.energy_spec, self.core_spec, self.attention_spec,
                      self.system_spec)

    @property
    def latency_ns(self) -> float:
        """Latency of the first inference (ns)."""
        return self.latency_ps / 1e3

    @property
    def tops(self) -> float:
        """Steady-state tera-operations per second (core MVM operations only)."""
        return self.ops_per_inference * self.throughput_inf_per_s / 1e12

    @property
    def energy_per_inference_pj(self) -> float:
        """Energy of the run over its inferences (pJ)."""
        return self.energy.total_pj / self.inferences

    @property
    def tops_per_w(self) -> float:
        """Operations per joule of the whole run (every component), in TOPS/W."""
        total = self.energy.total_pj
        return self.ops_per_inference * self.inferences / total if total else 0.0

    @property
    def tops_per_w_mvm(self) -> float:
        """Operations per joule of MVM energy (array + ADCs + PWM: Tab I's convention)."""
        mvm = self.energy.mvm_pj
        return self.ops_per_inference * self.inferences / mvm if mvm else 0.0

    @property
    def cores_used(self) -> int:
        """Cores that computed at least one MVM."""
        return sum(1 for c in self.core_counts.values() if c["mvms"])

    def energy_with(self, spec: EnergySpec) -> EnergyBreakdown:
        """The run's energy under another energy table (no re-simulation)."""
        return energy(self.counts, spec, self.core_spec, self.attention_spec, self.system_spec)

    def summary(self) -> dict[str, Any]:
        """Flat, JSON-ready key figures (the keys of ``chipsim run --json``)."""
        per_inf = self.energy.scaled(1 / self.inferences)
        return {
            "transport": self.transport,
            "inferences": self.inferences,
            "cores_used": self.cores_used,
            "latency_ns": self.latency_ps / 1e3,
            "throughput_inf_per_s": self.throughput_inf_per_s,
            "tops": self.tops,
            "energy_uj_per_inference": per_inf.total_pj * 1e-6,
            "tops_per_w": self.tops_per_w,
            "tops_per_w_mvm": self.tops_per_w_mvm,
            "mvms_per_inference": self.counts.mvms / self.inferences,
            "ops_per_inference": self.ops_per_inference,
            "makespan_ns": self.makespan_ps / 1e3,
            "setup_ns": self.setup_ps / 1e3,
            "range_calibration_mvms": self.setup_counts.range_cal_mvms,
            "setup_energy_uj": self.setup_energy.total_pj * 1e-6,
            "energy_breakdown": per_inf.as_dict(1e-6),
        }
