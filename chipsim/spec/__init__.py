"""Typed description of the hardware: devices, cores, network, chip; presets; file format.

Examples
--------
>>> from chipsim.spec import hermes, override
>>> chip = override(hermes(), "core.adc_bits", 6)
>>> chip.core.adc_bits, chip.n_cores
(6, 64)
"""

from ._fields import SpecError, field_doc
from .area import AreaSpec
from .attention import AttentionSpec
from .chip import MAX_CORES, ChipSpec
from .core import AdcKind, AdcRange, CoreSpec, ReadMode
from .device import DeviceModel, DeviceSpec
from .energy import EnergySpec
from .faults import FaultSpec
from .host import BufferSpec, HostLinkSpec
from .io import (
                 CORES_KEYS,
                 cores_grid,
                 dump_chip,
                 from_dict,
                 load_chip,
                 override,
                 resolve_chip,
                 to_dict,
)
from .network import NetworkSpec, Topology
from .presets import PRESETS, hermes, hermes16, hermes256, hermes_attn, hermes_pcm_like, preset
from .system import MAX_CHIPS, ChipTopology, SystemSpec

__all__ = [
    "SpecError", "field_doc", "ChipSpec", "MAX_CORES", "CoreSpec", "ReadMode", "AdcKind",
    "AdcRange", "DeviceModel", "DeviceSpec",
    "EnergySpec", "AreaSpec", "AttentionSpec", "FaultSpec", "NetworkSpec", "Topology",
    "PRESETS", "hermes", "hermes_pcm_like", "hermes16", "hermes256", "hermes_attn", "preset",
    "load_chip", "dump_chip",
    "from_dict", "to_dict", "override", "resolve_chip", "CORES_KEYS", "cores_grid",
    "HostLinkSpec", "BufferSpec", "SystemSpec", "ChipTopology", "MAX_CHIPS",
]
