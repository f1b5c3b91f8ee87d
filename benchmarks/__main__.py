"""``python -m benchmarks [--quick] [--json]``: every performance figure in one run.

Without ``--json`` a table of figures, references, ratios and targets is printed; with it,
one JSON object. ``--quick`` uses small sizes (100 images, 20 timing inferences, a 4-point
sweep) and takes about three minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .machine import machine_info
from .suite import (
    SIZES,
    bench_larger,
    bench_main_job,
    bench_mvm,
    bench_network,
    bench_network_core,
    bench_normal,
    bench_simpy,
    bench_startup,
    bench_sweep,
    bench_timing,
)

__all__ = ["main", "TARGETS"]

TARGETS = {
    "mvm_ratio": ("<=", 6.5),
    "nonneg_mvm_ratio": ("<=", 3.0),
    "normal_ratio": ("<=", 1.2),
    "network_ratio": ("<=", 3.0),
    "main_job_s": ("<=", 15.0),
    "sweep_100_s": ("<=", 600.0),
    "timing_mvms_per_s": (">=", 1_000_000),
    "larger_timing_ratio": ("<=", 1.25),
    "per_image_1000_vs_100": ("within", 0.25),
    "peak_rss_mb": ("<=", 2048),
    "help_s": ("<=", 1.0),
}
"""The goals of the performance work (benchmark figures, not tests)."""


def _met(name: str, value: float | None) -> bool | None:
    if value is None or name not in TARGETS:
        return None
    op, bound = TARGETS[name]
    if op == "<=":
        return value <= bound
    if op == ">=":
        return value >= bound
    return abs(value - 1.0) <= bound


def run(quick: bool, log=print) -> dict[str, Any]:
    """Every benchmark; ``log`` gets one progress line per step."""
    sizes = SIZES["quick" if quick else "full"]
    t_start = time.perf_counter()
    out: dict[str, Any] = {"mode": "quick" if quick else "full", "machine": machine_info()}
    log("core MVM ...")
    out["mvm"] = bench_mvm(sizes)
    log("core MVM in the network's case ...")
    out["network_core"] = bench_network_core(sizes)
    log("Gaussian draw ...")
    out["normal"] = bench_normal(sizes)
    log("network (accuracy path, subprocess) ...")
    out["network"] = bench_network(sizes)
    log("bare SimPy loop ...")
    out["simpy"] = bench_simpy(sizes)
    log("timing path ...")
    out["timing"] = bench_timing(sizes, out["simpy"]["events_per_s"])
    log("larger network ...")
    out["larger"] = bench_larger(sizes, out["network"]["us_per_core_mvm"])
    log("start-up ...")
    out["startup"] = bench_startup(sizes)
    log("main job (chipsim run --out) ...")
    out["main_job"] = bench_main_job(sizes)
    log("design sweep (chipsim sweep --workers 2) ...")
    out["sweep"] = bench_sweep(sizes)
    out["machine"]["load_average_end"] = machine_info()["load_average"]
    out["benchmark_s"] = time.perf_counter() - t_start
    net, tim = out["network"], out["timing"]
    headline = {
        "mvm_ratio": out["mvm"]["mvm_ratio"],
        "nonneg_mvm_ratio": out["mvm"]["nonneg_mvm_ratio"],
        "network_core_mvm_ratio": out["network_core"]["mvm_ratio"],
        "normal_ratio": out["normal"]["normal_ratio"],
        "network_ratio": net["network_ratio"],
        "timing_mvms_per_s": tim["timing_mvms_per_s"],
        "timing_vs_simpy": tim["timing_vs_simpy"],
        "compiled_vs_simpy_engine": tim["compiled_vs_simpy_engine"],
        "larger_timing_ratio": (out["larger"]["replicated"]["timing_ratio"]
                                if "replicated" in out["larger"] else None),
        "peak_rss_mb": net["peak_rss_mb"],
        "per_image_1000_vs_100": net["per_image_1000_vs_100"],
        "help_s": out["startup"]["help_s"],
        # the goal is for the default job; --quick times it on 50 samples
        "main_job_s": None if quick else out["main_job"]["run_s"],
        "sweep_100_s": out["sweep"]["run_s"] if out["sweep"]["points"] == 100 else None,
    }
    out["targets"] = {k: {"value": v, "target": " ".join(map(str, TARGETS[k])),
                          "met": _met(k, v)} for k, v in headline.items() if k in TARGETS}
    return {**headline, **out}


def _table(r: dict[str, Any]) -> str:
    m, net, tim, lg, su = r["mvm"], r["network"], r["timing"], r["larger"], r["startup"]
    g, nc = r["normal"], r["network_core"]
    mach = r["machine"]
    rows = [
        ("core MVM 1024x256x256, all noise", f"{m['mvm_ms']:.1f} ms",
         f"float32 matmul {m['matmul_ms']:.2f} ms", f"{m['mvm_ratio']:.2f}x", "mvm_ratio"),
        (f"    its array products alone ({m['products']})", f"{m['products_ms']:.2f} ms", "",
         f"{m['products_ratio']:.2f}x", ""),
        ("  same, inputs >= 0 (after ReLU)", f"{m['nonneg_mvm_ms']:.1f} ms",
         f"float32 matmul {m['nonneg_matmul_ms']:.2f} ms", f"{m['nonneg_mvm_ratio']:.2f}x",
         "nonneg_mvm_ratio"),
        ("    its array products alone", f"{m['nonneg_products_ms']:.2f} ms", "",
         f"{m['nonneg_products_ratio']:.2f}x", ""),
        (f"  a ResNet-9 core ({nc['layer']}) on its own inputs", f"{nc['mvm_ms']:.1f} ms",
         f"float32 matmul {nc['matmul_ms']:.2f} ms", f"{nc['mvm_ratio']:.2f}x",
         "network_core_mvm_ratio"),
        ("    its two array products alone", f"{nc['two_products_ms']:.2f} ms", "",
         f"{nc['two_products_ratio']:.2f}x", ""),
        ("  its Gaussian draw alone", f"{m['noise_draw_ms']:.1f} ms",
         f"float32 matmul {m['matmul_ms']:.2f} ms", f"{m['noise_draw_ratio']:.2f}x", ""),
        ("  vectors read phase by phase", f"{m['phase_read_share']:.0%}", "", "", ""),
        ("Gaussian draw 1024x256, counter ziggurat", f"{g['normal_ms']:.2f} ms",
         f"float32 matmul {g['matmul_ms']:.2f} ms", f"{g['normal_ratio']:.2f}x", "normal_ratio"),
        ("  the same on one thread", f"{g['normal_serial_ms']:.2f} ms",
         f"float32 matmul {g['matmul_ms']:.2f} ms", f"{g['normal_serial_ratio']:.2f}x", ""),
        ("  NumPy standard_normal", f"{g['numpy_normal_ms']:.2f} ms",
         f"float32 matmul {g['matmul_ms']:.2f} ms", f"{g['numpy_normal_ratio']:.2f}x", ""),
        (f"ResNet-9 accuracy path, {net['images']} images", f"{net['run_s']:.1f} s",
         f"float32 forward {net['float_s']:.1f} s", f"{net['network_ratio']:.2f}x",
         "network_ratio"),
        ("  the same on one Python thread (BLAS on 2)", f"{net['serial_run_s']:.1f} s",
         f"float32 forward {net['float_s']:.1f} s", f"{net['serial_network_ratio']:.2f}x", ""),
        (f"  its Gaussian draws alone ({net['noise_draws'] / 1e6:,.0f} M)",
         f"{net['noise_draw_s']:.1f} s", f"float32 forward {net['float_s']:.1f} s",
         f"{net['noise_draw_ratio']:.2f}x", ""),
        ("  programming the chip instance", f"{net['program_s']:.1f} s", "", "", ""),
        ("  peak RSS of that run", f"{net['peak_rss_mb']:.0f} MB", "", "", "peak_rss_mb"),
    ]
    for n, s in net["s_per_image"].items():
        rows.append((f"  s per image at {n} images", f"{s * 1e3:.0f} ms", "", "", ""))
    if net["per_image_1000_vs_100"] is not None:
        rows.append(("  per image, 1000 vs 100 images", "", "",
                     f"{net['per_image_1000_vs_100']:.2f}x", "per_image_1000_vs_100"))
    rows.append((f"timing path, ResNet-9 on-chip, {tim['inferences']} images",
                 f"{tim['timing_mvms_per_s']:,.0f} MVM/s",
                 f"bare SimPy {r['simpy']['events_per_s']:,.0f} events/s",
                 f"{tim['timing_vs_simpy']:.3f}x", "timing_mvms_per_s"))
    rows.append(("  the SimPy engine, the same run", f"{tim['simpy_engine_mvms_per_s']:,.0f} MVM/s",
                 "", f"compiled {tim['compiled_vs_simpy_engine']:.1f}x", ""))
    off = tim["offchip"]
    rows.append(("  off-chip transport, the same images", f"{off['mvms_per_s']:,.0f} MVM/s",
                 f"SimPy engine {off['simpy_engine_mvms_per_s']:,.0f} MVM/s",
                 f"compiled {off['compiled_vs_simpy_engine']:.1f}x", ""))
    for name in ("replicated", "plain"):
        for run in tim[name]["runs"]:
            if "skipped" in run:
                rows.append((f"  {name}, {run['inferences']} images", "skipped", "", "", ""))
            else:
                rows.append((f"  {name}, {run['inferences']} images",
                             f"{run['mvms_per_s']:,.0f} MVM/s",
                             f"{run['s_per_image'] * 1e3:.0f} ms/image, peak RSS "
                             f"{run['peak_rss_mb']:.0f} MB", "", ""))
    for name in ("replicated", "plain"):
        if name not in lg:
            continue
        a, b = lg[name]["resnet9_32px_64cores"], lg[name]["resnet9_64px_256cores"]
        rows.append((f"4x network on 256 cores, timing, {name}",
                     f"{b['timing_us_per_core_mvm']:.1f} us/MVM",
                     f"64 cores {a['timing_us_per_core_mvm']:.1f} us/MVM (medians; "
                     "runs " + "/".join(f"{x:.2f}" for x in lg[name]["timing_ratio_runs"]) + ")",
                     f"{lg[name]['timing_ratio']:.2f}x",
                     "larger_timing_ratio" if name == "replicated" else ""))
        rows.append(("  link bit-hops per core-MVM", f"{b['link_bit_hops_per_core_mvm']:,.0f}",
                     f"64 cores {a['link_bit_hops_per_core_mvm']:,.0f}",
                     f"{lg[name]['link_work_ratio']:.2f}x", ""))
    if "accuracy" in lg:
        acc = lg["accuracy"]
        rows.append(("4x network on 256 cores, accuracy",
                     f"{acc['resnet9_64px_256cores_us_per_core_mvm']:.1f} us/MVM",
                     f"64 cores {acc['resnet9_32px_64cores_us_per_core_mvm']:.1f} us/MVM",
                     f"{acc['ratio']:.2f}x", ""))
    mj = r["main_job"]
    rows += [
        (f"main job: {mj['command']}", f"{mj['run_s']:.1f} s",
         f"CPU {mj['run_cpu_s']:.1f} s (median of {mj['repeats']})", "", "main_job_s"),
        (f"design sweep: {r['sweep']['command']}", f"{r['sweep']['run_s']:.0f} s",
         f"{r['sweep']['points']} points, {r['sweep']['s_per_point']:.1f} s/point, CPU "
         f"{r['sweep']['run_cpu_s']:.0f} s, {r['sweep']['reused_instances']} instances reused",
         "", "sweep_100_s"),
        (f"start-up: {su['command']}", f"{su['help_s']:.2f} s", "", "", "help_s"),
        ("  Numba kernels, first call, empty cache", f"{su['numba_compile_s']:.1f} s",
         f"cached {su['numba_cached_s']:.2f} s", "", ""),
    ]
    width = [max(len(str(row[i])) for row in rows) for i in range(4)]
    lines = [f"machine: {mach['cpu_model']}, {mach['logical_cores']} cores, BLAS "
             f"{mach['blas'].get('internal_api')} {mach['blas'].get('version')} "
             f"({mach['blas'].get('num_threads')} threads), load {mach['load_average']} -> "
             f"{mach['load_average_end']}", ""]
    for row in rows:
        target = r["targets"].get(row[4]) if row[4] else None
        mark = ""
        if target is not None and target["met"] is not None:
            mark = f"  target {target['target']}: {'met' if target['met'] else 'NOT met'}"
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row[:4], width, strict=True))
                     + mark)
    lines.append(f"\n({r['mode']} run, {r['benchmark_s']:.0f} s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run, print."""
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes (about two minutes)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    result = run(args.quick, log)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
