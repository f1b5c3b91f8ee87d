"""``python -m chipsim.train``: train a shipped model and write it to ``models/``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .recipes import DEFAULTS, TrainConfig, train, write


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, train, write the files."""
    p = argparse.ArgumentParser(
        prog="python -m chipsim.train",
        description="Train a zoo model on the bundled data and write models/<model>-<recipe>.",
        epilog="examples:\n  python -m chipsim.train resnet9 --recipe plain\n"
               "  python -m chipsim.train resnet9 --recipe hwa --init models/resnet9-plain.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=["resnet9", "lstm-ptb", "char-transformer"])
    p.add_argument("--recipe", choices=["plain", "hwa"], default="plain")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, help="stop after this many steps (for tests)")
    p.add_argument("--init", help="start from this weights file (the HWA recipe fine-tunes)")
    p.add_argument("--out", default="models", help="output folder (default models/)")
    args = p.parse_args(argv)
    given = {k: v for k, v in vars(args).items()
             if k in ("epochs", "batch", "lr") and v is not None}
    cfg = TrainConfig(model=args.model, recipe=args.recipe, seed=args.seed,
                      max_steps=args.max_steps, init=args.init,
                      **{**DEFAULTS[(args.model, args.recipe)], **given})
    trained, meta = train(cfg)
    weights, metadata = write(trained, meta, Path(args.out))
    print(f"{meta['metric']} {meta['software']:.4f}; wrote {weights} and {metadata}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
