"""The shipped ResNet-9's chip outputs do not depend on the batch or the threads, bit for bit.

Its convolutions' array products are large enough that OpenBLAS's AVX2 kernels round a row
differently by the rows beside it (a 1-row product, a 59-row one and a 200-row one give
different float32 sums for the same row); the samples are therefore run in fixed units
(:data:`~chipsim.functional.accuracy.UNIT`), which this test would catch were they not."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from chipsim.functional.accuracy import UNIT, run_instance
from chipsim.functional.executor import ChipInstance
from chipsim.functional.tasks import task_data
from chipsim.mapping import map_workload
from chipsim.models import resolve_model
from chipsim.spec import hermes

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


@pytest.fixture(scope="module")
def resnet9_instance():
    wl = resolve_model("resnet9").workload
    x, _ = task_data("resnet9", "test", UNIT + 20)
    chip = hermes()
    inst = ChipInstance(wl, map_workload(wl.lowered(), chip, replicate=True), chip,
                        np.random.default_rng(0), np.random.default_rng(1),
                        calibration_inputs=x[:UNIT])
    return inst, x


def test_outputs_do_not_depend_on_batch_or_threads(resnet9_instance):
    inst, x = resnet9_instance
    ref = run_instance(inst, x, 99, batch=1000, threads=1)
    for batch, threads in ((1, 2), (UNIT, 1), (2 * UNIT, 3)):
        got = run_instance(inst, x, 99, batch=batch, threads=threads)
        assert got.tobytes() == ref.tobytes(), (batch, threads)
    with threadpool_limits(1):  # a unit is one run of the instance (BLAS on one thread)
        first = inst.run(x[:UNIT], 99)
    assert first.tobytes() == ref[:UNIT].tobytes()
