"""A one-chip system is the single chip of before systems existed, bit for bit.

``single_chip_golden.json`` holds the reports (without provenance) of four runs made with
chipsim at commit ec92321, before ``system`` existed (the script is below; the timelines are
kept as a SHA-256 of their JSON). Every value they had must come out identical; the only
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


def _compare(old, new, path=()):
    if isinstance(old, dict):
        assert isinstance(new, dict), path
        for k in new.keys() - old.keys():
            tail = path[-2:] + (k,) if len(path) >= 2 else path + (k,)
            allowed = NEW.get(path + (k,), NEW.get(tail, KeyError))
            assert new[k] == allowed, f"new key {'.'.join(path + (k,))} = {new[k]!r}"
        for k in old:
            assert k in new, f"missing {'.'.join(path + (k,))}"
            _compare(old[k], new[k], path + (k,))
    elif isinstance(old, list):
        assert isinstance(new, list) and len(old) == len(new), path
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _compare(a, b, path + (str(i),))
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
    _compare(old, json.loads(json.dumps(new)))


def test_the_comparison_can_fail():
    with pytest.raises(AssertionError, match="timing.latency_ns"):
        _compare({"timing": {"latency_ns": 1.0}}, {"timing": {"latency_ns": 1.5}})
    with pytest.raises(AssertionError, match="new key timing.extra"):
        _compare({"timing": {}}, {"timing": {"extra": 0}})
