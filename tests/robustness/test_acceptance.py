"""Acceptance checks of the fault model on the shipped ResNet-9 (HWA weights) and the
reference chip, 100 test images, one chip instance, seed 0:

- 5 % stuck devices lower the accuracy, and the run completes;
- 3 dead cores: ResNet-9 still maps (40 of the 61 working cores) and runs, the dead cores idle;
- broken links that cut two cores of a layer apart: a clear error naming both and the layer;
- one broken link with a detour: a longer latency (timing), the same accuracy (functional).

The baseline and the faulty runs share one mapping (made on the healthy chip), so a fault is
the only difference between them.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import pytest

from chipsim import RunConfig, simulate
from chipsim.mapping import MappingError, map_workload, save_mapping
from chipsim.models import resolve_model
from chipsim.noc import build_graph
from chipsim.spec import FaultSpec, dump_chip, hermes
from chipsim.timing import TimingConfig, TransportMode
from chipsim.timing.run import plan_of

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`

#: layer-pipelined transport: partial sums, activations and residuals all use the links
CONFIG = RunConfig(samples=100, instances=1, batch=50, transport="onchip", replicate=False,
                   inferences=1, seed=0)


@pytest.fixture(scope="module")
def resnet9():
    return resolve_model("resnet9")


@pytest.fixture(scope="module")
def mapping(resnet9):
    return map_workload(resnet9.workload.lowered(), hermes(), seed=0, workload_name="resnet9")


@pytest.fixture(scope="module")
def baseline(resnet9, mapping):
    return simulate(resnet9.workload, hermes(), mapping, CONFIG, task=resnet9.task)


def _chains(resnet9, mapping, chip):
    plan = plan_of(mapping, resnet9.workload.lowered(), chip,
                   TimingConfig(transport=TransportMode.ONCHIP))
    return [ch for ch in plan.chains if len(ch.cores) > 1]


def test_stuck_devices_lower_accuracy_but_the_run_completes(resnet9, mapping, baseline):
    chip = replace(hermes(), faults=FaultSpec(stuck_fraction=0.05))
    report = simulate(resnet9.workload, chip, mapping, replace(CONFIG, timing=False),
                      task=resnet9.task)
    ok, stuck = baseline.summary["chip_mean"], report.summary["chip_mean"]
    assert ok > 85.0
    assert stuck < ok - 10.0
    assert report.summary["faults"]["stuck_fraction"] == 0.05
    assert report.chip.faults.stuck_fraction == 0.05


def test_three_dead_cores_resnet9_still_maps_and_runs(resnet9, mapping):
    dead = tuple(sorted(b.core for b in mapping.blocks[:3]))  # cores the healthy map uses
    chip = replace(hermes(), faults=FaultSpec(dead_cores=dead))
    report = simulate(resnet9.workload, chip, None, replace(CONFIG, samples=20, batch=20),
                      task=resnet9.task)
    m = report.mapping
    assert m.cores_used == 40 and m.excluded_cores == dead
    assert chip.n_cores - len(m.excluded_cores) == 61
    used = {b.core for b in m.blocks}
    assert not used & set(dead)
    assert report.summary["faults"]["dead_cores"] == list(dead)
    assert report.accuracy.chip_mean > 50.0
    for c in dead:  # idle in both paths
        assert report.accuracy.mvms_per_core[c] == 0
        assert report.timing.core_counts.get(c, {}).get("mvms", 0) == 0


def test_broken_links_that_cut_a_layer_apart_name_both_cores(resnet9, mapping, tmp_path,
                                                             cli):
    chain = _chains(resnet9, mapping, hermes())[0]
    a, b = chain.cores[:2]
    graph = build_graph(hermes())
    cut = tuple(sorted((min(b, n), max(b, n)) for n in graph.neighbors(b)))  # b cut off
    chip = replace(hermes(), faults=FaultSpec(broken_links=cut))
    with pytest.raises(MappingError) as err:
        simulate(resnet9.workload, chip, mapping, CONFIG, task=resnet9.task)
    message = (f"layer {chain.layer!r}: no route from core {a} to core {b} for its partial "
               f"sums in the hermes_grid network (the {len(cut)} broken link(s) of "
               "faults.broken_links cut them apart); map the layer on connected cores")
    assert str(err.value) == message
    # the same from the command line: exit status 2, one line, no report directory
    spec = dump_chip(chip, tmp_path / "cut.yaml")
    mfile = save_mapping(mapping, tmp_path / "mapping.yaml")
    out = tmp_path / "report"
    code, _, stderr = cli("run", "resnet9", "--chip", spec, "--mapping", mfile,
                          "--transport", "onchip", "--no-replicate", "--out", out)
    assert code == 2 and stderr == f"chipsim run: error: {message}\n"
    assert not out.exists()


def test_a_broken_link_with_a_detour_costs_latency_not_accuracy(resnet9, mapping, baseline):
    graph = build_graph(hermes())
    link = None
    for ch in reversed(_chains(resnet9, mapping, hermes())):  # the deepest layers first
        for a, b in zip(ch.cores, ch.cores[1:], strict=False):
            if graph.has_edge(a, b):
                g = graph.copy()
                g.remove_edge(a, b)
                if nx.has_path(g, a, b):
                    link = (min(a, b), max(a, b))
                    break
        if link:
            break
    assert link is not None
    chip = replace(hermes(), faults=FaultSpec(broken_links=(link,)))
    report = simulate(resnet9.workload, chip, mapping, CONFIG, task=resnet9.task)
    assert report.summary["latency_ns"] > baseline.summary["latency_ns"]
    assert report.accuracy == baseline.accuracy
    assert report.summary["faults"]["broken_links"] == [list(link)]
