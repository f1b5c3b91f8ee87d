"""Faults in the chip spec (``chipsim.spec.FaultSpec``) and where each one acts.

Stuck devices in :func:`~chipsim.functional.program_core`, dead ADC columns in the core and
the executor, dead cores in the mapper and the mapping files, broken links in the core graph
and in the routes of the timing engine.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from chipsim import RunConfig, simulate
from chipsim.functional.core import program_core
from chipsim.functional.executor import ChipInstance
from chipsim.mapping import (
    BlockPlacement,
    Mapping,
    MappingError,
    layer_summaries,
    load_mapping,
    map_workload,
    save_mapping,
)
from chipsim.noc import build_graph
from chipsim.spec import (
    FaultSpec,
    SpecError,
    dump_chip,
    hermes,
    hermes16,
    hermes_pcm_like,
    load_chip,
    override,
)
from chipsim.timing import TimingConfig, TransportMode, simulate_timing
from chipsim.timing.plan import PlacedBlock, build_plan
from chipsim.timing.routes import check_routes, required_routes
from chipsim.workload import Linear, Workload, init_weights

from .conftest import chain_layers


def _faulty(chip, **faults):
    return replace(chip, faults=FaultSpec(**faults))


# ---------------------------------------------------------------------------- the spec
@pytest.mark.parametrize("key, value, message", [
    ("faults.dead_cores", "[3, 64]", "faults.dead_cores[1]: core 64 is not on the 8x8 chip "
     "(cores 0..63)"),
    ("faults.dead_cores", "[3, 3]", "faults.dead_cores[1]: core 3 is listed twice (also at [0])"),
    ("faults.dead_cores", "[-1]", "faults.dead_cores[0]: must be >= 0, got -1"),
    ("faults.dead_adc_columns", "[[0, 256]]", "faults.dead_adc_columns[0]: column 256 is not on "
     "a core of 256 columns (0..255)"),
    ("faults.dead_adc_columns", "[[70, 0]]", "faults.dead_adc_columns[0]: core 70 is not on the "
     "8x8 chip (cores 0..63)"),
    ("faults.broken_links", "[[0, 0]]", "faults.broken_links[0]: a link joins two different "
     "cores, got [0, 0]"),
    ("faults.broken_links", "[[0, 1], [1, 0]]", "faults.broken_links[1]: link [1, 0] is listed "
     "twice (also at [0])"),
    ("faults.broken_links", "[[0, 99]]", "faults.broken_links[0]: core 99 is not on the 8x8 "
     "chip (cores 0..63)"),
    ("faults.broken_links", "[[0, 1, 2]]", "faults.broken_links[0]: must have 2 elements, got 3"),
    ("faults.stuck_fraction", "1.5", "faults.stuck_fraction: must be >= 0.0 and <= 1.0, got 1.5"),
    ("faults.stuck_at_gmax_share", "-0.1", "faults.stuck_at_gmax_share: must be >= 0.0 and <= "
     "1.0, got -0.1"),
])
def test_fault_ids_are_checked_against_the_chip(key, value, message):
    with pytest.raises(SpecError) as err:
        override(hermes(), key, value)
    assert str(err.value) == message


def test_a_smaller_grid_rejects_a_fault_of_the_bigger_one():
    chip = override(hermes(), "faults.dead_cores", "[40]")
    with pytest.raises(SpecError, match=r"faults.dead_cores\[0\]: core 40 is not on the 4x4"):
        override(chip, "grid", "4x4")


def test_faults_round_trip_through_a_spec_file(tmp_path):
    chip = _faulty(hermes(), stuck_fraction=0.02, stuck_at_gmax_share=0.25, dead_cores=(3, 17),
                   dead_adc_columns=((5, 7),), broken_links=((0, 1), (9, 18)))
    for name in ("chip.yaml", "chip.json"):
        assert load_chip(dump_chip(chip, tmp_path / name)) == chip
    assert chip.faults.any and not hermes().faults.any


def test_a_broken_link_that_is_not_a_link_is_an_error():
    chip = _faulty(hermes(), broken_links=((0, 5),))
    with pytest.raises(SpecError, match=r"faults.broken_links\[0\]: cores 0 and 5 are not "
                       "linked in the hermes_grid network"):
        build_graph(chip)


def test_build_graph_leaves_broken_links_out():
    chip = _faulty(hermes(), broken_links=((0, 1), (9, 0)))
    g, full = build_graph(chip), build_graph(hermes())
    assert full.number_of_edges() - g.number_of_edges() == 2
    assert not g.has_edge(0, 1) and not g.has_edge(0, 9) and g.has_edge(0, 8)


# ---------------------------------------------------------------------------- stuck devices
def _weights(rows=64, cols=48, seed=0):
    w = np.random.default_rng(seed).uniform(-1, 1, (rows, cols))
    return np.where(np.abs(w) < 0.05, 0.05, w)  # no zero weight: a zero g_prog means stuck


def test_no_stuck_fraction_is_bit_identical_to_no_faults():
    w = _weights()
    a = program_core(w, hermes(), np.random.default_rng(3))
    b = program_core(w, _faulty(hermes(), stuck_at_gmax_share=0.9, dead_cores=(1,)),
                     np.random.default_rng(3), core_id=0)
    for name in ("g_prog", "nu", "asym", "adc_gain", "adc_offset_lsb", "cal_codes"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.gdc_reference == b.gdc_reference and b.stuck_g is None and b.dead_cols is None


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_all_devices_stuck_hold_one_conductance_and_do_not_drift(share):
    chip = _faulty(hermes(), stuck_fraction=1.0, stuck_at_gmax_share=share)
    inst = program_core(_weights(), chip, np.random.default_rng(0))
    g_device_max = inst.device.polarity_g_max_us  # both devices of a polarity at g_max
    for t in (0.0, 60.0, 86400.0 * 365):
        g = inst.read_state(t).g
        assert np.allclose(g, share * g_device_max, rtol=1e-6)


def test_stuck_fraction_and_share_per_device():
    # pcm_like models each physical device: an element is stuck or not
    # (the stuck devices are drawn after programming: the same seed programs the same way)
    chip = _faulty(hermes_pcm_like(), stuck_fraction=0.05, stuck_at_gmax_share=0.4)
    w = _weights(256, 256)
    ok = program_core(w, hermes_pcm_like(), np.random.default_rng(1))
    inst = program_core(w, chip, np.random.default_rng(1))
    on = ok.g_prog > 0  # devices with a conductance: a stuck one loses it
    stuck = on & (inst.g_prog == 0.0)
    assert np.array_equal(inst.g_prog[on & ~stuck], ok.g_prog[on & ~stuck])
    assert stuck.sum() / on.sum() == pytest.approx(0.05, abs=0.004)
    at_max = inst.stuck_g > 0
    assert (at_max & on).sum() / stuck.sum() == pytest.approx(0.4, abs=0.03)
    assert np.allclose(inst.stuck_g[at_max], inst.device.g_max_us)


def test_stuck_devices_keep_their_conductance_while_the_others_drift():
    chip = _faulty(hermes_pcm_like(), stuck_fraction=0.2, stuck_at_gmax_share=1.0)
    inst = program_core(_weights(), chip, np.random.default_rng(2))
    stuck = inst.stuck_g > 0  # (polarity, element, row, col), each element one device
    g0 = inst.device.drift(inst.g_prog, inst.nu, 0.0) + inst.stuck_g
    g1 = inst.device.drift(inst.g_prog, inst.nu, 1e6) + inst.stuck_g
    assert np.array_equal(g0[stuck], g1[stuck]) and np.all(g1[~stuck] <= g0[~stuck])
    s0, s1 = inst.read_state(0.0), inst.read_state(1e6)
    assert np.allclose(s0.g, g0.sum(axis=1), rtol=1e-6)
    assert np.allclose(s1.g, g1.sum(axis=1), rtol=1e-6)


def test_stuck_devices_are_drawn_per_chip_instance():
    chip = _faulty(hermes_pcm_like(), stuck_fraction=0.1)
    w = _weights()
    a, b, c = (program_core(w, chip, np.random.default_rng(s)) for s in (5, 5, 6))
    assert np.array_equal(a.g_prog == 0, b.g_prog == 0)
    assert not np.array_equal(a.g_prog == 0, c.g_prog == 0)


# ---------------------------------------------------------------------------- dead ADCs
def test_dead_adc_columns_read_zero_counts_on_their_core_only():
    chip = _faulty(hermes(), dead_adc_columns=((7, 3), (7, 40), (2, 5)))
    w = _weights()
    healthy = program_core(w, chip, np.random.default_rng(0), core_id=1)
    dead = program_core(w, chip, np.random.default_rng(0), core_id=7)
    assert healthy.dead_cols is None and dead.dead_cols.tolist() == [3, 40]
    codes = np.random.default_rng(1).integers(-127, 128, (20, w.shape[0]))
    state = dead.read_state(60.0)
    a = healthy.mvm_counts(codes, state, np.random.default_rng(2))
    b = dead.mvm_counts(codes, state, np.random.default_rng(2))
    assert np.all(b[:, [3, 40]] == 0) and np.any(a[:, [3, 40]] != 0)
    keep = np.setdiff1d(np.arange(w.shape[1]), [3, 40])
    assert np.array_equal(a[:, keep], b[:, keep])


@pytest.mark.parametrize("quantize", [True, False])
def test_the_executor_passes_the_core_id_for_dead_adcs(quantize):
    net = Workload("fc", (32,), (Linear("fc", ("input",), 32, 6),),
                   init_weights((Linear("fc", ("input",), 32, 6),), np.random.default_rng(0)))
    x = np.random.default_rng(1).uniform(-1, 1, (8, 32)).astype(np.float32)
    chip = hermes()
    m = map_workload(net.lowered(), chip)
    core = m.blocks[0].core
    out = {}
    for name, c in (("ok", chip), ("dead", _faulty(chip, dead_adc_columns=((core, 2),)))):
        inst = ChipInstance(net, m, c, np.random.default_rng(3), np.random.default_rng(4),
                            gdc=False, quantize=quantize, calibration_inputs=x)
        out[name] = inst.run(x, np.random.default_rng(5))
    diff = np.flatnonzero(np.any(out["ok"] != out["dead"], axis=0))
    assert diff.tolist() == [2]
    if not quantize:  # nothing comes out of the dead column but the bias
        bias = net.weights["fc"]["bias"][2]
        assert np.allclose(out["dead"][:, 2], bias)


# ---------------------------------------------------------------------------- dead cores
def test_the_mapper_never_places_on_dead_cores():
    chip = _faulty(hermes16(), dead_cores=(0, 5, 10))
    m = map_workload(chain_layers(), chip, exclude=(1,))
    used = {b.core for b in m.blocks}
    assert not used & {0, 1, 5, 10} and m.excluded_cores == (0, 1, 5, 10)


def test_a_mapping_file_on_a_dead_core_is_rejected(tmp_path):
    m = map_workload(chain_layers(), hermes16())
    path = save_mapping(m, tmp_path / "m.yaml")
    b = m.blocks[2]
    chip = _faulty(hermes16(), dead_cores=(b.core,))
    with pytest.raises(MappingError) as err:
        load_mapping(path, chain_layers(), chip)
    assert str(err.value) == (f"{path}: blocks[2]: {b.label}: core {b.core} is dead "
                              "(faults.dead_cores of chip 'hermes16')")


def test_simulate_rejects_a_mapping_object_on_a_dead_core():
    net = Workload("fc", (32,), (Linear("fc", ("input",), 32, 6),),
                   init_weights((Linear("fc", ("input",), 32, 6),), np.random.default_rng(0)))
    m = map_workload(net.lowered(), hermes16())
    chip = _faulty(hermes16(), dead_cores=(m.blocks[0].core,))
    with pytest.raises(MappingError, match=f"core {m.blocks[0].core} is dead"):
        simulate(net, chip, m, RunConfig(accuracy=False))


# ---------------------------------------------------------------------------- broken links
def _two_blocks(a, b):
    layers = [chain_layers()[0]]
    blocks = [PlacedBlock("a", 0, (0, 256), (0, 256), a),
              PlacedBlock("a", 0, (256, 512), (0, 256), b)]
    return layers, blocks


def test_routes_detour_around_a_broken_link():
    layers, blocks = _two_blocks(0, 1)
    chip = _faulty(hermes(), broken_links=((0, 1),))
    routes = check_routes(build_plan(layers, blocks, chip), chip)
    assert [lk.name for lk in routes[(0, 1)]] == ["0->9", "9->1"]


def test_a_disconnected_pair_names_both_cores_and_the_layer():
    layers, blocks = _two_blocks(0, 1)
    chip = _faulty(hermes(), broken_links=((0, 1), (0, 8), (0, 9)))  # core 0 cut off
    with pytest.raises(MappingError) as err:
        simulate_timing(_mapping_of(layers, blocks, chip), layers, chip)
    assert str(err.value) == (
        "layer 'a': no route from core 0 to core 1 for its partial sums in the hermes_grid "
        "network (the 3 broken link(s) of faults.broken_links cut them apart); map the layer "
        "on connected cores")


def _mapping_of(layers, blocks, chip):
    bp = tuple(BlockPlacement(b.layer, b.replica, i, b.rows, b.cols, b.core)
               for i, b in enumerate(blocks))
    core = (chip.core.rows, chip.core.cols)
    return Mapping(chip.name, chip.grid, chip.n_cores, *core, "w",
                   layer_summaries(layers, bp, core), bp, 0.0)


def test_a_gdpu_slice_reaches_cores_around_a_cut_neighbour():
    # GDPU slice 0 sits between cores 24 (above) and 32 (below) of the 8 × 8 chip
    from chipsim.cost.latency import Latencies
    from chipsim.timing.links import Network, gdpu_node

    chip = _faulty(hermes(), broken_links=((32, 33), (32, 40), (32, 41), (24, 32)))
    net = Network(chip, Latencies.of(chip))
    route = net.route(gdpu_node(0), 0)
    assert route[0].name == "gdpu0->24"


def test_required_routes_follow_the_plan():
    chip = hermes16()
    layers = chain_layers()
    m = map_workload(layers, chip)
    cfg = TimingConfig(transport=TransportMode.ONCHIP)
    from chipsim.timing.run import plan_of

    routes = required_routes(plan_of(m, layers, chip, cfg))
    whats = {(r.layer, r.what) for r in routes}
    assert ("a", "its partial sums") in whats
    assert ("b", "the activations of layer 'a'") in whats
    assert ("c", "the residuals of layer 'a'") in whats
    offchip = required_routes(plan_of(m, layers, chip, TimingConfig()))
    assert {r.what for r in offchip} == {"its partial sums"}
