"""The on-chip network as a graph of cores (networkx), free of any timing machinery.

Examples
--------
>>> from chipsim.noc import build_graph
>>> from chipsim.spec import hermes
>>> build_graph(hermes()).number_of_nodes()
64
"""

from .topology import build_graph, core_id, core_pos

__all__ = ["build_graph", "core_id", "core_pos"]
