"""map_workload on the chip paper's networks and its errors."""

import dataclasses

import pytest

from chipsim.errors import ChipsimError
from chipsim.mapping import MappingError, map_workload
from chipsim.spec import CoreSpec, hermes, hermes16, hermes256
from chipsim.workload.lowered import LoweredLayer


def test_resnet9_takes_40_cores(resnet9_layers):
    m = map_workload(resnet9_layers, hermes(), workload_name="resnet9")
    assert m.cores_used == 40
    assert [ly.cores for ly in m.layers] == [1, 2, 4, 4, 4, 8, 8, 8, 1]
    assert m.chip == "hermes" and m.n_cores == 64 and (m.core_rows, m.core_cols) == (256, 256)
    assert m.workload == "resnet9" and m.placement_cost > 0
    assert sum(ly.rows * ly.cols for ly in m.layers) == 1_866_536
    assert m.layer("conv5").utilization == pytest.approx(2016 * 224 / (8 * 256 * 256))
    assert [b.rows for b in m.blocks_of("conv5")][3] == (756, 1008)


def test_lstm_takes_26_cores(lstm_layers):
    m = map_workload(lstm_layers, hermes())
    assert [ly.cores for ly in m.layers] == [8, 16, 2] and m.cores_used == 26
    assert sum(ly.rows * ly.cols for ly in m.layers) == 1_299_312


def test_too_large_names_cores_and_the_preset_that_fits(resnet9_layers):
    with pytest.raises(MappingError) as info:
        map_workload(resnet9_layers, hermes16())
    assert str(info.value) == ("the workload needs 40 cores, chip 'hermes16' has 16 "
                               "available; the smallest preset that fits is 'hermes' (64 cores); "
                               "or 3 such chips (--system 3xhermes16)")
    assert isinstance(info.value, ChipsimError)
    big = [LoweredLayer("huge", "linear", 256 * 100, 256, 1)]
    with pytest.raises(MappingError, match="smallest preset that fits is 'hermes256'"):
        map_workload(big, hermes())
    assert map_workload(big, hermes256()).cores_used == 100


def test_too_large_without_a_fitting_preset():
    chip = dataclasses.replace(hermes16(), core=CoreSpec(rows=128, cols=128))
    with pytest.raises(MappingError, match="needs 17 cores.*no preset with 128×128 cores has "
                       "17 cores"):
        map_workload([LoweredLayer("a", "linear", 128 * 17, 10, 1)], chip)


@pytest.mark.parametrize(("layers", "needle"), [
    ([LoweredLayer("a", "linear", 4, 4, 1), LoweredLayer("a", "linear", 4, 4, 1)],
     "layer 'a' appears twice"),
    ([LoweredLayer("a", "linear", 0, 4, 1)], "layer 'a': rows must be a positive integer"),
    ([LoweredLayer("a", "linear", 4, 4, 1, ("x",))], "layer 'a': source 'x' is not a weight"),
])
def test_inconsistent_layers(layers, needle):
    with pytest.raises(MappingError, match=needle):
        map_workload(layers, hermes())


def test_empty_workload():
    m = map_workload([], hermes())
    assert m.cores_used == 0 and m.placement_cost == 0.0
