"""The docstring examples of chipsim.kernels run and give what they show."""

import doctest
import importlib

import pytest

import chipsim.kernels

MODULES = ["chipsim.kernels", *(f"chipsim.kernels.{m}" for m in
                                ("fp16", "pwm", "readout", "adc", "ldpu"))]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0 and result.attempted > 0


def test_public_api_is_exported_and_documented():
    from chipsim.kernels import reference

    assert set(chipsim.kernels.__all__) == set(reference.__all__)
    for name in chipsim.kernels.__all__:
        doc = getattr(chipsim.kernels, name).__doc__
        for section in ("Parameters", "Returns", "Raises", "Examples"):
            assert section in doc, (name, section)
