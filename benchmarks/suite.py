"""The benchmark measurements; each returns a JSON-ready dict.

Short measurements report the best of several repeats (the least disturbed by other load);
long runs are timed once. Wall times come from :func:`time.perf_counter`; where a figure can
be disturbed by other processes on the machine the CPU time of the process is reported beside
it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["Sizes", "SIZES", "bench_mvm", "bench_network_core", "bench_normal", "bench_network",
           "bench_timing", "bench_simpy", "bench_larger", "bench_startup", "bench_main_job",
           "bench_sweep"]

ROOT = Path(__file__).resolve().parent.parent


class Sizes(dict):
    """Problem sizes of one benchmark mode (attribute access)."""

    __getattr__ = dict.__getitem__


SIZES = {
    "full": Sizes(mvm_batch=1024, mvm_repeats=15, images=1000, image_sizes=(10, 100, 1000),
                  timing_inferences=100, timing_sizes=(10, 100, 1000), timing_budget_s=900,
                  simpy_events=300_000, larger_images=10, larger_inferences=100, larger_repeats=3,
                  help_repeats=5, main_job_repeats=3, main_job_args=(),
                  sweep_grid=("core.adc_bits=4,5,6,8,10", "chip.cores=64,128",
                              "core.input_bits=4,8",
                              "run.t_seconds=60,3600,86400,2592000,31536000")),
    "quick": Sizes(mvm_batch=1024, mvm_repeats=7, images=100, image_sizes=(10, 100),
                   timing_inferences=20, timing_sizes=(5, 20), timing_budget_s=0,
                   simpy_events=100_000, larger_images=0, larger_inferences=0, larger_repeats=1,
                   help_repeats=3, main_job_repeats=1, main_job_args=("--samples", "50"),
                   sweep_grid=("core.adc_bits=4,8", "run.t_seconds=60,86400")),
}


def _best(fn: Callable[[], Any], repeats: int) -> float:
    """Least wall time (s) of ``repeats`` calls of ``fn``."""
    return _best_pair(fn, None, repeats)[0]


def _best_pair(fn: Callable[[], Any], ref: Callable[[], Any] | None,
               repeats: int) -> tuple[float, float]:
    """Least wall times (s) of ``fn`` and ``ref`` over ``repeats`` rounds, the two calls of a
    round back to back (so that both see the same load of the machine)."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for k, f in enumerate((fn, ref)):
            if f is None:
                continue
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return best[0], best[1]


def _child(*args: str, env: dict | None = None, timeout: float = 3600) -> dict:
    """Run ``python -m benchmarks._child ARGS`` and return its JSON output."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks._child", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=timeout,
                          check=False)
    if proc.returncode:
        raise RuntimeError(f"benchmark child {args} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ core MVM
def bench_mvm(sizes: Sizes) -> dict:
    """One 256 × 256 core, uniform random weights (30 % zeros, the MVM-error protocol),
    ``mvm_batch`` PWM input vectors (uniform in [-1, 1], 30 % zeros): the noisy MVM with
    every nonideality (:meth:`CoreInstance.mvm`: counts + LDPU) against ``x @ W`` in float32.

    Also with non-negative inputs (as after a ReLU: the inputs every core but the first of a
    CNN sees), where the negative-voltage read phases carry no current; and, to show what
    bounds the MVM, the share of vectors whose lines may saturate (read phase by phase) and
    the time of its per-conversion Gaussian draw alone (batch × cols float32 normals).
    ``products`` says how the MVM formed its array products (exact on AMX, or float32 BLAS:
    :func:`chipsim.functional.core.products_method`); ``products_ms`` (and ``nonneg_``) times
    them alone (the inputs' preparation, the screen, the variance and the signal's products),
    against the matmul of the same run: the rest of the MVM is its read-out pass.
    """
    import numpy as np

    from chipsim.functional.core import products_method, program_core
    from chipsim.kernels import pwm_quantize, standard_normal
    from chipsim.spec import hermes

    chip = hermes()
    rng = np.random.default_rng(0)

    def sparse(shape):
        x = rng.uniform(-1.0, 1.0, size=shape)
        x[rng.random(shape) < 0.3] = 0.0
        return x

    rows, cols, batch = chip.core.rows, chip.core.cols, sizes.mvm_batch
    w = sparse((rows, cols))
    x = sparse((batch, rows)).astype(np.float32)
    codes = pwm_quantize(x, 1.0, chip.core.input_levels)
    core = program_core(w, chip, np.random.default_rng(1))
    state = core.read_state(60.0)
    xf, wf = codes.astype(np.float32) / chip.core.input_levels, w.astype(np.float32)
    relu_codes = np.maximum(codes, 0)
    xr = relu_codes.astype(np.float32) / chip.core.input_levels
    reps = sizes.mvm_repeats
    core.mvm(codes, state, np.random.default_rng(2))  # compile / load the kernels
    t_mvm, t_mm = _best_pair(lambda: core.mvm(codes, state, np.random.default_rng(2)),
                             lambda: xf @ wf, reps)
    t_mvm_relu, t_mm_relu = _best_pair(
        lambda: core.mvm(relu_codes, state, np.random.default_rng(2)), lambda: xr @ wf, reps)
    z = np.empty((batch, cols), dtype=np.float32)  # the MVM's generator, on one thread
    t_draw = _best(lambda: standard_normal(3, out=z, parallel=False), reps)
    risky = core._screen(core._inputs(codes), state)

    def products(c):  # the read's array products alone: the variance and the signal's
        inp = core._inputs(c)
        flags = core._screen(inp, state)
        core._variance(inp, state)
        core._products(inp, state, flags is not None and bool(flags.any()))

    t_prod = _best(lambda: products(codes), reps)
    t_prod_relu = _best(lambda: products(relu_codes), reps)
    return {
        "shape": [batch, rows, cols], "products": products_method(),
        "products_ms": t_prod * 1e3, "products_ratio": t_prod / t_mm,
        "nonneg_products_ms": t_prod_relu * 1e3, "nonneg_products_ratio": t_prod_relu / t_mm_relu,
        "lines_can_saturate": bool(state.line_max_ua > chip.core.i_sat_ua),
        "mvm_ms": t_mvm * 1e3, "matmul_ms": t_mm * 1e3, "mvm_ratio": t_mvm / t_mm,
        "nonneg_mvm_ms": t_mvm_relu * 1e3, "nonneg_matmul_ms": t_mm_relu * 1e3,
        "nonneg_mvm_ratio": t_mvm_relu / t_mm_relu,
        "mvm_us_per_vector": t_mvm / batch * 1e6,
        "phase_read_share": 0.0 if risky is None else float(risky.mean()),
        "noise_draw_ms": t_draw * 1e3, "noise_draw_ratio": t_draw / t_mm,
    }


def bench_network_core(sizes: Sizes) -> dict:
    """The core MVM in the network's own case: the shipped ResNet-9 on the 64-core chip (one
    chip instance), the largest block of its widest layer, on ``mvm_batch`` of that layer's
    own input vectors (PWM codes after a ReLU, from test images) — lines that cannot
    saturate, whose read is two array products and the read-out pass. Beside it, against the
    same float32 matmul (``codes @ W``, 2 BLAS threads): those two products (read-noise
    variance and signal, as the read forms them: ``products``) alone; the rest of the MVM is
    the read-out (draw, ADC, LDPU), the inputs' preparation and the screen."""
    import numpy as np

    from chipsim.functional.core import products_method
    from chipsim.functional.executor import ChipInstance
    from chipsim.functional.tasks import task_data
    from chipsim.mapping import map_workload
    from chipsim.models import resolve_model
    from chipsim.spec import hermes
    from chipsim.workload.forward import activations

    wl, chip = resolve_model("resnet9").workload, hermes()
    mapping = map_workload(wl.lowered(), chip, replicate=True, seed=0)
    calib, _ = task_data("resnet9", "train", 100)
    inst = ChipInstance(wl, mapping, chip, np.random.default_rng(0), np.random.default_rng(1),
                        calibration_inputs=calib)
    x, _ = task_data("resnet9", "test", 8)
    blk = max((b for reps in inst._blocks.values() for blocks in reps for b in blocks),
              key=lambda b: (b.rows[1] - b.rows[0]) * (b.cols[1] - b.cols[0]))
    layer = next(name for name, reps in inst._blocks.items()
                 if any(blk in blocks for blocks in reps))
    vecs = next(v for name, v, _ in inst._layer_inputs(activations(wl, x)) if name == layer)
    codes = inst._pwm_codes(layer, vecs.astype(np.float32))[:sizes.mvm_batch,
                                                            blk.rows[0]:blk.rows[1]]
    codes = np.ascontiguousarray(codes)
    core, state, levels = blk.inst, blk.state, chip.core.input_levels
    xf = codes.astype(np.float32) / levels
    wf = core.weights.astype(np.float32)
    risky = core._screen(core._inputs(codes), state)
    reps = sizes.mvm_repeats
    core.mvm(codes, state, np.random.default_rng(2))  # compile / load the kernels
    t_mvm, t_mm = _best_pair(lambda: core.mvm(codes, state, np.random.default_rng(2)),
                             lambda: xf @ wf, reps)

    def products():
        inp = core._inputs(codes)
        core._variance(inp, state)
        core._products(inp, state, False)

    t_prod, t_mm2 = _best_pair(products, lambda: xf @ wf, reps)
    return {
        "layer": layer, "shape": [len(codes), *core.weights.shape],
        "products": products_method(),
        "inputs_nonneg": bool((codes >= 0).all()),
        "phase_read_share": 0.0 if risky is None else float(risky.mean()),
        "mvm_ms": t_mvm * 1e3, "matmul_ms": t_mm * 1e3, "mvm_ratio": t_mvm / t_mm,
        "two_products_ms": t_prod * 1e3, "two_products_ratio": t_prod / t_mm2,
    }


# ------------------------------------------------------------------------------ Gaussian draw
def bench_normal(sizes: Sizes) -> dict:
    """``mvm_batch`` × 256 float32 standard normals (one per ADC conversion of a core MVM): the
    counter-based ziggurat :func:`chipsim.kernels.standard_normal` on Numba's threads (2 on
    this machine) and on one thread, and NumPy's ``Generator.standard_normal``, each against
    the float32 matmul ``(batch × 256) @ (256 × 256)`` on OpenBLAS's threads. The four calls of
    a round run back to back (the same load of the machine); ``3 * mvm_repeats`` rounds; the
    ratios are of medians (``*_best_ratio``: of least times).
    """
    import numpy as np

    from chipsim.kernels import standard_normal

    batch, cols, reps = sizes.mvm_batch, 256, 3 * sizes.mvm_repeats
    rng = np.random.default_rng(4)
    x = rng.standard_normal((batch, cols), dtype=np.float32)
    w = rng.standard_normal((cols, cols), dtype=np.float32)
    out = np.empty((batch, cols), dtype=np.float32)
    calls = {
        "normal": lambda: standard_normal(12345, out=out),
        "normal_serial": lambda: standard_normal(12345, out=out, parallel=False),
        "numpy_normal": lambda: rng.standard_normal((batch, cols), dtype=np.float32),
        "matmul": lambda: x @ w,
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for f in calls.values():  # compile / load the kernel, warm the BLAS threads
        f()
    for _ in range(reps):
        for name, f in calls.items():
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    med = {name: float(np.median(ts)) for name, ts in times.items()}
    best = {name: min(ts) for name, ts in times.items()}
    res: dict[str, Any] = {"shape": [batch, cols], "rounds": reps}
    for name in calls:
        res[f"{name}_ms"] = med[name] * 1e3
        res[f"{name}_best_ms"] = best[name] * 1e3
    for name in ("normal", "normal_serial", "numpy_normal"):
        res[f"{name}_ratio"] = med[name] / med["matmul"]
        res[f"{name}_best_ratio"] = best[name] / best["matmul"]
    res["normal_vs_numpy"] = med["normal"] / med["numpy_normal"]
    return res


# ------------------------------------------------------------------------------ network
def bench_network(sizes: Sizes) -> dict:
    """ResNet-9 (shipped 1-channel weights, the default replicated mapping of ``chipsim
    run``), MNIST test images, every nonideality, batches of 100, in a subprocess: seconds per
    image at each size, the ratio to the float32 NumPy forward of the same images at the
    largest size (the instance run as the accuracy measurement runs it, on Numba's threads;
    ``serial_network_ratio``: on one Python thread), and the subprocess's peak resident
    memory. To show what bounds it: the time
    to draw as many float32 normals as the run's ADC conversions (one read-noise draw each)
    alone, against the same float forward."""
    out = _child("network", *map(str, sizes.image_sizes))
    runs = {r["images"]: r for r in out["runs"]}
    main = runs[sizes.images]
    per_image = {str(n): r["run_s"] / n for n, r in runs.items()}
    flat = None
    if 100 in runs and sizes.images != 100:
        flat = per_image[str(sizes.images)] / per_image["100"]
    return {
        "images": sizes.images, "batch": out["batch"], "cores": out["cores"],
        "program_s": out["program_s"], "run_s": main["run_s"], "run_cpu_s": main["run_cpu_s"],
        "float_s": main["float_s"], "network_ratio": main["run_s"] / main["float_s"],
        "serial_run_s": main["serial_run_s"],
        "serial_network_ratio": main["serial_run_s"] / main["float_s"],
        "noise_draws": main["noise_draws"], "noise_draw_s": main["noise_draw_s"],
        "noise_draw_ratio": main["noise_draw_s"] / main["float_s"],
        "core_mvms": main["core_mvms"], "us_per_core_mvm": main["run_s"] / main["core_mvms"] * 1e6,
        "chip_top1": main["chip_top1"], "float_top1": main["float_top1"],
        "s_per_image": per_image, "per_image_1000_vs_100": flat,
        "peak_rss_mb": out["peak_rss_mb"],
    }


# ------------------------------------------------------------------------------ timing
def _timing_run(size: int, replicate: bool, inferences: int, reference: bool = False,
                offchip: bool = False) -> dict:
    """One timing run in a process of its own (its speed does not depend on what ran before);
    ``reference``: on the SimPy engine; ``offchip``: in off-chip transport (else on-chip)."""
    return _child("timing", str(size), str(int(replicate)), str(inferences),
                  str(int(reference)), str(int(offchip)))


def bench_simpy(sizes: Sizes) -> dict:
    """Timeouts per second of a bare SimPy process (``yield env.timeout(1)`` in a loop), best
    of three."""
    import simpy

    n = sizes.simpy_events

    def run():
        env = simpy.Environment()

        def proc(env):
            for _ in range(n):
                yield env.timeout(1)

        env.process(proc(env))
        env.run()

    return {"events": n, "events_per_s": n / _best(run, 3)}


def bench_timing(sizes: Sizes, simpy_rate: float) -> dict:
    """ResNet-9 in the on-chip (layer-pipelined) mode, the default replicated mapping of
    ``chipsim run``, no timeline: simulated core-MVMs per wall second over
    ``timing_inferences`` images, and per image at each size (the largest only if the run
    before it says it fits ``timing_budget_s``); the same for the plain (unreplicated)
    mapping. Each run in a process of its own. Beside them, the replicated run in off-chip
    transport (``chipsim run``'s default: inferences one after the other, every layer's input
    through the host), on both engines."""
    out: dict[str, Any] = {}
    for name, rep in (("replicated", True), ("plain", False)):
        runs: dict[int, dict] = {}
        for n in sorted(set(sizes.timing_sizes) | {sizes.timing_inferences}):
            if n > sizes.timing_inferences:
                est = runs[max(runs)]["s_per_image"] * n
                if rep is False or est > sizes.timing_budget_s:
                    runs[n] = {"inferences": n, "skipped": f"estimated {est:.0f} s"}
                    continue
            runs[n] = _timing_run(32, rep, n)
        main = runs[sizes.timing_inferences]
        out[name] = {"cores": main["cores"], "runs": [runs[n] for n in sorted(runs)],
                     "mvms_per_s": main["mvms_per_s"],
                     "cpu_mvms_per_s": main["core_mvms"] / main["cpu_s"]}
    main = out["replicated"]
    # the SimPy engine on the same run: the reference the compiled engine reproduces
    ref = _timing_run(32, True, sizes.timing_inferences, reference=True)
    off = _timing_run(32, True, sizes.timing_inferences, offchip=True)
    off_ref = _timing_run(32, True, sizes.timing_inferences, reference=True, offchip=True)
    out["offchip"] = {"mvms_per_s": off["mvms_per_s"],
                      "simpy_engine_mvms_per_s": off_ref["mvms_per_s"],
                      "compiled_vs_simpy_engine": off["mvms_per_s"] / off_ref["mvms_per_s"]}
    return {"inferences": sizes.timing_inferences, "mapping": "replicated",
            "timing_mvms_per_s": main["mvms_per_s"],
            "timing_vs_simpy": main["mvms_per_s"] / simpy_rate,
            "simpy_engine_mvms_per_s": ref["mvms_per_s"],
            "compiled_vs_simpy_engine": main["mvms_per_s"] / ref["mvms_per_s"], **out}


# ------------------------------------------------------------------------------ larger
def bench_larger(sizes: Sizes, base_us_per_mvm: float | None) -> dict:
    """ResNet-9 on 64 × 64 images (4× the core-MVMs per image; seeded random weights) on the
    256-core chip against ResNet-9 (shipped weights) on 32 × 32 images on the 64-core chip:
    wall time per core-MVM of the timing path (on-chip mode), with the replicated mapping (the
    copies fill the chip) and with the plain one, beside the link traffic (bit-hops) per
    core-MVM the two simulate; and of the accuracy path (replicated).

    Each timing case runs ``larger_repeats`` times, the two cases alternating (each run in a
    process of its own), so that both see the same spells of the host's load; per case the
    median, and the ratio of the medians (each repeat's ratio beside it)."""
    import statistics

    if not sizes.larger_inferences:
        return {"skipped": "not in --quick"}
    out: dict[str, Any] = {}
    n = sizes.larger_inferences
    cases = (("resnet9_32px_64cores", 32), ("resnet9_64px_256cores", 64))
    for mapping_name, rep in (("replicated", True), ("plain", False)):
        runs: dict[str, list[dict]] = {name: [] for name, _ in cases}
        for _ in range(sizes.larger_repeats):
            for name, size in cases:
                runs[name].append(_timing_run(size, rep, n))
        res: dict[str, Any] = {}
        for name, _ in cases:
            r = runs[name][0]
            us = [x["wall_s"] / x["core_mvms"] * 1e6 for x in runs[name]]
            res[name] = {"cores": r["cores"], "mvms_per_image": r["core_mvms"] // n,
                         "timing_us_per_core_mvm": statistics.median(us),
                         "timing_us_per_core_mvm_runs": us,
                         "link_bit_hops_per_core_mvm": r["link_bit_hops"] / r["core_mvms"],
                         "throughput_inf_per_s": r["throughput_inf_per_s"]}
        big, base = res["resnet9_64px_256cores"], res["resnet9_32px_64cores"]
        res["timing_ratio"] = big["timing_us_per_core_mvm"] / base["timing_us_per_core_mvm"]
        res["timing_ratio_runs"] = [b / a for a, b in zip(base["timing_us_per_core_mvm_runs"],
                                                          big["timing_us_per_core_mvm_runs"],
                                                          strict=True)]
        res["link_work_ratio"] = (big["link_bit_hops_per_core_mvm"]
                                  / base["link_bit_hops_per_core_mvm"])
        out[mapping_name] = res
    if sizes.larger_images and base_us_per_mvm:
        acc = _child("larger", str(sizes.larger_images))
        us = acc["run_s"] / acc["core_mvms"] * 1e6
        out["accuracy"] = {"resnet9_64px_256cores_us_per_core_mvm": us,
                           "resnet9_32px_64cores_us_per_core_mvm": base_us_per_mvm,
                           "images": acc["images"], "cores": acc["cores"],
                           "program_s": acc["program_s"], "ratio": us / base_us_per_mvm}
    return out


# ------------------------------------------------------------------------------ start-up
def bench_startup(sizes: Sizes) -> dict:
    """``chipsim --help`` (best of ``help_repeats``), and a fresh process's first call of
    every Numba kernel with an empty ``NUMBA_CACHE_DIR`` (compile) and again with the cache
    it left (load)."""
    exe = shutil.which("chipsim")
    cmd = [exe, "--help"] if exe else [sys.executable, "-m", "chipsim", "--help"]

    def helped():
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)

    help_s = _best(helped, sizes.help_repeats)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        t0 = time.perf_counter()
        cold = _child("kernels", env=env)
        cold_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = _child("kernels", env=env)
        warm_s = time.perf_counter() - t0
    return {"command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
            "help_s": help_s, "cold_process_s": cold_s, "warm_process_s": warm_s,
            "numba_compile_s": cold["first_calls_s"], "numba_cached_s": warm["first_calls_s"]}


# ------------------------------------------------------------------------------ main job
def bench_main_job(sizes: Sizes) -> dict:
    """The main job, ``chipsim run --out DIR`` on built-in defaults (``--quick``: 50 samples),
    timed as a whole process: the median wall time of ``main_job_repeats`` runs, with the
    CPU time of the same runs (a loaded machine stretches the one, not the other)."""
    exe = shutil.which("chipsim")
    cmd = [exe] if exe else [sys.executable, "-m", "chipsim"]
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(sizes.main_job_repeats):
            args = [*cmd, "run", "--out", str(Path(tmp) / f"report{i}"), "--quiet",
                    *sizes.main_job_args]
            before, t0 = os.times(), time.perf_counter()
            subprocess.run(args, cwd=ROOT, capture_output=True, check=True)
            walls.append(time.perf_counter() - t0)
            after = os.times()
            cpus.append(after.children_user - before.children_user
                        + after.children_system - before.children_system)
    walls.sort()
    cpus.sort()
    mid = len(walls) // 2
    return {"command": " ".join(["chipsim", "run", "--out", "DIR", *sizes.main_job_args]),
            "repeats": len(walls), "run_s": walls[mid], "run_cpu_s": cpus[mid],
            "run_s_all": walls}


#: the settings of the sweep benchmark's every point: accuracy on 100 test images per chip
#: instance (3 instances, as by default), a design-exploration budget (a ``run.ci_width``
#: target does not stop earlier here: ResNet-9's chips differ by more than 2 points' interval
#: until 300 images)
SWEEP_SETS = ("run.samples=100",)


def bench_sweep(sizes: Sizes) -> dict:
    """A ResNet-9 design sweep, ``chipsim sweep resnet9 --grid ... --set run.samples=100
    --workers 2 --out DIR``, timed once as a whole process: the full grid is 100 points (ADC
    bits × cores × input bits × time since programming; the points of one chip that differ
    only in time share their programmed instances)."""
    exe = shutil.which("chipsim")
    cmd = [exe] if exe else [sys.executable, "-m", "chipsim"]
    grid = [a for axis in sizes.sweep_grid for a in ("--grid", axis)]
    sets = [a for s in SWEEP_SETS for a in ("--set", s)]
    points = 1
    for axis in sizes.sweep_grid:
        points *= len(axis.split("=", 1)[1].split(","))
    with tempfile.TemporaryDirectory() as tmp:
        args = [*cmd, "sweep", "resnet9", *grid, *sets, "--workers", "2", "--quiet",
                "--out", str(Path(tmp) / "sweep")]
        before, t0 = os.times(), time.perf_counter()
        subprocess.run(args, cwd=ROOT, capture_output=True, check=True)
        wall = time.perf_counter() - t0
        after = os.times()
        records = [json.loads(p.read_text()) for p in (Path(tmp) / "sweep" / "points").iterdir()]
    return {"command": " ".join(["chipsim", "sweep", "resnet9", *grid, *sets, "--workers", "2",
                                 "--out", "DIR"]),
            "points": points, "run_s": wall,
            "run_cpu_s": (after.children_user - before.children_user
                          + after.children_system - before.children_system),
            "s_per_point": wall / points,
            "ok_points": sum(r["status"] == "ok" for r in records),
            "reused_instances": sum(r.get("reused_instances") or 0 for r in records)}
