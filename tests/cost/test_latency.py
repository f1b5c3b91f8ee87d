"""Per-action latencies follow the spec: clocks, MVM cycles, LDPU and link rates."""

import dataclasses

import pytest

from chipsim.cost import Latencies, align_up, period_ps
from chipsim.cost.adc import mvm_cycles
from chipsim.spec import ReadMode, hermes, override


def test_periods_and_alignment():
    assert period_ps(1000.0) == 1000 and period_ps(400.0) == 2500
    assert align_up(133_000, 2500) == 135_000 and align_up(0, 2500) == 0
    with pytest.raises(ValueError):
        period_ps(0.0)


@pytest.mark.parametrize(("mode", "ps"), [("1ph", 133_000), ("4ph", 520_000)])
def test_mvm_latency_comes_from_core_cycles(mode, ps):
    chip = override(hermes(), "core.read_mode", mode)
    assert Latencies.of(chip).mvm_ps == ps == mvm_cycles(chip.core) * 1000


@pytest.mark.parametrize("field", ["phase_overhead_cycles", "pwm_cycles_per_lsb",
                                   "mvm_setup_cycles"])
def test_slower_phase_means_longer_mvm(field):
    chip = hermes()
    slow = override(chip, f"core.{field}", 2 * getattr(chip.core, field) + 1)
    assert Latencies.of(slow).mvm_ps > Latencies.of(chip).mvm_ps


def test_faster_mvm_clock_shortens_mvm_down_to_the_adc_time():
    chip = hermes()
    fast = dataclasses.replace(chip, core=dataclasses.replace(chip.core, mvm_clock_mhz=2000.0,
                                                              read_mode=ReadMode.FOUR_PHASE))
    # the PWM window halves (64 ns) but the CCO ADC still needs 2^8 × 300 ps = 76.8 ns,
    # 154 cycles of 500 ps, per phase: 4 × (154 + 1) + 4 cycles
    assert Latencies.of(fast).mvm_ps == 624 * 500 < Latencies.of(chip).mvm_ps
    sar = override(fast, "core.adc_kind", "sar")  # 64 + 9 ns per phase at a 1-GHz SAR clock
    assert Latencies.of(sar).mvm_ps == (4 * (128 + 18 + 1) + 4) * 500


def test_ldpu_and_link_rates():
    lat = Latencies.of(hermes())
    assert lat.ldpu_span_ps(224) == 223 * 2500 and lat.ldpu_span_ps(1) == 0
    assert lat.value_ps(3.2) == 2500 and lat.value_ps(1.6) == 5000
    assert lat.hop_ps(2) == 5000
    wide = Latencies.of(override(hermes(), "core.ldpu_values_per_cycle", 2))
    assert wide.ldpu_span_ps(224) == 111 * 2500
    assert lat.gdpu_out_ps == 4 * lat.gdpu_in_ps == 10_000
