"""Networks on systems of chips: mapping over chips, timing and energy across chip-to-chip
links, accuracy with a seed stream per chip, the CLI and sweeps."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from chipsim import RunConfig, simulate
from chipsim.cli import main
from chipsim.data.user import task_dataset
from chipsim.functional.executor import ChipInstance
from chipsim.mapping import MappingError, load_mapping, map_workload, save_mapping
from chipsim.mapping.chips import assign_chips, chips_needed
from chipsim.models import resolve_model
from chipsim.report.model import Report
from chipsim.spec import hermes, hermes16, override
from chipsim.timing import TimingConfig, simulate_timing
from chipsim.workload.lowered import LoweredLayer


def system(n: int, chip=None):
    return override(chip or hermes16(), "system.chips", n)


@pytest.fixture(scope="module")
def resnet9():
    return resolve_model("resnet9").workload


# ------------------------------------------------------------------ mapping over chips
def chain(*blocks: int) -> list[LoweredLayer]:
    """Layers of ``blocks`` 256×256 blocks each (one row of blocks), each fed by the last."""
    out = []
    for i, b in enumerate(blocks):
        out.append(LoweredLayer(f"l{i}", "linear", 256, 256 * b, 4,
                                (f"l{i - 1}",) if i else ()))
    return out


def test_whole_layers_fill_the_fewest_chips():
    plan = assign_chips(chain(6, 6, 6, 2), [10, 10, 10, 10])
    # 20 blocks fit 2 chips of 10 only if a layer were split: whole, they need 3
    assert plan.chips_used == 3 == chips_needed(chain(6, 6, 6, 2), 10)
    assert plan.split_layers == ()
    assert all(len(cs) == 1 for cs in plan.layer_chips.values())


def test_the_cut_carries_the_least_traffic():
    # l0 sends 4 vectors × 1,024 values, l1 4 × 256: on chips of 8 cores the cut goes after
    # l1 (5 | 7 blocks), not after l0 (4 | 8), which would carry four times as much
    layers = chain(4, 1, 6, 1)
    plan = assign_chips(layers, [8, 8])
    assert plan.chips_used == 2
    assert plan.layer_chips == {"l0": (0,), "l1": (0,), "l2": (1,), "l3": (1,)}
    assert plan.cut_values == 4 * 256


def test_a_layer_larger_than_a_chip_is_split():
    plan = assign_chips(chain(3, 25, 3), [10] * 5)
    assert plan.split_layers == ("l1",)
    assert len(plan.layer_chips["l1"]) >= 3
    assert sum(plan.blocks_per_chip) == 31 and max(plan.blocks_per_chip) <= 10
    assert plan.chips_used == 4 == chips_needed(chain(3, 25, 3), 10)


def test_too_small_a_system_says_how_many_chips_it_needs(resnet9):
    with pytest.raises(MappingError, match=r"^the workload needs 3 chips of 16 cores \(40 blocks"
                                           r".*; the system has 2: set system.chips=3 "
                                           r"\(--system 3xhermes16\)$"):
        map_workload(resnet9.lowered(), system(2))


def test_a_system_mapping_keeps_layers_whole_and_on_their_chips(resnet9):
    s = system(3)
    m = map_workload(resnet9.lowered(), s)
    assert (m.chips, m.chips_used, m.cores_used) == (3, 3, 40)
    for ly in m.layers:
        assert len({m.chip_of(b.core) for b in m.blocks_of(ly.name)}) == 1
    order = [m.chip_of(m.blocks_of(ly.name)[0].core) for ly in m.layers]
    assert order == sorted(order)   # runs of consecutive layers on consecutive chips


def test_mapping_files_name_each_blocks_chip(resnet9, tmp_path):
    s = system(3)
    layers = resnet9.lowered()
    m = map_workload(layers, s)
    path = save_mapping(m, tmp_path / "m.yaml")
    text = path.read_text()
    assert "chips: 3" in text and "chip: 2" in text
    assert load_mapping(path, layers, s) == m
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(", chip: 0, core: ", ", chip: 1, core: ", 1))
    with pytest.raises(MappingError, match=r"blocks\[0\].*is on chip 0 .*not on chip 1"):
        load_mapping(bad, layers, s)
    with pytest.raises(MappingError, match=r"for a system of 3 chip\(s\), 'hermes16' is 4"):
        load_mapping(path, layers, system(4))


# ------------------------------------------------------------------ timing and energy
@pytest.fixture(scope="module")
def timed(resnet9):
    s = system(3)
    layers = resnet9.lowered()
    m = map_workload(layers, s, replicate=True)
    cfg = dataclasses.replace(TimingConfig.of(), inferences=2)
    return s, layers, m, cfg, simulate_timing(m, layers, s, cfg)


def test_chip_to_chip_traffic_is_counted_and_costed(timed):
    s, _, _, _, r = timed
    assert r.counts.c2c_bits > 0
    assert r.energy.c2c_pj == pytest.approx(r.counts.c2c_bits * s.system.link_pj_per_bit)
    busy = [k for k in r.link_utilization if k in {f"{a}->{b}" for a, b in _c2c(s)}]
    assert busy
    assert 0 < r.latency_ideal_links_ps < r.latency_alone_ps


def _c2c(s):
    from chipsim.noc.topology import chip_links
    return [p for a, b in chip_links(s) for p in ((a, b), (b, a))]


def test_slower_chip_to_chip_links_lengthen_the_latency(timed):
    s, layers, m, cfg, r = timed
    slow = override(s, "system.link_bandwidth_gbps", 0.8)
    slower = override(s, "system.link_bandwidth_gbps", 0.4)
    a = simulate_timing(m, layers, slow, cfg)
    b = simulate_timing(m, layers, slower, cfg)
    assert r.latency_ps < a.latency_ps < b.latency_ps
    assert a.counts.c2c_bits == b.counts.c2c_bits == r.counts.c2c_bits
    later = simulate_timing(m, layers, override(s, "system.link_latency_ns", 2000), cfg)
    assert later.latency_ps > r.latency_ps


@pytest.mark.slow
def test_resnet50_halving_the_link_bandwidth_increases_latency():
    net = resolve_model("resnet50").workload
    layers = net.lowered()
    s = override(hermes(), "system.chips", 9)
    # one copy of each layer: with copies over several chips the first inference shares the
    # links with the next ones, and its latency need not grow as the links slow (README)
    m = map_workload(layers, s, replicate=False)
    assert m.chips_used == 9
    cfg = dataclasses.replace(TimingConfig.of(), inferences=2)
    full = simulate_timing(m, layers, s, cfg)
    half = simulate_timing(m, layers, override(s, "system.link_bandwidth_gbps", 12.5), cfg)
    assert half.latency_ps > full.latency_ps
    assert half.counts.c2c_bits == full.counts.c2c_bits > 0
    # with copies on several chips (the default) the copies' transfers meet in an order that
    # the link speed changes: an inference alone moves by under 0.5 % between 25 and
    # 12.5 Gbit/s, either way (ideal links may even be slower: a share below zero); below
    # the on-chip links' 3.2 Gbit/s it takes clearly longer, and the share grows
    m = map_workload(layers, s, replicate=True)
    shares, alone = [], []
    for gbps in (25, 12.5, 3.2):
        r = simulate_timing(m, layers, override(s, "system.link_bandwidth_gbps", gbps), cfg)
        alone.append(r.latency_alone_ps)
        shares.append(1 - r.latency_ideal_links_ps / r.latency_alone_ps)
    assert abs(alone[1] / alone[0] - 1) < 0.005
    assert alone[2] > 1.1 * alone[0]
    assert shares[0] < 0.05 < shares[2]


def test_both_paths_count_the_same_mvms_on_a_system():
    s = system(3)
    r = simulate("resnet9", s, config=RunConfig(samples=8, instances=1, inferences=1,
                                                 batch=8))
    counts = r.mvm_counts
    assert counts.functional_per_sample == counts.timing_per_inference
    assert len({c // 16 for c in counts.functional_per_sample}) == 3
    assert r.system.chips_used == 3
    assert Report.from_json(r.to_json()) == r


# ------------------------------------------------------------------ accuracy across chips
def test_split_over_chips_equals_one_chip_of_their_cores(resnet9):
    # three 16-core chips, and one chip whose 12 × 4 grid numbers the same 48 cores alike:
    # with the same seeds per core (every chip's stream the same generator here) the chip
    # instance computes the same outputs bit for bit
    s = system(3)
    big = override(hermes16(), "grid", [12, 4])
    m = map_workload(resnet9.lowered(), s)
    m_big = dataclasses.replace(m, chips=1, grid=(12, 4))
    data = task_dataset("resnet9", 16)

    def outputs(chip, mapping, program):
        inst = ChipInstance(resnet9, mapping, chip, program, np.random.default_rng(1),
                            calibration_inputs=data.calibration)
        return inst.run(data.x, 7)

    g = np.random.default_rng(0)
    on_system = outputs(s, m, [g, g, g])
    on_big = outputs(big, m_big, np.random.default_rng(0))
    np.testing.assert_array_equal(on_system, on_big)
    # each chip its own stream: other streams change the outputs
    other = outputs(s, m, [np.random.default_rng(k) for k in range(3)])
    assert not np.array_equal(other, on_system)


# ------------------------------------------------------------------ command line, sweeps
def test_cli_map_says_how_many_chips(capsys):
    assert main(["map", "resnet9", "--system", "3xhermes16", "--no-replicate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["chips"], out["chips_used"], out["chips_lower_bound"]) == (3, 3, 3)
    assert [c["cores_used"] for c in out["per_chip"]] == [15, 16, 9]
    assert main(["map", "resnet9", "--system", "2xhermes16"]) == 2
    assert capsys.readouterr().err.strip() == (
        "chipsim map: error: the workload needs 3 chips of 16 cores (40 blocks, whole layers "
        "on one chip where they fit); the system has 2: set system.chips=3 "
        "(--system 3xhermes16)")
    assert main(["map", "resnet9", "--system", "2xhermes16", "--chip", "hermes"]) == 2
    assert "give one of them" in capsys.readouterr().err


def test_cli_run_reports_the_crossing(capsys):
    assert main(["run", "resnet9", "--system", "3xhermes16", "--no-accuracy", "--set",
                 "run.inferences=2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["chips"], out["chips_used"]) == (3, 3)
    assert 0 < out["c2c_energy_share"] < 1
    assert out["energy_breakdown"]["c2c"] > 0
    assert main(["run", "resnet9", "--system", "3xhermes16", "--no-accuracy", "--set",
                 "run.inferences=2"]) == 0
    text = capsys.readouterr().out
    assert "3 × hermes16 (ring): 48 cores" in text and "chip-to-chip" in text


def test_sweeps_take_system_axes(tmp_path):
    out = tmp_path / "sweep"
    argv = ["sweep", "resnet9", "--system", "3xhermes16", "--grid", "system.chips=2,3,4",
            "--grid", "system.link_bandwidth_gbps=25,0.4", "--set", "run.accuracy=false",
            "--set", "run.inferences=2", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    rows = list(csv.DictReader((out / "table.csv").open()))
    got = {(r["system.chips"], r["system.link_bandwidth_gbps"]): r for r in rows}
    assert {k: r["status"] for k, r in got.items()} == {
        ("2", "25"): "infeasible", ("2", "0.4"): "infeasible", ("3", "25"): "ok",
        ("3", "0.4"): "ok", ("4", "25"): "ok", ("4", "0.4"): "ok"}
    assert got[("2", "25")]["reason"].startswith("the workload needs 3 chips")
    assert float(got[("3", "0.4")]["latency_ns"]) > float(got[("3", "25")]["latency_ns"])
    assert got[("4", "25")]["chips"] == "4" and got[("4", "25")]["chips_used"] == "3"


def test_spare_chips_hold_more_copies_for_throughput(resnet9):
    layers = resnet9.lowered()
    cfg = dataclasses.replace(TimingConfig.of(), inferences=3)
    three, six = system(3), system(6)
    m3 = map_workload(layers, three, replicate=True)
    m6 = map_workload(layers, six, replicate=True)
    assert m6.chips_used == 6 and m6.cores_used > m3.cores_used
    for ly in layers:  # replicas numbered by chip: neighbouring bands on the same or near chips
        chips = [m6.chip_of(b.core) for b in sorted(m6.blocks_of(ly.name),
                                                     key=lambda b: (b.replica, b.index))]
        assert chips == sorted(chips)
    t3 = simulate_timing(m3, layers, three, cfg)
    t6 = simulate_timing(m6, layers, six, cfg)
    assert t6.throughput_inf_per_s > 1.2 * t3.throughput_inf_per_s
    assert not map_workload(layers, six, replicate=False).chips_used > 3


def test_both_paths_agree_with_copies_on_several_chips():
    r = simulate("resnet9", system(6), config=RunConfig(samples=4, instances=1, inferences=1,
                                                        batch=4))
    assert r.mvm_counts.functional_per_sample == r.mvm_counts.timing_per_inference
    assert r.system.chips_used == 6


def test_the_core_grid_figure_draws_every_chip(resnet9, tmp_path):
    from chipsim.mapping.plot import _cell, _extent, plot_core_grid

    m = map_workload(resnet9.lowered(), system(5))
    cells = {_cell(m, c) for c in range(m.n_cores)}
    height, width = _extent(m)
    assert len(cells) == m.n_cores   # no two cores drawn on one square
    assert all(0 <= r < height and 0 <= c < width for r, c in cells)
    assert plot_core_grid(m, tmp_path / "g.png").stat().st_size > 0


def test_reports_show_the_chips(timed):
    from chipsim.report.html import render_html
    from chipsim.report.markdown import render_markdown

    s, layers, m, cfg, t = timed
    r = Report.build(provenance=_provenance(), chip=s, config=RunConfig(accuracy=False),
                     workload=resolve_model("resnet9").workload, mapping=m, accuracy=None,
                     timing=t)
    md = render_markdown(r.to_dict(), [])
    assert "## Chips" in md and "| 2 | " in md and "of the latency" in md
    assert "<h2>Chips</h2>" in render_html(r.to_dict(), {})
    one = simulate("resnet9", hermes(), config=RunConfig(accuracy=False, inferences=1))
    assert "## Chips" not in render_markdown(one.to_dict(), [])


def _provenance():
    from chipsim.report.sections import Provenance
    return Provenance(chipsim="test", spec_hash="0", seed=0, command=None, date="", host="",
                      python="", numpy="", volatile_fields=())


def test_an_idle_chip_powers_no_mvm_periphery(resnet9):
    layers = resnet9.lowered()
    s = system(4)
    m = map_workload(layers, s, replicate=False)
    assert m.chips_used == 3
    r = simulate_timing(m, layers, s, dataclasses.replace(TimingConfig.of(), inferences=1))
    assert 0 < r.counts.mvm_core_ps <= 3 * 16 * r.mvm_active_ps
    assert r.counts.mvm_core_ps < s.n_cores * r.mvm_active_ps


def test_cli_map_resnet50_on_the_fewest_hermes_chips(capsys):
    assert main(["map", "resnet50", "--system", "8xhermes"]) == 2
    assert capsys.readouterr().err.strip() == (
        "chipsim map: error: the workload needs 9 chips of 64 cores (422 blocks, whole layers "
        "on one chip where they fit); the system has 8: set system.chips=9 (--system 9xhermes)")
    assert main(["map", "resnet50", "--system", "9xhermes", "--no-replicate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["chips_used"], out["chips_one_copy"], out["chips_lower_bound"]) == (9, 9, 7)
