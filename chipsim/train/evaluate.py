"""Software (float) score of a trained workload on its task, in batches."""

from __future__ import annotations

import numpy as np

from ..functional.tasks import lm_chunks, score, task_data
from ..workload import forward
from ..workload.graph import Workload

__all__ = ["software_metric", "lm_chunks"]


def software_metric(workload: Workload, model: str, batch: int = 250,
                    samples: int | None = None) -> tuple[str, float]:
    """(metric, value) of the float forward of ``workload`` on the test split."""
    x, y = task_data(model, "test", samples)
    outs = np.concatenate([forward(workload, x[i: i + batch]) for i in range(0, len(x), batch)])
    return score(model, outs, y)
