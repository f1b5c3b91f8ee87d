"""What a Transformer's digital operators cost on an attention unit, per token."""

import pytest

from chipsim.cost.attention import SOFTMAX_OPS_PER_SCORE, DigitalWork, token_work, values_out

D, H, T = 256, 4, 32


@pytest.mark.parametrize("causal", [False, True])
def test_attention_work_per_query_grows_with_the_keys_it_sees(causal):
    for k in (0, 5, T - 1):
        keys = k + 1 if causal else T
        w = token_work(("SelfAttention",), 3 * D, (H, D, causal), k, T)
        assert w.macs == 2 * keys * D  # q·kᵀ and ·v over all heads
        assert w.ops == D + SOFTMAX_OPS_PER_SCORE * H * keys + H
        # the token written and read, the keys and values read, the scores in FP16
        assert w.memory_bytes == 2 * 3 * D + 2 * keys * D + 4 * H * keys


def test_elementwise_operators_and_a_chain_of_them():
    f = 64
    ln = token_work(("LayerNorm",), f, None, 3, T)
    gelu = token_work(("GELU",), f, None, 3, T)
    pos = token_work(("PositionEmbedding",), f, None, 3, T)
    assert (ln.macs, ln.ops, ln.memory_bytes) == (2 * f, 3 * f + 1, 7 * f)
    assert (gelu.macs, gelu.ops, gelu.memory_bytes) == (0, 2 * f, 2 * f)
    assert (pos.macs, pos.ops, pos.memory_bytes) == (0, f, 4 * f)
    # a chain: the token enters the unit once, each operator adds its own work
    both = token_work(("PositionEmbedding", "LayerNorm"), f, None, 0, T)
    assert both == pos + ln + DigitalWork(memory_bytes=-2 * f)


def test_values_out_and_bad_operators():
    assert values_out(("SelfAttention",), 3 * D, (H, D, False)) == D
    assert values_out(("LayerNorm", "GELU"), D, None) == D
    with pytest.raises(ValueError, match="3·d_model"):
        token_work(("SelfAttention",), D, (H, D, False), 0, T)
    with pytest.raises(ValueError, match="unknown digital operator 'Softmax'"):
        token_work(("Softmax",), D, None, 0, T)


def test_cycles_share_the_mac_slots():
    w = DigitalWork(macs=1000, ops=24)
    assert w.cycles(256) == 4 and w.cycles(512) == 2 and w.cycles(2048) == 1
    assert DigitalWork().cycles(256) == 1
