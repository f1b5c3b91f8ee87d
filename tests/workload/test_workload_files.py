"""Weights files: round trip, atomic write, damaged files."""

import json
import zipfile

import numpy as np
import pytest
import torch

from chipsim.workload import (
    WorkloadError,
    build,
    forward,
    from_torch,
    load_weights,
    save_weights,
)


def _same(a, b):
    assert (a.name, a.input_shape, a.nodes, a.architecture, a.params) == \
        (b.name, b.input_shape, b.nodes, b.architecture, b.params)
    assert a.weights.keys() == b.weights.keys()
    for layer, arrays in a.weights.items():
        assert arrays.keys() == b.weights[layer].keys()
        for param, value in arrays.items():
            np.testing.assert_array_equal(value, b.weights[layer][param])


@pytest.mark.parametrize("name, params", [
    ("resnet9", {}), ("lstm-ptb", {"hidden": 32}), ("resnet32", {"image_size": 8})])
def test_zoo_round_trip(tmp_path, name, params):
    net = build(name, rng=np.random.default_rng(0), **params)
    path = save_weights(net, tmp_path / f"{name}.npz")
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.npz"]  # no temporary left
    _same(load_weights(path), net)


def test_imported_round_trip(tmp_path, small_resnet, images):
    net = from_torch(small_resnet, images)
    loaded = load_weights(save_weights(net, tmp_path / "w.npz"))
    _same(loaded, net)
    assert loaded.architecture is None
    np.testing.assert_array_equal(forward(loaded, images.numpy()),
                                  forward(net, images.numpy()))


def test_overwrite_is_atomic(tmp_path, monkeypatch):
    path = save_weights(build("lstm-ptb", hidden=8), tmp_path / "w.npz")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        save_weights(build("lstm-ptb", hidden=16), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip"])
def test_damaged_file(tmp_path, damage):
    path = save_weights(build("lstm-ptb", hidden=8), tmp_path / "w.npz")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(b"not a zip file at all")
    else:  # corrupt array bytes inside the archive: CRC mismatch
        data[len(data) // 3: len(data) // 3 + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(WorkloadError, match=f"{path}: not a readable chipsim weights file"):
        load_weights(path)


def _rewrite(path, header=None, arrays=None):
    with np.load(path) as npz:
        files = {k: npz[k] for k in npz.files}
    if header is not None:
        files["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    files.update(arrays or {})
    np.savez(path, **files)


def test_shape_mismatch_names_file_and_layer(tmp_path):
    path = save_weights(build("resnet9", rng=np.random.default_rng(0)), tmp_path / "w.npz")
    with np.load(path) as npz:
        header = json.loads(npz["header"].tobytes())
    index = header["arrays"].index(["conv3", "weight"])
    _rewrite(path, arrays={f"a{index}": np.zeros((112, 112, 3, 2), np.float32)})
    with pytest.raises(WorkloadError, match=rf"{path}: layer 'conv3' \(Conv2d\): weight has "
                                            r"shape \(112, 112, 3, 2\)"):
        load_weights(path)


def test_bad_header(tmp_path):
    path = save_weights(build("lstm-ptb", hidden=8), tmp_path / "w.npz")
    _rewrite(path, header={"format": "something-else"})
    with pytest.raises(WorkloadError, match="not a chipsim-weights file"):
        load_weights(path)
    path = save_weights(build("lstm-ptb", hidden=8), tmp_path / "w.npz")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("extra.npy", b"")
    with pytest.raises(WorkloadError, match=str(path)):
        load_weights(path)


def test_missing_file(tmp_path):
    with pytest.raises(WorkloadError, match="nope.npz: cannot read the chipsim weights file: No "
                       "such file"):
        load_weights(tmp_path / "nope.npz")


def test_torch_is_importable():  # the dev extra installs the importers' libraries
    assert torch.__version__.startswith("2.13.0")
