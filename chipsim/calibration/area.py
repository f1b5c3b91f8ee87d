"""The three remainders of the area model, derived from the reference chip's published areas.

[LG] publishes three areas of the 64-core chip (EDT I; ``shared/hermes.md`` §1) and no
breakdown inside them. With the sized components of :class:`~chipsim.spec.AreaSpec` (sourced
or UNCONFIRMED), each published area fixes one remainder, in order:

1. MVM area of a core, 0.635 mm² = crossbar + ADCs + PWM drivers → the unit cell's area;
2. core, 1.2 × 1.16 mm² = MVM area + LDPU + rest → the rest (buffers, link ports, control);
3. die, 12 × 12 mm = 64 cores + GDPU slices + links + periphery → the periphery.

So the reference chip reproduces all three exactly (no residual by construction: three
numbers, three unknowns); what the areas of other designs get from it is the bit scaling
of ADCs and PWM drivers (:mod:`chipsim.cost.adc`), the crossbar size and the core count.
``python -m chipsim.calibration.area`` prints the derivation; the defaults of ``AreaSpec``
are its values rounded to 5 significant digits (a test holds them together).

Examples
--------
>>> d = derive()
>>> round(d.cell_um2, 3), round(d.core_rest_mm2, 3), round(d.periphery_mm2, 2)
(7.939, 0.507, 50.1)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

from ..cost.area import chip_area
from ..spec import hermes

__all__ = ["PUBLISHED", "Derivation", "derive", "main"]

PUBLISHED = {"mvm_mm2": 0.635, "core_mm2": 1.2 * 1.16, "die_mm2": 12.0 * 12.0}
"""The reference chip's published areas (mm²) [LG] EDT I."""


@dataclass(frozen=True, slots=True)
class Derivation:
    """The derived remainders (``AreaSpec`` fields)."""

    cell_um2: float
    core_rest_mm2: float
    periphery_mm2: float


def derive() -> Derivation:
    """The remainders that make the reference chip's areas the published ones."""
    chip = hermes()
    zero = replace(chip, area=replace(chip.area, cell_um2=1e-30, core_rest_mm2=0.0,
                                      periphery_mm2=0.0))
    a = chip_area(zero)
    cells = chip.core.rows * chip.core.cols
    cell_um2 = (PUBLISHED["mvm_mm2"] - a.core.mvm_mm2) / cells * 1e6
    rest = PUBLISHED["core_mm2"] - PUBLISHED["mvm_mm2"] - a.core.ldpu_mm2
    others = a.gdpu_mm2 + a.network_mm2
    periphery = PUBLISHED["die_mm2"] - chip.n_cores * PUBLISHED["core_mm2"] - others
    return Derivation(cell_um2, rest, periphery)


def main(argv: list[str] | None = None) -> int:
    """Print the derivation and the reference chip's areas with the spec's defaults."""
    d = derive()
    print(f"cell_um2       {d.cell_um2:.5g}")
    print(f"core_rest_mm2  {d.core_rest_mm2:.5g}")
    print(f"periphery_mm2  {d.periphery_mm2:.5g}")
    a = chip_area(hermes())
    for name, value in (("mvm_mm2", a.core.mvm_mm2), ("core_mm2", a.core.total_mm2),
                        ("die_mm2", a.total_mm2)):
        print(f"{name:9s} model {value:9.4f}  published {PUBLISHED[name]:9.4f}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
