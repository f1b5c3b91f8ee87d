"""Bad inputs to every public kernel: a ValueError naming the argument, never a Numba error.

One table lists each wrapper's valid call and the kind of each argument; the bad values are
derived from the kind, so every wrapper meets every applicable kind of mistake.
"""

import numpy as np
import pytest

from chipsim.errors import ChipsimError
from chipsim.kernels import (
    accumulate_int8,
    adc_convert,
    analog_readout,
    combine_phases,
    duty_split,
    duty_square,
    fp16_round,
    int_codes,
    ldpu_affine,
    pwm_quantize,
    requantize_int8,
)

F2 = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
I2 = np.array([[1, -2, 3], [0, 127, -127]], dtype=np.int32)

# wrapper: (valid arguments, {argument: kind})
CALLS = {
    fp16_round: ({"x": F2}, {"x": "real_any"}),
    pwm_quantize: ({"x": F2, "scale": 1.0, "levels": 127},
                   {"x": "float", "scale": "positive", "levels": "levels16"}),
    duty_split: ({"codes": I2.astype(np.int16), "levels": 127},
                 {"codes": "int", "levels": "levels16"}),
    int_codes: ({"x": F2, "step": 0.01, "levels": 127},
                {"x": "float", "step": "positive", "levels": "levels16"}),
    duty_square: ({"codes": I2.astype(np.int16), "levels": 127},
                  {"codes": "int", "levels": "levels16"}),
    analog_readout: ({"products": np.abs(np.stack([F2] * 4)), "noise_var": np.abs(F2),
                      "z": F2, "saturating": True, "one_phase": False, "v_read_v": 0.2,
                      "i_sat_ua": 100.0, "noise_scale": 0.04, "noise_offset": 0.01,
                      "gain": np.ones(3), "offset_lsb": np.zeros(3), "full_scale_ua": 50.0,
                      "levels": 127},
                     {"products": "float", "noise_var": "float_like_products",
                      "z": "float_like_products", "saturating": "flag", "one_phase": "flag",
                      "v_read_v": "positive", "i_sat_ua": "positive",
                      "noise_scale": "non_negative", "noise_offset": "non_negative",
                      "gain": "column_positive", "offset_lsb": "column",
                      "full_scale_ua": "positive", "levels": "levels32"}),
    combine_phases: ({"products": np.abs(np.stack([F2] * 4)), "one_phase": False,
                      "i_sat_ua": 100.0},
                     {"products": "float", "one_phase": "flag", "i_sat_ua": "positive"}),
    adc_convert: ({"i_ua": F2, "gain": np.ones(3), "offset_lsb": np.zeros(3),
                   "full_scale_ua": 50.0, "levels": 127, "z_out": F2, "noise_std_fs": 0.01},
                  {"i_ua": "float", "gain": "column_positive", "offset_lsb": "column",
                   "full_scale_ua": "positive", "levels": "levels32", "z_out": "float_like_i_ua",
                   "noise_std_fs": "non_negative"}),
    ldpu_affine: ({"counts": I2, "offset": np.zeros(3), "scale": np.ones(3),
                   "bias": np.zeros(3), "relu": True},
                  {"counts": "int", "offset": "column_fp16", "scale": "column_fp16",
                   "bias": "column_fp16", "relu": "flag"}),
    requantize_int8: ({"v": F2, "out_scale": 0.01}, {"v": "float", "out_scale": "inv_fp16"}),
    accumulate_int8: ({"acc": F2, "q": I2.astype(np.int8), "scale": 0.01},
                      {"acc": "float", "q": "int8_like_acc", "scale": "positive_fp16"}),
}


def _with(arr: np.ndarray, value) -> np.ndarray:
    out = arr.astype(np.float64).copy()
    out.flat[0] = value
    return out


def _dtype_cases(valid: np.ndarray) -> dict:
    return {"complex": valid.astype(np.complex64), "str": valid.astype(str),
            "object": valid.astype(object), "bool": valid.astype(bool)}


def _ndim_cases(valid: np.ndarray) -> dict:
    fewer = valid[0] if valid.ndim > 1 else valid[0:1].reshape(())
    return {"ndim+1": valid[..., None], "ndim-1": fewer}


def _bad_values(kind: str, valid):
    """{case: bad value} for an argument of ``kind`` whose valid value is ``valid``."""
    scalar = {"nan": float("nan"), "inf": float("inf"), "str": "1", "bool": True,
              "complex": 1 + 2j, "none": None, "array": np.ones(2)}
    if kind == "real_any":
        return {**_dtype_cases(valid), "ragged": [[1.0, 2.0], [3.0]]}
    if kind in ("float", "column", "column_positive", "column_fp16", "float_like_i_ua",
                "float_like_products"):
        cases = {**_dtype_cases(valid), **_ndim_cases(valid), "nan": _with(valid, np.nan),
                 "inf": _with(valid, -np.inf), "huge": _with(valid, 1e300)}  # inf in float32
        if kind.startswith("column"):
            cases["length"] = valid[:-1]
        if kind == "column_positive":
            cases["zero"] = _with(valid, 0.0)
            cases["negative"] = _with(valid, -1.0)
        if kind == "column_fp16":
            cases["fp16_overflow"] = _with(valid, 65520.0)
        if kind in ("float_like_i_ua", "float_like_products"):
            cases["shape"] = valid[:, :-1]
        if kind == "float" and valid.ndim == 3:
            cases["phases"] = valid[:3]
        return cases
    if kind in ("int", "int8_like_acc"):
        cases = {**_ndim_cases(valid), "float": valid.astype(np.float32),
                 "complex": valid.astype(np.complex64), "str": valid.astype(str),
                 "object": valid.astype(object), "bool": valid.astype(bool),
                 "range": np.full_like(valid, 200, dtype=np.int64) * 2**30}
        if kind == "int8_like_acc":
            cases["shape"] = valid[:, :-1]
            cases["range"] = np.full(valid.shape, 128)
        return cases
    if kind in ("positive", "positive_fp16", "inv_fp16"):
        cases = {**scalar, "zero": 0.0, "negative": -1.0}
        if kind == "positive_fp16":
            cases.update(fp16_overflow=1e5, fp16_underflow=1e-9)
        if kind == "inv_fp16":
            cases.update(fp16_overflow=1e-6, fp16_underflow=1e9)
        return cases
    if kind == "non_negative":
        return {**scalar, "negative": -0.1}
    if kind in ("levels16", "levels32"):
        top = 2**15 if kind == "levels16" else 2**31
        return {"zero": 0, "negative": -3, "float": 1.5, "bool": True, "str": "127",
                "too_big": top, "none": None}
    if kind == "flag":
        return {"int": 1, "str": "yes", "none": None, "array": np.array([True])}
    raise AssertionError(kind)


def _cases():
    for func, (valid, kinds) in CALLS.items():
        for arg, kind in kinds.items():
            for case, bad in _bad_values(kind, valid[arg]).items():
                yield pytest.param(func, valid, arg, bad, id=f"{func.__name__}-{arg}-{case}")


@pytest.mark.parametrize(("func", "valid"), [pytest.param(f, v, id=f.__name__)
                                             for f, (v, _) in CALLS.items()])
def test_valid_calls_pass(func, valid):
    func(**valid)


@pytest.mark.parametrize(("func", "valid", "arg", "bad"), list(_cases()))
def test_bad_input_names_the_argument(func, valid, arg, bad):
    with pytest.raises(ValueError, match=rf"^{arg}: ") as info:
        func(**{**valid, arg: bad})
    assert isinstance(info.value, ChipsimError)


def test_adc_noise_needs_its_draws():
    valid = dict(CALLS[adc_convert][0], z_out=None)
    with pytest.raises(ValueError, match=r"^z_out: .*required when noise_std_fs > 0"):
        adc_convert(**valid)
    adc_convert(**{**valid, "noise_std_fs": 0.0})  # no noise, no draws: fine


def test_codes_beyond_levels_are_rejected():
    with pytest.raises(ValueError, match=r"^codes: values must lie in \[-7, 7\]"):
        duty_split(np.array([[8]]), 7)


def test_readout_rejects_negative_variances():
    valid = CALLS[analog_readout][0]
    with pytest.raises(ValueError, match=r"^noise_var: variances must be >= 0"):
        analog_readout(**{**valid, "noise_var": -np.abs(F2)})


def test_scalars_may_be_numpy_scalars_or_0d_arrays():
    got = pwm_quantize(F2, np.float32(1.0), np.int64(127))
    np.testing.assert_array_equal(got, pwm_quantize(F2, np.array(1.0), np.array(127)))
    combine_phases(np.zeros((4, 1, 1)), np.array(True), 1)
