"""Fit the cost model's physical parameters to the chip paper's Table I.

Run ``python -m chipsim.calibration.fit`` to print the fit, ``--write`` to store it in
``chipsim/calibration/hermes_fit.yaml`` (the defaults of :class:`~chipsim.spec.EnergySpec`
are the values of that file; a test holds them together).

What is fitted: per-action energies, static powers and two digital pipeline depths of the
reference chip (the fields of :class:`~chipsim.spec.EnergySpec` that Table I involves). What
is not: the MVM timing (``CoreSpec``: 133 / 520 ns follow from the PWM window and per-phase
overhead), the link hop latency (``NetworkSpec.hop_latency_cycles``) and clocks. Every use
case is simulated by the engine; nothing in the fit is a use-case total.

:func:`fit` takes the use cases to fit to (default all three): the held-out check
(:mod:`chipsim.calibration.heldout`) fits each pair of them with this same code. A parameter
that the chosen use cases cannot constrain stays at its prior (:data:`PRIORS`,
:data:`TIMING_PRIORS`).

Method:

1. Timing depths, discrete least squares over the relative errors of the latencies of the
   fitted use cases: for each LDPU depth ``D`` (0..63 digital cycles) the engine gives the
   latencies with a GDPU depth of 0; the latency of a use case that runs through the GDPU
   grows by one digital period per GDPU cycle, which gives the best GDPU depth (without such
   a use case, the GDPU depth stays at its prior); the candidates are re-simulated and the
   best pair kept. Of pairs with equal errors (depths the latencies cannot tell apart) the
   one nearest the priors of :data:`TIMING_PRIORS` (sum of squared relative deviations)
   is kept.
2. Energies, with the depths fixed: one engine run per use case and mode gives the action
   counts; the energy is linear in the parameters (``chipsim.cost.energy.COMPONENTS``; the
   fit reads each parameter's share from the run's energy with that parameter alone). A
   maximum-a-posteriori least-squares fit (Levenberg-Marquardt in NumPy on the logs of the
   parameters, so they stay positive) weighs the relative errors of TOPS/W and energy (σ = 1 %)
   against a log-normal prior per parameter (σ = one decade around an order-of-magnitude
   estimate, listed in :data:`PRIORS` with its basis). The data fix the combinations Table I
   determines (MVM energy per phase, idle-periphery power, digital static powers, energy per
   digital value); the priors only split what Table I cannot tell apart (e.g. PWM vs ADC vs
   array, LDPU vs buffer vs link), and a parameter no fitted use case involves stays at its
   prior.
3. The values are rounded to 5 significant digits and the cells of Table I re-computed
   with them.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..cost.latency import period_ps
from ..spec import ChipSpec, EnergySpec, hermes
from ..spec._fields import field_doc
from ..timing.result import TimingResult
from .golden import FIT_PATH, load_table1
from .usecases import USE_CASES, run_use_case
from .validate import MODES, ValidationRow, rows_from_runs, use_case_runs

__all__ = ["PRIORS", "TIMING_PRIORS", "TIMING", "RunCache", "FitResult", "fit", "fit_document",
           "main"]

#: parameter -> (prior value, unit, basis of the prior). σ = one decade (log-normal).
PRIORS: dict[str, tuple[float, str, str]] = {
    "pwm_fj_per_row_ns": (80.0, "fJ", "a row driver holding a 256-cell line at the read "
                          "voltage with 1-GHz pulse timing, ~10 pJ per 128-ns window; "
                          "UNCONFIRMED order of magnitude"),
    "array_fj_per_cell_ns": (0.4, "fJ", "4 devices × ~5 µS × (0.2 V)² × 1/2 mean duty = "
                             "0.4 fJ per ns (DERIVED from the device range and read voltage)"),
    "adc_cco_fj_per_step": (80.0, "fJ", "a CCO ADC drawing ~150 µW over a 128-ns window "
                            "([KA]) for 2^8 steps; UNCONFIRMED"),
    "mvm_static_mw_per_core": (2.0, "mW", "bias and reference circuits of one core's "
                               "periphery; UNCONFIRMED"),
    "ldpu_pj_per_value": (50.0, "pJ", "FP16 conversion of two 12-bit counts, affine, add, "
                          "INT8 re-quantization; UNCONFIRMED"),
    "buffer_pj_per_value": (5.0, "pJ", "SRAM/FIFO write + read of one byte; UNCONFIRMED"),
    "link_pj_per_bit_hop": (0.5, "pJ", "~1.2 mm of on-chip wire and its driver; UNCONFIRMED"),
    "gdpu_pj_per_input": (20.0, "pJ", "FP16 lookup-table activation with interpolation and "
                          "cell-state update; UNCONFIRMED"),
    "core_static_mw": (20.0, "mW", "leakage and clock tree of an LDPU and its buffers in "
                       "14 nm; UNCONFIRMED"),
    "gdpu_static_mw_per_slice": (2.0, "mW", "leakage and clock of one GDPU slice; "
                                 "UNCONFIRMED"),
    "chip_static_mw": (50.0, "mW", "PLLs, clock distribution and global control; "
                       "UNCONFIRMED"),
}

LDPU_DEPTH, GDPU_DEPTH = "ldpu_pipeline_cycles", "gdpu_pipeline_cycles"

#: pipeline depth -> (prior value, unit, basis of the prior). Used only where the fitted
#: latencies cannot decide: a depth no fitted use case involves, and the split between
#: the depths when the latencies fix only a weighted sum of them.
TIMING_PRIORS: dict[str, tuple[int, str, str]] = {
    LDPU_DEPTH: (16, "digital cycles", "~4 dependent FP16 operations (count conversion, "
                 "affine multiply-add, partial-sum add, INT8 re-quantization) × ~4 pipeline "
                 "stages each at 400 MHz; UNCONFIRMED"),
    GDPU_DEPTH: (36, "digital cycles", "~9 dependent FP16 operations (gate activation: "
                 "lookup, interpolation; f·c + i·a; tanh: lookup, interpolation; × o) × ~4 "
                 "pipeline stages each at 400 MHz; UNCONFIRMED"),
}

TIMING = tuple(TIMING_PRIORS)
"""The fitted pipeline depths (timing fields of :class:`~chipsim.spec.EnergySpec`)."""

#: the EnergySpec fields Table I cannot constrain: (unit, why not fitted)
_UNFITTED = {
    "offchip_pj_per_bit": ("pJ", "not fitted (Table I has no off-chip traffic)"),
    "adc_ramp_fj_per_step": ("fJ", "not fitted (the reference chip's ADCs are CCO ADCs)"),
    "adc_sar_scale": ("1", "not fitted (the reference chip's ADCs are CCO ADCs)"),
}
SIGMA_DATA = 0.01
SIGMA_PRIOR = math.log(10.0)


class RunCache:
    """Engine runs of the Table I use cases, memoised by ``(use case, chip)``.

    A run depends on nothing but its use case and chip (spec, read mode and pipeline depths
    included), so the depth scans of several fits (the held-out folds) share their runs;
    which use cases a fit sees only selects the residuals.
    """

    def __init__(self) -> None:
        self._runs: dict[tuple[str, ChipSpec], TimingResult] = {}
        self.engine_runs = 0  # runs simulated (cache misses)

    def run(self, name: str, chip: ChipSpec) -> TimingResult:
        """:func:`~chipsim.calibration.usecases.run_use_case`, simulated once per key."""
        key = (name, chip)
        hit = self._runs.get(key)
        if hit is None:
            hit = self._runs[key] = run_use_case(name, chip)
            self.engine_runs += 1
        return hit


@dataclass(frozen=True, slots=True)
class FitResult:
    """The fitted :class:`EnergySpec`, the Table I rows of the fitted use cases with it, and
    the fit's record: MAP cost, shifts from the priors (decades), the use cases fitted to,
    and the parameters they cannot constrain (left at their priors)."""

    energy: EnergySpec
    rows: tuple[ValidationRow, ...]
    cost: float
    prior_shift: dict[str, float]
    use_cases: tuple[str, ...] = USE_CASES
    unconstrained: tuple[str, ...] = ()


def _with_energy(chip: ChipSpec, **kw) -> ChipSpec:
    return replace(chip, energy=replace(chip.energy, **kw))


def _check_use_cases(use_cases: Iterable[str]) -> tuple[str, ...]:
    names = tuple(use_cases)
    unknown = [n for n in names if n not in USE_CASES]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(f"use cases to fit: a non-empty set of {', '.join(USE_CASES)}; "
                         f"got {list(names)}")
    return tuple(n for n in USE_CASES if n in names)


def _latency_error(runs, table) -> float:
    return sum(r.rel_error ** 2 for r in rows_from_runs(runs, table=table)
               if r.metric == "latency_ns")


def _prior_distance(depths: dict[str, int]) -> float:
    return sum(((v - TIMING_PRIORS[n][0]) / TIMING_PRIORS[n][0]) ** 2 for n, v in depths.items())


def _fit_timing(chip, use_cases, table, max_depth, cache):
    """``(depths, runs at them, unconstrained depths)`` of step 1 (module docstring)."""
    period = period_ps(chip.core.digital_clock_mhz)
    ref = table["use_cases"]
    # the use cases that run through the GDPU (a property of the plan, not of the depths)
    probe = use_case_runs(_with_energy(chip, **{LDPU_DEPTH: 0, GDPU_DEPTH: 0}), use_cases,
                          cache.run)
    gdpu_cases = tuple(uc for uc in use_cases if any(probe[(uc, m)].gdpu_counts for m in MODES))
    best_key, best, errors = None, None, set()
    for d in range(max_depth):
        if gdpu_cases:
            base = use_case_runs(_with_energy(chip, **{LDPU_DEPTH: d, GDPU_DEPTH: 0}),
                                 gdpu_cases, cache.run)
            est = float(np.mean([(ref[uc]["modes"][m]["latency_ns"] * 1e3 - r.latency_ps)
                                 / period for (uc, m), r in base.items()]))
            candidates = sorted({max(0, math.floor(est)), max(0, math.ceil(est))})
        else:
            candidates = [TIMING_PRIORS[GDPU_DEPTH][0]]
        for dg in candidates:
            depths = {LDPU_DEPTH: d, GDPU_DEPTH: dg}
            runs = use_case_runs(_with_energy(chip, **depths), use_cases, cache.run)
            err = float(f"{_latency_error(runs, table):.12g}")  # equal latencies tie exactly
            errors.add(err)
            key = (err, _prior_distance(depths))
            if best_key is None or key < best_key:
                best_key, best = key, (depths, runs)
    # a depth no fitted latency depends on: the GDPU's without a GDPU run, the LDPU's when
    # the scan over it changes no error
    unconstrained = (((LDPU_DEPTH,) if len(errors) == 1 else ())
                     + (() if gdpu_cases else (GDPU_DEPTH,)))
    return best[0], best[1], unconstrained


def _features(runs, table):
    """Per (use case, mode) of ``runs``: the energy and MVM energy (pJ) as ``offset +
    features @ θ`` over the parameters of :data:`PRIORS`, its ops and Table I's values."""
    names = list(PRIORS)
    ref = table["use_cases"]
    data = []
    for (uc, mode), r in sorted(runs.items()):
        zero = replace(r.energy_spec, **{n: 0.0 for n in names})
        e0 = r.energy_with(zero)
        tot = np.empty(len(names))
        mvm = np.empty(len(names))
        for i, n in enumerate(names):
            e = r.energy_with(replace(zero, **{n: 1.0}))
            tot[i] = e.total_pj - e0.total_pj
            mvm[i] = e.mvm_pj - e0.mvm_pj
        cell = ref[uc]["modes"][mode]
        data.append((tot, e0.total_pj, mvm, e0.mvm_pj, r.ops_per_inference,
                     cell["tops_per_w"], cell["energy_uj"] * 1e6))
    return names, data


def _least_squares(resid, z0: np.ndarray, iters: int = 200) -> np.ndarray:
    """Levenberg-Marquardt (NumPy, central-difference Jacobian) minimising ``|resid(z)|²``."""
    z = z0.astype(float).copy()
    r = resid(z)
    lam = 1e-3
    for _ in range(iters):
        jac = np.empty((r.size, z.size))
        for i in range(z.size):
            dz = np.zeros_like(z)
            dz[i] = 1e-6
            jac[:, i] = (resid(z + dz) - resid(z - dz)) / 2e-6
        g = jac.T @ r
        a = jac.T @ jac
        while True:
            step = np.linalg.solve(a + lam * np.diag(np.diag(a) + 1e-12), -g)
            r_new = resid(z + step)
            if r_new @ r_new < r @ r:
                z, r, lam = z + step, r_new, max(lam / 3, 1e-12)
                break
            lam *= 4
            if lam > 1e12:
                return z
        if np.abs(step).max() < 1e-10:
            break
    return z


def _fit_energy(runs, table=None):
    """Step 2 on ``runs`` (the fitted use cases): ``(values, MAP cost, decades from the
    priors, parameters no run involves)``."""
    table = load_table1() if table is None else table
    names, data = _features(runs, table)
    z0 = np.log([PRIORS[n][0] for n in names])

    def resid(z):
        th = np.exp(z)
        out = []
        for tot, tot0, mvm, mvm0, ops, ref_tw, ref_e in data:
            out.append((ops / (mvm0 + mvm @ th) / ref_tw - 1.0) / SIGMA_DATA)
            out.append(((tot0 + tot @ th) / ref_e - 1.0) / SIGMA_DATA)
        out.extend((z - z0) / SIGMA_PRIOR)
        return np.asarray(out)

    z = _least_squares(resid, z0)
    th = np.exp(z)
    values = {n: float(f"{v:.5g}") for n, v in zip(names, th, strict=True)}
    shift = {n: float(np.log10(values[n] / PRIORS[n][0])) for n in names}
    unused = tuple(n for i, n in enumerate(names) if not any(d[0][i] for d in data))
    return values, float(0.5 * resid(z) @ resid(z)), shift, unused


def fit(use_cases: Iterable[str] = USE_CASES, *, chip: ChipSpec | None = None,
        table: dict[str, Any] | None = None, max_depth: int = 64,
        cache: RunCache | None = None) -> FitResult:
    """Fit ``chip``'s :class:`EnergySpec` (default the reference chip's) to the Table I cells
    of ``use_cases`` (default all three; see the module docstring).

    Parameters
    ----------
    use_cases
        The use cases whose cells the fit sees; the others play no part.
    chip
        The chip whose energy table and depths are fitted (its other fields fixed).
    table
        Table I (default :func:`~chipsim.calibration.golden.load_table1`).
    max_depth
        LDPU depths scanned: ``0 .. max_depth - 1`` digital cycles.
    cache
        Engine runs to share between fits (:class:`RunCache`).

    Examples
    --------
    >>> res = fit(["all_cores", "resnet_layer"], max_depth=24)
    >>> res.use_cases, "gdpu_pipeline_cycles" in res.unconstrained
    (('all_cores', 'resnet_layer'), True)
    """
    names = _check_use_cases(use_cases)
    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1, got {max_depth}")
    chip = hermes() if chip is None else chip
    table = load_table1() if table is None else table
    cache = RunCache() if cache is None else cache
    depths, runs, free_depths = _fit_timing(chip, names, table, max_depth, cache)
    values, cost, shift, unused = _fit_energy(runs, table)
    spec = replace(chip.energy, **depths, **values)
    rows = tuple(rows_from_runs(runs, spec, table))
    return FitResult(spec, rows, cost, shift, names, free_depths + unused)


def _meaning(name: str) -> str:
    doc = field_doc(EnergySpec, name)
    return doc.split("; fitted")[0]


def _method_steps() -> list[str]:
    text = (__doc__ or "").split("Method:")[1]
    steps = re.split(r"\n(?=\d\. )", text.strip())
    return [" ".join(step.split()) for step in steps]


def fit_document(res: FitResult) -> dict[str, Any]:
    """The content of ``hermes_fit.yaml`` for fit ``res``."""
    params: dict[str, Any] = {}
    for f in fields(EnergySpec):
        v = getattr(res.energy, f.name)
        entry: dict[str, Any] = {"value": v, "meaning": _meaning(f.name)}
        if f.name in PRIORS:
            pv, unit, basis = PRIORS[f.name]
            entry.update(unit=unit, prior=pv, prior_basis=basis,
                         decades_from_prior=round(res.prior_shift[f.name], 3))
        elif f.name in TIMING_PRIORS:
            pv, unit, basis = TIMING_PRIORS[f.name]
            entry.update(unit=unit, fitted_to="latencies of resnet_layer and lstm_step "
                         "(discrete least squares)", prior=pv, prior_basis=basis)
        else:
            entry.update(unit=_UNFITTED[f.name][0], fitted_to=_UNFITTED[f.name][1])
        params[f.name] = entry
    rows = [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.to_dict().items()}
            for r in res.rows]
    return {
        "source": "M. Le Gallo et al., Nature Electronics 6, 680-693 (2023), Table I "
                  "(chipsim/calibration/table1.yaml)",
        "produced_by": "python -m chipsim.calibration.fit --write",
        "method": _method_steps(),
        "fixed_inputs": {
            "mvm_cycles": "133 (1-ph) / 520 (4-ph) MVM-clock cycles (chipsim.cost.adc.mvm_cycles)",
            "network.hop_latency_cycles": hermes().network.hop_latency_cycles,
            "clocks_mhz": {"mvm": hermes().core.mvm_clock_mhz,
                           "digital": hermes().core.digital_clock_mhz},
        },
        "sigma_data": SIGMA_DATA,
        "sigma_prior_decades": 1.0,
        "parameters": params,
        "max_abs_rel_error": round(max(abs(r.rel_error) for r in res.rows), 6),
        "residuals": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: print the fit; ``--write [PATH]`` stores it."""
    ap = argparse.ArgumentParser(prog="python -m chipsim.calibration.fit", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", nargs="?", const=str(FIT_PATH), metavar="PATH",
                    help=f"write the fit file (default {FIT_PATH})")
    args = ap.parse_args(argv)
    res = fit()
    doc = fit_document(res)
    print("parameter                      value        unit            meaning")
    for name, p in doc["parameters"].items():
        print(f"{name:30s} {p['value']!s:12s} {p.get('unit', ''):15s} {p['meaning']}")
    print()
    print(f"{'use case':14s} {'mode':4s} {'metric':11s} {'simulated':>11s} {'paper':>9s} "
          f"{'error':>8s}")
    for r in res.rows:
        print(f"{r.use_case:14s} {r.mode:4s} {r.metric:11s} {r.simulated:11.4g} "
              f"{r.reference:9.4g} {100 * r.rel_error:+7.2f}%")
    print(f"max |error| = {100 * doc['max_abs_rel_error']:.2f} %")
    if args.write:
        Path(args.write).write_text(
            "# Generated by `python -m chipsim.calibration.fit --write`; do not edit by hand.\n"
            + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8")
        print(f"wrote {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
