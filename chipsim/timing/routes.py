"""Every route a timing plan needs, checked before the run (broken links can disconnect cores).

Routes are set before run time, as on the chip. :func:`required_routes` lists every
``(source, destination)`` pair a plan sends data between over the core network, with what
travels (partial sums, gate values, activations, residuals) and the layers involved;
:func:`check_routes` finds each one with the engine's own router
(:meth:`~chipsim.timing.links.Network.route`) and turns a missing one into a
:class:`~chipsim.mapping.MappingError` that names the two cores and the layer. The chip's
``faults.broken_links`` are left out of the graph by :func:`chipsim.noc.build_graph`, so a
route found here avoids them.

Examples
--------
>>> from dataclasses import replace
>>> from chipsim.spec import FaultSpec, hermes
>>> from chipsim.timing.plan import PlacedBlock, build_plan
>>> from chipsim.workload.lowered import LoweredLayer
>>> layers = [LoweredLayer("a", "linear", 512, 256, 1)]
>>> blocks = [PlacedBlock("a", 0, (0, 256), (0, 256), 0),
...           PlacedBlock("a", 0, (256, 512), (0, 256), 1)]
>>> chip = hermes()
>>> [(r.src, r.dst, r.layer, r.what) for r in required_routes(build_plan(layers, blocks, chip))]
[(0, 1, 'a', 'its partial sums')]
>>> cut = replace(chip, faults=FaultSpec(broken_links=((0, 1),)))
>>> [lk.name for lk in check_routes(build_plan(layers, blocks, cut), cut)[(0, 1)]]
['0->9', '9->1']
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cost.latency import Latencies
from ..mapping.errors import MappingError
from ..spec import ChipSpec
from .config import TimingError
from .links import Link, Network, attention_node, gdpu_node, node_name
from .plan import LSTM_GROUP, Plan

__all__ = ["Route", "required_routes", "check_routes"]


@dataclass(frozen=True, slots=True)
class Route:
    """A pair of nodes (core ids, ``gdpuN`` for GDPU slice N, ``attnN`` for attention unit N)
    that exchange data.

    ``layer`` is the layer that needs the data (the consumer); ``what`` says what travels:
    ``"its partial sums"``, ``"the activations of layer 'conv2'"``.
    """

    src: int | str
    dst: int | str
    layer: str
    what: str


def _frac(r: tuple[int, int], total: int) -> tuple[float, float]:
    return r[0] / total, r[1] / total


def _overlap(a, b) -> float:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def required_routes(plan: Plan) -> list[Route]:
    """Every route ``plan`` sends data on over the core network, in a fixed order, unique.

    Partial sums along each accumulation chain; gate values from a chain's last core to its
    GDPU slice; for every on-chip edge, from each source chain's last core (its GDPU
    slice for an LSTM) to every consumer core that may take its values (any replica), or, for
    an edge through an attention unit, to the unit and from the unit to every consumer core
    (and from the unit to the cores of a layer whose input the host sends it). Transfers
    through the host need no route.
    """
    out: dict[tuple, Route] = {}

    def add(src, dst, layer: str, what: str) -> None:
        if src != dst and (src, dst) not in out:
            out[(src, dst)] = Route(src, dst, layer, what)

    for ch in plan.chains:
        for a, b in zip(ch.cores, ch.cores[1:], strict=False):
            add(a, b, ch.layer, "its partial sums")
        if plan.layers[ch.layer].gdpu:
            add(ch.cores[-1], gdpu_node(plan.gdpu_of[ch.index]), ch.layer, "its gate values")
    via_unit = {}
    for stage in plan.stages:
        node, dst = attention_node(stage.unit), plan.layers[stage.layer]
        for groups in dst.row_groups:
            for _, cores in groups:
                for d in cores:
                    add(node, d, stage.layer, f"its input from attention unit {stage.unit}")
        if stage.edge is not None:
            via_unit[stage.edge] = node
    for e in plan.edges:
        if not e.onchip:
            continue
        src, dst = plan.layers[e.src], plan.layers[e.dst]
        if e.index in via_unit:
            for rep_chains in src.chains:
                for c in rep_chains:
                    add(plan.chains[c].cores[-1], via_unit[e.index], e.dst,
                        f"the activations of layer {e.src!r}")
            continue
        feat = src.cols // LSTM_GROUP if src.gdpu else src.cols
        what = {"residual": f"the residuals of layer {e.src!r}",
                "recurrent": "its recurrent activations"}.get(
                    e.kind, f"the activations of layer {e.src!r}")
        for rep_chains in src.chains:
            for c in rep_chains:
                ch = plan.chains[c]
                node = gdpu_node(plan.gdpu_of[c]) if src.gdpu else ch.cores[-1]
                for rep in range(dst.replicas):
                    if e.kind == "residual":
                        for dc in dst.chains[rep]:
                            d = plan.chains[dc]
                            if _overlap(_frac(ch.out, feat), _frac(d.cols, dst.cols)) > 0:
                                add(node, d.cores[-1], e.dst, what)
                        continue
                    for rows, cores in dst.row_groups[rep]:
                        if not e.direct or _overlap(ch.out, rows) > 0:
                            for d in cores:
                                add(node, d, e.dst, what)
    return list(out.values())


def check_routes(plan: Plan, chip: ChipSpec,
                 network: Network | None = None) -> dict[tuple, tuple[Link, ...]]:
    """Find every route of :func:`required_routes` on ``chip``'s network; return them.

    Parameters
    ----------
    plan
        The timing plan (:func:`chipsim.timing.plan.build_plan`).
    chip
        The chip; its graph (without ``faults.broken_links``) gives the routes.
    network
        The network to route on (built from ``chip`` when omitted).

    Returns
    -------
    dict
        ``(src, dst)`` → the links of the route, in order.

    Raises
    ------
    MappingError
        When two nodes that must exchange data have no route between them (broken links cut
        them apart); the message names both, what travels and the layer.
    """
    net = Network(chip, Latencies.of(chip)) if network is None else network
    found = {}
    for r in required_routes(plan):
        try:
            found[(r.src, r.dst)] = net.route(r.src, r.dst)
        except TimingError:
            n = len(chip.faults.broken_links)
            cause = (f"the {n} broken link(s) of faults.broken_links cut them apart" if n
                     else "they are not connected")
            raise MappingError(
                f"layer {r.layer!r}: no route from {node_name(r.src)} to {node_name(r.dst)} for "
                f"{r.what} in the {chip.network.topology.value} network ({cause}); map the "
                "layer on connected cores") from None
    return found
