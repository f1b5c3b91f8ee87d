"""The error types a user can meet. The CLI turns each into a one-line message."""

from __future__ import annotations

__all__ = ["ChipsimError"]


class ChipsimError(ValueError):
    """Base of every error caused by a user's input (spec, model, mapping, files, options)."""
