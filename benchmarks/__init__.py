"""Performance benchmarks of chipsim: ``python -m benchmarks [--quick] [--json]``.

One run measures every figure next to its reference on the same machine, and prints the
ratios (README, section "Performance"):

- ``mvm``: one noisy 256 × 256 core MVM of 1,024 PWM vectors (counts + LDPU) against a float32
  NumPy matmul of the same shape → ``mvm_ratio``;
- ``network``: ResNet-9 with every nonideality (:class:`chipsim.functional.executor.ChipInstance`)
  against the float32 NumPy forward of the same network → ``network_ratio``; wall time per
  image at 10, 100 and 1,000 images; peak resident memory of the run (its own subprocess) →
  ``peak_rss_mb``;
- ``timing``: simulated core-MVMs per wall second of ResNet-9 in the on-chip mode →
  ``timing_mvms_per_s``, and against the rate of a bare SimPy loop of timeouts →
  ``timing_vs_simpy``; wall time per image at several sizes;
- ``larger``: ResNet-9 on 64 × 64 images (4× the MVMs) on a 256-core chip against ResNet-9 on
  32 × 32 images on 64 cores, per core-MVM;
- ``startup``: ``chipsim --help``, and the first run of the Numba kernels with an empty cache
  against a warm one.

Speed is measured only here, never by the unit tests.
"""

__all__: list[str] = []
