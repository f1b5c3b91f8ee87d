"""Every command's help shows an example; ``python -m chipsim`` works; help stays light."""

import subprocess
import sys

import pytest

from chipsim.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_help_has_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example" in out.lower() and f"chipsim {command}" in out


def test_all_commands_are_checked():
    assert {"map", "mvm-error", "validate", "run", "report"} <= set(COMMANDS)


def test_python_m_chipsim_help():
    r = subprocess.run([sys.executable, "-m", "chipsim", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    for name in COMMANDS:
        assert name in r.stdout
    r = subprocess.run([sys.executable, "-m", "chipsim", "run", "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "--set KEY=VALUE" in r.stdout


def test_building_the_parser_imports_no_heavy_library():
    code = ("import sys; from chipsim.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('numpy', 'matplotlib', 'simpy', 'torch', 'scipy', "
            "'numba', 'networkx', 'tqdm') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
