"""The functional (accuracy) path and the timing path count the same MVMs on every core."""

import numpy as np
import pytest

from chipsim.functional.executor import ChipInstance, noise_free
from chipsim.mapping import map_workload
from chipsim.spec import hermes
from chipsim.timing import TimingConfig, TransportMode
from chipsim.timing.run import simulate_timing
from chipsim.workload import build


@pytest.mark.parametrize(("model", "replicate", "transport"), [
    ("resnet9", False, "offchip"), ("resnet9", True, "onchip"), ("lstm-ptb", False, "offchip"),
    ("lstm-ptb", True, "onchip"),
])
def test_both_paths_count_the_same_mvms_per_core(model, replicate, transport):
    net = build(model, rng=np.random.default_rng(0))
    if model == "resnet9":
        x = np.random.default_rng(1).uniform(0, 1, (3, 3, 32, 32)).astype(np.float32)
        inferences = len(x)
    else:
        x = np.random.default_rng(1).integers(0, 50, (1, 6))  # one sequence of 6 steps
        inferences = x.shape[1]  # the timing engine's inference is one time step
    chip = hermes()
    mapping = map_workload(net.lowered(), chip, replicate=replicate)
    inst = ChipInstance(net, mapping, noise_free(chip), np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    inst.run(x, np.random.default_rng(2))
    timing = simulate_timing(mapping, net.lowered(), chip,
                             TimingConfig(transport=TransportMode(transport),
                                          inferences=inferences, timeline=False))
    timed = np.zeros(chip.n_cores, dtype=np.int64)
    for core, counts in timing.core_counts.items():
        timed[core] = counts["mvms"]
    assert timed.sum() > 0
    np.testing.assert_array_equal(inst.mvms, timed)


def test_both_paths_give_each_replica_the_same_vectors():
    """Not only as many MVMs: the same output pixels on each copy of a replicated layer."""
    from chipsim.timing.run import plan_of

    net = build("resnet9", rng=np.random.default_rng(0))
    chip = hermes()
    mapping = map_workload(net.lowered(), chip, replicate=True)
    inst = ChipInstance(net, mapping, noise_free(chip), np.random.default_rng(0),
                        np.random.default_rng(1),
                        calibration_inputs=np.zeros((1, 3, 32, 32), np.float32))
    plan = plan_of(mapping, net.lowered(), chip, TimingConfig(transport=TransportMode.ONCHIP))
    replicated = [ly for ly in mapping.layers if ly.replicas > 1]
    assert replicated
    for ly in replicated:
        lp = plan.layers[ly.name]
        timed = np.empty(ly.vectors, dtype=np.intp)
        for r in range(ly.replicas):
            timed[lp.vectors_of(r, 1)] = r
        executed = inst._replica_of(ly.name, np.arange(ly.vectors), ly.replicas)
        np.testing.assert_array_equal(executed, timed)


def _sequence_net(tail):
    from chipsim.workload import INPUT, LSTM, Embedding, Linear, Workload, init_weights

    nodes = (Embedding("e", INPUT, 20, 6), Linear("pre", "e", 6, 5), LSTM("l", "pre", 5, 4),
             *tail)
    return Workload("seq", (5,), nodes, init_weights(nodes, np.random.default_rng(0)))


def test_a_fixed_length_sequence_counts_the_same_mvms_on_both_paths():
    """One inference of the timing path is one time step, also when the length is fixed."""
    from chipsim.workload import Linear, ReLU

    net = _sequence_net((Linear("fc", "l", 4, 3), ReLU("r", "fc"), Linear("out", "r", 3, 2)))
    x = np.random.default_rng(1).integers(0, 20, (1, 5))
    chip = hermes()
    mapping = map_workload(net.lowered(), chip)
    inst = ChipInstance(net, mapping, noise_free(chip), np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    inst.run(x, np.random.default_rng(2))
    timing = simulate_timing(mapping, net.lowered(), chip,
                             TimingConfig(transport=TransportMode.ONCHIP, inferences=5,
                                          timeline=False))
    timed = np.zeros(chip.n_cores, dtype=np.int64)
    for core, counts in timing.core_counts.items():
        timed[core] = counts["mvms"]
    assert inst.mvms.sum() == 5 * len(mapping.blocks)
    np.testing.assert_array_equal(inst.mvms, timed)


def test_a_layer_on_the_whole_sequence_runs_for_accuracy_but_is_refused_by_timing():
    from chipsim.timing import TimingError
    from chipsim.workload import Flatten, Linear

    net = _sequence_net((Flatten("f", "l"), Linear("fc", "f", 20, 3)))
    x = np.random.default_rng(1).integers(0, 20, (2, 5))
    chip = hermes()
    mapping = map_workload(net.lowered(), chip)
    inst = ChipInstance(net, mapping, noise_free(chip), np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    assert inst.run(x, np.random.default_rng(2)).shape == (2, 3)
    with pytest.raises(TimingError, match="layer 'fc' reads a whole sequence at once"):
        simulate_timing(mapping, net.lowered(), chip, TimingConfig(inferences=5))


def test_a_replicated_lstm_fed_layer_takes_the_same_time_steps_on_both_paths():
    """The planner never replicates sequence layers; a mapping file may: round-robin steps."""
    from chipsim.mapping.io import mapping_from_dict
    from chipsim.mapping.mapping import mapping_to_dict
    from chipsim.timing.run import plan_of

    net = build("lstm-ptb", rng=np.random.default_rng(0))
    chip = hermes()
    data = mapping_to_dict(map_workload(net.lowered(), chip))
    used = {b["core"] for b in data["blocks"]}
    free = [c for c in range(chip.n_cores) if c not in used]
    data["blocks"] += [dict(b, replica=1, core=free.pop(0)) for b in data["blocks"]
                       if b["layer"] == "fc"]
    mapping = mapping_from_dict(data, net.lowered(), chip)
    assert mapping.layer("fc").replicas == 2
    steps = 7
    x = np.random.default_rng(1).integers(0, 50, (1, steps))
    inst = ChipInstance(net, mapping, noise_free(chip), np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    inst.run(x, np.random.default_rng(2))
    cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=steps, timeline=False)
    timing = simulate_timing(mapping, net.lowered(), chip, cfg)
    timed = np.zeros(chip.n_cores, dtype=np.int64)
    for core, counts in timing.core_counts.items():
        timed[core] = counts["mvms"]
    np.testing.assert_array_equal(inst.mvms, timed)
    lp = plan_of(mapping, net.lowered(), chip, cfg).layers["fc"]
    by_timing = np.empty(steps, dtype=np.intp)
    for r in range(2):
        by_timing[lp.vectors_of(r, steps)] = r
    np.testing.assert_array_equal(inst._replica_of("fc", np.arange(steps), 2), by_timing)
    assert set(by_timing) == {0, 1}


def test_both_paths_count_the_same_adc_range_calibration_reads():
    from chipsim.cost import Latencies
    from chipsim.spec import override

    net = build("resnet9", rng=np.random.default_rng(0))
    chip = override(override(hermes(), "core.adc_range", "calibrated"),
                    "core.adc_range_calibration_mvms", 8)
    x = np.random.default_rng(1).uniform(0, 1, (2, 3, 32, 32)).astype(np.float32)
    mapping = map_workload(net.lowered(), chip, replicate=False)
    inst = ChipInstance(net, mapping, chip, np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    timing = simulate_timing(mapping, net.lowered(), chip,
                             TimingConfig(transport=TransportMode.OFFCHIP, inferences=1,
                                           timeline=False))
    used = sorted(timing.core_counts)
    assert [int(inst.range_calibration_mvms[c]) for c in used] == [8] * len(used)
    assert timing.setup_counts.range_cal_mvms == int(inst.range_calibration_mvms.sum()) == 320
    assert timing.setup_ps == 8 * Latencies.of(chip).mvm_ps
    fixed = simulate_timing(mapping, net.lowered(), hermes(),
                            TimingConfig(transport=TransportMode.OFFCHIP, inferences=1,
                                         timeline=False))
    # the same run: the set-up is apart, in no inference's latency or energy; its ADC energy
    # is that of 320 MVMs of the run's
    assert fixed.setup_counts.range_cal_mvms == 0 and fixed.setup_ps == 0
    assert fixed.setup_energy.total_pj == 0.0
    assert timing.latency_ps == fixed.latency_ps and timing.energy == fixed.energy
    assert timing.setup_energy.adc_pj == pytest.approx(
        fixed.energy.adc_pj * 320 / fixed.counts.mvms)
    assert timing.summary()["setup_energy_uj"] == pytest.approx(
        timing.setup_energy.total_pj * 1e-6)
