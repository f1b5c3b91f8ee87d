"""The docstring examples of the fault model's modules run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["chipsim.spec.faults", "chipsim.timing.routes", "chipsim.noc.topology",
           "chipsim.functional.core"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, raise_on_error=False)
    assert result.failed == 0 and result.attempted > 0
    for attr in module.__all__:
        assert getattr(module, attr) is not None
