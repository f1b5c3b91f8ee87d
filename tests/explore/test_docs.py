"""The docstring examples of chipsim.explore run and give what they show; exports are real."""

import doctest
import importlib

import pytest

MODULES = ["chipsim.explore", *(f"chipsim.explore.{m}" for m in (
    "grid", "pareto", "worker", "executors", "sweep", "table", "figures"))]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert getattr(module, attr) is not None, (name, attr)


def test_worker_module_loads_no_numerics():
    # a pool worker caps its threads before numpy/numba load: the module must not load them
    import subprocess
    import sys

    code = ("import sys, chipsim.explore.worker; "
            "print(sorted(m for m in ('numpy', 'numba', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
