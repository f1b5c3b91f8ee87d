"""Ctrl-C and a closed output pipe: one line on stderr, a conventional exit status, nothing
partial (chipsim.cli.main handles both for every command)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from chipsim.commands import run as run_command
from chipsim.explore import sweep as sweep_module


def _chipsim(*argv, cwd):
    return subprocess.Popen([sys.executable, "-m", "chipsim", *argv], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _working(proc, timeout_s=60.0):
    """Wait until ``proc`` runs threads besides its main one (numpy's BLAS is loaded: the
    command's imports are under way), then 3 s more: into the simulation (the main job runs
    15 s or more)."""
    deadline = time.monotonic() + timeout_s
    while len(os.listdir(f"/proc/{proc.pid}/task")) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run started no thread"
        time.sleep(0.05)


@pytest.mark.slow
def test_ctrl_c_during_run_is_one_line_exit_130_and_no_directory(tmp_path):
    proc = _chipsim("run", "--out", "report", cwd=tmp_path)  # ResNet-9: tens of seconds
    try:
        _working(proc)
        time.sleep(3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert time.monotonic() - sent < 10  # not after the helper threads' work
    assert (proc.returncode, out, err) == (130, b"", b"chipsim run: interrupted\n")
    assert os.listdir(tmp_path) == []  # no report directory, no temporary one


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_ctrl_c_in_any_command_is_handled_in_one_place(command, tmp_path, cli, monkeypatch,
                                                       tiny_lstm):
    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_command, "run", interrupted)
    monkeypatch.setattr(sweep_module, "run_sweep", interrupted)
    argv = {"run": ["run"],
            "sweep": ["sweep", tiny_lstm, "--grid", "core.adc_bits=4", "--out", "sw"]}[command]
    code, out, err = cli(*argv)
    hint = {"run": "", "sweep": "; finished points are stored in sw/points: rerun the same "
                                "command to resume"}[command]
    assert (code, out, err) == (130, "", f"chipsim {command}: interrupted{hint}\n")


def test_a_closed_output_pipe_is_one_line_exit_141(tmp_path, tiny_lstm):
    proc = _chipsim("map", tiny_lstm, "--json", cwd=tmp_path)
    proc.stdout.close()  # the reader went away before the first byte (as `| head -c0`)
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert err == b"chipsim map: error: output closed by its reader before the end (broken " \
                  b"pipe)\n"
