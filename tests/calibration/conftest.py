import pytest

from chipsim.calibration.fit import RunCache, fit
from chipsim.calibration.heldout import leave_one_out
from chipsim.calibration.validate import use_case_runs as _runs


@pytest.fixture(scope="session")
def use_case_runs():
    """The six Table I use-case runs on the reference chip (shared: they take a second)."""
    return _runs()


@pytest.fixture(scope="session")
def run_cache():
    """Engine runs shared by every fit of the reference chip in this session."""
    return RunCache()


@pytest.fixture(scope="session")
def full_fit(run_cache):
    """The fit to all of Table I (python -m chipsim.calibration.fit; about 5 s)."""
    return fit(cache=run_cache)


@pytest.fixture(scope="session")
def held_out(run_cache, full_fit):
    """The three leave-one-use-case-out folds (sharing the full fit's runs)."""
    return leave_one_out(cache=run_cache)
