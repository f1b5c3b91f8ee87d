"""One small ``chipsim run --out`` shared by the report tests (accuracy, timing, t sweep)."""

import contextlib
import io
import json

import pytest

from chipsim.cli import main

#: small but complete: accuracy on 2 instances, timing, a two-point accuracy-vs-time sweep
SMALL = ["--samples", "8", "--instances", "2", "--set", "run.batch=8", "--inferences", "2",
         "--transport", "offchip", "--set", "core.gdc_calibration_mvms=1", "--quiet"]


def run_cli(*argv: str) -> tuple[int, str]:
    """Exit status and stdout of ``chipsim ARGV``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(list(argv))
    return rc, out.getvalue()


@pytest.fixture(scope="session")
def report_run(tmp_path_factory):
    """(report directory, the --json object) of one small run with a t sweep."""
    d = tmp_path_factory.mktemp("report") / "rep"
    rc, text = run_cli("run", *SMALL, "--t-sweep", "60,3600", "--out", str(d), "--json")
    assert rc == 0
    return d, json.loads(text)
