"""Measurements that need a process of their own: ``python -m benchmarks._child TASK ...``.

- ``network IMAGES [IMAGES ...]``: program ResNet-9 on one chip instance and run the test
  images through it in batches, for each size in turn (ascending), as the accuracy
  measurement runs an instance (:func:`chipsim.functional.accuracy.run_instance`: batches
  split over Numba's threads, BLAS on one thread in each), then again on one Python thread
  (BLAS on its own threads); then the float forward of the same images. Prints one JSON
  object; ``peak_rss_mb`` is this process's peak resident memory after the largest run.
- ``larger IMAGES``: ResNet-9 on 64 × 64 images (seeded random weights) on the 256-core chip,
  replicated: seconds per core-MVM of the accuracy path.
- ``timing MODEL_SIZE REPLICATE INFERENCES [REFERENCE]``: the timing path of ResNet-9
  (shipped weights at ``MODEL_SIZE`` 32; seeded random weights on 64 × 64 images on the
  256-core chip at 64) in the on-chip mode, with the replicated (1) or plain (0) mapping, after
  a one-inference run that loads the engine; wall and CPU seconds, and peak resident memory.
  ``REFERENCE`` 1: on the SimPy engine (``run_plan(..., reference=True)``).
- ``kernels``: the first call of every Numba kernel (compiled, or loaded from the cache named
  by ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import json
import resource
import sys
import time

__all__ = ["main"]

BATCH = 100
"""Images per batch of the accuracy path (``RunConfig.batch``'s default)."""


def _peak_rss_mb() -> float:
    # ru_maxrss: kilobytes on Linux, bytes on macOS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _network(sizes: list[int]) -> dict:
    import numpy as np

    from chipsim.functional.accuracy import run_instance
    from chipsim.functional.executor import ChipInstance
    from chipsim.functional.tasks import task_data
    from chipsim.mapping import map_workload
    from chipsim.models import resolve_model
    from chipsim.spec import hermes
    from chipsim.workload.forward import forward

    wl = resolve_model("resnet9").workload
    chip = hermes()
    mapping = map_workload(wl.lowered(), chip, replicate=True, seed=0)
    x_all, y_all = task_data("resnet9", "test", max(sizes))
    calib, _ = task_data("resnet9", "train", BATCH)
    t0 = time.perf_counter()
    inst = ChipInstance(wl, mapping, chip, np.random.default_rng(0), np.random.default_rng(1),
                        calibration_inputs=calib)
    program_s = time.perf_counter() - t0
    block_cols = np.zeros(len(inst.mvms), dtype=np.int64)  # ADC outputs of one core-MVM
    for b in mapping.blocks:
        block_cols[b.core] = b.cols[1] - b.cols[0]
    runs = []
    for n in sorted(sizes):
        x, y = x_all[:n], y_all[:n]
        before = inst.mvms.copy()
        t0, c0 = time.perf_counter(), time.process_time()
        out = run_instance(inst, x, 2, batch=BATCH)  # as chip_accuracy runs an instance
        run_s, run_cpu = time.perf_counter() - t0, time.process_time() - c0
        rss = _peak_rss_mb()
        done = inst.mvms - before
        t0 = time.perf_counter()  # the same on one Python thread (BLAS on its own threads)
        serial = np.concatenate([inst.run(x[i:i + BATCH], 2, first=i)
                                 for i in range(0, n, BATCH)])
        serial_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ref = np.concatenate([forward(wl, x[i:i + BATCH]) for i in range(0, n, BATCH)])
        float_s = time.perf_counter() - t0
        draws = int(done @ block_cols)
        runs.append({"images": n, "run_s": run_s, "run_cpu_s": run_cpu, "float_s": float_s,
                     "serial_run_s": serial_s,
                     "serial_top1": float(100 * np.mean(serial.argmax(-1) == y)),
                     "core_mvms": int(done.sum()), "peak_rss_mb": rss, "noise_draws": draws,
                     "noise_draw_s": _draw_time(draws),
                     "chip_top1": float(100 * np.mean(out.argmax(-1) == y)),
                     "float_top1": float(100 * np.mean(ref.argmax(-1) == y))})
    return {"program_s": program_s, "cores": len(mapping.blocks), "batch": BATCH,
            "runs": runs, "peak_rss_mb": _peak_rss_mb()}


def _draw_time(count: int) -> float:
    """Seconds to draw ``count`` float32 standard normals with the generator the MVM draws
    them with (one per ADC conversion; counter-based, on one thread), in chunks of 2**20."""
    import numpy as np

    from chipsim.kernels import standard_normal

    chunk = np.empty(1 << 20, dtype=np.float32)
    standard_normal(3, out=chunk[:16], parallel=False)  # compile / load
    t0 = time.perf_counter()
    for start in range(0, count, chunk.size):
        part = chunk[:min(chunk.size, count - start)]
        standard_normal(3, out=part, offset=start, parallel=False)
    return time.perf_counter() - t0


def _larger(images: int) -> dict:
    import numpy as np

    from chipsim.functional.accuracy import run_instance
    from chipsim.functional.executor import ChipInstance
    from chipsim.mapping import map_workload
    from chipsim.spec import hermes256
    from chipsim.workload import build

    wl = build("resnet9", in_channels=1, image_size=64, rng=np.random.default_rng(0))
    chip = hermes256()
    mapping = map_workload(wl.lowered(), chip, replicate=True, seed=0)
    x = np.random.default_rng(1).uniform(0, 1, (images, 1, 64, 64)).astype(np.float32)
    t0 = time.perf_counter()
    inst = ChipInstance(wl, mapping, chip, np.random.default_rng(0), np.random.default_rng(1),
                        calibration_inputs=x[:16])
    program_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_instance(inst, x, 2, batch=BATCH)  # as the network task runs its instance
    run_s = time.perf_counter() - t0
    return {"images": images, "cores": len(mapping.blocks), "program_s": program_s,
            "run_s": run_s, "core_mvms": int(inst.mvms.sum())}


def _timing(size: int, replicate: int, inferences: int, reference: int = 0,
            offchip: int = 0) -> dict:
    from dataclasses import replace

    import numpy as np

    from chipsim.mapping import map_workload
    from chipsim.models import resolve_model
    from chipsim.spec import hermes, hermes256
    from chipsim.timing import TimingConfig, TransportMode, run_plan
    from chipsim.timing.run import plan_of
    from chipsim.workload import build

    if size == 32:
        wl, chip = resolve_model("resnet9").workload, hermes()
    else:
        wl = build("resnet9", in_channels=1, image_size=size, rng=np.random.default_rng(0))
        chip = hermes256()
    layers = wl.lowered()
    mapping = map_workload(layers, chip, replicate=bool(replicate), seed=0)
    transport = TransportMode.OFFCHIP if offchip else TransportMode.ONCHIP
    cfg = TimingConfig(transport=transport, inferences=inferences, timeline=False)

    def simulate(config):  # simulate_timing, with the choice of engine
        return run_plan(plan_of(mapping, layers, chip, config), chip, config,
                        reference=bool(reference))

    # one inference first: loads the compiled engine from Numba's cache (once per process, as
    # the kernels of the accuracy path are loaded before they are timed)
    t0 = time.perf_counter()
    simulate(replace(cfg, inferences=1))
    first = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    r = simulate(cfg)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"inferences": inferences, "cores": len(mapping.blocks), "core_mvms": r.counts.mvms,
            "link_bit_hops": r.counts.link_bit_hops,
            "wall_s": wall, "cpu_s": cpu, "mvms_per_s": r.counts.mvms / wall,
            "s_per_image": wall / inferences, "first_inference_s": first,
            "latency_ns": r.latency_ns,
            "throughput_inf_per_s": r.throughput_inf_per_s, "peak_rss_mb": _peak_rss_mb()}


def _kernels() -> dict:
    t0 = time.perf_counter()
    import numpy as np

    from chipsim import kernels
    from chipsim.functional.core import program_core
    from chipsim.spec import hermes
    imported = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 8)).astype(np.float32)
    codes = kernels.pwm_quantize(x, 1.0, 127)
    u_pos, _ = kernels.duty_split(codes, 127)
    kernels.combine_phases(np.stack([u_pos] * 4), False, 1.0)
    counts = kernels.adc_convert(x, np.ones(8), np.zeros(8), 1.0, 127)
    v = kernels.ldpu_affine(counts, np.zeros(8), np.ones(8), np.zeros(8))
    q = kernels.requantize_int8(v, 1.0)
    kernels.accumulate_int8(v, q, 1.0)
    kernels.fp16_round(x)
    core = program_core(rng.uniform(-1, 1, (8, 8)), hermes(), rng)
    core.mvm(codes[:, :8], core.read_state(60.0), rng)
    return {"import_s": imported, "first_calls_s": time.perf_counter() - t0 - imported}


def main(argv: list[str] | None = None) -> int:
    """Run one task of the module docstring; print its JSON."""
    argv = sys.argv[1:] if argv is None else argv
    task, args = argv[0], [int(a) for a in argv[1:]]
    if task == "network":
        out = _network(args)
    elif task == "larger":
        out = _larger(args[0])
    elif task == "timing":
        out = _timing(*args)
    elif task == "kernels":
        out = _kernels()
    else:
        raise SystemExit(f"unknown task {task!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
