"""Configurations of the timing golden harness and the serializer of their results.

The golden data (``timing_golden.json.gz``, written by ``make_golden.py``) freeze what today's
timing engine computes for each configuration in :data:`CONFIGS`;
``tests/timing/test_golden.py`` re-runs them and compares. Each configuration is a function
that builds the workload, mapping and chip, runs the timing engine and returns a :class:`Run`:
the :class:`~chipsim.timing.result.TimingResult` and the MVMs per core the functional path's
rule expects (:func:`chipsim.timing.expected_mvms`, or :func:`chipsim.timing.mvm_counts` of
the plan for the Table I use cases, which have a plan and no mapping).
"""

from __future__ import annotations

import dataclasses
import enum
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

from chipsim.calibration.usecases import USE_CASES, use_case_plan
from chipsim.mapping import map_workload
from chipsim.models import resolve_model
from chipsim.spec import BufferSpec, FaultSpec, ReadMode, SystemSpec, hermes, hermes256
from chipsim.timing import (
    TimingConfig,
    TimingResult,
    TransportMode,
    build_plan,
    expected_mvms,
    mvm_counts,
    run_plan,
    simulate_timing,
)

__all__ = ["GOLDEN", "CONFIGS", "Run", "serialize", "to_json", "record", "canonical",
           "load_golden"]

GOLDEN = Path(__file__).with_name("timing_golden.json.gz")
"""The golden data: one record per configuration (:func:`record`), keyed by name."""

ONCHIP, OFFCHIP = TransportMode.ONCHIP, TransportMode.OFFCHIP

DEAD_CORES = (9, 18, 27)
"""Dead cores of the faulty 64-core chip."""
BROKEN_LINKS = ((0, 1), (2, 3), (10, 11), (22, 23), (25, 26), (40, 41), (51, 52), (59, 60))
"""Broken links of the faulty 64-core chip: links between neighbouring cores that exchange
data in the ResNet-9 (on-chip, replicated) or LSTM (off-chip) mapping made for a chip with
the dead cores only, so that their routes detour around the breaks."""


@dataclass(frozen=True, slots=True)
class Run:
    """A configuration's timing result and the MVMs per core its mapping implies."""

    result: TimingResult
    expected_mvms: dict[int, int]


@cache
def _workload(model: str):
    """Zoo ``model`` as ``chipsim run`` takes it (:func:`chipsim.models.resolve_model`: the
    shipped network, e.g. ResNet-9 on one-channel images)."""
    return resolve_model(model).workload


def _layers(model: str) -> tuple:
    return tuple(_workload(model).lowered())


def _network(model: str, chip, transport: TransportMode, *, replicate: bool,
             inferences: int, map_chip=None, **cfg: Any) -> Run:
    """Map zoo ``model`` on ``map_chip`` (default ``chip``) and time ``inferences`` inferences
    of it on ``chip``."""
    layers = _layers(model)
    mapping = map_workload(layers, chip if map_chip is None else map_chip, replicate=replicate,
                           workload_name=_workload(model).name)
    result = simulate_timing(mapping, layers, chip, TimingConfig(  # frozen with the row rule
        transport=transport, inferences=inferences, granularity="row", **cfg))
    return Run(result, expected_mvms(mapping, layers, chip, inferences))


def _use_case(name: str, mode: str) -> Run:
    """Table I use case ``name`` in read ``mode`` on the reference chip, as
    :func:`chipsim.calibration.usecases.run_use_case` runs it (with the timeline)."""
    chip = hermes()
    chip = replace(chip, core=replace(chip.core, read_mode=ReadMode(mode)))
    layers, blocks = use_case_plan(name, chip)
    mvm_only = [ly.name for ly in layers] if name == "all_cores" else []
    plan = build_plan(layers, blocks, chip, ONCHIP, preloaded=True, mvm_only=mvm_only,
                      sinks_to_host=False)
    result = run_plan(plan, chip, TimingConfig(transport=ONCHIP, inferences=1, timeline=True))
    return Run(result, mvm_counts(plan, 1))


def _buffers(**depths: int):
    """The reference chip with the buffer depths ``depths`` (:class:`BufferSpec` fields)."""
    return replace(hermes(), buffers=BufferSpec(**depths))


def _faulty(broken: bool = True):
    """The reference chip with :data:`DEAD_CORES`, and with :data:`BROKEN_LINKS` if
    ``broken``."""
    return replace(hermes(), faults=FaultSpec(dead_cores=DEAD_CORES,
                                              broken_links=BROKEN_LINKS if broken else ()))


CONFIGS: dict[str, Callable[[], Run]] = {
    # ResNet-9 on the reference 64-core chip
    "resnet9-64-onchip-replicated": partial(
        _network, "resnet9", hermes(), ONCHIP, replicate=True, inferences=3),
    "resnet9-64-onchip-single": partial(
        _network, "resnet9", hermes(), ONCHIP, replicate=False, inferences=2),
    "resnet9-64-offchip-replicated": partial(
        _network, "resnet9", hermes(), OFFCHIP, replicate=True, inferences=2),
    "resnet9-64-offchip-single": partial(
        _network, "resnet9", hermes(), OFFCHIP, replicate=False, inferences=2),
    # LSTM (PTB sizes) on the reference chip
    "lstm-64-onchip": partial(
        _network, "lstm-ptb", hermes(), ONCHIP, replicate=True, inferences=4),
    "lstm-64-offchip": partial(
        _network, "lstm-ptb", hermes(), OFFCHIP, replicate=False, inferences=3),
    # 256 cores
    "resnet32-256-onchip-single": partial(
        _network, "resnet32", hermes256(), ONCHIP, replicate=False, inferences=2),
    "resnet9-256-onchip-replicated": partial(
        _network, "resnet9", hermes256(), ONCHIP, replicate=True, inferences=3),
    # faults: dead cores and broken links, so that routes detour
    "resnet9-64-faults-onchip": partial(
        _network, "resnet9", _faulty(), ONCHIP, replicate=True, inferences=2,
        map_chip=_faulty(broken=False)),
    "lstm-64-faults-offchip": partial(
        _network, "lstm-ptb", _faulty(), OFFCHIP, replicate=False, inferences=3,
        map_chip=_faulty(broken=False)),
    # small buffers (back-pressure, not deadlock)
    "resnet9-64-small-buffers": partial(
        _network, "resnet9", _buffers(input_vectors=1, activation_vectors=100, psum_vectors=1,
                                      residual_vectors=96),
        ONCHIP, replicate=True, inferences=3),
    "resnet9-64-small-buffers-single": partial(
        _network, "resnet9", _buffers(input_vectors=1, activation_vectors=67, psum_vectors=1),
        ONCHIP, replicate=False, inferences=2),
    # waiters for the same buffer slot: served in the order they came (they were ordered by
    # memory address before, and this run's makespan depended on the process)
    "lstm-64-small-buffers-onchip": partial(
        _network, "lstm-ptb", _buffers(input_vectors=1, activation_vectors=1, psum_vectors=1),
        ONCHIP, replicate=True, inferences=4),
    # global drift compensation during the run
    "resnet9-64-gdc-onchip": partial(
        _network, "resnet9", hermes(), ONCHIP, replicate=True, inferences=2,
        gdc_interval_us=20.0),
    "lstm-64-gdc-offchip": partial(
        _network, "lstm-ptb", hermes(), OFFCHIP, replicate=False, inferences=3,
        gdc_interval_us=2.0),
}
CONFIGS.update({f"usecase-{name}-{mode}": partial(_use_case, name, mode)
                for name in USE_CASES for mode in ("1ph", "4ph")})


def to_json(value: Any) -> Any:
    """``value`` as JSON-safe data: dataclasses as dicts of their fields, dict keys as
    strings, tuples as lists, enums by value, numpy scalars as Python numbers.

    Raises
    ------
    TypeError
        For a value of any other type (so nothing is silently dropped or stringified).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, enum.Enum):
        return to_json(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        return to_json(value.item())
    raise TypeError(f"cannot serialize {type(value).__name__}: {value!r}")


def serialize(result: TimingResult) -> dict[str, Any]:
    """Every field of ``result`` (:func:`dataclasses.fields`) as JSON-safe data."""
    return {f.name: to_json(getattr(result, f.name)) for f in dataclasses.fields(result)}


#: fields that systems of several chips added after the golden data were made, at the only
#: values a single chip may give them (``one_chip`` checks them and drops them)
SYSTEM_FIELDS = {("system_spec",): to_json(SystemSpec()), ("latency_alone_ps",): None,
                 ("latency_ideal_links_ps",): None,
                 ("counts", "c2c_bits"): 0, ("setup_counts", "c2c_bits"): 0,
                 ("energy", "c2c_pj"): 0.0}


def one_chip(got: dict[str, Any]) -> dict[str, Any]:
    """A serialized single-chip result without :data:`SYSTEM_FIELDS`, each checked to hold
    its single-chip value (an AssertionError names one that does not)."""
    got = json.loads(json.dumps(got))
    for path, value in SYSTEM_FIELDS.items():
        *outer, last = path
        d = got
        for k in outer:
            d = d[k]
        assert d.pop(last) == value, f"{'.'.join(path)} differs from a single chip's {value!r}"
    return got


def record(run: Run) -> dict[str, Any]:
    """The golden record of a configuration's run: its serialized result and its expected
    MVMs per core."""
    return {"result": serialize(run.result),
            "expected_mvms": {str(c): int(n) for c, n in run.expected_mvms.items()}}


def canonical(value: Any) -> str:
    """``value`` as canonical JSON text (sorted keys; floats by ``repr``, so exact; NaN
    compares equal to NaN, an int differs from the equal float)."""
    return json.dumps(value, sort_keys=True, allow_nan=True)


def load_golden(path: Path = GOLDEN) -> dict[str, Any]:
    """The golden data: ``{"meta": ..., "configs": {name: record}}``."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)

