"""Energy = counts × table + static power × time, computed after the run."""

import dataclasses

import pytest

from chipsim.cost import COMPONENTS, MVM_COMPONENTS, ActionCounts, EnergyBreakdown, energy
from chipsim.spec import AdcKind, AttentionSpec, CoreSpec, EnergySpec, SpecError, SystemSpec


def _counts(**kw):
    base = {f.name: 1000 for f in dataclasses.fields(ActionCounts)}
    base.update(kw)
    return ActionCounts(**base)


@pytest.mark.parametrize("core", [CoreSpec(), CoreSpec(adc_bits=5, input_bits=6),
                                  CoreSpec(adc_kind=AdcKind.SAR), CoreSpec(adc_kind=AdcKind.RAMP)])
def test_every_component_is_one_parameter_times_one_count(core):
    spec, att, sysm = EnergySpec(), AttentionSpec(units=2), SystemSpec(chips=2)
    e = energy(_counts(), spec, core, att, sysm)
    for name, comp in COMPONENTS.items():
        param, table = comp.param_of(core), comp.table_of(spec, att, sysm)
        want = getattr(table, param) * comp.factor(core) * 1000
        assert want > 0
        assert getattr(e, f"{name}_pj") == pytest.approx(want)
        doubled = energy(_counts(**{comp.count: 2000}), spec, core, att, sysm)
        assert getattr(doubled, f"{name}_pj") == pytest.approx(2 * getattr(e, f"{name}_pj"))
        zeroed = dataclasses.replace(table, **{param: 0.0})
        tables = {"energy": spec, "attention": att, "system": sysm, comp.table: zeroed}
        zero = energy(_counts(), tables["energy"], core, tables["attention"], tables["system"])
        assert getattr(zero, f"{name}_pj") == 0.0
    assert e.total_pj == pytest.approx(sum(e.as_dict().values()))
    assert e.mvm_pj == pytest.approx(sum(getattr(e, f"{c}_pj") for c in MVM_COMPONENTS))


def test_units_of_static_power():
    # 1 mW for 1 µs is 1 nJ = 1000 pJ
    e = energy(ActionCounts(core_active_ps=1_000_000), EnergySpec(core_static_mw=1.0),
               CoreSpec())
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
