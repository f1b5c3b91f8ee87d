"""The error of the workload layer."""

from __future__ import annotations

from ..errors import ChipsimError

__all__ = ["WorkloadError"]


class WorkloadError(ChipsimError):
    """A network that is wrong or unsupported: bad graph, shape mismatch, bad weights file.

    The message names the layer (and the file, for weights files and imports).
    """
