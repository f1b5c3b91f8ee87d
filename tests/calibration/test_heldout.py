"""The held-out check: each use case of Table I predicted by a fit to the other two."""

import copy
import dataclasses

import pytest

from chipsim.calibration import METRICS, USE_CASES, load_table1
from chipsim.calibration.fit import (
    GDPU_DEPTH,
    LDPU_DEPTH,
    PRIORS,
    TIMING,
    TIMING_PRIORS,
    _latency_error,
    _prior_distance,
    _with_energy,
    fit,
)
from chipsim.calibration.heldout import leave_one_out
from chipsim.calibration.validate import use_case_runs
from chipsim.spec import hermes


def test_three_folds_of_eight_cells(held_out):
    assert [f.held_out for f in held_out] == list(USE_CASES)
    for f in held_out:
        assert len(f.rows) == 8
        assert {(r.use_case, r.mode, r.metric) for r in f.rows} == {
            (f.held_out, m, metric) for m in ("1ph", "4ph") for metric in METRICS}
        assert f.fit.use_cases == tuple(u for u in USE_CASES if u != f.held_out)
        assert {r.use_case for r in f.fit.rows} == set(f.fit.use_cases)  # 16 fitted cells
        assert len(f.fit.rows) == 16


def test_prediction_errors_are_relative_to_the_paper(held_out):
    table = load_table1()["use_cases"]
    for f in held_out:
        for r in f.rows:
            assert r.reference == table[r.use_case]["modes"][r.mode][r.metric]
            assert r.rel_error == pytest.approx((r.simulated - r.reference) / r.reference,
                                                rel=1e-12, abs=1e-15)
        assert f.max_abs_rel_error == max(abs(r.rel_error) for r in f.rows)
        assert abs(f.worst.rel_error) == f.max_abs_rel_error


def test_each_fold_is_the_fit_to_the_other_two(run_cache, held_out):
    for f in held_out:
        assert fit(f.fit.use_cases, cache=run_cache) == f.fit


def _perturbed(table, use_case, factor):
    t = copy.deepcopy(table)
    for cells in t["use_cases"][use_case]["modes"].values():
        for metric in cells:
            cells[metric] *= factor
    return t


@pytest.mark.parametrize("held", USE_CASES)
@pytest.mark.slow
def test_a_fold_never_sees_its_held_out_use_case(run_cache, held_out, held):
    table = load_table1()
    fold = next(f for f in held_out if f.held_out == held)
    moved = next(f for f in leave_one_out(table=_perturbed(table, held, 1.3), cache=run_cache)
                 if f.held_out == held)
    assert moved.fit == fold.fit  # same parameters, same fitted residuals
    assert [r.simulated for r in moved.rows] == [r.simulated for r in fold.rows]
    assert [r.reference for r in moved.rows] == pytest.approx(
        [1.3 * r.reference for r in fold.rows])
    # the control: the same change to a use case the fold does see moves its fit
    seen = fold.fit.use_cases[0]
    other = next(f for f in leave_one_out(table=_perturbed(table, seen, 1.3), cache=run_cache)
                 if f.held_out == held)
    assert other.fit.energy != fold.fit.energy


def test_without_the_lstm_step_the_gdpu_stays_at_its_priors(held_out):
    fold = next(f for f in held_out if f.held_out == "lstm_step")
    assert getattr(fold.fit.energy, GDPU_DEPTH) == TIMING_PRIORS[GDPU_DEPTH][0]
    gdpu_energies = [n for n in fold.fit.unconstrained if n in PRIORS]
    assert gdpu_energies  # the GDPU's energy and static power
    for name in gdpu_energies:
        assert getattr(fold.fit.energy, name) == PRIORS[name][0]
    assert fold.to_dict()["at_prior"] == list(fold.fit.unconstrained)
    # the other folds constrain every parameter
    assert all(f.fit.unconstrained == () for f in held_out if f.held_out != "lstm_step")


def test_without_the_resnet_layer_the_priors_split_the_lstm_depths(run_cache, held_out):
    """The LSTM latencies fix 3 × LDPU depth + GDPU depth; of the pairs on that line (equal
    latency errors) the fit keeps the one nearest the priors."""
    fold = next(f for f in held_out if f.held_out == "resnet_layer")
    d, g = (getattr(fold.fit.energy, n) for n in (LDPU_DEPTH, GDPU_DEPTH))
    table = load_table1()

    def error(dd, gg):
        chip = _with_energy(hermes(), **{LDPU_DEPTH: dd, GDPU_DEPTH: gg})
        return _latency_error(use_case_runs(chip, fold.fit.use_cases, run_cache.run), table)

    for step in (-2, -1, 1, 2):
        assert error(d + step, g - 3 * step) == error(d, g)
        assert (_prior_distance({LDPU_DEPTH: d + step, GDPU_DEPTH: g - 3 * step})
                > _prior_distance({LDPU_DEPTH: d, GDPU_DEPTH: g}))


def test_fold_to_dict(held_out):
    d = held_out[0].to_dict()
    assert set(d) == {"held_out", "fitted_on", "depths", "at_prior", "max_abs_rel_error",
                      "worst", "rows"}
    assert set(d["depths"]) == set(TIMING) and len(d["rows"]) == 8


def test_held_out_check_on_another_chip():
    chip = hermes()
    chip = dataclasses.replace(chip, core=dataclasses.replace(chip.core, digital_clock_mhz=500.0))
    folds = leave_one_out(chip, max_depth=4)
    assert len(folds) == 3 and all(len(f.rows) == 8 for f in folds)
