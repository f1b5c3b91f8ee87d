"""Named chip presets. Each is a function returning a :class:`ChipSpec`."""

from __future__ import annotations

from dataclasses import replace

from ._fields import SpecError
from .attention import AttentionSpec
from .chip import ChipSpec
from .core import CoreSpec
from .device import DeviceModel, DeviceSpec
from .network import NetworkSpec, Topology

__all__ = ["hermes", "hermes_pcm_like", "hermes16", "hermes256", "hermes_attn", "PRESETS",
           "preset"]


def hermes() -> ChipSpec:
    """IBM's 64-core PCM chip (Le Gallo et al., Nat. Electron. 2023; ``shared/hermes.md``).

    8 × 8 cores of 256 × 256 unit cells, TDP, four-phase read, the chip-fitted device model,
    1 GHz MVM and 400 MHz digital clocks, 8-bit links to up to 6 neighbours, 8 GDPU slices.

    Examples
    --------
    >>> from chipsim.spec import hermes
    >>> hermes().n_cores
    64
    """
    return ChipSpec(
        name="hermes",
        grid=(8, 8),
        core=CoreSpec(),
        device=DeviceSpec(model=DeviceModel.HERMES),
        network=NetworkSpec(topology=Topology.HERMES_GRID),
    )


def hermes_pcm_like() -> ChipSpec:
    """The reference chip with aihwkit's generic ``PCMLikeNoiseModel`` devices."""
    return replace(hermes(), name="hermes_pcm_like", device=DeviceSpec(model=DeviceModel.PCM_LIKE))


def hermes16() -> ChipSpec:
    """A 16-core (4 × 4) chip with the reference chip's cores, devices and links."""
    return replace(hermes(), name="hermes16", grid=(4, 4), gdpu_slices=4, gdpu_after_row=2)


def hermes256() -> ChipSpec:
    """A 256-core (16 × 16) chip with the reference chip's cores, devices and links."""
    return replace(hermes(), name="hermes256", grid=(16, 16), gdpu_slices=16, gdpu_after_row=8)


def hermes_attn() -> ChipSpec:
    """The reference chip with four digital attention units, for Transformers.

    The chip itself has none ([LG]); the units follow :class:`AttentionSpec`'s defaults,
    all estimates (UNCONFIRMED): between core rows 3 and 4 like the GDPU slices, one per two
    core columns (linked to the cores above and below columns 1, 3, 5 and 7), each a
    256-MAC FP16 array at the 400-MHz digital clock with 256 kB of local memory for the
    keys and values, 0.5 pJ per MAC and 0.83 pJ per memory byte (Horowitz, ISSCC 2014,
    scaled to 14 nm), 4.5 mW while busy and 1 mm² each. The layers' digital operators are
    shared over the four units in turn, so their traffic spreads over four pairs of links.

    Examples
    --------
    >>> from chipsim.spec import hermes_attn
    >>> chip = hermes_attn()
    >>> chip.attention.units, chip.n_cores, chip.gdpu_slices
    (4, 64, 8)
    """
    return replace(hermes(), name="hermes_attn", attention=AttentionSpec(units=4))


PRESETS = {
    "hermes": hermes,
    "hermes_pcm_like": hermes_pcm_like,
    "hermes16": hermes16,
    "hermes256": hermes256,
    "hermes_attn": hermes_attn,
}


def preset(name: str) -> ChipSpec:
    """The preset called ``name``; a :class:`SpecError` lists the known names otherwise."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise SpecError("chip", f"unknown preset {name!r}; presets: {', '.join(PRESETS)}") from None
