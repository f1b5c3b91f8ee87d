"""The real training script (``python -m chipsim.train``) for a few steps: the loss falls and the
files it writes load as the model they name."""

import json

import pytest

from chipsim.models import models_dir, resolve_model
from chipsim.train.__main__ import main

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


@pytest.mark.parametrize("model, batch", [("resnet9", "8"), ("lstm-ptb", "4"),
                                          ("char-transformer", "4")])
def test_a_few_plain_steps_lower_the_loss(tmp_path, model, batch):
    assert main([model, "--recipe", "plain", "--max-steps", "40", "--batch", batch,
                 "--out", str(tmp_path)]) == 0
    meta = json.loads((tmp_path / f"{model}-plain.json").read_text())
    first, second = meta["losses_every_20"]
    assert second < first
    assert meta["steps"] == 40 and meta["command"].startswith("python -m chipsim.train")
    resolved = resolve_model(str(tmp_path / f"{model}-plain.npz"))
    assert resolved.task == model


def test_hwa_recipe_fine_tunes_the_shipped_plain_weights_reproducibly(tmp_path):
    # run twice: the same command writes the same weights file, byte for byte (the shipped
    # models are reproducible from the command in their metadata)
    for out in ("a", "b"):
        assert main(["resnet9", "--recipe", "hwa", "--init",
                     str(models_dir() / "resnet9-plain.npz"), "--max-steps", "2", "--batch",
                     "8", "--out", str(tmp_path / out)]) == 0
    meta = json.loads((tmp_path / "a" / "resnet9-hwa.json").read_text())
    assert meta["hwa"]["out_noise"] > 0 and meta["steps"] == 2
    assert all(v > 0 for v in meta["input_ranges"].values())
    weights = [(tmp_path / out / "resnet9-hwa.npz").read_bytes() for out in ("a", "b")]
    assert weights[0] == weights[1]
