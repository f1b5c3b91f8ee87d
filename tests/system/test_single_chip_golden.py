"""A one-chip system is the single chip of before systems existed, bit for bit.

``single_chip_golden.json`` holds the reports (without provenance) of four runs made with
chipsim at commit ec92321, before ``system`` existed (the script is below; the timelines are
kept as a SHA-256 of their JSON). Every value they had must come out identical (the scores
on a CPU with other float kernels than the one that made them: see ``SCORE_TOLERANCE``); the only
new keys allowed are the chip's ``system`` section (at its one-chip defaults) and the
chip-to-chip energy component (zero).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from chipsim import RunConfig, simulate
from chipsim.spec import override, resolve_chip

GOLDEN = Path(__file__).with_name("single_chip_golden.json")

#: what made the golden reports (at ec92321)
CASES = {
    "resnet9": ("resnet9", "hermes", dict(samples=40, instances=2, inferences=3)),
    "resnet9_offchip": ("resnet9", "hermes", dict(samples=20, instances=1, inferences=2,
                                                   transport="offchip", replicate=False)),
    "lstm": ("lstm-ptb", "hermes", dict(samples=4, instances=1, inferences=2)),
    "transformer": ("char-transformer", "hermes_attn",
                    dict(samples=2, instances=1, inferences=1)),
}

#: keys a one-chip report may have that the golden ones do not, with their only allowed value
NEW = {("chip", "system"): {"chips": 1, "topology": "ring", "mesh_cols": None,
                            "graph_file": None, "link_bandwidth_gbps": 25.0,
                            "link_latency_ns": 20.0, "link_pj_per_bit": 1.17},
       ("timing", "energy_breakdown", "c2c"): 0.0,
       ("summary", "energy_breakdown", "c2c"): 0.0}


#: the scores, which pass through float32 BLAS and NumPy's SIMD functions: their last bits
#: depend on the CPU's kernels (the goldens were made on an AVX-512 CPU; on an AVX2 one the
#: LSTM's software score differs by 5e-9, relative, and an ADC code flipped by a float32
#: rounding moves a chip score by up to 1e-3). Where the float kernels are those that made
#: the goldens (the software score comes out identical) every value must be identical; on
#: another CPU the scores must agree to these relative tolerances, all else still exactly.
SCORE_TOLERANCE = {"software": 1e-6, "chip": 5e-3, "chip_mean": 5e-3, "chip_ci95": 5e-3}


def _compare(old, new, path=(), scores_exact=True):
    if isinstance(old, dict):
        assert isinstance(new, dict), path
        for k in new.keys() - old.keys():
            tail = path[-2:] + (k,) if len(path) >= 2 else path + (k,)
            allowed = NEW.get(path + (k,), NEW.get(tail, KeyError))
            assert new[k] == allowed, f"new key {'.'.join(path + (k,))} = {new[k]!r}"
        for k in old:
            assert k in new, f"missing {'.'.join(path + (k,))}"
            _compare(old[k], new[k], path + (k,), scores_exact)
    elif isinstance(old, list):
        assert isinstance(new, list) and len(old) == len(new), path
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _compare(a, b, path + (str(i),), scores_exact)
    elif (not scores_exact and len(path) >= 2 and path[0] in ("accuracy", "summary")
          and path[1] in SCORE_TOLERANCE):
        assert new == pytest.approx(old, rel=SCORE_TOLERANCE[path[1]]), \
            f"{'.'.join(path)}: {old!r} then, {new!r} now"
    else:
        assert old == new, f"{'.'.join(path)}: {old!r} then, {new!r} now"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_one_chip_system_reproduces_the_single_chip(name, monkeypatch):
    # the golden reports were made with float32 BLAS products (before the exact products
    # on AMX, which round differently): the same way here
    monkeypatch.setenv("CHIPSIM_PRODUCTS", "blas")
    model, chip, cfg = CASES[name]
    one = override(resolve_chip(chip), "system.chips", 1)  # a system of one chip, explicitly
    new = simulate(model, one, config=RunConfig(**cfg)).to_dict()
    new.pop("provenance")
    t = new["timing"]
    t["timeline"] = "sha256:" + hashlib.sha256(json.dumps(t["timeline"]).encode()).hexdigest()
    assert "system" not in new   # the report of one chip has no system section
    old = json.loads(GOLDEN.read_text())[name]
    new = json.loads(json.dumps(new))
    _compare(old, new, scores_exact=new["accuracy"]["software"] == old["accuracy"]["software"])


def test_the_comparison_can_fail():
    with pytest.raises(AssertionError, match="timing.latency_ns"):
        _compare({"timing": {"latency_ns": 1.0}}, {"timing": {"latency_ns": 1.5}})
    with pytest.raises(AssertionError, match="new key timing.extra"):
        _compare({"timing": {}}, {"timing": {"extra": 0}})
    score = {"accuracy": {"chip": [2.0], "software": 1.0}}
    moved = {"accuracy": {"chip": [2.002], "software": 1.0}}
    with pytest.raises(AssertionError, match="accuracy.chip.0"):
        _compare(score, moved)
    _compare(score, moved, scores_exact=False)  # another CPU's float kernels
    for far in ({"chip": [2.02], "software": 1.0}, {"chip": [2.0], "software": 1.00001}):
        with pytest.raises(AssertionError, match="accuracy"):
            _compare(score, {"accuracy": far}, scores_exact=False)
    with pytest.raises(AssertionError, match="timing.latency_ns"):  # the rest stays exact
        _compare({"timing": {"latency_ns": 1.0}}, {"timing": {"latency_ns": 1.0000001}},
                 scores_exact=False)
