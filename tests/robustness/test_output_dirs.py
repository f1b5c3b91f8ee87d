"""Output directories (chipsim.outdir): a command never overwrites a file it did not write.

``chipsim map --out`` is the acceptance case: a hand-edited ``mapping.yaml``, a file added to
a mapping directory, a report directory and a folder of the user's are never written into.
The same rule holds for report and sweep directories (the one-line messages of ``chipsim
run --out`` are rows of test_bad_input.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chipsim.errors import ChipsimError
from chipsim.outdir import MARKER, building, check_owned, update_files

MAP_ERR = "chipsim map: error: "


def _files(folder):
    """``{relative path: bytes}`` of every file below ``folder``."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def mapped(tmp_path, tiny_lstm, cli, monkeypatch):
    """``chipsim map TINY --out maps`` run once in the scratch folder: the argv to run again."""
    monkeypatch.chdir(tmp_path)
    argv = ["map", tiny_lstm, "--out", "maps"]
    code, out, err = cli(*argv)
    assert (code, err) == (0, "")
    assert "wrote mapping: maps/mapping.yaml" in out
    assert sorted(os.listdir("maps")) == [MARKER, "core_grid.png", "mapping.yaml"]
    return argv


def test_map_out_replaces_its_own_directory(mapped, tmp_path, cli):
    code, _, err = cli(*mapped, "--seed", "1")
    assert (code, err) == (0, "")
    assert sorted(os.listdir("maps")) == [MARKER, "core_grid.png", "mapping.yaml"]
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # no leftovers


def test_map_out_never_overwrites_a_hand_edited_mapping(mapped, cli):
    with open("maps/mapping.yaml", "a") as fh:
        fh.write("# moved block 3 by hand\n")
    before = _files(Path("maps"))
    code, out, err = cli(*mapped)
    assert (code, out) == (2, "")
    assert err == (f"{MAP_ERR}maps: mapping.yaml was changed after chipsim wrote it; move it "
                   "away or choose another output directory\n")
    assert _files(Path("maps")) == before


def test_map_out_never_deletes_a_file_added_to_its_directory(mapped, cli):
    with open("maps/notes.txt", "w") as fh:
        fh.write("keep me")
    code, _, err = cli(*mapped)
    assert code == 2
    assert err == (f"{MAP_ERR}maps: holds 'notes.txt', which chipsim did not write; move it "
                   "away or choose another output directory\n")
    assert open("maps/notes.txt").read() == "keep me"


def test_map_out_never_writes_into_a_report_or_a_users_folder(tmp_path, tiny_lstm, cli,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    with building("rep", "report") as new:  # as chipsim run --out writes it
        (new / "report.json").write_text("{}")
    os.mkdir("mine")
    with open("mine/mapping.yaml", "w") as fh:
        fh.write("blocks: []  # my own mapping\n")
    before = _files(tmp_path)
    code, _, err = cli("map", tiny_lstm, "--out", "rep")
    assert (code, err) == (2, f"{MAP_ERR}rep: is a chipsim report directory, not a mapping "
                              "directory; choose another output directory\n")
    code, _, err = cli("map", tiny_lstm, "--out", "mine")
    assert (code, err) == (2, f"{MAP_ERR}mine: exists and is not a chipsim mapping directory "
                              "(it holds 'mapping.yaml'); choose another output directory\n")
    assert _files(tmp_path) == before


def test_map_out_checks_the_directory_before_mapping(tmp_path, cli, monkeypatch):
    from chipsim.commands import map as map_command

    monkeypatch.chdir(tmp_path)
    os.mkdir("mine")
    open("mine/x", "w").close()
    monkeypatch.setattr(map_command, "_workload_layers", lambda *a: pytest.fail("mapped"))
    assert cli("map", "resnet9", "--out", "mine")[0] == 2


def test_missing_parent_folders_are_created_only_when_written(tmp_path, tiny_lstm, cli,
                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("map", tiny_lstm, "--exclude", "99", "--out", "a/b/maps")
    assert code == 2 and "excluded core 99" in err
    assert os.listdir(tmp_path) == []  # checked, not created
    assert cli("map", tiny_lstm, "--out", "a/b/maps")[0] == 0
    assert sorted(os.listdir("a/b/maps")) == [MARKER, "core_grid.png", "mapping.yaml"]


def test_an_interrupted_update_leaves_files_the_next_run_accepts(tmp_path, monkeypatch):
    from chipsim import outdir

    with building(tmp_path / "s", "sweep", replace=False) as new:
        (new / "sweep.json").write_text("{}")
    update_files(tmp_path / "s", "sweep", {"table.csv": b"a\n"})
    real = outdir.atomic_write

    def crash(path, data):  # the marker is written, then the process dies before the table
        if path.name != MARKER:
            raise KeyboardInterrupt
        return real(path, data)

    monkeypatch.setattr(outdir, "atomic_write", crash)
    with pytest.raises(KeyboardInterrupt):
        update_files(tmp_path / "s", "sweep", {"table.csv": b"b\n"})
    monkeypatch.undo()
    assert (tmp_path / "s" / "table.csv").read_bytes() == b"a\n"
    check_owned(tmp_path / "s", "sweep", ["table.csv"])  # the old content is accepted
    update_files(tmp_path / "s", "sweep", {"table.csv": b"c\n", "figures/x.png": b"png"})
    marker = json.loads((tmp_path / "s" / MARKER).read_text())
    assert set(marker["files"]) == {"sweep.json", "table.csv", "figures/x.png"}
    assert "pending" not in marker
    update_files(tmp_path / "s", "sweep", {"figures/x.png": None})  # removed, and forgotten
    assert not (tmp_path / "s" / "figures" / "x.png").exists()
    (tmp_path / "s" / "table.csv").write_text("edited")
    with pytest.raises(ChipsimError, match=r"s: table.csv was changed after chipsim wrote it"):
        update_files(tmp_path / "s", "sweep", {"table.csv": b"d\n"})
    assert (tmp_path / "s" / "table.csv").read_text() == "edited"


def test_a_failure_while_building_leaves_no_directory(tmp_path):
    with pytest.raises(RuntimeError), building(tmp_path / "out", "mapping") as new:
        (new / "mapping.yaml").write_text("half")
        raise RuntimeError("crash")
    assert os.listdir(tmp_path) == []
