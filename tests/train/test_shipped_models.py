"""The shipped weights in ``models/`` and their metadata agree."""

import json

import pytest

from chipsim.models import models_dir, resolve_model
from chipsim.train.evaluate import software_metric

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


@pytest.mark.parametrize("stem", ["resnet9-plain", "resnet9-hwa", "lstm-ptb-plain",
                                  "lstm-ptb-hwa", "char-transformer-plain",
                                  "char-transformer-hwa"])
def test_metadata_describes_the_weights(stem):
    meta = json.loads((models_dir() / f"{stem}.json").read_text())
    for key in ("dataset", "split", "recipe", "seed", "software", "train_seconds", "command"):
        assert key in meta, key
    assert meta["command"].startswith(f"python -m chipsim.train {meta['model']} --recipe "
                                       f"{meta['recipe']}")
    model, weights = stem.rsplit("-", 1)
    resolved = resolve_model(model, weights)
    metric, value = software_metric(resolved.workload, model)  # the full test split
    assert metric == meta["metric"]
    assert value == pytest.approx(meta["software"], abs=1e-6)
