"""chipsim: a cycle-level simulator of multi-core analog in-memory-computing chips."""

__version__ = "0.1.0"
