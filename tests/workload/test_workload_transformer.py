"""The Transformer operators of the IR: shapes, validation, lowering, float numerics against
PyTorch's functional implementations, and weights files."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from chipsim.workload import (
    GELU,
    ZOO,
    Add,
    Embedding,
    LayerNorm,
    Linear,
    PositionEmbedding,
    ReLU,
    SelfAttention,
    Workload,
    WorkloadError,
    build,
    forward,
    gelu,
    init_weights,
    layer_norm,
    load_weights,
    node_from_dict,
    node_to_dict,
    save_weights,
    self_attention,
)

TOL = dict(rtol=1e-5, atol=1e-5)


def _encoder(norm_first: bool, activation: str = "gelu", causal: bool = False, d: int = 16,
             heads: int = 4, ff: int = 32, t: int = 8, vocab: int = 20, seed: int = 0):
    """Embedding, position table, two encoder layers written as IR nodes, a head."""
    nodes = [Embedding("embed", ("input",), vocab, d), PositionEmbedding("pos", ("embed",), t, d)]
    x = "pos"
    for i in range(2):
        q = f"l{i}"

        def norm(k, src, q=q):
            nodes.append(LayerNorm(f"{q}.norm{k}", (src,), d))
            return nodes[-1].name

        def attention(src, q=q):
            nodes.extend([Linear(f"{q}.in_proj", (src,), d, 3 * d),
                          SelfAttention(f"{q}.attn", (f"{q}.in_proj",), d, heads, causal),
                          Linear(f"{q}.out_proj", (f"{q}.attn",), d, d)])
            return f"{q}.out_proj"

        def feed_forward(src, q=q):
            act = GELU(f"{q}.act", (f"{q}.linear1",)) if activation == "gelu" else \
                ReLU(f"{q}.act", (f"{q}.linear1",))
            nodes.extend([Linear(f"{q}.linear1", (src,), d, ff), act,
                          Linear(f"{q}.linear2", (f"{q}.act",), ff, d)])
            return f"{q}.linear2"

        def residual(k, a, b, q=q):
            nodes.append(Add(f"{q}.add{k}", (a, b)))
            return nodes[-1].name

        if norm_first:
            x = residual(1, x, attention(norm(1, x)))
            x = residual(2, x, feed_forward(norm(2, x)))
        else:
            x = norm(1, residual(1, x, attention(x)))
            x = norm(2, residual(2, x, feed_forward(x)))
    nodes.append(Linear("head", (x,), d, vocab))
    rng = np.random.default_rng(seed)
    weights = init_weights(nodes, rng)
    for node in nodes:
        if isinstance(node, LayerNorm):
            weights[node.name] = {"weight": rng.uniform(0.5, 1.5, d).astype(np.float32),
                                  "bias": rng.normal(0, 0.1, d).astype(np.float32)}
    return Workload("encoder", (t,), tuple(nodes), weights)


def test_node_shapes_and_parameters():
    assert LayerNorm("n", ("x",), 16).out_shape(((8, 16),)) == (8, 16)
    assert LayerNorm("n", ("x",), 16).param_shapes() == {"weight": (16,), "bias": (16,)}
    assert GELU("g", ("x",)).out_shape(((8, 5),)) == (8, 5)
    assert GELU("g", ("x",)).param_shapes() == {}
    att = SelfAttention("a", ("x",), 32, 4, causal=True)
    assert att.out_shape(((8, 96),)) == (8, 32) and att.param_shapes() == {}
    pos = PositionEmbedding("p", ("x",), 16, 32)
    assert pos.out_shape(((8, 32),)) == (8, 32)
    assert pos.param_shapes() == {"weight": (16, 32)}


@pytest.mark.parametrize("make, match", [
    (lambda: LayerNorm("n", ("x",), 16, eps=-1.0), "eps must be a finite number"),
    (lambda: LayerNorm("n", ("x",), 0), "features must be a positive int"),
    (lambda: GELU("g", ("x",), "fast"), "approximate must be one of none, tanh"),
    (lambda: SelfAttention("a", ("x",), 30, 4), "d_model 30 is not a multiple of heads 4"),
    (lambda: SelfAttention("a", ("x",), 32, 4, causal="yes"), "causal must be true or false"),
    (lambda: PositionEmbedding("p", ("x",), 0, 4), "max_len must be a positive int"),
])
def test_node_validation(make, match):
    with pytest.raises(WorkloadError, match=match):
        make()


@pytest.mark.parametrize("node, shape, match", [
    (LayerNorm("n", ("x",), 16), (8, 12), r"normalizes 16 features, its input 'x' has shape "
                                          r"\(8, 12\)"),
    (SelfAttention("a", ("x",), 32, 4), (8, 64), r"expects a sequence \(T, 96\)"),
    (SelfAttention("a", ("x",), 32, 4), (None, 96), "needs a sequence of fixed length"),
    (PositionEmbedding("p", ("x",), 8, 4), (9, 4), r"T ≤ 8, its input 'x' has shape \(9, 4\)"),
])
def test_shape_errors_name_the_layer(node, shape, match):
    with pytest.raises(WorkloadError, match=match) as info:
        node.out_shape((shape,))
    assert str(info.value).startswith(f"layer '{node.name}' ({node.kind})")


def test_nodes_round_trip_through_dicts():
    for node in (LayerNorm("n", ("x",), 16, 1e-6), GELU("g", ("x",), "tanh"),
                 SelfAttention("a", ("x",), 32, 4, True), PositionEmbedding("p", ("x",), 8, 4)):
        assert node_from_dict(node_to_dict(node)) == node


def test_layer_norm_and_gelu_match_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, (3, 8, 16)).astype(np.float32)
    w, b = rng.uniform(0.5, 1.5, 16).astype(np.float32), rng.normal(0, 1, 16).astype(np.float32)
    want = F.layer_norm(torch.from_numpy(x), (16,), torch.from_numpy(w), torch.from_numpy(b),
                        1e-5).numpy()
    np.testing.assert_allclose(layer_norm(x, w, b, 1e-5), want, **TOL)
    for approximate in ("none", "tanh"):
        want = F.gelu(torch.from_numpy(x), approximate=approximate).numpy()
        np.testing.assert_allclose(gelu(x, approximate), want, **TOL)


@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_matches_torch(causal):
    rng = np.random.default_rng(1)
    n, t, d, heads = 2, 8, 16, 4
    qkv = rng.normal(0, 1, (n, t, 3 * d)).astype(np.float32)
    q, k, v = (torch.from_numpy(a).reshape(n, t, heads, d // heads).transpose(1, 2)
               for a in np.split(qkv, 3, axis=-1))
    want = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    want = want.transpose(1, 2).reshape(n, t, d).numpy()
    np.testing.assert_allclose(self_attention(qkv, heads, causal), want, **TOL)


@pytest.mark.parametrize("call, match", [
    (lambda: layer_norm(np.zeros((2, 4)), np.ones(3), np.zeros(4), 1e-5), r"shape \(4,\)"),
    (lambda: gelu(np.zeros(3), "fast"), "approximate must be one of none, tanh"),
    (lambda: self_attention(np.zeros((1, 2, 12)), 3), "d a multiple of heads 3"),
])
def test_numerics_refuse_wrong_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rounding_applies_to_every_operation():
    """A rounding to a coarse grid changes the result by about the grid, no more."""
    rng = np.random.default_rng(2)
    qkv = rng.normal(0, 1, (1, 8, 48)).astype(np.float32)
    grid = 2.0**-6

    def coarse(a):
        return (np.round(a / grid) * grid).astype(np.float32)

    exact, rounded = self_attention(qkv, 4), self_attention(qkv, 4, rounding=coarse)
    assert 0 < np.abs(rounded - exact).max() < 8 * grid
    assert np.all(np.round(rounded / grid) * grid == rounded)  # the result is on the grid


def test_lowering_names_the_digital_operators():
    post = {ly.name: ly for ly in _encoder(norm_first=False, causal=True).lowered()}
    assert [ly.vectors for ly in post.values()] == [8] * 9  # one vector per token
    assert post["l0.in_proj"].digital == ("PositionEmbedding",)
    assert post["l0.out_proj"].digital == ("SelfAttention",)
    assert post["l0.out_proj"].attention == (4, 16, True)
    assert post["l0.out_proj"].sources == ("l0.in_proj",)
    assert post["l0.linear1"].digital == ("LayerNorm",)
    assert post["l0.linear2"].digital == ("GELU",)
    assert post["l1.in_proj"].digital == ("LayerNorm",)
    # post-norm: the residual of l1's attention is l0's normalized output, which l1.in_proj's
    # input already lists; it is not listed again
    assert post["l1.out_proj"].residual_sources == ("l0.linear2",)
    assert post["l1.out_proj"].digital == ("SelfAttention",)
    assert post["head"].digital == ("LayerNorm",) and post["head"].attention is None
    pre = {ly.name: ly for ly in _encoder(norm_first=True, activation="relu").lowered()}
    assert pre["l0.in_proj"].digital == ("PositionEmbedding", "LayerNorm")
    assert pre["l0.out_proj"].attention == (4, 16, False)
    assert pre["l0.linear2"].digital == ()  # ReLU: in the LDPU, not a digital operator
    assert pre["l1.linear2"].residual_sources == ("l1.out_proj",)
    assert pre["head"].digital == ()


def test_operators_on_no_layers_input_are_listed_on_the_layer_whose_output_they_take():
    nodes = (Linear("a", ("input",), 4, 4), LayerNorm("n", ("input",), 4),
             Add("add", ("a", "n")), GELU("g", ("add",)), Linear("b", ("g",), 4, 2),
             LayerNorm("final", ("b",), 2))
    wl = Workload("r", (3, 4), nodes, init_weights(nodes, np.random.default_rng(0)))
    # n: only on the residual added to a's output; final: after the last layer
    assert [ly.digital for ly in wl.lowered()] == [(), ("GELU",)]
    assert [ly.digital_after for ly in wl.lowered()] == [("LayerNorm",), ("LayerNorm",)]
    nodes = (LayerNorm("n", ("input",), 4), GELU("g", ("input",)), Add("add", ("n", "g")),
             Linear("a", ("add",), 4, 2))
    wl = Workload("r", (3, 4), nodes, init_weights(nodes, np.random.default_rng(0)))
    assert wl.lowered()[0].digital == ("LayerNorm", "GELU")  # a sum of the network input's


def test_two_attentions_without_a_weight_layer_between_are_refused():
    nodes = (Linear("qkv", ("input",), 4, 36), SelfAttention("a1", ("qkv",), 12, 2),
             SelfAttention("a2", ("a1",), 4, 2), Linear("out", ("a2",), 4, 4))
    with pytest.raises(WorkloadError, match="passes through 2 SelfAttention"):
        Workload("w", (5, 4), nodes, init_weights(nodes, np.random.default_rng(0)))


@pytest.mark.parametrize("name", sorted(set(ZOO) - {"char-transformer", "bert-base"}))
def test_networks_without_transformer_operators_lower_as_before(name):
    assert all(ly.digital == ly.digital_after == () and ly.attention is None
               for ly in build(name).lowered())


def test_position_table_longer_than_the_sequence():
    nodes = (PositionEmbedding("pos", ("input",), 16, 4), Linear("fc", ("pos",), 4, 2))
    wl = Workload("p", (None, 4), nodes, init_weights(nodes, np.random.default_rng(0)))
    x = np.random.default_rng(1).normal(0, 1, (2, 5, 4)).astype(np.float32)
    table = wl.weights["pos"]["weight"]
    np.testing.assert_allclose(forward(wl, x), (x + table[:5]) @ wl.matrix("fc"), **TOL)
    with pytest.raises(WorkloadError, match="17 tokens, the position table 16"):
        forward(wl, np.zeros((1, 17, 4), np.float32))


def test_weights_file_round_trip(tmp_path):
    wl = _encoder(norm_first=False, causal=True)
    back = load_weights(save_weights(wl, tmp_path / "encoder.npz"))
    assert back.nodes == wl.nodes and back.lowered() == wl.lowered()
    for layer, arrays in wl.weights.items():
        for param, value in arrays.items():
            np.testing.assert_array_equal(back.weights[layer][param], value)
    ids = np.random.default_rng(3).integers(0, 20, (2, 8))
    np.testing.assert_array_equal(forward(back, ids), forward(wl, ids))
