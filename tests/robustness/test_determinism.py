"""Determinism: the same command and seed give the same report.json, byte for byte, apart
from the volatile provenance fields the report lists; another seed gives other chip instances;
a sweep's points do not depend on the number of worker processes (with two workers the points
run in other processes, so this also checks that nothing depends on the process).

The runs use a small LSTM with the built-in character task on a chip with faults (stuck
devices drawn per instance, a dead core, a dead ADC column, a broken link), so every random
draw of the fault model is covered.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from chipsim.functional.executor import ChipInstance
from chipsim.mapping import map_workload
from chipsim.spec import hermes, override
from chipsim.workload import build

FAULTS = ["--set", "faults.stuck_fraction=0.05", "--set", "faults.dead_cores=[1]",
          "--set", "faults.dead_adc_columns=[[0,3],[2,0]]", "--set", "faults.broken_links=[[9,10]]"]
RUN = ["--samples", "2", "--instances", "2", "--inferences", "2", "--quiet"]


def _stable(report_dir) -> str:
    """report.json without the volatile fields it names (``provenance.volatile_fields``)."""
    data = json.loads((report_dir / "report.json").read_text())
    volatile = data["provenance"]["volatile_fields"]
    assert "provenance.date" in volatile and "provenance.host" in volatile
    for dotted in volatile:
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node.pop(last)
    return json.dumps(data, indent=1)


@pytest.mark.slow
def test_same_command_same_report(tiny_lstm, tmp_path, cli):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        code, _, err = cli("run", tiny_lstm, *FAULTS, *RUN, "--out", out)
        assert code == 0, err
    assert _stable(outs[0]) == _stable(outs[1])
    data = json.loads((outs[0] / "report.json").read_text())
    assert data["summary"]["faults"]["dead_cores"] == [1]
    assert data["accuracy"]["mvms_per_core"][1] == 0


def test_another_seed_gives_other_chip_instances(tiny_lstm, cli):
    results = []
    for seed in ("0", "1"):
        code, out, err = cli("run", tiny_lstm, *FAULTS, *RUN, "--no-timing", "--json",
                             "--seed", seed)
        assert code == 0, err
        results.append(json.loads(out)["accuracy"]["chip"])
    assert results[0][0] != results[0][1]  # two instances of one run differ
    assert results[0] != results[1]  # and another seed gives others


def test_chip_instances_programmed_from_a_seed():
    net = build("lstm-ptb", vocab=20, embed=8, hidden=16)
    chip = override(hermes(), "faults.stuck_fraction", 0.1)
    m = map_workload(net.lowered(), chip)
    x = np.zeros((1, 4), np.int64)

    def program(seed):
        inst = ChipInstance(net, m, chip, np.random.default_rng(seed), np.random.default_rng(9),
                            calibration_inputs=x)
        return [np.concatenate([b.inst.g_prog.ravel(), b.inst.stuck_g.ravel()])
                for reps in inst._blocks.values() for blocks in reps for b in blocks]

    a, b, c = program(0), program(0), program(1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not any(np.array_equal(u, v) for u, v in zip(a, c, strict=True))


def _records(out):
    recs = {}
    for p in sorted((out / "points").glob("*.json")):
        rec = json.loads(p.read_text())
        rec.pop("elapsed_s", None)
        recs[p.name] = rec
    return recs


@pytest.mark.slow
def test_sweep_points_do_not_depend_on_the_number_of_workers(tiny_lstm, tmp_path, cli):
    argv = ["sweep", tiny_lstm, "--grid", "faults.stuck_fraction=0,0.05", "--samples", "2",
            "--instances", "1", "--set", "run.inferences=1", "--quiet"]
    for workers in ("1", "2"):
        code, _, err = cli(*argv, "--workers", workers, "--out", tmp_path / workers)
        assert code == 0, err
    one, two = _records(tmp_path / "1"), _records(tmp_path / "2")
    assert len(one) == 2 and one == two
    tables = [(tmp_path / w / "table.csv").read_bytes() for w in ("1", "2")]
    assert tables[0] == tables[1]
