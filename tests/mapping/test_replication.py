"""Replication for the pipelined mode: spare cores hold copies of the slowest layers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipsim.mapping import choose_replicas, map_workload, plan_replication
from chipsim.spec import hermes


def test_resnet9_uses_all_24_spare_cores_and_raises_throughput(resnet9_layers):
    plan = plan_replication(resnet9_layers, (256, 256), spare_cores=64 - 40)
    assert plan.extra_cores == 24 and plan.idle_cores == 0
    assert plan.throughput_after > plan.throughput_before == 1 / 1024
    assert plan.replicas == (5, 5, 2, 2, 2, 1, 1, 1, 1)
    assert plan.replicated_layers == ("conv0", "conv1", "conv2", "conv3", "conv4")
    assert max(plan.stage_mvms) == pytest.approx(204.8)
    before, after = plan.inferences_per_s(520.0)
    assert before == pytest.approx(1e9 / (1024 * 520)) and after == pytest.approx(5 * before)


def test_map_workload_with_replication_fills_the_chip(resnet9_layers):
    m = map_workload(resnet9_layers, hermes(), replicate=True)
    assert m.cores_used == 64
    assert [ly.replicas for ly in m.layers] == [5, 5, 2, 2, 2, 1, 1, 1, 1]
    assert [ly.cores for ly in m.layers] == [5, 10, 8, 8, 8, 8, 8, 8, 1]
    assert len({b.core for b in m.blocks}) == 64
    for ly in m.layers:    # every replica is a whole copy
        for rep in range(ly.replicas):
            assert len(m.blocks_of(ly.name, rep)) == ly.blocks


def test_spare_cores_go_to_slower_layers_when_the_bottleneck_does_not_fit():
    # the bottleneck needs 8 cores a copy, only 5 are spare: they go to the next layers
    reps = choose_replicas([64, 32, 16], [8, 2, 1], spare_cores=5)
    assert reps == (1, 3, 2)


def test_no_spare_cores_means_no_replicas(lstm_layers):
    plan = plan_replication(lstm_layers, (256, 256), spare_cores=0)
    assert plan.replicas == (1, 1, 1) and plan.throughput_after == plan.throughput_before


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2048), st.integers(1, 12)), min_size=1, max_size=8),
       st.integers(0, 60))
def test_replicas_fit_and_leave_no_usable_core_idle(layers, spare):
    vectors, blocks = zip(*layers, strict=True)
    reps = choose_replicas(vectors, blocks, spare)
    used = sum((r - 1) * b for r, b in zip(reps, blocks, strict=True))
    assert all(r >= 1 for r in reps) and used <= spare
    assert spare - used < min(blocks)
    assert max(v / r for v, r in zip(vectors, reps, strict=True)) <= max(vectors)


def test_bad_arguments():
    with pytest.raises(ValueError):
        choose_replicas([1], [1, 2], 3)
    with pytest.raises(ValueError):
        choose_replicas([1], [1], -1)
    with pytest.raises(ValueError):
        plan_replication([], (256, 256), spare_cores=0).inferences_per_s(0)
