"""Data loaders: the bundled real data and the standard file formats (on tiny generated files)."""

import pickle

import numpy as np
import pytest

from chipsim.data import CharVocab, load_cifar10, load_ptb_chars, mnist5k, pydoc_chars
from chipsim.errors import ChipsimError


def test_mnist_split_is_fixed_and_stratified():
    xtr, ytr = mnist5k("train")
    xte, yte = mnist5k("test")
    assert xtr.shape == (4000, 1, 32, 32) and xte.shape == (1000, 1, 32, 32)
    assert np.all(np.bincount(ytr) == 400) and np.all(np.bincount(yte) == 100)
    assert xtr.dtype == np.float32 and 0.0 <= xte.min() and xte.max() <= 1.0
    assert np.all(xte[:, :, :2, :] == 0) and np.all(xte[:, :, 30:, :] == 0)  # padding
    # no image in both splits
    tr = {x.tobytes() for x in xtr}
    assert sum(x.tobytes() in tr for x in xte) < 5  # MNIST has a few exact duplicates at most
    with pytest.raises(ChipsimError, match="split"):
        mnist5k("val")


def test_mnist_bad_file(tmp_path):
    import gzip
    p = tmp_path / "m.csv.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("1,2,3\n")
    with pytest.raises(ChipsimError, match="784 pixels"):
        mnist5k("test", path=p)
    with gzip.open(p, "wt") as fh:  # pixels are integers 0-255
        fh.write(",".join(["0"] * 783 + ["256", "3"]) + "\n")
    with pytest.raises(ChipsimError, match="m.csv.gz: cannot read .*256"):
        mnist5k("test", path=p)


def test_pydoc_corpus():
    tr, vocab = pydoc_chars("train")
    te, vocab2 = pydoc_chars("test")
    assert vocab == vocab2 and len(vocab) == 50
    assert 0.085 < len(te) / (len(tr) + len(te)) < 0.115
    assert tr.min() >= 0 and tr.max() < 50
    text = vocab.decode(te[:200])
    assert " " in text and text == text.lower()


def test_ptb_char_format(tmp_path):
    p = tmp_path / "ptb.char.test.txt"
    p.write_text("a _ c a t\nt h e _ d o g\n")
    ids, vocab = load_ptb_chars(p)
    assert vocab.decode(ids) == "a_cat\nthe_dog\n"
    ids2, _ = load_ptb_chars(p, vocab=CharVocab(vocab.symbols))
    assert np.array_equal(ids, ids2)
    bad = tmp_path / "bad.txt"
    bad.write_text("ab c\n")
    with pytest.raises(ChipsimError, match="bad.txt:1"):
        load_ptb_chars(bad)
    with pytest.raises(ChipsimError, match="cannot read"):
        load_ptb_chars(tmp_path / "missing.txt")


def _write_batch(path, n, seed):
    rng = np.random.default_rng(seed)
    batch = {b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
             b"labels": list(rng.integers(0, 10, size=n))}
    path.write_bytes(pickle.dumps(batch))
    return batch


def test_cifar_pickle_batches(tmp_path):
    test = _write_batch(tmp_path / "test_batch", 7, 0)
    for i in range(1, 6):
        _write_batch(tmp_path / f"data_batch_{i}", 3, i)
    x, y = load_cifar10(tmp_path, "test")
    assert x.shape == (7, 3, 32, 32) and list(y) == list(test[b"labels"])
    assert x[0, 0, 0, 1] == np.float32(test[b"data"][0, 1] / 255.0)  # channel-major layout
    x, y = load_cifar10(tmp_path, "train")
    assert x.shape == (15, 3, 32, 32)
    (tmp_path / "test_batch").write_bytes(b"garbage")
    with pytest.raises(ChipsimError, match="test_batch: not a CIFAR-10"):
        load_cifar10(tmp_path, "test")
    with pytest.raises(ChipsimError, match="not found"):
        load_cifar10(tmp_path / "nowhere", "test")
