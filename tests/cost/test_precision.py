"""Precision has a price: ADC and input bits in latency, energy and area (chipsim.cost.adc).

The cost laws are tested on their own and through :func:`chipsim.simulate` (timing only,
ResNet-9 from the zoo, one inference), so a sweep over bits sees them.
"""

import dataclasses
import math

import pytest

from chipsim import RunConfig, simulate
from chipsim.cost import Latencies, chip_area, energy
from chipsim.cost.adc import (
    adc_area_um2,
    adc_energy_factor,
    integration_ns,
    mvm_cycles,
    phase_cycles,
    pwm_area_um2,
    sar_conversion_pj,
)
from chipsim.cost.energy import ActionCounts
from chipsim.spec import AdcKind, AreaSpec, CoreSpec, EnergySpec, hermes, override
from chipsim.workload.zoo import resnet9

BITS = (4, 6, 8, 10)


def _per_conversion_pj(core: CoreSpec, spec: EnergySpec | None = None) -> float:
    spec = spec or EnergySpec()
    return energy(ActionCounts(adc_conversions=1), spec, core).adc_pj


@pytest.mark.parametrize("kind", list(AdcKind))
def test_adc_energy_per_conversion_strictly_increases_with_bits(kind):
    e = [_per_conversion_pj(CoreSpec(adc_kind=kind, adc_bits=b)) for b in range(2, 15)]
    assert all(b > a for a, b in zip(e, e[1:], strict=False))


@pytest.mark.parametrize("kind", [AdcKind.CCO, AdcKind.RAMP])
def test_counting_adc_energy_doubles_per_bit(kind):
    # Walden scaling: 2^b steps of a fixed energy each
    spec = EnergySpec()
    for b in BITS:
        core = CoreSpec(adc_kind=kind, adc_bits=b)
        step = spec.adc_cco_fj_per_step if kind is AdcKind.CCO else spec.adc_ramp_fj_per_step
        assert _per_conversion_pj(core) == pytest.approx(step * 2**b * 1e-3)
        assert _per_conversion_pj(dataclasses.replace(core, adc_bits=b + 1)) == pytest.approx(
            2 * _per_conversion_pj(core))


def test_sar_energy_follows_the_survey_law():
    # E = ½ 10^(-(FOM_S - SNDR)/10) J; at a sample rate whose FOM_S sits on its 180.14-dB
    # ceiling, one bit more is 6.02 dB: × 10^0.602 ≈ 4
    core = CoreSpec(adc_kind=AdcKind.SAR, adc_bits=8)
    fs = 1e9 / 9
    assert 302.74 - 6.46 * math.log(fs) > 180.14
    want = 0.5 * 10 ** (-(180.14 - (6.02 * 8 + 1.76)) / 10) * 1e12
    assert adc_energy_factor(core) == pytest.approx(want) == pytest.approx(
        sar_conversion_pj(8, fs))
    e9 = sar_conversion_pj(9, fs)
    assert e9 / want == pytest.approx(10 ** 0.602)
    # a fast SAR pays for speed: FOM_S falls with ln f
    assert sar_conversion_pj(8, 1e10) > sar_conversion_pj(8, 1e8)
    scaled = dataclasses.replace(EnergySpec(), adc_sar_scale=2.0)
    assert _per_conversion_pj(core, scaled) == pytest.approx(2 * want)


def test_adc_time_laws():
    # CCO: 2^b · 300 ps of integration, hidden in the 128-ns window up to 8 bits
    for b in (4, 6, 8):
        assert phase_cycles(CoreSpec(adc_bits=b)) == (128, 0)
    assert phase_cycles(CoreSpec(adc_bits=9)) == (154, 0)  # 153.6 ns
    assert phase_cycles(CoreSpec(adc_bits=10)) == (308, 0)  # 307.2 ns
    # the pulses are stretched to the ADC's time: a 4-bit input window of 8 ns becomes 77 ns
    assert integration_ns(CoreSpec(input_bits=4)) == 77.0
    # SAR: b + 1 cycles after the window; ramp: 2^b counter cycles (1-GHz ADC clock)
    assert phase_cycles(CoreSpec(adc_kind=AdcKind.SAR, adc_bits=6)) == (128, 7)
    assert phase_cycles(CoreSpec(adc_kind=AdcKind.RAMP, adc_bits=6)) == (128, 64)
    fast = CoreSpec(adc_kind=AdcKind.RAMP, adc_bits=6, adc_clock_mhz=4000.0)
    assert phase_cycles(fast) == (128, 16)
    assert mvm_cycles(CoreSpec(adc_kind=AdcKind.SAR, adc_bits=6)) == 4 * (128 + 7 + 1) + 4


def test_latency_never_falls_with_more_adc_bits():
    for kind in AdcKind:
        lat = [Latencies.of(override(override(hermes(), "core.adc_kind", kind.value),
                                     "core.adc_bits", b)).mvm_ps for b in range(2, 15)]
        assert lat == sorted(lat)


def test_input_bits_scale_window_energy_and_latency():
    lat, pwm, arr = [], [], []
    for ib in (4, 6, 8):
        core = CoreSpec(input_bits=ib, adc_kind=AdcKind.SAR)  # no CCO stretch: pure window
        e = energy(ActionCounts(pwm_row_phases=1, array_cell_phases=1), EnergySpec(), core)
        lat.append(mvm_cycles(core))
        pwm.append(e.pwm_pj)
        arr.append(e.array_pj)
    assert lat[0] < lat[1] < lat[2] and pwm[0] < pwm[1] < pwm[2] and arr[0] < arr[1] < arr[2]
    # energy is proportional to the applied window: 8, 32, 128 ns
    assert pwm[2] / pwm[0] == pytest.approx(16.0) and arr[1] / arr[0] == pytest.approx(4.0)


def test_areas_of_the_reference_chip_are_the_published_ones():
    a = chip_area(hermes())
    assert a.core.mvm_mm2 == pytest.approx(0.635, rel=1e-4)  # [LG] EDT I
    assert a.core.total_mm2 == pytest.approx(1.2 * 1.16, rel=1e-4)
    assert a.total_mm2 == pytest.approx(144.0, rel=1e-4)
    assert a.mvm_mm2 == pytest.approx(64 * 0.635, rel=1e-4)


def test_area_defaults_are_the_derivation():
    from chipsim.calibration.area import derive

    d = derive()
    spec = AreaSpec()
    for name in ("cell_um2", "core_rest_mm2", "periphery_mm2"):
        assert getattr(spec, name) == float(f"{getattr(d, name):.5g}"), name


@pytest.mark.parametrize("kind", list(AdcKind))
def test_adc_and_pwm_area_grow_with_bits(kind):
    a = AreaSpec()
    areas = [adc_area_um2(CoreSpec(adc_kind=kind, adc_bits=b), a) for b in range(2, 15)]
    assert all(y > x for x, y in zip(areas, areas[1:], strict=False))
    pwm = [pwm_area_um2(CoreSpec(input_bits=b), a) for b in range(2, 13)]
    assert all(y > x for x, y in zip(pwm, pwm[1:], strict=False))
    mvm = [chip_area(override(override(hermes(), "core.adc_kind", kind.value),
                              "core.adc_bits", b)).core.mvm_mm2 for b in BITS]
    assert mvm == sorted(mvm) and len(set(mvm)) == len(mvm)


def test_sar_area_is_zigzags_law_scaled_to_the_node():
    a = AreaSpec(technology_nm=28.0)
    assert adc_area_um2(CoreSpec(adc_kind=AdcKind.SAR, adc_bits=8), a) == pytest.approx(
        10 ** (-0.0369 * 8 + 1.206) * 256)
    assert adc_area_um2(CoreSpec(adc_kind=AdcKind.SAR, adc_bits=8), AreaSpec()) == (
        pytest.approx(10 ** (-0.0369 * 8 + 1.206) * 256 / 4))


# ------------------------------------------------------------------ through simulate
CONFIG = RunConfig(accuracy=False, inferences=1, transport="offchip", replicate=False)


@pytest.fixture(scope="module")
def reports():
    wl = resnet9()
    out = {}
    for b in BITS:
        out[("adc", b)] = simulate(wl, override(hermes(), "core.adc_bits", b), config=CONFIG)
    for ib in (4, 8):
        out[("input", ib)] = simulate(wl, override(hermes(), "core.input_bits", ib),
                                      config=CONFIG)
    return out


def test_adc_bits_change_energy_per_inference_by_the_law(reports):
    rs = [reports[("adc", b)] for b in BITS]
    e = [r.timing.energy_breakdown for r in rs]
    adc = [x["adc"] for x in e]
    assert all(b > a for a, b in zip(adc, adc[1:], strict=False))
    # 8 → 4 and 8 → 6 bits: the same conversions at 2^-4 and 2^-2 the energy each (the CCO
    # hides 4..8 bits in the 128-ns window, so nothing else moves)
    assert adc[0] / adc[2] == pytest.approx(2**-4) and adc[1] / adc[2] == pytest.approx(2**-2)
    for x in (e[0], e[1]):
        assert x["pwm"] == e[2]["pwm"] and x["array"] == e[2]["array"]
    total = [r.summary["energy_uj_per_inference"] for r in rs]
    tpw = [r.summary["tops_per_w"] for r in rs]
    assert total[0] < total[1] < total[2] < total[3] and tpw[0] > tpw[1] > tpw[2] > tpw[3]
    assert total[2] - total[0] == pytest.approx(adc[2] - adc[0])
    # 10 bits: 307.2 ns of counting per phase, longer than the window: slower, and its static
    # and window energies grow too
    lat = [r.summary["latency_ns"] for r in rs]
    assert lat[0] == lat[1] == lat[2] < lat[3]
    assert e[3]["pwm"] > e[2]["pwm"]


def test_input_bits_change_window_energy_and_latency(reports):
    r4, r8 = reports[("input", 4)], reports[("input", 8)]
    e4, e8 = (r.timing.energy_breakdown for r in (r4, r8))
    assert e4["pwm"] < e8["pwm"] and e4["array"] < e8["array"]
    # per MVM: the applied window is 77 ns (stretched for the 8-bit CCO) vs 128 ns
    assert e4["pwm"] / e8["pwm"] == pytest.approx(77 / 128)
    assert r4.summary["latency_ns"] < r8.summary["latency_ns"]


def test_reports_carry_area_and_tops_per_mm2(reports):
    s = reports[("adc", 8)].summary
    assert s["area_mm2"] == pytest.approx(144.0, rel=1e-4)
    assert s["mvm_area_mm2"] == pytest.approx(64 * 0.635, rel=1e-4)
    assert s["tops_per_mm2"] == pytest.approx(s["tops"] / s["mvm_area_mm2"])
    assert s["tops_per_mm2_chip"] == pytest.approx(s["tops"] / s["area_mm2"])
    assert reports[("adc", 10)].summary["area_mm2"] > s["area_mm2"]

