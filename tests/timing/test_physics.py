"""Physics directions: every output responds to the spec it depends on."""

import dataclasses

import pytest

from chipsim.calibration.usecases import run_use_case, simulate_use_case
from chipsim.spec import hermes, override


@pytest.mark.parametrize("field", ["core.phase_overhead_cycles", "core.pwm_cycles_per_lsb"])
def test_slower_adc_or_pwm_raises_mvm_latency(field):
    chip = hermes()
    value = getattr(chip.core, field.split(".")[1])
    slow = override(chip, field, 2 * value)
    for uc in ("all_cores", "resnet_layer"):
        assert simulate_use_case(uc, slow)["latency_ns"] > simulate_use_case(uc, chip)[
            "latency_ns"]
    assert simulate_use_case("all_cores", slow)["tops"] < simulate_use_case(
        "all_cores", chip)["tops"]


def test_narrower_links_slow_the_partial_sum_chain():
    chip = hermes()
    narrow = override(chip, "network.link_width_bits", 4)
    base, slow = run_use_case("resnet_layer", chip), run_use_case("resnet_layer", narrow)
    assert slow.latency_ps > base.latency_ps + 200 * 2500  # 224 values at half the rate
    assert slow.energy.core_static_pj > base.energy.core_static_pj


def test_more_cores_in_a_layer_raise_its_energy():
    chip = hermes()
    small = override(chip, "core.rows", 128)  # the same 2016 x 224 layer on 16 cores
    e8 = run_use_case("resnet_layer", chip)
    e16 = run_use_case("resnet_layer", small)
    assert e16.cores_used == 16 and e8.cores_used == 8
    assert e16.energy.total_pj > e8.energy.total_pj
    assert e16.counts.ldpu_values > e8.counts.ldpu_values


def test_digital_depths_and_clock_move_latency():
    chip = hermes()
    deeper = dataclasses.replace(chip, energy=dataclasses.replace(
        chip.energy, ldpu_pipeline_cycles=chip.energy.ldpu_pipeline_cycles + 10))
    assert simulate_use_case("resnet_layer", deeper)["latency_ns"] == pytest.approx(
        simulate_use_case("resnet_layer", chip)["latency_ns"] + 8 * 10 * 2.5)
    gdpu = dataclasses.replace(chip, energy=dataclasses.replace(
        chip.energy, gdpu_pipeline_cycles=chip.energy.gdpu_pipeline_cycles + 4))
    assert simulate_use_case("lstm_step", gdpu)["latency_ns"] == pytest.approx(
        simulate_use_case("lstm_step", chip)["latency_ns"] + 10)
    slow_digital = override(chip, "core.digital_clock_mhz", 200.0)
    assert simulate_use_case("resnet_layer", slow_digital)["latency_ns"] > 1.5 * \
        simulate_use_case("resnet_layer", chip)["latency_ns"] - 520


def test_energy_responds_to_every_fitted_parameter(use_case_runs):
    spec = hermes().energy
    for (uc, _mode), r in use_case_runs.items():
        if uc != "lstm_step":
            continue
        base = r.energy.total_pj
        for f in dataclasses.fields(spec):
            if f.name.endswith("_cycles") or f.name in ("offchip_pj_per_bit",
                                                          "adc_ramp_fj_per_step", "adc_sar_scale"):
                continue  # not fitted: no off-chip traffic, and the chip's ADC is a CCO
            more = r.energy_with(dataclasses.replace(spec, **{f.name: 2 * getattr(spec,
                                                                                  f.name)}))
            assert more.total_pj > base, f.name
