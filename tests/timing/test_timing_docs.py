"""The examples in the timing engine's docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["chipsim.timing.calendar", "chipsim.timing.engine", "chipsim.timing.kernel",
           "chipsim.timing.links", "chipsim.timing.ports", "chipsim.timing.state",
           "chipsim.timing.stream", "chipsim.timing.units"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
