"""The IR: validation of bad graphs, lowering, im2col order, BatchNorm folding."""

import numpy as np
import pytest

from chipsim.workload import (
    INPUT,
    LSTM,
    Add,
    BatchNorm,
    ChannelPad,
    Conv2d,
    Embedding,
    Flatten,
    Linear,
    MaxPool,
    ReLU,
    Workload,
    WorkloadError,
    activations,
    forward,
    im2col,
    init_weights,
    interleave_gates,
    lstm_cell,
    node_from_dict,
    node_to_dict,
)


def _net(nodes, input_shape=(3, 8, 8), seed=0, **weights):
    w = init_weights(nodes, np.random.default_rng(seed))
    w.update(weights)
    return Workload("t", input_shape, tuple(nodes), w)


def _conv(name="conv", src=INPUT, cin=3, cout=4, **kw):
    return Conv2d(name, src, cin, cout, 3, **kw)


@pytest.mark.parametrize("nodes, message", [
    ([_conv(), ReLU("relu", "nope")], r"layer 'relu' \(ReLU\): unknown input 'nope'"),
    ([_conv(src="relu"), ReLU("relu", "conv")], "layer '(conv|relu)' is in a cycle: "),
    ([ReLU("a", "b"), ReLU("b", INPUT)], "layer 'a' .*reads 'b', which comes later"),
    ([_conv(), _conv()], "duplicate layer name 'conv'"),
    ([ReLU(INPUT, INPUT)], "reserved"),
    ([], "at least one layer"),
    ([_conv(), _conv("conv2", "conv", cin=3)],
     r"layer 'conv2' \(Conv2d\): expects 3 input channels, its input 'conv' has 4"),
    ([_conv(), MaxPool("p", "conv", 2), Add("add", ("conv", "p"))],
     r"layer 'add' \(Add\): adds inputs of different shapes: 'conv' \(4, 6, 6\) and 'p'"),
    ([_conv(), Linear("fc", "conv", 144, 2)], r"layer 'fc' \(Linear\): expects 144 input"),
    ([_conv(), Flatten("f", "conv"), Linear("fc", "f", 100, 2)], "layer 'fc'"),
    ([Conv2d("big", INPUT, 3, 4, 9)], "layer 'big'.*does not fit the input height 8"),
    ([ReLU("r", INPUT), BatchNorm("bn", "r", 3)],
     "layer 'bn' .*must directly follow a Conv2d or Linear layer, not ReLU 'r'"),
    ([_conv(), BatchNorm("bn", "conv", 4), ReLU("r", "conv")],
     "layer 'bn' .*cannot be folded into 'conv': that layer also feeds 'r'"),
    ([Embedding("e", INPUT, 10, 4)], "layer 'e' .*must read the network input, a sequence"),
    ([LSTM("x", INPUT, 3, 4)], r"layer 'x' \(LSTM\): expects a sequence"),
])
def test_bad_graphs_are_rejected(nodes, message):
    with pytest.raises(WorkloadError, match=message):
        _net(nodes)


def test_lstm_lowered_names_must_not_clash():
    nodes = [Embedding("e", INPUT, 10, 4), LSTM("l", "e", 4, 3), Linear("l.input", "l", 3, 2)]
    with pytest.raises(WorkloadError, match=r"lowered layer name\(s\) \['l.input'\] clash"):
        _net(nodes, input_shape=(None,))


def test_bad_node_fields():
    with pytest.raises(WorkloadError, match="layer 'c': out_channels must be a positive int"):
        Conv2d("c", INPUT, 3, 0, 3)
    with pytest.raises(WorkloadError, match=r"layer 'a' \(Add\) takes two or more inputs"):
        Add("a", INPUT)
    with pytest.raises(WorkloadError, match="kernel_size must be an int or a pair"):
        Conv2d("c", INPUT, 3, 4, (1, 2, 3))
    with pytest.raises(WorkloadError, match="unknown operator 'Softmax'"):
        node_from_dict({"op": "Softmax", "name": "s", "inputs": ["input"]})


def test_bad_weights_name_the_layer():
    conv = _conv(bias=False)
    with pytest.raises(WorkloadError, match=r"layer 'conv' .*weight has shape \(4, 3, 2, 2\), "
                                            r"expected \(4, 3, 3, 3\)"):
        _net([conv], conv={"weight": np.zeros((4, 3, 2, 2))})
    with pytest.raises(WorkloadError, match="layer 'conv' .*missing weight"):
        _net([conv], conv={})
    with pytest.raises(WorkloadError, match="layer 'conv' .*unexpected bias"):
        _net([conv], conv={"weight": np.zeros((4, 3, 3, 3)), "bias": np.zeros(4)})
    with pytest.raises(WorkloadError, match="layer 'conv' .*finite"):
        _net([conv], conv={"weight": np.full((4, 3, 3, 3), np.nan)})
    with pytest.raises(WorkloadError, match="weights for unknown .*'ghost'"):
        _net([conv], ghost={"weight": np.zeros(1)})


def test_weights_are_read_only_float32_copies():
    source = np.ones((4, 3, 3, 3))
    net = _net([_conv(bias=False)], conv={"weight": source})
    stored = net.weights["conv"]["weight"]
    assert stored.dtype == np.float32 and not stored.flags.writeable
    source[:] = 5
    assert stored.max() == 1
    assert net.matrix("conv").flags.writeable  # a fresh array each call


def test_im2col_row_order_matches_matrix_and_direct_convolution():
    rng = np.random.default_rng(1)
    conv = Conv2d("conv", INPUT, 3, 5, (3, 2), stride=(2, 1), padding=(1, 0))
    net = _net([conv], input_shape=(3, 7, 6))
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    w, b = net.weights["conv"]["weight"], net.weights["conv"]["bias"]
    mat = net.matrix("conv")
    assert mat.shape == (3 * 2 * 3, 5)
    for i in range(3):
        for j in range(2):
            for c in range(3):
                np.testing.assert_array_equal(mat[(i * 2 + j) * 3 + c], w[:, c, i, j])
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    ho, wo = net.shape("conv")[1:]
    want = np.empty((2, 5, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, 2 * i:2 * i + 3, j:j + 2]
            want[:, :, i, j] = np.einsum("ncij,ocij->no", patch, w) + b
    np.testing.assert_allclose(forward(net, x), want, rtol=1e-5, atol=1e-5)
    cols = im2col(x, (3, 2), (2, 1), (1, 0))
    assert cols.shape == (2, ho * wo, 18) and net.lowered()[0].vectors == ho * wo


def test_batchnorm_folding_equals_unfolded_batchnorm():
    rng = np.random.default_rng(2)
    nodes = [_conv(), BatchNorm("bn", "conv", 4, eps=1e-3), ReLU("relu", "bn"),
             Flatten("flat", "relu"), Linear("fc", "flat", 144, 3, bias=False),
             BatchNorm("bn2", "fc", 3)]
    bn = {"weight": rng.uniform(0.5, 2, 4), "bias": rng.normal(size=4),
          "running_mean": rng.normal(size=4), "running_var": rng.uniform(0.1, 2, 4)}
    bn2 = {"weight": rng.uniform(0.5, 2, 3), "bias": rng.normal(size=3),
           "running_mean": rng.normal(size=3), "running_var": rng.uniform(0.1, 2, 3)}
    conv_w = {"weight": rng.normal(size=(4, 3, 3, 3)), "bias": rng.normal(size=4)}
    net = _net(nodes, bn=bn, bn2=bn2, conv=conv_w)
    x = rng.standard_normal((3, 3, 8, 8)).astype(np.float32)
    # unfolded: raw conv + bias, then (y - mean) / sqrt(var + eps) * γ + β
    raw = (im2col(x, (3, 3)) @ net.matrix("conv") + conv_w["bias"]).reshape(3, 6, 6, 4)
    y = (raw - bn["running_mean"]) / np.sqrt(bn["running_var"] + 1e-3) * bn["weight"] \
        + bn["bias"]
    y = np.maximum(y, 0).transpose(0, 3, 1, 2).reshape(3, -1) @ net.matrix("fc")
    y = (y - bn2["running_mean"]) / np.sqrt(bn2["running_var"] + 1e-5) * bn2["weight"] \
        + bn2["bias"]
    np.testing.assert_allclose(forward(net, x), y, rtol=1e-4, atol=1e-4)
    scale, bias = net.affine("fc")
    np.testing.assert_allclose(scale, bn2["weight"] / np.sqrt(bn2["running_var"] + 1e-5),
                               rtol=1e-6)


def test_affine_without_batchnorm_and_unknown_layer():
    net = _net([_conv(), ReLU("r", "conv")])
    scale, bias = net.affine("conv")
    np.testing.assert_array_equal(scale, 1)
    np.testing.assert_array_equal(bias, net.weights["conv"]["bias"])
    with pytest.raises(WorkloadError, match="no weight layer 'r'; lowered layers: conv"):
        net.matrix("r")


def test_residual_sources_and_channel_pad():
    nodes = [_conv(cout=4, padding=1), ReLU("r", "conv"),
             Conv2d("c1", "r", 4, 8, 3, stride=2, padding=1), ChannelPad("sc", "r", 4, 8, 2),
             Add("add", ("c1", "sc")), Flatten("f", "add"), Linear("fc", "f", 128, 2)]
    net = _net(nodes)
    layers = {layer.name: layer for layer in net.lowered()}
    assert layers["c1"].sources == ("conv",) and layers["c1"].residual_sources == ("conv",)
    assert layers["fc"].sources == ("c1",)
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8)).astype(np.float32)
    acts = activations(net, x)
    sc = acts["sc"]
    assert sc.shape == (2, 8, 4, 4)
    np.testing.assert_array_equal(sc[:, 2:6], acts["r"][:, :, ::2, ::2])
    np.testing.assert_array_equal(sc[:, :2], 0)
    np.testing.assert_array_equal(sc[:, 6:], 0)


def _sequence_net(steps, *tail):
    """Token ids → Linear → LSTM → ``tail`` over ``steps`` time steps (None: any length)."""
    nodes = [Embedding("e", INPUT, 20, 6), Linear("pre", "e", 6, 5), LSTM("l", "pre", 5, 4),
             *tail]
    return _net(nodes, input_shape=(steps,))


@pytest.mark.parametrize("steps", [None, 7])
def test_sequence_layers_count_one_time_step(steps):
    # an inference of the lowered layers is one step, whether the length is fixed or not
    net = _sequence_net(steps, Linear("fc", "l", 4, 3), ReLU("r", "fc"), Linear("out", "r", 3, 2))
    layers = net.lowered()
    assert [ly.name for ly in layers] == ["pre", "l.input", "l.hidden", "fc", "out"]
    assert all(ly.vectors == 1 and ly.per_step and not ly.whole_sequence for ly in layers)


def test_a_layer_on_the_flattened_sequence_reads_it_whole():
    net = _sequence_net(7, Flatten("f", "l"), Linear("fc", "f", 28, 3))
    layers = {ly.name: ly for ly in net.lowered()}
    assert layers["fc"].whole_sequence and not layers["fc"].per_step
    assert layers["fc"].vectors == 1 and layers["l.hidden"].per_step
    assert not any(ly.per_step or ly.whole_sequence
                   for ly in _net([_conv(), Flatten("f", "conv"),
                                   Linear("fc", "f", 144, 2)]).lowered())


def test_forward_input_checks():
    net = _net([_conv()])
    with pytest.raises(WorkloadError, match=r"input must have shape \(N, 3, 8, 8\)"):
        forward(net, np.zeros((1, 3, 8, 9)))
    lm = _net([Embedding("e", INPUT, 10, 4), LSTM("l", "e", 4, 3)], input_shape=(None,))
    assert forward(lm, np.zeros((2, 5), np.int32)).shape == (2, 5, 3)
    with pytest.raises(WorkloadError, match="integer token ids"):
        forward(lm, np.zeros((2, 5)))
    with pytest.raises(WorkloadError, match=r"layer 'e' .*token ids must be in \[0, 10\)"):
        forward(lm, np.full((1, 2), 10))


def test_interleave_and_lstm_cell():
    h = 3
    blocked = np.concatenate([np.full(h, g) for g in range(4)])  # torch i, f, g, o
    chip = interleave_gates(blocked, "IFAO")
    assert chip.tolist() == [0, 2, 1, 3] * h  # I=i, A=g, F=f, O=o per unit
    gates = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)  # I, A, F, O of one unit
    hid, cell = lstm_cell(gates, np.array([[0.5]], np.float32))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    want_c = sig(3.0) * 0.5 + sig(1.0) * np.tanh(2.0)
    np.testing.assert_allclose(cell, [[want_c]], rtol=1e-6)
    np.testing.assert_allclose(hid, [[sig(4.0) * np.tanh(want_c)]], rtol=1e-6)
    with pytest.raises(WorkloadError, match="permutation"):
        interleave_gates(blocked, "IFAX")


def test_node_dict_round_trip():
    for node in (_conv(stride=2, padding=(1, 0)), MaxPool("p", "c", 3, 2, 1),
                 BatchNorm("b", "c", 4, 1e-3), ChannelPad("s", "c", 4, 8, 2),
                 Add("a", ("x", "y", "z")), LSTM("l", "e", 3, 4, bias=False)):
        assert node_from_dict(node_to_dict(node)) == node
