"""A small sweep shared by the sweep tests: ResNet-9, 2 ADC resolutions x 2 chip sizes.

The 32-core points do not fit (ResNet-9 needs 40 cores) and are recorded as infeasible at
once; the two 64-core points run with 10 test images, one chip instance, one timed inference,
off-chip transport (no replication: 40 cores to program) and a 10-image calibration batch.
"""

import pytest

from chipsim.cli import main

#: the sweep's arguments, without --out and the executor
SWEEP = ["resnet9", "--grid", "core.adc_bits=4,8", "--grid", "chip.cores=64,32",
         "--samples", "10", "--instances", "1", "--set", "run.inferences=1",
         "--set", "run.batch=10", "--set", "run.transport=offchip", "--quiet"]


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The shared sweep, uninterrupted, on a local pool of 2 processes: its directory.

    The Dask run (test_executors) and the killed-and-resumed serial run (test_sweep) must give
    the same table, byte for byte.
    """
    out = tmp_path_factory.mktemp("sweep") / "pool"
    assert main(["sweep", *SWEEP, "--workers", "2", "--out", str(out)]) == 0
    return out
