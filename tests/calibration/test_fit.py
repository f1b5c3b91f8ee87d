"""Table I golden values, the fitted parameter file and the defaults of EnergySpec."""

import dataclasses

import pytest
import yaml

from chipsim.calibration import load_fit, load_table1
from chipsim.calibration.fit import (
    PRIORS,
    TIMING,
    TIMING_PRIORS,
    FitResult,
    RunCache,
    _fit_energy,
    fit,
    fit_document,
)
from chipsim.calibration.validate import rows_from_runs
from chipsim.spec import EnergySpec, hermes

# Le Gallo et al., Nature Electronics 6, 680-693 (2023), Table I (shared/hermes.md §2)
TABLE1 = {
    "all_cores": {"1ph": (63.1, 9.76, 0.86, 133), "4ph": (16.1, 2.48, 3.38, 520)},
    "resnet_layer": {"1ph": (6.79, 6.88, 0.97, 1131), "4ph": (1.74, 1.74, 1.51, 1518)},
    "lstm_step": {"1ph": (30.6, 9.34, 3.46, 1043), "4ph": (7.82, 2.37, 5.24, 1430)},
}


def test_golden_file_is_table1_of_the_paper():
    t = load_table1()
    assert "Nature Electronics 6, 680-693 (2023)" in t["source"] and "Table I" in t["source"]
    assert t["tolerance"] == 0.05
    for uc, modes in TABLE1.items():
        for mode, values in modes.items():
            got = t["use_cases"][uc]["modes"][mode]
            assert (got["tops"], got["tops_per_w"], got["energy_uj"],
                    got["latency_ns"]) == values
    assert [t["use_cases"][u]["cores"] for u in TABLE1] == [64, 8, 32]


def test_energy_spec_defaults_are_the_fitted_values():
    fit = load_fit()["parameters"]
    spec = EnergySpec()
    assert set(fit) == {f.name for f in dataclasses.fields(EnergySpec)}
    for name, entry in fit.items():
        assert getattr(spec, name) == entry["value"], name
    assert hermes().energy == spec


def test_fit_file_documents_every_parameter_and_its_residuals():
    doc = load_fit()
    for name, entry in doc["parameters"].items():
        assert entry["meaning"] and entry["unit"], name
        if name in PRIORS:
            assert entry["prior"] == PRIORS[name][0] and entry["prior_basis"]
    rows = doc["residuals"]
    assert len(rows) == 24
    assert max(abs(r["rel_error"]) for r in rows) == doc["max_abs_rel_error"] <= 0.05
    assert "Table I" in doc["source"] and doc["method"]


def test_energy_fit_reproduces_the_file(use_case_runs):
    values, *_ = _fit_energy(use_case_runs)
    fit = load_fit()["parameters"]
    for name, v in values.items():
        assert v == pytest.approx(fit[name]["value"], rel=2e-4), name


def test_fit_document_structure(use_case_runs):
    rows = tuple(rows_from_runs(use_case_runs))
    doc = fit_document(FitResult(EnergySpec(), rows, 0.0, {n: 0.0 for n in PRIORS}))
    assert len(doc["residuals"]) == 24 and doc["parameters"]["ldpu_pipeline_cycles"]["unit"]


def test_full_fit_puts_all_24_cells_within_tolerance(full_fit):
    tol = load_table1()["tolerance"]
    assert full_fit.use_cases == ("all_cores", "resnet_layer", "lstm_step")
    assert len(full_fit.rows) == 24 and full_fit.unconstrained == ()
    assert all(abs(r.rel_error) <= tol for r in full_fit.rows), max(
        full_fit.rows, key=lambda r: abs(r.rel_error))


def test_fit_file_is_what_the_fit_writes(full_fit):
    """``python -m chipsim.calibration.fit --write`` would rewrite the file unchanged; the
    defaults of EnergySpec are its values (test above)."""
    assert full_fit.energy == EnergySpec()
    doc = fit_document(full_fit)
    assert yaml.safe_load(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)) == load_fit()


def test_fit_document_gives_the_depths_their_priors(full_fit):
    params = fit_document(full_fit)["parameters"]
    for name in TIMING:
        assert params[name]["prior"] == TIMING_PRIORS[name][0] and params[name]["prior_basis"]
        assert params[name]["unit"] == "digital cycles"


def test_fit_reuses_cached_runs(run_cache, full_fit):
    before = run_cache.engine_runs
    again = fit(cache=run_cache)
    assert run_cache.engine_runs == before
    assert again == full_fit


def test_cache_keys_on_the_whole_chip():
    cache = RunCache()
    chip = hermes()
    a = cache.run("resnet_layer", chip)
    assert cache.run("resnet_layer", dataclasses.replace(chip)) is a
    deeper = dataclasses.replace(chip, energy=dataclasses.replace(
        chip.energy, ldpu_pipeline_cycles=chip.energy.ldpu_pipeline_cycles + 1))
    assert cache.run("resnet_layer", deeper).latency_ps > a.latency_ps
    assert cache.engine_runs == 2


@pytest.mark.parametrize("use_cases", [[], ["all_cores", "all_cores"], ["resnet"]])
def test_fit_refuses_a_bad_set_of_use_cases(use_cases):
    with pytest.raises(ValueError, match="use cases to fit"):
        fit(use_cases, max_depth=1)


def test_a_use_case_set_without_the_gdpu_leaves_its_parameters_at_their_priors(run_cache):
    res = fit(["all_cores", "resnet_layer"], cache=run_cache)
    assert res.use_cases == ("all_cores", "resnet_layer") and len(res.rows) == 16
    gdpu = [n for n in (*PRIORS, *TIMING) if n.startswith("gdpu")]
    assert gdpu and set(gdpu) <= set(res.unconstrained)
    for name in gdpu:
        prior = (PRIORS | TIMING_PRIORS)[name][0]
        assert getattr(res.energy, name) == prior, name
