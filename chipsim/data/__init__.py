"""Data sets: the real ones that install from the package registry, and loaders for the
standard files users may have (CIFAR-10, Penn Treebank characters).

Nothing here downloads anything.
"""

from .cifar import load_cifar10
from .mnist import mnist5k
from .text import CharVocab, load_ptb_chars, pydoc_chars

__all__ = ["mnist5k", "pydoc_chars", "CharVocab", "load_cifar10", "load_ptb_chars"]
