import pytest

from chipsim.calibration.validate import use_case_runs as _runs


@pytest.fixture(scope="session")
def use_case_runs():
    """The six Table I use-case runs on the reference chip."""
    return _runs()
