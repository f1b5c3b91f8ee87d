"""Energy = counts × table + static power × time, computed after the run."""

import dataclasses

import pytest

from chipsim.cost import COMPONENTS, MVM_COMPONENTS, ActionCounts, EnergyBreakdown, energy
from chipsim.spec import EnergySpec, SpecError


def _counts(**kw):
    base = {f.name: 1000 for f in dataclasses.fields(ActionCounts)}
    base.update(kw)
    return ActionCounts(**base)


def test_every_component_is_one_parameter_times_one_count():
    spec = EnergySpec()
    e = energy(_counts(), spec)
    for comp, (param, count, scale) in COMPONENTS.items():
        assert getattr(e, f"{comp}_pj") == pytest.approx(getattr(spec, param) * 1000 * scale)
        doubled = energy(_counts(**{count: 2000}), spec)
        assert getattr(doubled, f"{comp}_pj") == pytest.approx(2 * getattr(e, f"{comp}_pj"))
        zero = energy(_counts(), dataclasses.replace(spec, **{param: 0.0}))
        assert getattr(zero, f"{comp}_pj") == 0.0
    assert e.total_pj == pytest.approx(sum(e.as_dict().values()))
    assert e.mvm_pj == pytest.approx(sum(getattr(e, f"{c}_pj") for c in MVM_COMPONENTS))


def test_units_of_static_power():
    # 1 mW for 1 µs is 1 nJ = 1000 pJ
    e = energy(ActionCounts(core_active_ps=1_000_000), EnergySpec(core_static_mw=1.0))
    assert e.core_static_pj == pytest.approx(1000.0)


def test_breakdown_scaling_and_dict():
    e = EnergyBreakdown(pwm_pj=2.0, ldpu_pj=4.0)
    assert e.scaled(0.5).total_pj == 3.0
    assert e.as_dict(1e-6)["ldpu"] == pytest.approx(4e-6)


def test_energy_spec_is_validated():
    with pytest.raises(SpecError, match="ldpu_pj_per_value"):
        EnergySpec(ldpu_pj_per_value=-1.0)
    with pytest.raises(SpecError, match="gdpu_pipeline_cycles"):
        EnergySpec(gdpu_pipeline_cycles=1.5)
