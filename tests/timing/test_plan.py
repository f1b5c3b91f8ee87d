"""The static plan: chains, edges, windows, pooling, replica shares."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipsim.spec import hermes, override
from chipsim.timing import PlacedBlock, TimingError, TransportMode, build_plan, mvm_counts
from chipsim.timing.plan import EdgePlan, _last_of
from chipsim.workload.lowered import LoweredLayer


@settings(max_examples=200, deadline=None)
@given(np_=st.integers(1, 40), vc=st.integers(1, 40), halo=st.integers(0, 9),
       j=st.integers(0, 39))
def test_takers_are_exactly_the_consumers_whose_window_holds_j(np_, vc, halo, j):
    e = EdgePlan(0, "a", "b", "input", True, 1, np_, halo, False, np_, vc, ())
    j = j % np_
    k0, k1 = e.takers(j)
    want = [k for k in range(vc) if e.window(k)[0] <= j < e.window(k)[1]]
    assert list(range(k0, k1)) == want


def test_square_pooling_completes_after_the_windows_last_pixel():
    assert _last_of(4, 16, 4) == (5, 7, 13, 15)  # 2x2 pool of a 4x4 raster
    assert _last_of(16, 16, 1) == (15,)
    assert _last_of(3, 9, 3) == (2, 5, 8)  # not square: by blocks of 3


def _resnet_like():
    layers = [LoweredLayer("c0", "conv", 27, 16, 64),
              LoweredLayer("c1", "conv", 144, 16, 16, sources=("c0",)),
              LoweredLayer("fc", "linear", 16, 10, 1, sources=("c1",),
                           residual_sources=())]
    blocks = [PlacedBlock("c0", 0, (0, 27), (0, 16), 0),
              PlacedBlock("c1", 0, (0, 144), (0, 16), 1),
              PlacedBlock("c1", 1, (0, 144), (0, 16), 2),
              PlacedBlock("fc", 0, (0, 16), (0, 10), 3)]
    return layers, blocks


def test_edges_pool_halo_and_transport():
    layers, blocks = _resnet_like()
    plan = build_plan(layers, blocks, hermes(), TransportMode.ONCHIP)
    c0c1, c1fc = plan.edges
    assert (c0c1.pool, c0c1.delivered, c0c1.halo, c0c1.direct) == (4, 16, 5, False)
    assert (c1fc.pool, c1fc.delivered, c1fc.halo, c1fc.direct) == (16, 1, 0, True)
    assert all(e.onchip for e in plan.edges)
    assert plan.layers["c0"].host_input and plan.layers["fc"].to_host
    off = build_plan(layers, blocks, hermes(), TransportMode.OFFCHIP)
    assert not any(e.onchip for e in off.edges)
    assert all(lp.host_input and lp.to_host for lp in off.layers.values())
    assert mvm_counts(plan, 2) == {0: 128, 1: 16, 2: 16, 3: 2}


def test_chains_follow_the_column_ranges_in_row_order():
    layers = [LoweredLayer("a", "linear", 600, 400, 1)]
    blocks = [PlacedBlock("a", 0, (r0, r0 + 200), (c0, c0 + 200), 10 * i + j)
              for i, r0 in enumerate((400, 0, 200)) for j, c0 in enumerate((200, 0))]
    plan = build_plan(layers, blocks, hermes())
    assert [ch.cols for ch in plan.chains] == [(0, 200), (200, 400)]
    assert plan.chains[0].cores == (11, 21, 1)
    assert plan.chains[0].rows == ((0, 200), (200, 400), (400, 600))


@pytest.mark.parametrize(("blocks", "match"), [
    ([PlacedBlock("x", 0, (0, 10), (0, 10), 0)], "not in the workload"),
    ([PlacedBlock("a", 0, (0, 10), (0, 10), 99)], "not on the chip"),
    ([PlacedBlock("a", 0, (0, 300), (0, 10), 0)], "larger than a core"),
    ([PlacedBlock("a", 0, (0, 5), (0, 10), 0), PlacedBlock("a", 0, (5, 10), (0, 10), 0)],
     "holds two blocks"),
])
def test_bad_blocks_are_errors(blocks, match):
    with pytest.raises(TimingError, match=match):
        build_plan([LoweredLayer("a", "linear", 10, 10, 1)], blocks, hermes())


def test_lstm_needs_a_gdpu():
    layers = [LoweredLayer("l.hidden", "lstm_hidden", 16, 64, 1, ("l.hidden",))]
    blocks = [PlacedBlock("l.hidden", 0, (0, 16), (0, 64), 0)]
    with pytest.raises(TimingError, match="no GDPU"):
        build_plan(layers, blocks, override(hermes(), "gdpu_slices", 0))
    plan = build_plan(layers, blocks, hermes())
    assert plan.gdpu_of == {0: 0} and plan.chains[0].out == (0, 16)


def _two_banded_convs():
    """c0 → c1 over an 8 × 8 image (3 × 3: a halo of 9 pixels), two copies of each."""
    layers = [LoweredLayer("c0", "conv", 27, 16, 64),
              LoweredLayer("c1", "conv", 144, 16, 64, ("c0",))]
    blocks = [PlacedBlock("c0", r, (0, 27), (0, 16), r) for r in range(2)]
    blocks += [PlacedBlock("c1", r, (0, 144), (0, 16), 8 + r) for r in range(2)]
    return build_plan(layers, blocks, hermes(), TransportMode.ONCHIP)


@pytest.mark.parametrize(("vectors", "replicas"), [(10, 3), (64, 5), (2, 3), (7, 1)])
def test_replicas_compute_bands_as_long_as_round_robin_shares(vectors, replicas):
    layers = [LoweredLayer("a", "linear", 8, 8, vectors)]
    blocks = [PlacedBlock("a", r, (0, 8), (0, 8), r) for r in range(replicas)]
    lp = build_plan(layers, blocks, hermes()).layers["a"]
    got = [lp.vectors_of(r, 2) for r in range(replicas)]
    assert sorted(g for v in got for g in v) == list(range(2 * vectors))  # each once
    for r, gs in enumerate(got):
        band = [g for g in gs if g < vectors]  # of the first inference: contiguous
        assert band == list(range(band[0], band[0] + len(band)) if band else [])
        assert len(gs) == lp.count_vectors(r, 2) == 2 * len(range(r, vectors, replicas))
        assert all(lp.owner(g) == r for g in gs)


def test_a_consumer_band_receives_its_span_in_its_own_numbering():
    from chipsim.timing import TimingConfig
    from chipsim.timing.state import SimState

    plan = _two_banded_convs()
    # band 0 needs pixels [0, 32 + 9), band 1 [32 - 9, 64)
    assert plan.lines == {(0, 0): (0, 41), (0, 1): (23, 41)}
    st = SimState(hermes(), plan, TimingConfig(transport=TransportMode.ONCHIP, inferences=2))
    chain = {r: plan.layers["c0"].chains[r][0] for r in range(2)}

    def dests(k, i=1):  # (consumer core, key) of c0's output pixel k of inference i
        return [(s.dsts, s.key) for s in st.sends(chain[k // 32], i * 64 + k)]

    assert dests(0) == [((8,), 41)]
    assert dests(23) == [((8,), 41 + 23), ((9,), 41)]  # the first pixel of band 1's halo
    assert dests(40) == [((8,), 41 + 40), ((9,), 41 + 40 - 23)]
    assert dests(41) == [((9,), 41 + 41 - 23)]
    # band 1 starts with band 0's last rows, which arrive last: it buffers its whole span
    assert [plan.line_capacity(0, r) for r in range(2)] == [41, 41]


def test_an_unreplicated_line_buffer_holds_one_window():
    layers = [LoweredLayer("c0", "conv", 27, 16, 64),
              LoweredLayer("c1", "conv", 144, 16, 64, ("c0",))]
    blocks = [PlacedBlock("c0", 0, (0, 27), (0, 16), 0),
              PlacedBlock("c1", 0, (0, 144), (0, 16), 1)]
    plan = build_plan(layers, blocks, hermes(), TransportMode.ONCHIP)
    assert plan.lines == {(0, 0): (0, 64)} and plan.line_capacity(0, 0) == 19  # 2 · 9 + 1
