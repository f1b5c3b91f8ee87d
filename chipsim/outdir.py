"""Output directories: one rule for every command that writes one.

``chipsim run --out DIR`` and ``chipsim report DIR`` write a *report* directory, ``chipsim map
--out DIR`` a *mapping* directory, ``chipsim sweep --out DIR`` a *sweep* directory. All follow
one rule:

- **Checked before any work.** The path must not be empty, nor the working folder or a folder
  above it (``.``, ``..``: the directory is replaced as a whole), and must lie below a folder
  this process can write in; missing parent folders are created only when the directory is
  written (:func:`output_path`). An existing directory must be one chipsim may write again
  (next point; :func:`check_output_dir`, :func:`check_owned`).
- **Never overwrites what chipsim did not write.** Every directory chipsim writes holds the
  file :data:`MARKER` (``.chipsim-files.json``): its kind and the SHA-256 of every file chipsim
  wrote into it. An existing directory is written again only when it is empty, or when its
  marker is of the same kind and every file that would be replaced is listed there with its
  current content. A file added by hand, or edited since chipsim wrote it (a hand-tuned
  ``mapping.yaml``), stops the command with a one-line error naming it; nothing is
  overwritten.
- **Built beside, renamed into place.** :func:`building` gives a hidden temporary sibling to
  write into; on success the marker is added and the sibling renamed to the final name (an
  existing directory of the same kind is replaced only at that moment), so a crash, a kill or
  Ctrl-C never leaves a partial directory under the final name. A sweep directory is created
  so and then grows: its points are written atomically as they finish, and its table and
  figures are replaced at the end of every run by :func:`update_files`, after the same check.

Examples
--------
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     out = pathlib.Path(tmp) / "out"
...     with building(out, "mapping") as new:
...         _ = (new / "mapping.yaml").write_text("blocks: []\\n")
...     sorted(p.name for p in out.iterdir())
['.chipsim-files.json', 'mapping.yaml']
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import ChipsimError
from .fileio import atomic_write, file_sha256

__all__ = ["MARKER", "KINDS", "output_path", "check_output_dir", "check_owned", "building",
           "update_files"]

#: the file in every directory chipsim writes: its kind and the SHA-256 of each of its files
MARKER = ".chipsim-files.json"
#: the ``format`` field of :data:`MARKER`
MARKER_FORMAT = "chipsim-files/1"
#: kinds of output directory: ``report`` (chipsim run --out, chipsim report), ``mapping``
#: (chipsim map --out), ``sweep`` (chipsim sweep --out)
KINDS = ("report", "mapping", "sweep")
#: a marker lists names and hashes; a larger file is not one chipsim wrote
_MARKER_MAX_BYTES = 1 << 20


def output_path(path: str | os.PathLike, kind: str, *, option: str = "--out") -> Path:
    """``path`` as a :class:`~pathlib.Path`, checked as the place of a ``kind`` directory.

    Refuses an empty path, the working folder or a folder above it (``.``, ``..``, ``/``), and
    a path below a file or in a folder this process cannot write in. Creates nothing: a
    temporary folder made to test writing is removed at once.

    Raises
    ------
    ChipsimError
        One line naming the path (``option``, the flag or argument that gave it, names an
        empty one: ``--out: empty path``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {KINDS}, got {kind!r}")
    text = os.fspath(path)
    if not text.strip():
        raise ChipsimError(f"{option}: empty path; give a directory name")
    target = Path(text)
    cwd = Path.cwd().resolve()
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of symbolic links
        raise ChipsimError(f"{target}: cannot write the {kind} directory there: {exc}") \
            from None
    if target.name in ("", "..") or resolved == cwd or resolved in cwd.parents:
        hint = (f"give a directory inside it, e.g. {option} {os.path.join(text, kind)}"
                if option.startswith("-") else "run the command from the folder above it")
        raise ChipsimError(f"{text}: names the working folder or a folder above it, which "
                           f"chipsim cannot replace; {hint}")
    up = next(p for p in target.parents if p.exists() or p.is_symlink())
    if not up.is_dir():
        raise ChipsimError(f"{target}: cannot write the {kind} directory there: {up} is not a "
                           "directory")
    try:  # writable: the test folder is made where the first missing folder will be
        Path(tempfile.mkdtemp(dir=up, prefix=f".{target.name}.")).rmdir()
    except OSError as exc:
        raise ChipsimError(f"{target}: cannot write the {kind} directory there: "
                           f"{exc.strerror or exc}") from None
    return target


def check_output_dir(path: str | os.PathLike, kind: str, *, option: str = "--out",
                     keep: Iterable[str] = ()) -> Path:
    """Check, before any work, that a ``kind`` directory can be written at ``path`` and
    replace what is there; return the path.

    ``path`` passes :func:`output_path` and is absent, an empty directory (or one holding
    only files named in ``keep``), or a directory chipsim wrote as a ``kind`` directory whose
    every file is one chipsim wrote, unchanged (names in ``keep`` may have changed: their
    content is carried into the new directory, as ``chipsim report`` keeps ``report.json``).

    Raises
    ------
    ChipsimError
        One line naming the directory and what is in the way.
    """
    target = output_path(path, kind, option=option)
    _check_replaceable(target, kind, frozenset(keep))
    return target


def check_owned(directory: str | os.PathLike, kind: str, names: Iterable[str]) -> None:
    """Check that the files ``names`` (relative paths) of the ``kind`` directory
    ``directory`` may be written: the directory is absent or empty, or chipsim wrote it as a
    ``kind`` directory, and each of ``names`` is absent or a file chipsim wrote, unchanged.

    Raises
    ------
    ChipsimError
        One line naming the directory or the file.
    """
    target = Path(directory)
    if not target.is_dir() or not any(target.iterdir()):
        return
    recorded = _marker_files(target, kind)
    for name in names:
        _check_file(target, name, recorded)


@contextlib.contextmanager
def building(path: str | os.PathLike, kind: str, *, replace: bool = True,
             keep: Iterable[str] = ()) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write a ``kind`` directory into; renamed to ``path``
    when the block ends without an exception (removed otherwise).

    The marker listing every file written is added first. With ``replace``, an existing
    directory at ``path`` is replaced only at this moment, and only if
    :func:`check_output_dir` allows it; without it, ``path`` must be absent or empty.
    """
    keep = frozenset(keep)
    target = check_output_dir(path, kind, keep=keep) if replace else output_path(path, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        yield tmp
        _write_marker(tmp, kind, {rel: file_sha256(tmp / rel) for rel, entry in _walk(tmp)
                                  if not entry.is_dir(follow_symlinks=False)})
        if replace:
            _replace(tmp, target, kind, keep)
        else:
            try:
                os.rename(tmp, target)  # over an empty directory at most
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise ChipsimError(f"{target}: was filled by another command meanwhile; "
                                   "rerun yours") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def update_files(directory: str | os.PathLike, kind: str,
                 files: Mapping[str, bytes | None]) -> dict[str, Path]:
    """Write (or, for None, remove) ``files`` (relative path → content) in the ``kind``
    directory ``directory`` that chipsim wrote, after :func:`check_owned`; return the paths
    written.

    Each file is written atomically, and the marker names the new content before the files
    are written, so a crash at any moment leaves every file one the next run accepts.
    """
    target = Path(directory)
    check_owned(target, kind, files)
    current = _settled(target, kind)
    new = {name: None if data is None else hashlib.sha256(data).hexdigest()
           for name, data in files.items()}
    _write_marker(target, kind, current, pending=new)
    written = {}
    for name, data in files.items():
        path = target / name
        if data is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        written[name] = atomic_write(path, data)
    _write_marker(target, kind, {k: v for k, v in {**current, **new}.items() if v is not None})
    return written


# ---------------------------------------------------------------------------- helpers
def _walk(root: Path) -> Iterator[tuple[str, os.DirEntry]]:
    """``(relative path, entry)`` of everything below ``root`` but the marker, sorted by name
    within each folder; symbolic links are not followed."""
    stack = [("", root)]
    while stack:
        prefix, folder = stack.pop()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = prefix + entry.name
            if rel == MARKER:
                continue
            yield rel, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append((rel + "/", Path(entry.path)))


def _read_marker(directory: Path) -> dict[str, Any] | None:
    """The marker of ``directory``, or None when it has none that chipsim wrote."""
    path = directory / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MARKER_MAX_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    ok = (isinstance(data, dict) and data.get("format") == MARKER_FORMAT
          and data.get("kind") in KINDS and isinstance(data.get("files"), dict)
          and isinstance(data.get("pending", {}), dict)
          and all(isinstance(v, str) for v in data["files"].values())
          and all(v is None or isinstance(v, str) for v in data.get("pending", {}).values()))
    return data if ok else None


def _marker_files(directory: Path, kind: str) -> dict[str, set[str | None]]:
    """``{relative path: accepted hashes}`` of the files chipsim wrote into the ``kind``
    directory ``directory``; a directory without such a marker is a :class:`ChipsimError`."""
    marker = _read_marker(directory)
    if marker is None:
        first = next((rel for rel, _ in _walk(directory)), MARKER)
        raise ChipsimError(f"{directory}: exists and is not a chipsim {kind} directory (it "
                           f"holds {first!r}); choose another output directory")
    if marker["kind"] != kind:
        raise ChipsimError(f"{directory}: is a chipsim {marker['kind']} directory, not a "
                           f"{kind} directory; choose another output directory")
    accepted: dict[str, set[str | None]] = {}
    for field in ("files", "pending"):
        for name, digest in marker.get(field, {}).items():
            accepted.setdefault(name, set()).add(digest)
    return accepted


def _settled(directory: Path, kind: str) -> dict[str, str]:
    """``{relative path: SHA-256}`` of the files the marker of ``directory`` lists that are
    there: the hash of the content found when the marker accepts it (an update that was
    interrupted leaves two accepted hashes), the recorded one otherwise."""
    out = {}
    for name, accepted in _marker_files(directory, kind).items():
        path = directory / name
        if path.is_file() and not path.is_symlink():
            digest = file_sha256(path)
            if digest in accepted:
                out[name] = digest
            elif accepted - {None}:  # changed by hand: keeps its record (refused if touched)
                out[name] = min(accepted - {None})
    return out


def _check_file(directory: Path, name: str, recorded: dict[str, set[str | None]]) -> None:
    """``directory/name`` is absent, or a file chipsim wrote there, unchanged."""
    path = directory / name
    if not (path.exists() or path.is_symlink()):
        return
    if path.is_symlink() or not path.is_file() or name not in recorded:
        raise ChipsimError(f"{directory}: holds {name!r}, which chipsim did not write; move it "
                           "away or choose another output directory")
    if file_sha256(path) not in recorded[name]:
        raise ChipsimError(f"{directory}: {name} was changed after chipsim wrote it; move it "
                           "away or choose another output directory")


def _check_replaceable(target: Path, kind: str, keep: frozenset[str]) -> None:
    """Raise unless ``target`` is absent, empty (or holds files in ``keep`` only, e.g. a
    ``report.json`` to render), or a ``kind`` directory of chipsim's files only, each
    unchanged (but those in ``keep``)."""
    if not (target.exists() or target.is_symlink()):
        return
    if target.is_symlink() or not target.is_dir():
        raise ChipsimError(f"{target}: exists and is not a directory; choose another output "
                           "directory")
    if all(entry.name in keep for entry in target.iterdir()):  # empty, or kept files only
        return
    recorded = _marker_files(target, kind)
    folders = {str(up) for name in recorded for up in Path(name).parents}
    for rel, entry in _walk(target):
        if entry.is_dir(follow_symlinks=False):
            if rel not in folders:
                raise ChipsimError(f"{target}: holds {rel!r}, which chipsim did not write; "
                                   "move it away or choose another output directory")
        elif rel not in keep:
            _check_file(target, rel, recorded)


def _replace(tmp: Path, target: Path, kind: str, keep: frozenset[str]) -> None:
    """Rename ``tmp`` to ``target``, replacing an existing ``kind`` directory last."""
    _check_replaceable(target, kind, keep)
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_marker(directory: Path, kind: str, files: Mapping[str, str],
                  pending: Mapping[str, str | None] | None = None) -> None:
    """Write the marker of ``directory``: its kind and ``{relative path: SHA-256}``; while
    :func:`update_files` writes, ``pending`` holds the new hashes (None: removed)."""
    from . import __version__

    data = {"format": MARKER_FORMAT, "kind": kind, "chipsim": __version__,
            "files": dict(sorted(files.items()))}
    if pending:
        data["pending"] = dict(sorted(pending.items()))
    atomic_write(directory / MARKER, json.dumps(data, indent=1) + "\n")
