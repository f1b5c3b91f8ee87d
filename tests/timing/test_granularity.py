"""Window-granular pipelining (``TimingConfig.granularity = "window"``) against the row rule.

A convolution's output pixel waits, with ``"row"``, for its share of the delivered input
pixels plus a halo of ``kernel // 2`` rows and pixels, a strided convolution's input being
pooled like a pooling layer's; with ``"window"``, for the last pixel of its receptive window.
"""

import dataclasses
import itertools

import numpy as np
import pytest

from chipsim.errors import ChipsimError
from chipsim.mapping import map_workload
from chipsim.spec import hermes, hermes256
from chipsim.timing import TimingConfig, TransportMode, simulate_timing
from chipsim.timing.run import plan_of
from chipsim.workload import build
from chipsim.workload.lowered import LoweredLayer

#: a 3 × 3 convolution over 8 × 8 pixels, then a 3 × 3 stride-2 one (4 × 4 outputs)
CHAIN = [LoweredLayer("a", "conv", 9 * 8, 16, 64, geometry=(3, 3, 1, 1, 1, 1, 8, 8)),
         LoweredLayer("b", "conv", 9 * 16, 16, 16, sources=("a",),
                      geometry=(3, 3, 2, 2, 1, 1, 8, 8))]


def _mvm_spans(granularity):
    chip = hermes()
    mapping = map_workload(CHAIN, chip, replicate=False, seed=0)
    cfg = TimingConfig(transport=TransportMode.ONCHIP, inferences=1, granularity=granularity)
    r = simulate_timing(mapping, CHAIN, chip, cfg)
    plan = plan_of(mapping, CHAIN, chip, cfg)
    spans = {"a": [], "b": []}
    for core, start, end, action in r.timeline:
        if action == "mvm":
            spans[plan.blocks[core].layer].append((start, end))
    return r, {k: sorted(v) for k, v in spans.items()}


def test_strided_convolution_waits_for_its_receptive_window_on_paper():
    """Worked out on paper: ``a`` computes its 64 pixels one MVM apart, undisturbed; output
    pixel (h, w) of ``b`` covers rows 2h − 1 .. 2h + 1 and columns 2w − 1 .. 2w + 1 of
    ``a``, so with window granularity it starts a fixed delay (``a``'s LDPU and one link)
    after ``a``'s pixel (2h + 1)·8 + min(2w + 1, 7) ends. With row granularity ``b``'s input
    is taken as 2 × 2-pooled (4 × 4 pixels, a halo of 4 + 1 of them): its first pixel waits
    for pooled pixel 5, (1, 1), complete with ``a``'s pixel 27 — 18 MVMs later."""
    window, w = _mvm_spans("window")
    row, r = _mvm_spans("row")
    t_mvm = w["a"][1][0] - w["a"][0][0]
    assert w["a"] == r["a"] and len(w["a"]) == 64 and len(w["b"]) == 16
    assert all(b - a == t_mvm for (a, _), (b, _) in itertools.pairwise(w["a"]))  # undisturbed
    a_end = [end for _, end in w["a"]]
    last = [(2 * h + 1) * 8 + min(2 * x + 1, 7) for h in range(4) for x in range(4)]
    delay = w["b"][0][0] - a_end[last[0]]
    assert 0 < delay < t_mvm
    assert [start for start, _ in w["b"]] == [a_end[j] + delay for j in last]
    assert r["b"][0][0] == a_end[27] + delay
    assert r["b"][0][0] - w["b"][0][0] == 18 * t_mvm
    assert window.latency_ps < row.latency_ps


COMPUTE = ("mvms", "gdc_mvms", "pwm_row_phases", "array_cell_phases", "adc_conversions",
           "ldpu_values", "gdpu_inputs", "offchip_bits")


@pytest.mark.parametrize("replicate", [False, True])
@pytest.mark.slow
def test_resnet32_on_chip_is_faster_with_window_granularity(replicate):
    wl, chip = build("resnet32", rng=np.random.default_rng(0)), hermes256()
    layers = wl.lowered()
    mapping = map_workload(layers, chip, replicate=replicate, seed=0)
    runs = {g: simulate_timing(mapping, layers, chip, TimingConfig(
        transport=TransportMode.ONCHIP, inferences=2, timeline=False, granularity=g))
        for g in ("row", "window")}
    row, window = runs["row"], runs["window"]
    assert window.latency_ps < row.latency_ps
    assert window.throughput_inf_per_s >= row.throughput_inf_per_s
    for name in COMPUTE:  # the same work; only what waits for what moves
        assert getattr(window.counts, name) == getattr(row.counts, name), name
    for core, counts in row.core_counts.items():
        for name in ("mvms", "ldpu_values", "ops"):
            assert window.core_counts[core][name] == counts[name], (core, name)
    # the stride-2 convolutions take every pixel of their input, not a pooled quarter
    assert window.counts.link_bit_hops > row.counts.link_bit_hops


def test_stride_one_windows_differ_from_the_row_rule_only_at_row_edges():
    layers = build("resnet9", rng=np.random.default_rng(0)).lowered()
    chip = hermes()
    mapping = map_workload(layers, chip, replicate=False, seed=0)
    plans = {g: plan_of(mapping, layers, chip, TimingConfig(
        transport=TransportMode.ONCHIP, granularity=g)) for g in ("row", "window")}
    for e_row, e_win in zip(plans["row"].edges, plans["window"].edges, strict=True):
        assert (e_row.pool, e_row.delivered) == (e_win.pool, e_win.delivered)
        if e_win.geometry is None:
            assert e_row.windows() == e_win.windows()
            continue
        width = e_win.geometry[7]
        rows = zip(*e_row.windows(), strict=True)
        for k, (a, b) in enumerate(zip(rows, zip(*e_win.windows(), strict=True), strict=True)):
            if a != b:  # one pixel at the left or right edge of a row, or the top rows
                assert abs(a[0] - b[0]) <= width + 1 and abs(a[1] - b[1]) <= 1, (k, a, b)


def test_granularity_is_checked():
    with pytest.raises(ChipsimError, match="granularity"):
        TimingConfig(granularity="pixel")
    from chipsim.config import RunConfig
    with pytest.raises(ChipsimError, match="granularity"):
        RunConfig(granularity="pixel")
    assert dataclasses.replace(RunConfig(), granularity="window").granularity == "window"
