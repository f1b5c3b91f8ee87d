"""The README's Python API quickstart runs as written (a doctest) and prints an accuracy and
a TOPS/W."""

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _api_block() -> str:
    text = README.read_text()
    section = text.split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no ```python block in the README's Python API section"
    return match.group(1)


@pytest.mark.slow
def test_readme_quickstart_runs(capsys):
    block = _api_block()
    assert "simulate(" in block and "tops_per_w" in block
    test = doctest.DocTestParser().get_doctest(block, {}, "README quickstart", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=print, clear_globs=False)
    assert result.failed == 0, capsys.readouterr().out
    assert result.attempted >= 5
    acc, timing = test.globs["acc"], test.globs["timing"]
    assert 0 < acc.chip_mean <= 100 and timing.tops_per_w > 0
    assert acc.samples == 100 and test.globs["chip"].n_cores == 128
    assert test.globs["chip"].core.adc_bits == 6


def test_readme_lists_every_importable_layer():
    """The README's table of importable layers names every operator the importers take."""
    from chipsim.workload.importers.onnx import ONNX_OPS
    from chipsim.workload.importers.torch import TORCH_MODULES

    rows = {line.split("|")[1].strip(): line for line in README.read_text().splitlines()
            if line.startswith("| ONNX |") or line.startswith("| PyTorch")}
    onnx_row = rows["ONNX"]
    torch_row = next(v for k, v in rows.items() if k.startswith("PyTorch"))
    assert [op for op in ONNX_OPS if f"`{op}`" not in onnx_row] == []
    assert [m for m in TORCH_MODULES if m.split("(")[0] not in torch_row] == []
