"""Mapping of a workload's weight layers onto a chip's cores.

``partition`` splits each weight matrix into the fewest equal blocks that fit a core (the
chip's rule); ``replication`` puts copies of the slowest layers on spare cores for the
pipelined mode, as many as shorten its slowest stage; ``dataflow`` says which band of
vectors each copy computes and which vectors of its sources that needs; ``placement`` puts
every block on a core of the link graph so that partial sums, activations and residuals
travel few hops; :class:`Mapping` is the result, and ``io`` reads and writes it as a
readable file.

Examples
--------
>>> from chipsim.mapping import map_workload
>>> from chipsim.spec import hermes
>>> from chipsim.workload.lowered import LoweredLayer
>>> layers = [LoweredLayer("conv", "conv", 2016, 224, 64),
...           LoweredLayer("fc", "linear", 224, 10, 1, sources=("conv",))]
>>> m = map_workload(layers, hermes())
>>> m.cores_used, [(ly.name, ly.blocks, round(ly.utilization, 3)) for ly in m.layers]
(9, [('conv', 8, 0.861), ('fc', 1, 0.034)])
"""

from .errors import MappingError
from .io import FORMAT, dumps_mapping, load_mapping, mapping_from_dict, save_mapping
from .mapping import (
    BlockPlacement,
    LayerMapping,
    Mapping,
    layer_summaries,
    map_workload,
    mapping_cost,
    mapping_from_plain,
    mapping_to_dict,
)
from .partition import Block, Partition, partition
from .placement import (
    BlockRef,
    Placement,
    hop_distances,
    place,
    placement_cost,
    random_placement,
    traffic_weights,
)
from .plot import draw_core_grid, layer_colors, plot_core_grid
from .replication import (
    ReplicationPlan,
    StageCosts,
    choose_replicas,
    plan_replication,
    replication_plan,
    stage_model,
)

__all__ = [
    "MappingError",
    "Block", "Partition", "partition",
    "BlockRef", "Placement", "hop_distances", "traffic_weights", "placement_cost", "place",
    "random_placement",
    "ReplicationPlan", "StageCosts", "choose_replicas", "plan_replication",
    "replication_plan", "stage_model",
    "BlockPlacement", "LayerMapping", "Mapping", "map_workload", "mapping_cost",
    "layer_summaries", "mapping_to_dict", "mapping_from_plain",
    "FORMAT", "save_mapping", "load_mapping", "mapping_from_dict", "dumps_mapping",
    "plot_core_grid", "draw_core_grid", "layer_colors",
]
