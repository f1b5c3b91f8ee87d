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
