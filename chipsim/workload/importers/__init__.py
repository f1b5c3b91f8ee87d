"""Importers of trained networks into :class:`~chipsim.workload.Workload`.

PyTorch and ONNX are optional extras (``pip install -e ".[train]"`` / ``".[onnx]"``); each
importer imports its library only when called and says how to install it if it is missing.
"""

from .onnx import ONNX_OPS, from_onnx
from .torch import TORCH_FUNCTIONS, TORCH_MODULES, from_torch

__all__ = ["from_torch", "from_onnx", "TORCH_MODULES", "TORCH_FUNCTIONS", "ONNX_OPS"]
