"""Replication for the pipelined mode: spare cores hold copies of the slowest layers, as many
as shorten the slowest stage."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipsim.mapping import (
    StageCosts,
    choose_replicas,
    map_workload,
    plan_replication,
    stage_model,
)
from chipsim.spec import hermes, hermes256, override

HERMES = StageCosts.of(hermes())


def test_resnet9_uses_all_24_spare_cores_and_raises_throughput(resnet9_layers):
    plan = plan_replication(resnet9_layers, (256, 256), spare_cores=64 - 40)
    assert plan.extra_cores == 24 and plan.idle_cores == 0
    assert plan.throughput_after > plan.throughput_before == 1 / 1024
    assert plan.replicas == (5, 5, 2, 2, 2, 1, 1, 1, 1)
    assert plan.replicated_layers == ("conv0", "conv1", "conv2", "conv3", "conv4")
    assert max(plan.stage_mvms) == pytest.approx(204.8)
    before, after = plan.inferences_per_s(520.0)
    assert before == pytest.approx(1e9 / (1024 * 520)) and after == pytest.approx(5 * before)


def test_the_chips_link_and_ldpu_times_keep_the_64_core_choice(resnet9_layers):
    plan = plan_replication(resnet9_layers, (256, 256), spare_cores=24, costs=HERMES)
    assert plan.replicas == (5, 5, 2, 2, 2, 1, 1, 1, 1) and plan.idle_cores == 0
    before, after = plan.predicted_per_s
    # one copy: conv0/conv1 take 1024 MVMs of 520 ns. With the copies the links bind: a
    # copy of conv4 (4 cores in a chain) passes 224 partial sums a vector from core to core
    # over the link that also brings its inputs, 112 values for each of the 128 + 17 conv3
    # vectors its band and halo need (1,878 -> 8,906/s; simulated 8,639 over 16 inferences,
    # where counting the MVMs alone, 205 of 520 ns, predicted 9,381)
    assert before == pytest.approx(1e12 / (1024 * 520e3))
    assert after == pytest.approx(1e12 / ((128 * 224 + 145 * 112) * 2500))
    assert plan.stage_ps[:2] == (205 * 520_000,) * 2


def test_map_workload_with_replication_fills_the_chip(resnet9_layers):
    m = map_workload(resnet9_layers, hermes(), replicate=True)
    assert m.cores_used == 64
    assert [ly.replicas for ly in m.layers] == [5, 5, 2, 2, 2, 1, 1, 1, 1]
    assert [ly.cores for ly in m.layers] == [5, 10, 8, 8, 8, 8, 8, 8, 1]
    assert len({b.core for b in m.blocks}) == 64
    for ly in m.layers:    # every replica is a whole copy
        for rep in range(ly.replicas):
            assert len(m.blocks_of(ly.name, rep)) == ly.blocks


def test_copies_that_cannot_shorten_the_bottleneck_are_not_made():
    # the bottleneck needs 8 cores a copy, only 5 are spare: they stay idle
    assert choose_replicas([64, 32, 16], [8, 2, 1], spare_cores=5) == (1, 1, 1)
    assert choose_replicas([64, 32, 16], [8, 2, 1], spare_cores=8) == (2, 1, 1)


def test_the_halo_bounds_a_convolutions_copies(resnet9_layers):
    # conv1's copies each need their band plus 2 × 33 halo pixels of 56 values over a link,
    # the link on which the chain's second core also takes 112 partial sums a vector: beyond
    # 11 copies that, not the MVMs, bounds the stage (the halo does not shrink with the band)
    stage = stage_model(resnet9_layers, (256, 256), HERMES)
    mvm_bound = [r for r in range(1, 200) if stage(1, r) == -(-1024 // r) * 520_000]
    assert mvm_bound == list(range(1, 12))
    assert stage(1, 64) == (16 * 112 + (16 + 66) * 56) * 2500
    assert stage(1, 200) >= 67 * 56 * 2500


def test_an_lstm_is_not_replicated(lstm_layers):
    # its hidden layer waits for its own output every time step: copies cannot overlap them
    plan = plan_replication(lstm_layers, (256, 256), spare_cores=230, costs=HERMES)
    assert plan.replicas == (1, 1, 1) and plan.idle_cores == 230
    stage = stage_model(lstm_layers, (256, 256), HERMES)
    assert stage(1, 1) == stage(1, 8) > stage(0, 1)


def test_no_spare_cores_means_no_replicas(lstm_layers):
    plan = plan_replication(lstm_layers, (256, 256), spare_cores=0)
    assert plan.replicas == (1, 1, 1) and plan.throughput_after == plan.throughput_before


@pytest.mark.slow
def test_more_spare_cores_never_lower_the_planned_throughput(resnet9_layers):
    bottleneck = [max(plan_replication(resnet9_layers, (256, 256), spare_cores=s,
                                       costs=HERMES).stage_ps) for s in range(0, 217, 3)]
    assert all(b <= a for a, b in itertools.pairwise(bottleneck))
    assert bottleneck[-1] < bottleneck[8] < bottleneck[0]


def test_more_cores_never_lower_the_planned_throughput_of_a_mapping(resnet9_layers):
    predicted = []
    for chip in (hermes(), override(hermes(), "grid", [8, 16]), hermes256()):
        m = map_workload(resnet9_layers, chip, replicate=True)
        base = sum(ly.blocks for ly in m.layers)
        plan = plan_replication(resnet9_layers, (256, 256), spare_cores=chip.n_cores - base,
                                costs=StageCosts.of(chip))
        assert plan.replicas == tuple(ly.replicas for ly in m.layers)
        assert m.cores_used == chip.n_cores - plan.idle_cores
        predicted.append(plan.predicted_per_s[1])
    assert predicted[0] < predicted[1] < predicted[2]


def _best_bottleneck(vectors, blocks, spare):
    """The shortest MVM-limited bottleneck any allocation within ``spare`` reaches."""
    ranges = [range(1, spare // b + 2) for b in blocks]
    return min(max(-(-v // r) for v, r in zip(vectors, reps, strict=True))
               for reps in itertools.product(*ranges)
               if sum((r - 1) * b for r, b in zip(reps, blocks, strict=True)) <= spare)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 300), st.integers(1, 4)), min_size=1, max_size=3),
       st.integers(0, 10))
def test_replicas_fit_reach_the_best_bottleneck_with_the_fewest_copies(layers, spare):
    vectors, blocks = zip(*layers, strict=True)
    reps = choose_replicas(vectors, blocks, spare)
    used = sum((r - 1) * b for r, b in zip(reps, blocks, strict=True))
    assert all(r >= 1 for r in reps) and used <= spare
    bottleneck = max(-(-v // r) for v, r in zip(vectors, reps, strict=True))
    assert bottleneck == _best_bottleneck(vectors, blocks, spare)
    for v, r in zip(vectors, reps, strict=True):  # one copy fewer would be slower
        assert r == 1 or -(-v // (r - 1)) > bottleneck


def test_bad_arguments():
    with pytest.raises(ValueError):
        choose_replicas([1], [1, 2], 3)
    with pytest.raises(ValueError):
        choose_replicas([1], [1], -1)
    with pytest.raises(ValueError):
        plan_replication([], (256, 256), spare_cores=0).inferences_per_s(0)
