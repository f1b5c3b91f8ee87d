"""The examples in the calibration modules' docstrings run."""

import doctest
import importlib

import pytest

MODULES = ["chipsim.calibration", "chipsim.calibration.golden", "chipsim.calibration.usecases",
           "chipsim.calibration.validate", "chipsim.calibration.fit",
           "chipsim.calibration.heldout"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, (name, attr)
