"""Factory, validation, shapes and the deterministic drift law of :mod:`chipsim.device`."""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chipsim.device import PCMDevice, make_device
from chipsim.spec import DeviceModel, DeviceSpec, SpecError

HERMES, PCM_LIKE = DeviceModel.HERMES, DeviceModel.PCM_LIKE


# --------------------------------------------------------------------------- factory
@pytest.mark.parametrize(("model", "devices", "expected"), [
    # elements, element g_max, polarity g_max, t0, t_read
    (HERMES, 2, (1, 20.7, 20.7, 300.0, 512e-9)),
    (HERMES, 1, (1, 10.35, 10.35, 200.0, 512e-9)),
    (PCM_LIKE, 1, (1, 25.0, 25.0, 20.0, 250e-9)),
    (PCM_LIKE, 2, (2, 12.5, 25.0, 20.0, 250e-9)),
])
def test_defaults_resolved_per_model_and_devices(model, devices, expected):
    dev = make_device(DeviceSpec(model=model), devices)
    assert isinstance(dev, PCMDevice)
    assert (dev.elements, dev.g_max_us, dev.polarity_g_max_us, dev.t0_s,
            dev.t_read_s) == expected
    assert dev.model is model and dev.devices_per_polarity == devices
    assert (dev.prog_noise_scale, dev.read_noise_scale, dev.drift_scale) == (1.0, 1.0, 1.0)


def test_overrides_are_used():
    spec = DeviceSpec(model=PCM_LIKE, g_max_us=40.0, t0_s=5.0, t_read_s=1e-6,
                      prog_noise_scale=0.5, read_noise_scale=2.0, drift_scale=0.0)
    dev = make_device(spec, 2)
    assert (dev.g_max_us, dev.polarity_g_max_us, dev.t0_s, dev.t_read_s) == (20.0, 40.0, 5.0, 1e-6)
    assert (dev.prog_noise_scale, dev.read_noise_scale, dev.drift_scale) == (0.5, 2.0, 0.0)
    assert make_device(spec, 1).g_max_us == 40.0
    hermes2 = make_device(DeviceSpec(model=HERMES, g_max_us=15.0), 2)
    assert (hermes2.g_max_us, hermes2.polarity_g_max_us, hermes2.elements) == (15.0, 15.0, 1)
    assert make_device(DeviceSpec(model=HERMES, g_max_us=20.7), 2).g_max_us == 20.7
    assert make_device(DeviceSpec(model=PCM_LIKE, g_max_us=500.0), 1).g_max_us == 500.0


@pytest.mark.parametrize(("devices", "g_max"), [(2, 20.71), (2, 30.0), (1, 10.36), (1, 20.7)])
def test_hermes_g_max_above_characterised_maximum_is_rejected(devices, g_max):
    with pytest.raises(SpecError) as err:
        make_device(DeviceSpec(model=HERMES, g_max_us=g_max), devices)
    assert err.value.path == "device.g_max_us"
    assert "allowed" in err.value.message
    assert str({1: 10.35, 2: 20.7}[devices]) in err.value.message


@pytest.mark.parametrize("devices", [0, 3, -1, True, 1.5])
@pytest.mark.parametrize("model", [HERMES, PCM_LIKE])
def test_devices_per_polarity_must_be_one_or_two(model, devices):
    with pytest.raises(SpecError) as err:
        make_device(DeviceSpec(model=model), devices)
    assert err.value.path == "core.devices_per_polarity"


def test_t0_below_t_read_is_rejected():
    with pytest.raises(SpecError) as err:
        make_device(DeviceSpec(t0_s=1e-7, t_read_s=1e-6), 2)
    assert err.value.path == "device.t0_s"


def test_direct_construction_is_validated():
    good = make_device(DeviceSpec(), 2)
    with pytest.raises(SpecError, match="elements"):
        dataclasses.replace(good, elements=2)
    with pytest.raises(SpecError, match="g_max_us"):
        dataclasses.replace(good, g_max_us=-1.0)
    with pytest.raises(SpecError, match="drift_scale"):
        dataclasses.replace(good, drift_scale=float("nan"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        good.g_max_us = 1.0  # type: ignore[misc]


# --------------------------------------------------------------------------- validation
BAD_G = [-0.1, float("nan"), float("inf"), [1.0, -1e-9], "abc"]


@pytest.mark.parametrize("bad", BAD_G)
def test_bad_targets_raise_value_error_naming_the_argument(dev, bad):
    rng = np.random.default_rng(0)
    calls = [lambda: dev.prog_sigma_us(bad), lambda: dev.program(bad, rng),
             lambda: dev.drift_stats(bad), lambda: dev.draw_nu(bad, rng)]
    for call in calls:
        with pytest.raises(ValueError, match="g_target"):
            call()
    calls = [lambda: dev.drift(bad, 0.05, 1.0), lambda: dev.read_q(bad),
             lambda: dev.read_sigma_rel(bad, 1.0), lambda: dev.read(bad, 0.05, 1.0, rng)]
    for call in calls:
        with pytest.raises(ValueError, match="g_prog"):
            call()


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf")])
def test_bad_nu_raises(dev, bad):
    with pytest.raises(ValueError, match="nu"):
        dev.drift(1.0, bad, 1.0)
    with pytest.raises(ValueError, match="nu"):
        dev.read(1.0, [0.05, bad], 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [-1.0, -1e-12, float("nan"), float("inf"), "soon", [1.0, 2.0]])
def test_bad_time_raises(dev, bad):
    with pytest.raises(ValueError, match="t_s"):
        dev.drift(1.0, 0.05, bad)
    with pytest.raises(ValueError, match="t_s"):
        dev.read_sigma_rel(1.0, bad)
    with pytest.raises(ValueError, match="t_s"):
        dev.read(1.0, 0.05, bad, np.random.default_rng(0))


def test_rng_must_be_a_generator(dev):
    with pytest.raises(TypeError, match="rng"):
        dev.program([1.0], 42)
    with pytest.raises(TypeError, match="rng"):
        dev.draw_nu([1.0], np.random.RandomState(0))


# --------------------------------------------------------------------------- shapes, dtypes
def test_scalars_and_shapes(dev):
    rng = np.random.default_rng(0)
    for out in [dev.prog_sigma_us(1.0), dev.program(1.0, rng), dev.draw_nu(1.0, rng),
                *dev.drift_stats(1.0), dev.drift(1.0, 0.05, 10.0), dev.read_q(1.0),
                dev.read_sigma_rel(1.0, 10.0), dev.read(1.0, 0.05, 10.0, rng)]:
        assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float64
    g = np.full((2, 3, 4), 1.0, dtype=np.float32)
    for out in [dev.prog_sigma_us(g), dev.program(g, rng), dev.draw_nu(g, rng),
                *dev.drift_stats(g), dev.drift(g, 0.05, 10.0), dev.read_q(g),
                dev.read_sigma_rel(g, 10.0), dev.read(g, 0.05, 10.0, rng),
                dev.program(np.empty((0, 3)), rng)]:
        assert out.dtype == np.float64 and out.shape in {(2, 3, 4), (0, 3)}
    # drift and read broadcast g_prog with nu
    assert dev.drift(np.ones((3, 1)), np.full(4, 0.05), 1.0).shape == (3, 4)
    assert dev.read(np.ones((3, 1)), np.full(4, 0.05), 1.0, rng).shape == (3, 4)


def test_randomness_only_from_the_generator(dev):
    g = np.linspace(0, dev.g_max_us, 50)
    # the legacy global generator must not be used: its state is the same before and after
    state = np.random.get_state()[1].copy()  # noqa: NPY002

    def run(seed):
        rng = np.random.default_rng(seed)
        g_prog = dev.program(g, rng)
        nu = dev.draw_nu(g, rng)
        return g_prog, nu, dev.read(g_prog, nu, 100.0, rng)

    a, b, c = run(5), run(5), run(6)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_inputs_are_not_modified(dev):
    g = np.linspace(0, dev.g_max_us, 20)
    keep = g.copy()
    rng = np.random.default_rng(0)
    dev.program(g, rng)
    dev.draw_nu(g, rng)
    dev.read(g, 0.05, 10.0, rng)
    np.testing.assert_array_equal(g, keep)


@settings(max_examples=40, deadline=None)
@given(g=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5),
                    elements=st.floats(0.0, 40.0)),
       t=st.floats(0.0, 1e9), seed=st.integers(0, 2**32 - 1),
       which=st.sampled_from([(HERMES, 1), (HERMES, 2), (PCM_LIKE, 1), (PCM_LIKE, 2)]))
def test_outputs_are_finite_and_non_negative(g, t, seed, which):
    dev = make_device(DeviceSpec(model=which[0]), which[1])
    rng = np.random.default_rng(seed)
    g_prog = dev.program(g, rng)
    nu = dev.draw_nu(g, rng)
    for out in [g_prog, nu, dev.drift(g_prog, nu, t), dev.read(g_prog, nu, t, rng)]:
        assert out.shape == g.shape and np.all(np.isfinite(out)) and np.all(out >= 0)


# --------------------------------------------------------------------------- drift law
def test_drift_law_exact(dev):
    rng = np.random.default_rng(11)
    g = rng.uniform(0, dev.g_max_us, 1000)
    nu = dev.draw_nu(g, rng)
    t0 = dev.t0_s
    for t in [0.5, 60.0, 3600.0, 86400.0 * 365]:
        np.testing.assert_array_equal(dev.drift(g, nu, t), g * ((t + t0) / t0) ** (-nu))
    # hand-computed point: 10 µS, ν = 0.05, t = 9 t0 -> 10 · 10^-0.05
    assert float(dev.drift(10.0, 0.05, 9 * t0)) == pytest.approx(10.0 * 10 ** -0.05, rel=1e-14)


def test_drift_at_zero_time_is_identity(dev):
    g = np.linspace(0, dev.g_max_us, 101)
    np.testing.assert_array_equal(dev.drift(g, np.full_like(g, 0.3), 0.0), g)


def test_drift_is_monotone_decreasing(dev):
    times = [0.0, 1e-3, 1.0, 60.0, 3600.0, 86400.0, 3.15e7, 3.15e9]
    g = np.array([0.1, 1.0, 5.0])
    out = np.array([dev.drift(g, 0.05, t) for t in times])
    assert np.all(np.diff(out, axis=0) < 0)
    flat = np.array([dev.drift(g, 0.0, t) for t in times])  # ν = 0: no drift
    np.testing.assert_array_equal(flat, np.broadcast_to(g, flat.shape))
    assert math.isclose(float(dev.drift(1.0, 0.0, 1e6)), 1.0)
