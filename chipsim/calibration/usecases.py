"""The three use cases of the chip paper's Table I, simulated through the timing engine.

- ``all_cores``: every core computes one full MVM at once; nothing else (Tab I row 1: its
  energy is the MVM energy, its latency the MVM latency).
- ``resnet_layer``: one input vector of a 2016 × 224 ResNet-9 layer on 8 cores (8 blocks of
  252 × 224) down one grid column; the partial sums accumulate in a chain over the vertical
  links, core by core; the use case ends when the last core's LDPU has put out the 224
  results.
- ``lstm_step``: one LSTM time step, input 504, hidden 504, gates 2016 (I, A, F, O
  interleaved) on 32 cores (2 × 8 blocks of 252 × 252 per matrix) in the four core rows around
  the GDPU: column ``j`` holds gate block ``j``, the hidden matrix's two blocks above the GDPU
  (the lower one feeds slice ``j``) and the input matrix's two blocks below it; each column
  accumulates over its links (the input part as a residual into the hidden chain's last core)
  and feeds GDPU slice ``j``, which turns the 252 gate values into 63 hidden values. The use
  case ends with the last hidden value.

Inputs are in the cores' input registers at time 0 (single-input benchmarks) and the results
stay on chip. Metrics follow Tab I's conventions: TOPS = utilized MVM ops / MVM time, TOPS/W =
utilized MVM ops / MVM energy (array + ADCs + PWM), energy and latency of the whole use case.

Examples
--------
>>> from chipsim.spec import hermes
>>> m = simulate_use_case("all_cores", hermes())
>>> round(m["latency_ns"]), round(m["tops"], 1)
(520, 16.1)
"""

from __future__ import annotations

from dataclasses import replace

from ..mapping.partition import partition
from ..spec import ChipSpec, ReadMode, hermes
from ..timing.config import TimingConfig, TimingError, TransportMode
from ..timing.engine import run_plan
from ..timing.plan import PlacedBlock, build_plan
from ..timing.result import TimingResult
from ..workload.lowered import LoweredLayer

__all__ = ["USE_CASES", "use_case_plan", "run_use_case", "simulate_use_case",
           "use_case_metrics"]

USE_CASES = ("all_cores", "resnet_layer", "lstm_step")
"""The use cases of Tab I, in its row order."""


def _column_order(chip: ChipSpec, col: int = 0) -> list[int]:
    """Cores down grid column ``col``, then the next columns (a snake over the grid)."""
    rows, cols = chip.grid
    out = []
    for c in range(cols):
        cc = (col + c) % cols
        rng = range(rows) if c % 2 == 0 else range(rows - 1, -1, -1)
        out.extend(r * cols + cc for r in rng)
    return out


def _blocks(name: str, rows: int, cols: int, chip: ChipSpec, cores: list[int]) -> list:
    p = partition(rows, cols, chip.core.rows, chip.core.cols)
    if p.n_blocks > len(cores):
        raise TimingError(f"use case needs {p.n_blocks} cores for {name}, the chip has "
                          f"{len(cores)}")
    # column block by column block, rows in order: a chain occupies consecutive cores
    order = sorted(p.blocks, key=lambda b: (b.block_col, b.block_row))
    return [PlacedBlock(name, 0, b.rows, b.cols, cores[i]) for i, b in enumerate(order)]


def use_case_plan(name: str, chip: ChipSpec):
    """``(layers, blocks)`` of use case ``name`` on ``chip``.

    Raises
    ------
    TimingError
        For an unknown name, or a chip too small for the use case.
    """
    rows, cols = chip.core.rows, chip.core.cols
    if name == "all_cores":
        layer = LoweredLayer("mvm", "linear", rows, cols * chip.n_cores, 1)
        return [layer], _blocks("mvm", layer.rows, layer.cols, chip, list(range(chip.n_cores)))
    if name == "resnet_layer":
        layer = LoweredLayer("conv", "conv", 2016, 224, 1)
        return [layer], _blocks("conv", 2016, 224, chip, _column_order(chip))
    if name == "lstm_step":
        return _lstm_plan(chip)
    raise TimingError(f"unknown use case {name!r}; use cases: {', '.join(USE_CASES)}")


def _lstm_plan(chip: ChipSpec):
    inp = LoweredLayer("lstm.input", "lstm_input", 504, 2016, 1)
    hid = LoweredLayer("lstm.hidden", "lstm_hidden", 504, 2016, 1, ("lstm.hidden",),
                       ("lstm.input",))
    grid_rows, grid_cols = chip.grid
    p = partition(504, 2016, chip.core.rows, chip.core.cols)
    g = chip.gdpu_after_row
    if p.n_block_rows != 2 or g < 2 or g + 2 > grid_rows or p.n_block_cols > grid_cols:
        # generic placement: every column block's chains on consecutive cores
        order = _column_order(chip)
        half = p.n_blocks
        if 2 * half > chip.n_cores:
            raise TimingError(f"the LSTM step needs {2 * half} cores, the chip has "
                              f"{chip.n_cores}")
        return [inp, hid], (_blocks(inp.name, 504, 2016, chip, order[:half])
                            + _blocks(hid.name, 504, 2016, chip, order[half:]))
    blocks = []
    for b in p.blocks:
        j, r = b.block_col, b.block_row
        hid_core = (g - 2 + r) * grid_cols + j          # rows g-2, g-1: above the GDPU
        inp_core = (g + 1 - r) * grid_cols + j          # rows g+1, g: below it
        blocks.append(PlacedBlock(hid.name, 0, b.rows, b.cols, hid_core))
        blocks.append(PlacedBlock(inp.name, 0, b.rows, b.cols, inp_core))
    return [inp, hid], blocks


def simulate_use_case(name: str, chip: ChipSpec | None = None,
                      mode: ReadMode | str | None = None) -> dict[str, float]:
    """Simulate use case ``name`` on ``chip`` (default :func:`~chipsim.spec.hermes`) in read
    ``mode`` (default the chip's); its Tab I metrics (:func:`use_case_metrics`)."""
    chip = hermes() if chip is None else chip
    if mode is not None:
        chip = replace(chip, core=replace(chip.core, read_mode=ReadMode(mode)))
    return use_case_metrics(run_use_case(name, chip))


def run_use_case(name: str, chip: ChipSpec) -> TimingResult:
    """The timing result of use case ``name`` on ``chip``."""
    layers, blocks = use_case_plan(name, chip)
    mvm_only = [ly.name for ly in layers] if name == "all_cores" else []
    plan = build_plan(layers, blocks, chip, TransportMode.ONCHIP, preloaded=True,
                      mvm_only=mvm_only, sinks_to_host=False)
    return run_plan(plan, chip, TimingConfig(transport=TransportMode.ONCHIP, inferences=1,
                                             timeline=False))


def use_case_metrics(r: TimingResult) -> dict[str, float]:
    """Tab I's metrics of a single-input run: ``tops`` (ops / MVM time), ``tops_per_w`` (ops /
    MVM energy), ``energy_uj`` and ``latency_ns`` (whole use case), plus ``cores``."""
    ops = r.ops_per_inference
    return {
        "tops": ops / r.mvm_active_ps if r.mvm_active_ps else 0.0,
        "tops_per_w": ops / r.energy.mvm_pj if r.energy.mvm_pj else 0.0,
        "energy_uj": r.energy.total_pj * 1e-6,
        "latency_ns": r.latency_ps / 1e3,
        "cores": float(r.cores_used),
    }
