"""Training of the shipped models (optional extra ``train``: PyTorch).

``python -m chipsim.train MODEL --recipe plain|hwa`` — see :mod:`chipsim.train.recipes`.
"""

__all__: list[str] = []
