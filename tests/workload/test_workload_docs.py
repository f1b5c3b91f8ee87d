"""The examples in the workload docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = ["chipsim.workload", "chipsim.workload.nodes", "chipsim.workload.graph",
           "chipsim.workload.forward", "chipsim.workload.zoo", "chipsim.workload.files",
           "chipsim.workload.importers.torch", "chipsim.workload.importers.onnx"]


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
