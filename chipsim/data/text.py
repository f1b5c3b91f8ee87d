"""Character corpora: Python's own documentation text, and Penn Treebank character files.

``pydoc_chars`` uses the text of ``pydoc_data.topics`` (shipped with CPython), the topics
joined in sorted-key order, lower-cased, with every run of white space made one space. The
vocabulary has 50 symbols, as the chip paper's PTB character model: the 49 most frequent
characters of the whole text (ties broken by code point) and ``"\\x00"`` for any other
character. Fixed split: the first 90 % of the characters train, the last 10 % test.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ChipsimError

__all__ = ["CharVocab", "pydoc_chars", "load_ptb_chars", "VOCAB_SIZE"]

VOCAB_SIZE = 50
UNKNOWN = "\x00"


@dataclass(frozen=True, slots=True)
class CharVocab:
    """A character vocabulary: ``symbols[i]`` is token ``i``; unknown characters map to 0."""

    symbols: str

    def encode(self, text: str) -> np.ndarray:
        """Token ids (int64) of ``text``."""
        index = {c: i for i, c in enumerate(self.symbols)}
        return np.fromiter((index.get(c, 0) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids: np.ndarray) -> str:
        """The text of token ids."""
        return "".join(self.symbols[int(i)] for i in ids)

    def __len__(self) -> int:
        return len(self.symbols)


def _pydoc_text() -> str:
    from pydoc_data.topics import topics

    text = " ".join(topics[k] for k in sorted(topics)).lower()
    return re.sub(r"\s+", " ", text)


def pydoc_chars(split: str = "test") -> tuple[np.ndarray, CharVocab]:
    """Token ids of one split of the ``pydoc_data.topics`` corpus, and its vocabulary.

    Examples
    --------
    >>> ids, vocab = pydoc_chars("test")
    >>> len(vocab)
    50
    """
    if split not in ("train", "test"):
        raise ChipsimError(f"split: must be 'train' or 'test', got {split!r}")
    text = _pydoc_text()
    counts = collections.Counter(text)
    common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: VOCAB_SIZE - 1]
    vocab = CharVocab(UNKNOWN + "".join(sorted(c for c, _ in common)))
    cut = int(0.9 * len(text))
    part = text[:cut] if split == "train" else text[cut:]
    return vocab.encode(part), vocab


def load_ptb_chars(path: str | Path, vocab: CharVocab | None = None) -> tuple[np.ndarray,
                                                                               CharVocab]:
    """Token ids of a Penn Treebank character file (e.g. ``ptb.char.test.txt``).

    The standard files hold one sentence per line with characters separated by spaces and
    ``_`` marking word boundaries; each line ends with a newline token. Without ``vocab``, the
    vocabulary is built from the file (sorted characters, unknown symbol first).
    """
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChipsimError(f"{p}: cannot read Penn Treebank character file: {exc}") from None
    tokens: list[str] = []
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if any(len(t) != 1 for t in parts):
            raise ChipsimError(f"{p}:{n}: expected single characters separated by spaces")
        tokens.extend(parts)
        tokens.append("\n")
    if not tokens:
        raise ChipsimError(f"{p}: the file holds no characters")
    if vocab is None:
        vocab = CharVocab(UNKNOWN + "".join(sorted(set(tokens) - {UNKNOWN})))
    return vocab.encode("".join(tokens)), vocab
