"""Per-layer timing of the first inference and its critical path (report layer table)."""

import dataclasses

import pytest

from chipsim import RunConfig, simulate
from chipsim.report.model import _critical_path, _first_inference


@pytest.fixture(scope="module", params=["onchip", "offchip"])
def report(request):
    return simulate("resnet9", config=RunConfig(accuracy=False, inferences=3,
                                                transport=request.param))


def test_the_critical_path_adds_up_to_the_last_layers_end(report):
    path = sorted((ly for ly in report.layers if ly.critical),
                  key=lambda ly: ly.first_inference_ns[1])
    assert [ly.name for ly in path][-1] == "fc"  # resnet9's layers are one chain
    end = max(ly.first_inference_ns[1] for ly in report.layers)
    assert sum(ly.adds_ns for ly in path) == pytest.approx(end)
    assert end <= report.timing.latency_ns  # then the host receives the outputs
    assert end > 0.99 * report.timing.latency_ns
    for ly in report.layers:
        start, stop = ly.first_inference_ns
        assert 0 <= start < stop and ly.adds_ns > 0


def test_layers_start_after_their_sources_start_and_offchip_after_they_end(report):
    win = {ly.name: ly.first_inference_ns for ly in report.layers}
    for ly in report.layers:
        for src in ly.sources:
            assert win[src][0] < win[ly.name][0]
            if report.timing.transport == "offchip":  # a barrier per layer
                assert win[src][1] < win[ly.name][0]
    if report.timing.transport == "onchip":  # pipelined: the layers overlap
        assert win["conv1"][0] < win["conv0"][1]


def test_residual_inputs_are_sources_and_the_path_takes_the_later_one():
    windows = {"a": (0, 10), "b": (5, 30), "c": (8, 20), "d": (25, 40)}
    sources = {"b": ("a",), "c": ("a",), "d": ("c", "b")}
    assert _critical_path(windows, sources) == {"a", "b", "d"}
    assert _critical_path({}, sources) == set()


class _Run:
    """A timing run's timeline on one core: three vectors per inference, three inferences,
    one MVM (1 ns) and one LDPU entry (1 ns) per vector, one vector every 3 ns."""

    timeline = tuple([(0, 3000 * k, 3000 * k + 1000, "mvm") for k in range(9)]
                     + [(0, 3000 * k + 1000, 3000 * k + 2000, "ldpu") for k in range(9)])
    core_counts = {0: {"mvms": 9}}
    inferences = 3


def test_the_first_inference_is_the_first_vectors_of_each_core(report):
    block = dataclasses.replace(report.mapping.blocks[0], core=0)
    mapping = dataclasses.replace(report.mapping, blocks=(block,))
    assert _first_inference(mapping, _Run) == {block.layer: (0, 8000)}
    for broken in (_Run.timeline[1:],  # an MVM missing
                   _Run.timeline[:-1]):  # an LDPU entry missing
        run = type("Run", (_Run,), {"timeline": broken})
        assert _first_inference(mapping, run) == {}  # no windows rather than wrong ones
    assert _first_inference(dataclasses.replace(mapping, blocks=()), _Run) == {}
