"""Sizes beyond what the tool can run are refused at once, with the bound and how to raise it.

Each bound is documented where it lives: a workload's input vectors per inference
(``RunConfig.max_vectors``, ``--set run.max_vectors=N``), its operators
(``chipsim.workload.graph.MAX_NODES``), a chip's cores (``chipsim.spec.MAX_CORES``), a
sweep's points (``chipsim sweep --max-points``), the vectors of ``chipsim mvm-error``
(``chipsim.functional.mvm_error.max_vectors``), the test samples of ``chipsim run
--samples``. Before these bounds, each case below ran out of memory, looped or ran for hours.
Also here: the smaller cases of the same round (a directory as MODEL, a boolean read as an
integer in a weights file, the advice of a network that does not fit, onnx's minimum version).
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from chipsim import RunConfig, simulate
from chipsim.errors import ChipsimError
from chipsim.explore.grid import MAX_POINTS, grid_points, parse_axis
from chipsim.spec import MAX_CORES, ChipSpec, SpecError, hermes
from chipsim.workload import Conv2d, Workload, build, from_onnx, save_weights
from chipsim.workload.errors import WorkloadError
from chipsim.workload.graph import MAX_NODES


def _conv_onnx(path, side):
    """A 1×1 convolution over a ``side`` × ``side`` image: ``side``² vectors per inference."""
    w = numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "c.weight")
    node = helper.make_node("Conv", ["x", "c.weight"], ["y"], kernel_shape=[1, 1])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, side, side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, side, side])], [w])
    onnx.save(helper.make_model(graph), path)


def _identity_chain_onnx(path, n):
    """``n`` Identity operators before one Gemm: a graph of ``n + 1`` nodes."""
    nodes = [helper.make_node("Identity", [f"t{i}"], [f"t{i + 1}"]) for i in range(n)]
    nodes[0].input[0] = "x"
    nodes.append(helper.make_node("Gemm", [f"t{n}", "w"], ["y"], transB=1))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.ones((4, 3), np.float32), "w")])
    onnx.save(helper.make_model(graph), path)


def _header_bool(tmp, tiny_lstm):
    """A weights file whose header says ``in_features: true`` for the Linear layer."""
    with np.load(tiny_lstm) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes())
    fc = next(n for n in header["nodes"] if n["name"] == "fc")
    fc["in_features"] = True
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(tmp / "net.npz", "wb") as fh:
        np.savez(fh, **arrays)


def _values(values):
    return ",".join(map(str, values))


def _dead(n):
    return f"[{_values(range(n))}]"


VECTORS = ("big: 10,000,000,000 input vectors per inference (layer 'c': 10,000,000,000), more "
           "than run.max_vectors = 1,000,000; raise it with --set run.max_vectors=N if the run "
           "may take that long")

# (id, files to make in the scratch folder, argv, the one line on stderr)
CASES = [
    ("onnx-10^10-vectors", lambda tmp, _: _conv_onnx(tmp / "big.onnx", 100_000),
     ["run", "big.onnx"], "chipsim run: error: " + VECTORS),
    ("sweep-10^10-vectors", lambda tmp, _: _conv_onnx(tmp / "big.onnx", 100_000),
     ["sweep", "big.onnx", "--grid", "core.adc_bits=4,8", "--out", "sw"],
     "chipsim sweep: error: " + VECTORS),
    ("onnx-too-many-operators", lambda tmp, _: _identity_chain_onnx(tmp / "deep.onnx", MAX_NODES),
     ["run", "deep.onnx"], "chipsim run: error: deep (deep.onnx): 65,537 operators, more than "
     "a workload may have (65,536: chipsim.workload.graph.MAX_NODES; no chip maps more than "
     "4,096 weight layers)"),
    ("set-cores-10^20", None, ["run", "--set", "chip.cores=100000000000000000000"],
     "chipsim run: error: --set chip.cores: must be a whole number of cores >= 1 and <= 4096 "
     "(chipsim.spec.MAX_CORES), got 100000000000000000000"),
    ("grid-cores-10^20", None,
     ["sweep", "resnet9", "--grid", "chip.cores=64,100000000000000000000", "--out", "sw"],
     "chipsim sweep: error: --grid chip.cores=100000000000000000000: chip.cores: must be a "
     "whole number of cores >= 1 and <= 4096 (chipsim.spec.MAX_CORES), got "
     "100000000000000000000"),
    ("set-grid-128x128", None, ["run", "--set", "chip.grid=128x128"],
     "chipsim run: error: --set grid: 128x128 is 16384 cores; a chip has at most 4096 "
     "(chipsim.spec.MAX_CORES: mapping time and memory grow with the square of the cores)"),
    ("sweep-11000-points", None,
     ["sweep", "resnet9", "--out", "sw", "--grid", "run.seed=" + _values(range(100)),
      "--grid", "core.adc_bits=" + _values(range(2, 12)),
      "--grid", "run.inferences=" + _values(range(1, 12))],
     "chipsim sweep: error: --grid: 11,000 points (100 × 10 × 11 values), more than "
     "--max-points 10,000; split the sweep, or raise --max-points if it may take that long"),
    ("sweep-max-points", None,
     ["sweep", "resnet9", "--grid", "core.adc_bits=4,6,8", "--max-points", "2", "--out", "sw"],
     "chipsim sweep: error: --grid: 3 points (3 values), more than --max-points 2; split the "
     "sweep, or raise --max-points if it may take that long"),
    ("mvm-error-10^12-vectors", None, ["mvm-error", "--vectors", "1000000000000"],
     "chipsim mvm-error: error: vectors: must be an integer >= 1 and <= 100,000 for a core of "
     "256×256 (memory grows with vectors × (rows + cols); combine runs with other seeds for "
     "more), got 1000000000000"),
    ("samples-10^30", None, ["run", "--samples", "1" + "0" * 30],
     "chipsim run: error: --samples: must be an integer of at most 64 bits (|x| < 9.2e18), got "
     "1000000000000000000000000000000"),
    ("samples-beyond-the-data", None, ["run", "--samples", "5000"],
     "chipsim run: error: --samples: must be <= 1000 (the samples of the resnet9 task's test "
     "split), got 5000"),
    ("sweep-samples-beyond-the-data", None,
     ["sweep", "resnet9", "--grid", "core.adc_bits=6", "--samples", "5000", "--out", "sw"],
     "chipsim sweep: error: --samples: must be <= 1000 (the samples of the resnet9 task's "
     "test split), got 5000"),
    ("set-samples", None, ["run", "lstm-ptb", "--set", "run.samples=339"],
     "chipsim run: error: --set run.samples: must be <= 338 (the samples of the lstm-ptb "
     "task's test split), got 339"),
    ("model-directory", lambda tmp, _: (tmp / "nets").mkdir(), ["run", "nets"],
     "chipsim run: error: model: 'nets' is a directory; give a zoo network (resnet9, lstm-ptb, "
     "resnet32, char-transformer, resnet18, resnet50, bert-base, speech-lstm), a .npz weights "
     "file or an .onnx file"),
    ("npz-bool-as-int", _header_bool, ["run", "net.npz"],
     "chipsim run: error: net.npz: header is incomplete or malformed (layer 'fc': in_features "
     "must be a positive int, got True)"),
    ("dead-cores-advice", None, ["run", "--set", f"faults.dead_cores={_dead(30)}"],
     "chipsim run: error: the workload needs 40 cores, chip 'hermes' has 34 available (30 of 64 "
     "dead); it fits with at most 24 of its cores dead or excluded"),
    ("dead-and-excluded-advice", None,
     ["map", "resnet9", "--set", f"faults.dead_cores={_dead(30)}", "--exclude", "30,31"],
     "chipsim map: error: the workload needs 40 cores, chip 'hermes' has 32 available (32 of 64: "
     "30 dead, 2 excluded); it fits with at most 24 of its cores dead or excluded"),
    ("small-chip-advice", None, ["map", "resnet9", "--chip", "hermes16", "--exclude", "0"],
     "chipsim map: error: the workload needs 40 cores, chip 'hermes16' has 15 available (1 of 16 "
     "excluded); the smallest preset that fits is 'hermes' (64 cores); or 3 such chips "
     "(--system 3xhermes16)"),
]


@pytest.mark.parametrize("make, argv, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cli_refuses_at_once(make, argv, message, tmp_path, tiny_lstm, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if make:
        make(tmp_path, tiny_lstm)
    before = set(os.listdir(tmp_path))
    start = time.monotonic()
    code, out, err = cli(*argv)
    assert (code, out, err) == (2, "", message + "\n")
    assert time.monotonic() - start < 10
    assert set(os.listdir(tmp_path)) == before  # no output directory


def test_max_vectors_is_the_bound_and_raises_it():
    conv = Workload("img", (1, 8, 8), (Conv2d("c", "input", 1, 1, 1),),
                    {"c": {"weight": np.ones((1, 1, 1, 1)), "bias": np.zeros(1)}})
    with pytest.raises(ChipsimError, match=r"^img: 64 input vectors per inference \(layer 'c': "
                       r"64\), more than run.max_vectors = 63; raise it"):
        simulate(conv, config=RunConfig(max_vectors=63, timing=False))
    report = simulate(conv, config=RunConfig(max_vectors=64, inferences=1))
    assert report.timing.mvms_per_inference == 64


def test_the_point_bound_comes_first_and_can_be_raised():
    axes = [parse_axis("core.adc_bits=4,8"), parse_axis("run.seed=0,1,2")]
    assert len(grid_points(hermes(), RunConfig(), axes, max_points=6)) == 6
    with pytest.raises(ChipsimError, match=r"^--grid: 6 points \(2 × 3 values\), more than "
                       r"--max-points 5;"):
        grid_points(hermes(), RunConfig(), axes, max_points=5)
    assert MAX_POINTS == 10_000


def test_a_long_axis_is_read_in_linear_time():
    start = time.monotonic()
    axis = parse_axis("run.seed=" + ",".join(map(str, range(20_000))))  # was over a minute
    assert len(axis.values) == 20_000 and time.monotonic() - start < 5
    for dup in ("run.seed=1,2,1.0", "faults.dead_cores=[1,2],[2],[1,2]"):
        with pytest.raises(ChipsimError, match="is given twice"):
            parse_axis(dup)


def test_chip_and_workload_bounds():
    assert MAX_CORES == 4096 and MAX_NODES == 65_536
    assert ChipSpec(grid=(64, 64)).n_cores == MAX_CORES
    with pytest.raises(SpecError, match="^grid: 64x65 is 4160 cores; a chip has at most 4096"):
        ChipSpec(grid=(64, 65))
    with pytest.raises(WorkloadError, match="input_shape must be positive ints"):
        Workload("w", (True, 3), (Conv2d("c", "input", 1, 1, 1),))
    with pytest.raises(WorkloadError, match="bias must be true or false, got 1"):
        Conv2d("c", "input", 1, 1, 1, bias=1)


def test_onnx_before_1_16_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx, "__version__", "1.15.0")
    with pytest.raises(WorkloadError) as err:
        from_onnx(tmp_path / "any.onnx")
    assert str(err.value) == (
        "this importer needs onnx >= 1.16 (older versions follow external-data paths out of "
        "the model's folder: CVE-2024-27318, -27319), found 1.15.0: pip install 'onnx>=1.16' "
        "(or pip install -e \".[onnx]\")")


def test_samples_default_takes_all_of_a_smaller_data_set(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    wl = build("lstm-ptb", vocab=20, embed=8, hidden=16)
    save_weights(wl, tmp_path / "net.npz")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", x=rng.integers(0, 20, (5, 12)),
             y=rng.integers(0, 20, (5, 12)))
    code, out, _ = cli("run", "net.npz", "--data", "data.npz", "--instances", "1",
                       "--no-timing", "--json")
    assert code == 0 and json.loads(out)["accuracy"]["samples"] == 5
    code, _, err = cli("run", "net.npz", "--data", "data.npz", "--samples", "6")
    assert (code, err) == (2, "chipsim run: error: --samples: must be <= 5 (the samples of "
                              "data.npz), got 6\n")
