"""The engine layers do not depend on the calibration: ``chipsim.cost`` imports neither
``chipsim.timing`` nor ``chipsim.calibration`` (AST scan of its source files)."""

import ast
from pathlib import Path

import pytest

import chipsim

ROOT = Path(chipsim.__file__).parent.parent
FORBIDDEN = ("chipsim.timing", "chipsim.calibration")


def _imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of every module imported anywhere in ``path`` (also inside functions),
    relative imports resolved against the file's package under ``root``; ``from M import n``
    gives ``M`` and ``M.n`` (``n`` may be a submodule)."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _forbidden(path: Path, root: Path = ROOT) -> list[str]:
    return sorted(m for m in _imported_modules(path, root)
                  if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def test_scan_resolves_relative_and_function_level_imports(tmp_path):
    bad = tmp_path / "chipsim" / "cost" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from ..timing import engine\nfrom .. import calibration\n"
                   "def f():\n    import chipsim.calibration.fit\n    from .energy import x\n")
    assert _forbidden(bad, tmp_path) == ["chipsim.calibration", "chipsim.calibration.fit",
                                         "chipsim.timing", "chipsim.timing.engine"]
    assert "chipsim.cost.energy" in _imported_modules(bad, tmp_path)


COST_FILES = sorted((ROOT / "chipsim" / "cost").rglob("*.py"))


def test_cost_package_is_scanned():
    assert ROOT / "chipsim" / "cost" / "energy.py" in COST_FILES


@pytest.mark.parametrize("path", COST_FILES, ids=lambda p: p.name)
def test_cost_imports_neither_timing_nor_calibration(path):
    assert _forbidden(path) == []
