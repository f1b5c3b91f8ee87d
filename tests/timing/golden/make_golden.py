"""Write the timing golden data: every configuration of ``harness.CONFIGS`` run with the timing
engine importable as ``chipsim``.

Run by hand from the repository root::

    python tests/timing/golden/make_golden.py

To freeze the committed engine while the work tree holds other changes::

    git worktree add /tmp/golden-src HEAD
    PYTHONPATH=/tmp/golden-src python tests/timing/golden/make_golden.py
    git worktree remove --force /tmp/golden-src

The file (``harness.GOLDEN``) is written atomically (a temporary file, then ``os.replace``),
and only if every configuration gives the same result in two other processes with other hash
seeds (other memory layouts): a result that depends on them cannot be frozen.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402

import chipsim  # noqa: E402


def _source() -> dict[str, object]:
    """Where the ``chipsim`` that ran comes from: its directory, commit and whether its
    package tree differs from that commit."""
    src = Path(chipsim.__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=src, capture_output=True, text=True,
                              check=True).stdout.strip()

    return {"chipsim": str(src), "commit": git("rev-parse", "HEAD"),
            "chipsim_modified": bool(git("status", "--porcelain", "--", "."))}


def _digest(record: dict) -> str:
    return hashlib.sha256(harness.canonical(record).encode("utf-8")).hexdigest()


def _digests_elsewhere(seed: int) -> dict[str, str]:
    """Digests of every configuration's record, computed by a child process with hash seed
    ``seed``."""
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    out = subprocess.run([sys.executable, __file__, "--digests"], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv: list[str]) -> int:
    """Run every configuration and write the golden file (``--digests``: print the digest
    of each configuration's record as JSON instead)."""
    if argv == ["--digests"]:
        print(json.dumps({name: _digest(harness.record(run()))
                          for name, run in harness.CONFIGS.items()}))
        return 0
    source = _source()
    print(f"chipsim from {source['chipsim']} at {source['commit']}"
          + (" (MODIFIED)" if source["chipsim_modified"] else ""))
    configs = {}
    for name, run in harness.CONFIGS.items():
        t = time.perf_counter()
        configs[name] = harness.record(run())
        print(f"{name}: {time.perf_counter() - t:.2f} s")
    for seed in (1, 2):
        other = _digests_elsewhere(seed)
        unstable = [n for n in configs if other.get(n) != _digest(configs[n])]
        if unstable:
            raise RuntimeError(f"results depend on the process (PYTHONHASHSEED={seed}): "
                               f"{unstable}; nothing written")
    print("every configuration gives the same result in two other processes")
    data = {"meta": source, "configs": configs}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if json.loads(text)["configs"] != configs:
        raise RuntimeError("the golden data do not survive a JSON round trip")
    out = harness.GOLDEN
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
            f.write(text.encode("utf-8"))
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(configs)} configurations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
