"""Line coverage of chipsim.kernels by the kernel tests, with the JIT off (pure Python)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`

ROOT = Path(__file__).resolve().parents[2]


def test_kernel_tests_cover_the_kernels_in_pure_python(tmp_path):
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "COVERAGE_FILE": str(tmp_path / ".coverage")}
    cmd = [sys.executable, "-m", "pytest", "tests/kernels", "-q", "-p", "no:cacheprovider",
           "--cov=chipsim.kernels", "--cov-report=term-missing", "--cov-fail-under=90",
           "-k", "not coverage", "-m", "not many_draws"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
