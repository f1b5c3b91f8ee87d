"""The chip's partition rule: a weight matrix in the fewest equal blocks that fit a core.

Pure functions on integers; no chip or graph involved ([LG], ``shared/hermes.md`` §4).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Block", "Partition", "partition"]


@dataclass(frozen=True, slots=True)
class Block:
    """One block of a partitioned matrix.

    Attributes
    ----------
    index
        Position in the block grid, row-major: ``block_row * n_block_cols + block_col``.
    block_row, block_col
        Position of the block in the block grid.
    rows, cols
        ``[start, stop)`` ranges of the matrix the block holds. A block at the end of the
        matrix may hold fewer rows/cols than the block shape: the rest of its core area is
        zero-filled.
    """

    index: int
    block_row: int
    block_col: int
    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def weights(self) -> int:
        """Weights of the matrix in this block (without the zero fill)."""
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])


@dataclass(frozen=True, slots=True)
class Partition:
    """A ``rows × cols`` matrix split into ``n_block_rows × n_block_cols`` equal blocks.

    Attributes
    ----------
    rows, cols
        Matrix shape.
    core_rows, core_cols
        Core (crossbar) size the blocks must fit.
    n_block_rows, n_block_cols
        Blocks along the rows and along the columns.
    block_rows, block_cols
        Shape of every block: ``ceil(rows / n_block_rows) × ceil(cols / n_block_cols)``.
    """

    rows: int
    cols: int
    core_rows: int
    core_cols: int
    n_block_rows: int
    n_block_cols: int
    block_rows: int
    block_cols: int

    @property
    def n_blocks(self) -> int:
        """Number of blocks (= cores one copy of the matrix takes)."""
        return self.n_block_rows * self.n_block_cols

    @property
    def utilization(self) -> float:
        """Weights over the area of the cores they take: ``rows·cols / (blocks·core area)``."""
        return self.rows * self.cols / (self.n_blocks * self.core_rows * self.core_cols)

    @property
    def blocks(self) -> tuple[Block, ...]:
        """All blocks, row-major over the block grid."""
        out = []
        for i in range(self.n_block_rows):
            r0 = i * self.block_rows
            r = (r0, min(r0 + self.block_rows, self.rows))
            for j in range(self.n_block_cols):
                c0 = j * self.block_cols
                c = (c0, min(c0 + self.block_cols, self.cols))
                out.append(Block(i * self.n_block_cols + j, i, j, r, c))
        return tuple(out)


def partition(rows: int, cols: int, core_rows: int, core_cols: int) -> Partition:
    """Split a ``rows × cols`` matrix into the fewest equal blocks that fit the core.

    ``n_block_rows = ceil(rows / core_rows)``, ``n_block_cols = ceil(cols / core_cols)`` and
    every block is ``ceil(rows / n_block_rows) × ceil(cols / n_block_cols)``; the blocks at the
    end of the matrix may be partly zero-filled (never empty: ``(n-1)·block < rows``).

    Raises
    ------
    ValueError
        If a size is not a positive integer.

    Examples
    --------
    >>> p = partition(2016, 224, 256, 256)
    >>> p.n_blocks, (p.block_rows, p.block_cols), round(p.utilization, 3)
    (8, (252, 224), 0.861)
    >>> p = partition(504, 2016, 256, 256)
    >>> p.n_block_rows, p.n_block_cols, p.blocks[9].rows, p.blocks[9].cols
    (2, 8, (252, 504), (252, 504))
    """
    for name, v in (("rows", rows), ("cols", cols), ("core_rows", core_rows),
                    ("core_cols", core_cols)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    nr = -(-rows // core_rows)
    nc = -(-cols // core_cols)
    return Partition(rows, cols, core_rows, core_cols, nr, nc, -(-rows // nr), -(-cols // nc))
