"""A wheel of the project installs and runs the main job from another folder.

The wheel is built from a copy of this source tree (a build writes into the tree it builds)
without build isolation (no download), installed
with ``--no-deps`` into a fresh virtual environment that sees this environment's packages
(numpy, numba, ...), and ``chipsim run --samples 10`` runs from an empty folder: the shipped
weights and calibration files must come from the installed package, not from the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_installs_and_runs(tmp_path):
    src, dist = tmp_path / "src", tmp_path / "dist"
    shutil.copytree(ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".*cache", "reports", "out"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(dist), str(src)], cwd=tmp_path)
    wheel = next(dist.glob("chipsim-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q",
          str(wheel)], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CHIPSIM_MODELS", "PYTHONPATH")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    where = _run([str(py), "-c", "import chipsim.models as m; print(m.__file__); "
                  "print(m.models_dir())"], cwd=work, env=env).split()
    assert all(Path(p).is_relative_to(env_dir) for p in where), where  # not the source tree
    assert (Path(where[1]) / "resnet9-hwa.npz").is_file()
    _run([str(env_dir / "bin" / "chipsim"), "run", "--samples", "10", "--instances", "2",
          "--out", "report"], cwd=work, env=env)
    report = json.loads((work / "report" / "report.json").read_text())
    assert report["accuracy"]["samples"] == 10
    assert report["summary"]["model"] == "resnet9"
    assert report["summary"]["tops_per_w"] > 0
