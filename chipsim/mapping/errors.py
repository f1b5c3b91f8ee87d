"""The error of the mapping layer."""

from __future__ import annotations

from ..errors import ChipsimError

__all__ = ["MappingError"]


class MappingError(ChipsimError):
    """A workload that does not fit a chip, or a mapping (file) that is inconsistent.

    Messages name the block (layer, replica, index, core) or the numbers that do not fit.
    """
