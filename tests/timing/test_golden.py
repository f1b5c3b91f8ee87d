"""The timing engine reproduces its golden data exactly (``tests/timing/golden``).

Every configuration of ``golden/harness.py`` is re-run and its whole
:class:`~chipsim.timing.result.TimingResult` compared with the stored one (integer
picoseconds, floats to the last bit). Regenerate the data with
``python tests/timing/golden/make_golden.py`` only when a change of results is intended.
"""

import dataclasses
import json

import pytest

from chipsim.calibration.usecases import USE_CASES
from chipsim.calibration.validate import MODES, use_case_runs

from .golden import harness


@pytest.fixture(scope="module")
def golden():
    return harness.load_golden()["configs"]


@pytest.fixture(scope="module")
def runs():
    """Each configuration's run, made once for the tests of this module."""
    cache = {}

    def run(name):
        if name not in cache:
            cache[name] = harness.CONFIGS[name]()
        return cache[name]
    return run


def test_golden_data_cover_every_configuration(golden):
    assert sorted(golden) == sorted(harness.CONFIGS)


@pytest.mark.parametrize("name", list(harness.CONFIGS))
def test_timing_result_matches_golden(golden, runs, name):
    got = harness.one_chip(harness.serialize(runs(name).result))
    want = golden[name]["result"]
    differ = sorted(k for k in got.keys() | want.keys()
                    if harness.canonical(got.get(k)) != harness.canonical(want.get(k)))
    assert not differ, f"{name}: result fields differ from the golden data: {differ}"
    assert harness.canonical(got) == harness.canonical(want)


@pytest.mark.parametrize("name", list(harness.CONFIGS))
def test_mvms_per_core_are_the_expected(golden, runs, name):
    run = runs(name)
    expected = {str(c): n for c, n in run.expected_mvms.items()}
    assert expected == golden[name]["expected_mvms"], f"{name}: the expected MVMs changed"
    assert expected and all(expected.values())
    mvms = {str(c): counts["mvms"] for c, counts in run.result.core_counts.items()}
    assert mvms == expected, f"{name}: MVMs per core differ from chipsim.timing.expected_mvms"


@pytest.mark.parametrize("name", USE_CASES)
def test_use_case_configurations_are_the_calibration_runs(name):
    # the harness records the timeline of Table I's use cases; apart from it, its runs are
    # those of chipsim.calibration (chipsim validate)
    runs = use_case_runs(use_cases=[name])
    for mode in MODES:
        got = harness.CONFIGS[f"usecase-{name}-{mode}"]().result
        assert got.timeline
        assert dataclasses.replace(got, timeline=()) == runs[(name, mode)]


def test_one_chip_refuses_a_system_value(runs):
    got = harness.serialize(runs("resnet9-64-onchip-single").result)
    assert "system_spec" not in harness.one_chip(got)
    for path in harness.SYSTEM_FIELDS:
        bad = json.loads(json.dumps(got))
        d = bad
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = 7
        with pytest.raises(AssertionError, match=f"{'.'.join(path)} differs"):
            harness.one_chip(bad)
