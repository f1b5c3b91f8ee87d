"""The gate every file the tool reads passes first, so a bad one is a one-line error.

Chip spec and mapping files, ``report.json``, network edge lists, model metadata, weights
and data archives (``.npz``) and ONNX models are all opened here (an ONNX model's external
data is checked by onnx itself: in the model's folder, a regular file, no link).
A file is refused, in one line naming it:

- when it is not a regular file (a link to one is followed): a FIFO, a device such as
  ``/dev/zero``, a socket or a directory is refused from :func:`os.stat`, before it is
  opened, so nothing blocks or reads without end;
- when it is larger than the cap of its kind, :data:`CAPS_MB`: 8 MB for YAML (read at about
  1 MB/s), 64 MB for JSON and other text, 4096 MB for ``.npz`` archives and ONNX models.
  An archive's members are checked too, from its zip directory and their ``.npy`` headers,
  before anything is decompressed (:func:`check_npz`: a zip bomb is refused before it is
  inflated). The environment variable ``CHIPSIM_MAX_INPUT_MB`` (a number of MB) replaces
  every cap, to read a larger file;
- when a document (:func:`read_document`, :func:`parse_document`) is empty, not UTF-8, not
  valid YAML or JSON, nested deeper than :data:`~chipsim.yamltext.MAX_DEPTH` levels, has a
  key twice or, in YAML, aliases that repeat more than
  :data:`~chipsim.yamltext.MAX_ALIAS_VALUES` values (see :mod:`chipsim.yamltext`).

Each reader describes its files with a :class:`FileKind` (the name used in messages, what to
write instead of an empty file, its error type), so the messages name the file the same way.

Examples
--------
>>> import tempfile, pathlib
>>> kind = FileKind("chip spec file", empty="write {} for every field's default")
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "chip.yaml"
...     _ = path.write_text("core: {adc_bits: 6}")
...     read_document(path, kind)
{'core': {'adc_bits': 6}}
>>> read_document("/dev/null", kind)
Traceback (most recent call last):
...
chipsim.errors.ChipsimError: /dev/null: cannot read the chip spec file: a character device, \
not a regular file
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import stat
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

import numpy as np
import yaml

from .errors import ChipsimError, brief
from .yamltext import MAX_DEPTH, load_yaml

__all__ = ["FileKind", "CAPS_MB", "ENV_MAX_MB", "cap_bytes", "open_file", "read_text",
           "read_document", "parse_document", "check_npz"]

CAPS_MB = MappingProxyType({"yaml": 8, "text": 64, "binary": 4096})
"""The largest file of each kind, in MB (2**20 bytes): ``yaml`` (spec and mapping files in
YAML, read at about 1 MB/s: a mapping of 65,536 blocks takes 6 MB; JSON reads 50 times
faster), ``text`` (JSON documents, edge lists), ``binary`` (``.npz`` archives, also the sum
of their members' uncompressed sizes; ONNX models)."""

ENV_MAX_MB = "CHIPSIM_MAX_INPUT_MB"
"""The environment variable that replaces every cap of :data:`CAPS_MB` (a number of MB)."""


@dataclass(frozen=True, slots=True)
class FileKind:
    """What a reader reads, for its messages.

    Attributes
    ----------
    what
        The file's name in messages (``cannot read the {what}``), e.g. ``chip spec file``.
    empty
        What to write instead of an empty document, said when one is refused.
    error
        Makes the exception raised from a message (default :class:`ChipsimError`).
    """

    what: str
    empty: str = ""
    error: Callable[[str], Exception] = ChipsimError

    def fail(self, path: str | os.PathLike, message: str) -> Exception:
        """The error ``{path}: {message}``."""
        return self.error(f"{path}: {message}")


def cap_bytes(kind: str) -> int:
    """The largest file of ``kind`` (a key of :data:`CAPS_MB`) in bytes, or the value of
    ``CHIPSIM_MAX_INPUT_MB`` when it is set."""
    env = os.environ.get(ENV_MAX_MB, "").strip()
    if not env:
        return CAPS_MB[kind] << 20
    try:
        mb = float(env)
    except ValueError:
        mb = math.nan
    if not (math.isfinite(mb) and mb > 0):
        raise ChipsimError(f"{ENV_MAX_MB}: must be a number of MB > 0, got {brief(env)}")
    return int(mb * 2**20)


_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                (stat.S_ISSOCK, "a socket"))


def _check_stat(st: os.stat_result, path: str | os.PathLike, kind: FileKind,
                cap_kind: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        what = next((name for test, name in _NOT_REGULAR if test(st.st_mode)), "special")
        raise kind.fail(path, f"cannot read the {kind.what}: {what}, not a regular file")
    if st.st_size > cap_bytes(cap_kind):
        raise _too_large(path, kind, cap_kind, f"{_mb(st.st_size)} is")


_LABEL = {"yaml": "a YAML file", "text": "a text file", "binary": "an archive or ONNX file"}


def _too_large(path: str | os.PathLike, kind: FileKind, cap_kind: str, size: str
               ) -> Exception:
    return kind.fail(path, f"cannot read the {kind.what}: {size} more than the "
                     f"{_mb(cap_bytes(cap_kind))} allowed for {_LABEL[cap_kind]}; set "
                     f"{ENV_MAX_MB} to a number of MB to allow more")


def _mb(size: int) -> str:
    """``size`` bytes for a message: ``512 bytes``, ``3 kB``, ``1.5 MB``, ``4,096 MB``."""
    if size < 1 << 10:
        return f"{size} bytes"
    if size < 1 << 20:
        return f"{size / 2**10:.0f} kB"
    return f"{size / 2**20:,.{0 if size >= 10 << 20 else 1}f}".removesuffix(".0") + " MB"


@contextlib.contextmanager
def open_file(path: str | os.PathLike, kind: FileKind, cap_kind: str = "binary"
              ) -> Iterator[IO[bytes]]:
    """Open the regular file ``path`` for reading bytes, after checking it (the module
    docstring) by ``os.stat`` and again on the open file (it might have been replaced).

    Raises
    ------
    Exception
        ``kind.error`` naming the file: missing, unreadable, not a regular file, too large.
    """
    try:
        st = os.stat(path)
        _check_stat(st, path, kind, cap_kind)
        # O_NONBLOCK: a file replaced by a FIFO since the stat does not block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise kind.fail(path, f"cannot read the {kind.what}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        _check_stat(os.fstat(fd), path, kind, cap_kind)
        os.set_blocking(fd, True)
        yield fh


def read_text(path: str | os.PathLike, kind: FileKind, cap_kind: str = "text") -> str:
    """The UTF-8 text of the file ``path``, checked as :func:`open_file` checks it."""
    with open_file(path, kind, cap_kind) as fh:
        try:
            data = fh.read(cap_bytes(cap_kind) + 1)
        except OSError as exc:
            raise kind.fail(path, f"cannot read the {kind.what}: {exc.strerror or exc}"
                            ) from None
    if len(data) > cap_bytes(cap_kind):  # it grew since the check
        raise _too_large(path, kind, cap_kind, "it holds")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise kind.fail(path, f"not a {kind.what} (not UTF-8 text)") from None


def _is_json(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".json"


def read_document(path: str | os.PathLike, kind: FileKind) -> Any:
    """The YAML document in the file ``path``, or the JSON one for a ``.json`` suffix, checked
    (the module docstring): a plain value of dicts, lists, strings, numbers, booleans and None.

    Raises
    ------
    Exception
        ``kind.error``, one line naming the file and what is wrong (the line, for YAML).
    """
    fmt = "json" if _is_json(path) else "yaml"
    return parse_document(read_text(path, kind, "text" if fmt == "json" else "yaml"), fmt,
                          path, kind)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {brief(key)}")
        out[key] = value
    return out


def parse_document(text: str, fmt: str, source: str | os.PathLike, kind: FileKind) -> Any:
    """The document ``text`` (``fmt`` = ``"yaml"`` or ``"json"``) of the file ``source``,
    checked as in :func:`read_document`."""
    if fmt == "json":
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys) if text.strip() else None
        except RecursionError:
            raise kind.fail(source, f"not valid JSON: nested deeper than {MAX_DEPTH} levels"
                            ) from None
        except ValueError as exc:  # JSONDecodeError, a duplicate key, an integer too long
            raise kind.fail(source, f"not valid JSON: {str(exc).split('; ')[0]}") from None
        if _deeper_than(data, MAX_DEPTH):
            raise kind.fail(source, f"not valid JSON: nested deeper than {MAX_DEPTH} levels")
    else:
        try:
            data = load_yaml(text)
        except yaml.YAMLError as exc:
            raise kind.fail(source, f"not valid YAML: {_yaml_problem(exc)}") from None
    if data is None:
        raise kind.fail(source, f"empty {kind.what}" + (f"; {kind.empty}" if kind.empty else ""))
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """The problem and its line, without PyYAML's context and snippet lines."""
    if isinstance(exc, yaml.MarkedYAMLError) and (exc.problem or exc.context):
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"{exc.problem or exc.context}{where}"
    return str(exc).splitlines()[0]


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether lists and dicts nest in ``data`` deeper than ``limit`` (without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))
    return False


def check_npz(fh: IO[bytes], source: str | os.PathLike, kind: FileKind) -> None:
    """Check the ``.npz`` archive open as ``fh`` before any member is decompressed: it is a
    zip archive whose members' uncompressed sizes (from its directory) add up to at most
    the ``binary`` cap, and each ``.npy`` member's header declares no more data than the
    member holds (NumPy allocates the declared array before reading it).

    Raises
    ------
    Exception
        ``kind.error``, one line naming the file and the member.
    """
    try:
        archive = zipfile.ZipFile(fh)
    except Exception:  # BadZipFile, NotImplementedError (a version), ...: not one to read
        raise kind.fail(source, f"not a readable {kind.what} (not an .npz zip archive: empty, "
                        "truncated or another format)") from None
    try:
        with archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if total > cap_bytes("binary"):
                raise _too_large(source, kind, "binary", f"its arrays take {_mb(total)} "
                                 "uncompressed,")
            for member in members:
                _check_npy_header(archive, member, source, kind)
    finally:
        fh.seek(0)


def _check_npy_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo,
                      source: str | os.PathLike, kind: FileKind) -> None:
    if not member.filename.endswith(".npy"):
        return  # np.load refuses it by name
    name = member.filename.removesuffix(".npy")
    try:
        with archive.open(member) as npy:
            version = np.lib.format.read_magic(npy)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(npy)
    except Exception as exc:  # numpy, zip and zlib errors all mean a damaged member
        raise kind.fail(source, f"array {brief(name)}: not a readable NumPy array "
                        f"({type(exc).__name__}: {exc})") from None
    declared = math.prod(shape) * dtype.itemsize
    if declared > member.file_size:
        raise kind.fail(source, f"array {brief(name)}: its header declares shape {shape} of "
                        f"{dtype} ({_mb(declared)}) but the archive holds "
                        f"{_mb(member.file_size)} for it")
