"""What both importers share: lazy imports, node collection with shapes, error messages."""

from __future__ import annotations

import dataclasses
import importlib
import re
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import WorkloadError
from ..graph import Workload
from ..nodes import INPUT, Node, Shape

__all__ = ["require", "unsupported", "Collector"]


def require(module: str, extra: str, pin: str, minimum: tuple[int, int] | None = None,
            why: str = "") -> ModuleType:
    """Import the optional library ``module`` or fail with the command that installs it, also
    when its version is below ``minimum`` (``why`` says what older versions lack)."""
    install = f"pip install '{pin}' (or pip install -e \".[{extra}]\")"
    try:
        lib = importlib.import_module(module)
    except ImportError:
        raise WorkloadError(f"this importer needs {module}, an optional dependency: "
                            f"{install}") from None
    version = str(getattr(lib, "__version__", "0"))
    if minimum and tuple(int(p) for p in re.findall(r"\d+", version)[:2]) < minimum:
        raise WorkloadError(f"this importer needs {module} >= {minimum[0]}.{minimum[1]}{why}, "
                            f"found {version}: {install}")
    return lib


def unsupported(source: str, what: str, where: str, supported: tuple[str, ...]) -> WorkloadError:
    """The error for an operator the importer does not know."""
    return WorkloadError(f"{source}: unsupported operator {what} at '{where}'; supported: "
                         f"{', '.join(supported)}")


class Collector:
    """Nodes and weights of the workload being imported, with output shapes as they come."""

    def __init__(self, source: str, input_shape: Shape):
        self.source = source
        self.input_shape = input_shape
        self.nodes: list[Node] = []
        self.weights: dict[str, dict[str, np.ndarray]] = {}
        self.shapes: dict[str, Shape] = {INPUT: input_shape}

    def unique(self, name: str) -> str:
        """``name``, or ``name_<k>`` if it is taken (or reserved)."""
        base = name.strip("/").replace("/", ".") or "node"
        name, k = base, 1
        while name in self.shapes:
            name, k = f"{base}_{k}", k + 1
        return name

    def add(self, node: Node, weights: dict[str, Any] | None = None) -> str:
        """Append ``node`` (and its ``weights``); check its input shapes; return its name."""
        try:
            shape = node.out_shape(tuple(self.shapes[i] for i in node.inputs))
        except WorkloadError as exc:
            raise WorkloadError(f"{self.source}: {exc}") from None
        self.nodes.append(node)
        self.shapes[node.name] = shape
        if weights:
            self.weights[node.name] = {k: np.asarray(v, dtype=np.float32)
                                       for k, v in weights.items()}
        return node.name

    def replace(self, name: str, **changes: Any) -> None:
        """Replace fields of the node called ``name`` (e.g. give a MatMul its bias)."""
        i = next(i for i, n in enumerate(self.nodes) if n.name == name)
        self.nodes[i] = dataclasses.replace(self.nodes[i], **changes)

    def workload(self, name: str, output: str) -> Workload:
        """The finished workload; ``output`` must be the last node."""
        if not self.nodes or self.nodes[-1].name != output:
            raise WorkloadError(f"{self.source}: the output must be produced by the last "
                                f"operator (got '{output}')")
        try:
            return Workload(name, self.input_shape, tuple(self.nodes), self.weights)
        except WorkloadError as exc:
            raise WorkloadError(f"{self.source}: {exc}") from None
