"""The docstring examples of the functional modules run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["chipsim.functional.accuracy", "chipsim.functional.executor",
           "chipsim.functional.mvm_error"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0 and result.attempted > 0
