"""`chipsim mvm-error`: the chip paper's protocol and the physics directions it must show."""

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from chipsim.cli import main
from chipsim.functional.mvm_error import effective_bits


def _run(capsys, *args):
    assert main(["mvm-error", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _err(capsys, *args):
    return _run(capsys, *args)["relative_error_l2"]


def test_output_fields_and_protocol(capsys):
    out = _run(capsys)
    for key in ("relative_error_l2", "error_std_percent", "effective_weight_bits"):
        assert isinstance(out[key], float) and out[key] > 0
    assert out["vectors"] == 2048 and out["read_mode"] == "4ph"
    assert out["devices_per_polarity"] == 2 and out["device_model"] == "hermes"
    assert 0.01 < out["relative_error_l2"] < 0.5
    assert 1 <= out["effective_weight_bits"] <= 8
    # a GDC run pays the reference read after programming and the read at time t
    assert out["calibration_mvms"] == 32


def test_same_seed_same_result_different_seed_different(capsys):
    a, b, c = (_run(capsys, "--seed", s) for s in ("3", "3", "4"))
    assert a == b
    assert a["relative_error_l2"] != c["relative_error_l2"]


def test_same_result_whatever_the_blas_threads(capsys):
    """BLAS's float sums may depend on its thread count (OpenBLAS's AVX2 kernels: the last
    bits of the error did); the measurement runs BLAS on one thread."""
    with threadpool_limits(2):
        two = _run(capsys, "--vectors", "512")
    with threadpool_limits(1):
        assert _run(capsys, "--vectors", "512") == two


def test_four_phase_beats_one_phase(capsys):
    assert _err(capsys, "--mode", "4ph") < _err(capsys, "--mode", "1ph")


@pytest.mark.parametrize("model", ["hermes", "hermes_pcm_like"])
def test_tdp_beats_odp(capsys, model):
    assert _err(capsys, "--chip", model, "--devices", "2") < _err(
        capsys, "--chip", model, "--devices", "1")


def test_error_grows_from_a_minute_to_a_day(capsys):
    assert _err(capsys, "--t-seconds", "86400") > _err(capsys, "--t-seconds", "60")


def test_gdc_reduces_the_error_after_a_day(capsys):
    assert _err(capsys, "--t-seconds", "86400") < _err(capsys, "--t-seconds", "86400",
                                                         "--no-gdc")


def test_fewer_adc_bits_larger_error(capsys):
    errs = [_err(capsys, "--adc-bits", str(b)) for b in (8, 6, 4)]
    assert errs[0] < errs[1] < errs[2]


def test_bad_options_give_one_line_errors(capsys):
    assert main(["mvm-error", "--adc-bits", "0"]) == 2
    err = capsys.readouterr().err
    assert "core.adc_bits" in err and len(err.strip().splitlines()) == 1
    assert main(["mvm-error", "--t-seconds", "-5"]) == 2
    assert "t_s" in capsys.readouterr().err
    assert main(["mvm-error", "--chip", "nope.yaml"]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_effective_bits_of_a_quantized_matrix():
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, size=(256, 64))
    u = rng.uniform(-1, 1, size=(128, 256))
    levels = 2 ** (4 - 1) - 1
    w_max = np.abs(w).max()
    wq = np.rint(w / w_max * levels) * (w_max / levels)
    rel = np.linalg.norm(u @ wq - u @ w) / np.linalg.norm(u @ w)
    assert effective_bits(u, w, rel) == pytest.approx(4.0, abs=1e-6)
    assert effective_bits(u, w, 10.0) == 1.0
