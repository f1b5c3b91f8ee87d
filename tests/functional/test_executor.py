"""The functional executor against the float forward and an independent quantized forward."""

import numpy as np
import pytest

from chipsim.errors import ChipsimError
from chipsim.functional.executor import ChipInstance, noise_free
from chipsim.mapping import map_workload
from chipsim.spec import hermes
from chipsim.workload import (
    Add,
    BatchNorm,
    Conv2d,
    Flatten,
    Linear,
    MaxPool,
    ReLU,
    Workload,
    build,
    forward,
    init_weights,
)
from chipsim.workload.forward import im2col


def _tiny_net(seed=0):
    """conv0 (9×32), conv1 (288×8: two row blocks → an INT8 partial-sum chain), conv2,
    a residual add, a max-pool and a dense layer; batch-norms with random statistics."""
    nodes = [
        Conv2d("conv0", ("input",), 1, 32, 3, padding=1, bias=False),
        BatchNorm("bn0", ("conv0",), 32), ReLU("relu0", ("bn0",)),
        Conv2d("conv1", ("relu0",), 32, 8, 3, padding=1, bias=False),
        BatchNorm("bn1", ("conv1",), 8), ReLU("relu1", ("bn1",)),
        Conv2d("conv2", ("relu1",), 8, 8, 3, padding=1, bias=True), ReLU("relu2", ("conv2",)),
        Add("add", ("relu2", "relu1")), MaxPool("pool", ("add",), 2),
        Flatten("flatten", ("pool",)), Linear("fc", ("flatten",), 8 * 4 * 4, 5),
    ]
    rng = np.random.default_rng(seed)
    weights = init_weights(nodes, rng)
    for bn in ("bn0", "bn1"):
        c = weights[bn]["weight"].shape[0]
        weights[bn] = {"weight": rng.uniform(0.5, 1.5, c).astype(np.float32),
                       "bias": rng.normal(0, 0.1, c).astype(np.float32),
                       "running_mean": rng.normal(0, 0.1, c).astype(np.float32),
                       "running_var": rng.uniform(0.5, 2, c).astype(np.float32)}
    return Workload("tiny", (1, 8, 8), tuple(nodes), weights)


def _images(n=16, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, (n, 1, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("name", ["tiny", "resnet9", "lstm-ptb"])
def test_noise_and_quantization_off_reproduce_the_float_forward(name):
    if name == "tiny":
        net, x = _tiny_net(), _images()
    elif name == "resnet9":
        net, x = build("resnet9", rng=np.random.default_rng(0)), _images(2).repeat(3, 1)
        x = np.pad(x, ((0, 0), (0, 0), (12, 12), (12, 12)))
    else:
        net = build("lstm-ptb", rng=np.random.default_rng(0))
        x = np.random.default_rng(0).integers(0, 50, (3, 10))
    chip = noise_free(hermes())
    m = map_workload(net.lowered(), chip)
    inst = ChipInstance(net, m, chip, np.random.default_rng(0), np.random.default_rng(1),
                        quantize=False, calibration_inputs=x, t_s=86400.0)
    y = inst.run(x, np.random.default_rng(2))
    ref = forward(net, x)
    # float64 block sums vs the float32 reference: relative 1e-5 of the output scale
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def _f16(a):
    return np.asarray(a, np.float32).astype(np.float16).astype(np.float32)


def _q8(v, scale):
    """INT8 re-quantization as the LDPU does it (FP16 product, round, clip)."""
    return np.clip(np.rint(_f16(v * _f16(1.0 / scale))), -128, 127)


def _reference_quantized_forward(net, mapping, chip, x, scales, psum):
    """An independent NumPy model of the noise-free quantized chip (same scales)."""
    core = chip.core
    gmax, v, fs = 20.7, core.v_read_v, core.adc_full_scale_ua
    lin, lad = core.input_levels, core.adc_levels

    def layer(name, xin, s_in):
        w_full = net.matrix(name)
        aff_scale, aff_bias = net.affine(name)
        codes = np.clip(np.rint(xin / s_in), -lin, lin)
        out = np.zeros((len(xin), w_full.shape[1]), np.float32)
        blocks = mapping.blocks_of(name, 0)
        for c0, c1 in sorted({b.cols for b in blocks}):
            chain = [b for b in blocks if b.cols == (c0, c1)]
            acc = q = None
            for b in chain:
                w = w_full[b.rows[0]:b.rows[1], c0:c1].astype(np.float64)
                w_max = np.abs(w).max()
                u = codes[:, b.rows[0]:b.rows[1]] / lin
                g_pos, g_neg = np.maximum(w, 0) * gmax / w_max, np.maximum(-w, 0) * gmax / w_max
                # four phases, each line saturating at i_sat
                current = sum(sign * np.clip(v * ui @ gi, -core.i_sat_ua, core.i_sat_ua)
                              for sign, ui, gi in ((1, np.maximum(u, 0), g_pos),
                                                   (-1, np.maximum(-u, 0), g_pos),
                                                   (-1, np.maximum(u, 0), g_neg),
                                                   (1, np.maximum(-u, 0), g_neg)))
                counts = np.clip(np.rint(current / fs * lad), -lad, lad)
                unit = w_max * fs / (lad * v * gmax) * s_in * lin
                if len(chain) == 1:
                    val = _f16(_f16(_f16(counts) * _f16(unit * aff_scale[c0:c1]))
                               + _f16(aff_bias[c0:c1]))
                else:
                    val = _f16(_f16(counts) * _f16(unit))
                    if q is not None:
                        val = _f16(val + _f16(q * _f16(psum[name])))
                    q = _q8(val, psum[name])
                acc = val
            if len(chain) > 1:
                acc = _f16(_f16(acc * _f16(aff_scale[c0:c1])) + _f16(aff_bias[c0:c1]))
            out[:, c0:c1] = acc
        return out

    def deq(a, s):
        return (_q8(a, s) * s).astype(np.float32)

    xq = deq(x, scales["input"])
    a0 = np.maximum(layer("conv0", im2col(xq, (3, 3), padding=(1, 1)).reshape(-1, 9),
                          scales["input"]), 0)
    a0 = deq(a0, scales["conv0"]).reshape(len(x), 8, 8, 32).transpose(0, 3, 1, 2)
    a1 = np.maximum(layer("conv1", im2col(a0, (3, 3), padding=(1, 1)).reshape(-1, 288),
                          scales["conv0"]), 0)
    a1 = deq(a1, scales["conv1"]).reshape(len(x), 8, 8, 8).transpose(0, 3, 1, 2)
    a2 = np.maximum(layer("conv2", im2col(a1, (3, 3), padding=(1, 1)).reshape(-1, 72),
                          scales["conv1"]), 0)
    a2 = deq(a2, scales["conv2"]).reshape(len(x), 8, 8, 8).transpose(0, 3, 1, 2)
    s = deq(_f16(a2 + a1), scales["add"])
    pooled = s.reshape(len(x), 8, 4, 2, 4, 2).max(axis=(3, 5)).reshape(len(x), -1)
    return deq(layer("fc", pooled, scales["add"]), scales["fc"])


def test_quantization_only_matches_an_independent_quantized_forward():
    net, x = _tiny_net(), _images(32)
    chip = noise_free(hermes())
    m = map_workload(net.lowered(), chip)
    assert len(m.blocks_of("conv1")) == 2  # a partial-sum chain is exercised
    inst = ChipInstance(net, m, chip, np.random.default_rng(0), np.random.default_rng(1),
                        calibration_inputs=x)
    y = inst.run(x, np.random.default_rng(2))
    ref = _reference_quantized_forward(net, m, chip, x, inst._scales, inst._psum)
    lsb = inst._scales["fc"]
    # equal but for rare ADC rounding-boundary flips (float32 vs float64 currents), which
    # would move an output by a few LSB: at least 99 % of the outputs are identical
    assert np.mean(y == ref) >= 0.99
    assert np.abs(y - ref).max() <= 10 * lsb
    # and quantization is visible: not the float forward
    assert not np.allclose(y, forward(net, x), atol=0.1 * lsb)


def test_mvm_counts_per_core_follow_the_mapping():
    net = build("resnet9", rng=np.random.default_rng(0))
    x = np.zeros((2, 3, 32, 32), np.float32)
    chip = hermes()
    m = map_workload(net.lowered(), chip, replicate=True)
    inst = ChipInstance(net, m, noise_free(chip), np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    inst.run(x, np.random.default_rng(2))
    for layer in m.layers:
        per_replica = [layer.vectors // layer.replicas + (r < layer.vectors % layer.replicas)
                       for r in range(layer.replicas)]
        for b in m.blocks_of(layer.name):
            assert inst.mvms[b.core] == 2 * per_replica[b.replica], b.label
    assert inst.mvms.sum() > 0 and inst.calibration_mvms.sum() == 2 * 16 * m.cores_used


def test_seeded_and_instances_differ():
    net, x = _tiny_net(), _images(8)
    m = map_workload(net.lowered(), hermes())

    def run(prog_seed, read_seed=5):
        inst = ChipInstance(net, m, hermes(), np.random.default_rng(prog_seed),
                            np.random.default_rng(1), calibration_inputs=x)
        return inst.run(x, np.random.default_rng(read_seed))

    assert np.array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))
    assert not np.array_equal(run(0, 5), run(0, 6))  # read noise per MVM


def test_mapping_of_another_workload_is_rejected():
    net, x = _tiny_net(), _images(2)
    other = map_workload(build("lstm-ptb").lowered(), hermes())
    with pytest.raises(ChipsimError, match="mapping"):
        ChipInstance(net, other, hermes(), np.random.default_rng(0), np.random.default_rng(1),
                     calibration_inputs=x)


@pytest.mark.parametrize("bits", [4, 6, 10])
def test_pwm_inputs_of_other_than_8_bits_are_the_int8_value_on_their_grid(bits):
    """The core receives INT8 activations; a b-bit PWM modulator rounds them to its grid of
    ±(2^(b-1) - 1) codes, a full-scale value still a full-length pulse. Noise-free, the chip's
    outputs then follow the float forward to within the coarser input grid."""
    from chipsim.spec import override

    net, x = _tiny_net(), _images()
    base = noise_free(hermes())
    chip = override(base, "core.input_bits", bits)
    mapping = map_workload(net.lowered(), chip)
    inst = ChipInstance(net, mapping, chip, np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    int8 = ChipInstance(net, mapping, base, np.random.default_rng(0),
                        np.random.default_rng(1), calibration_inputs=x)
    s = inst._input_scale("conv1") * 127
    v = np.linspace(-1.2 * s, 1.2 * s, 301, dtype=np.float32)[None, :].repeat(2, 0)
    levels = chip.core.input_levels
    codes = inst._pwm_codes("conv1", v)
    assert np.abs(codes).max() == levels
    np.testing.assert_array_equal(codes, np.rint(int8._pwm_codes("conv1", v) * (levels / 127)))
    ref = forward(net, x)

    def rms(i):
        return np.sqrt(np.mean((i.run(x, np.random.default_rng(2)) - ref) ** 2)) / np.abs(
            ref).max()

    err, err8 = rms(inst), rms(int8)
    assert err < 0.2
    if bits < 8:
        assert err > err8  # fewer levels, a coarser product
    else:
        assert err < 1.2 * err8  # the INT8 wire bounds what more PWM bits can add


@pytest.mark.parametrize("name", ["tiny", "resnet9", "resnet32", "lstm-ptb"])
def test_scales_keep_only_the_outputs_they_read(name):
    """activation_scales keeps only the outputs its calibration reads (a convolution's
    output before its ReLU is dropped): the scales of all activations kept, and fewer kept."""
    from chipsim.functional.executor import _scaled_outputs, _scales_from, activation_scales
    from chipsim.workload.forward import activations

    if name == "tiny":
        net, x = _tiny_net(), _images()
    elif name == "lstm-ptb":
        net = build(name, vocab=20, embed=8, hidden=16)
        x = np.random.default_rng(0).integers(0, 20, (4, 6))
    else:
        net = build(name, rng=np.random.default_rng(0))
        x = np.random.default_rng(0).uniform(0, 1, (4, *net.input_shape)).astype(np.float32)
    products: dict = {}
    everything = activations(net, x, products)
    assert activation_scales(net, x) == _scales_from(net, everything, products)
    kept = activations(net, x, keep=_scaled_outputs(net))
    assert set(kept) < set(everything) or name == "lstm-ptb"
    last = net.nodes[-1].name
    alone = activations(net, x, keep=False)
    assert set(alone) == {last} and np.array_equal(alone[last], everything[last])
