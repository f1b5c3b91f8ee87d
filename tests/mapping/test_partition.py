"""The chip's partition rule: fewest equal blocks that fit a core."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chipsim.mapping import partition


@pytest.mark.parametrize(("shape", "n", "block"), [
    ((2016, 224), (8, 1), (252, 224)),
    ((504, 2016), (2, 8), (252, 252)),
    ((27, 56), (1, 1), (27, 56)),
    ((1008, 224), (4, 1), (252, 224)),
    ((224, 10), (1, 1), (224, 10)),
    ((257, 256), (2, 1), (129, 256)),
])
def test_paper_examples(shape, n, block):
    p = partition(*shape, 256, 256)
    assert (p.n_block_rows, p.n_block_cols) == n
    assert (p.block_rows, p.block_cols) == block


def test_resnet9_utilization_of_the_deep_layer():
    assert partition(2016, 224, 256, 256).utilization == pytest.approx(0.861, abs=1e-3)


@settings(max_examples=50, deadline=None)
@given(rows=st.integers(1, 700), cols=st.integers(1, 700), core_rows=st.integers(5, 300),
       core_cols=st.integers(5, 300))
def test_every_weight_in_exactly_one_equal_block(rows, cols, core_rows, core_cols):
    p = partition(rows, cols, core_rows, core_cols)
    count = np.zeros((rows, cols), dtype=np.int32)
    for b in p.blocks:
        assert b.rows[0] < b.rows[1] and b.cols[0] < b.cols[1]      # never empty
        count[b.rows[0]:b.rows[1], b.cols[0]:b.cols[1]] += 1
        # every block has the same shape, the last ones zero-filled to it
        assert b.rows[1] - b.rows[0] <= p.block_rows and b.cols[1] - b.cols[0] <= p.block_cols
        if b.rows[1] < rows:
            assert b.rows[1] - b.rows[0] == p.block_rows
        if b.cols[1] < cols:
            assert b.cols[1] - b.cols[0] == p.block_cols
    assert (count == 1).all()
    assert p.block_rows <= core_rows and p.block_cols <= core_cols
    # the minimum number under the rule: fewer blocks along an axis cannot fit the core
    assert p.n_blocks == len(p.blocks) == math.ceil(rows / core_rows) * math.ceil(cols / core_cols)
    assert (p.n_block_rows - 1) * core_rows < rows and (p.n_block_cols - 1) * core_cols < cols
    assert [b.index for b in p.blocks] == list(range(p.n_blocks))
    assert sum(b.weights for b in p.blocks) == rows * cols
    assert 0 < p.utilization <= 1


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_rejects_non_positive_sizes(bad):
    with pytest.raises(ValueError, match="positive integer"):
        partition(bad, 4, 4, 4)


def test_one_by_one_cores():
    p = partition(3, 2, 1, 1)
    assert p.n_blocks == 6 and {b.weights for b in p.blocks} == {1}
