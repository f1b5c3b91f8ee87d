"""On-chip (layer-pipelined) throughput grows with the chip: copies of the slowest layers on
more cores, each computing a band of rows, so that a copy's inputs come from one or two
copies of the layer before it."""

from dataclasses import replace

import pytest

from chipsim.mapping import map_workload
from chipsim.spec import BufferSpec, hermes, override
from chipsim.timing import TimingConfig, TransportMode
from chipsim.timing.run import simulate_timing
from chipsim.workload import build


@pytest.fixture(scope="module")
def resnet9():
    return build("resnet9").lowered()


def _throughput(layers, chip, replicate=True):
    # 8 inferences: with 4 the 128-core pipeline is still filling (its copies of conv0 and
    # conv1 start their bands one after another), which hides the steady-state rate
    m = map_workload(layers, chip, replicate=replicate)
    cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=8, timeline=False)
    return simulate_timing(m, layers, chip, cfg).throughput_inf_per_s


def test_resnet9_throughput_rises_from_64_to_128_cores(resnet9):
    alone = _throughput(resnet9, hermes(), replicate=False)
    t64 = _throughput(resnet9, hermes())
    t128 = _throughput(resnet9, override(hermes(), "grid", [8, 16]))
    assert t64 > 3 * alone  # 5 copies of conv0 and conv1, 2 of conv2-conv4
    assert t128 > 1.5 * t64


def test_banded_copies_wait_for_a_neighbours_rows_but_never_deadlock(resnet9):
    # a copy of conv1 starts with the last rows of the conv0 copy before it: with line
    # buffers of one window the copies wait for each other in turn; with the default (the
    # band's span) they work at once
    chip = hermes()
    layers = resnet9[:2]
    m = map_workload(layers, chip, replicate=True)
    assert [ly.replicas for ly in m.layers] == [21, 21]

    def run(buffer):
        cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=3, timeline=False)
        return simulate_timing(m, layers, replace(chip, buffers=BufferSpec(
            activation_vectors=buffer)), cfg)

    tight, default = run(67), run(None)  # 67: conv1's window of 3 rows of 32 pixels + 3
    assert max(tight.buffer_peak.values()) <= 67
    assert ({c: v["mvms"] for c, v in tight.core_counts.items()}
            == {c: v["mvms"] for c, v in default.core_counts.items()})
    assert default.latency_ps < tight.latency_ps / 4
    assert default.throughput_inf_per_s > tight.throughput_inf_per_s
