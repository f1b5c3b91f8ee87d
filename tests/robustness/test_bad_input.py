"""Bad input where a user meets it: the command line says what is wrong in one line.

Every case is a row of the README's table "Bad input and what you see": the command runs in
this process (``chipsim.cli.main``) in a scratch folder, exits with status 2, prints exactly
one line on stderr (the message below, with the scratch folder's relative file names), and
leaves no report directory behind.
"""

from __future__ import annotations

import json
import os
import re
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from chipsim.data.cifar import load_cifar10
from chipsim.data.text import load_ptb_chars
from chipsim.errors import ChipsimError
from chipsim.explore.executors import max_workers
from chipsim.mapping import map_workload, save_mapping
from chipsim.models import resolve_model
from chipsim.outdir import building
from chipsim.spec import hermes
from chipsim.workload import build, save_weights

ERR = "chipsim run: error: "


def _fc_onnx(path, weight, op="Gemm"):
    """A one-layer ONNX model (``op`` of the input and ``weight``, 3 → 4 features)."""
    w = numpy_helper.from_array(weight, "fc.weight")
    node = (helper.make_node("Gemm", ["x", "fc.weight"], ["y"], transB=1) if op == "Gemm"
            else helper.make_node(op, ["x"], ["y"]))
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [w] if op == "Gemm" else [])
    onnx.save(helper.make_model(graph), path)
    return path


def _rewrite_npz(src, dst, mutate):
    """Copy weights file ``src`` to ``dst`` with ``mutate(arrays)`` applied to its arrays."""
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    mutate(arrays)
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)
    return dst


def _npz_with_lying_header(path):
    """An .npz whose array ``x`` declares 10**12 float64 values in its .npy header and holds
    none (NumPy would allocate 8 TB before reading)."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    with zipfile.ZipFile(path, "w") as z, z.open("x.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        member.write(b"")
    return path


def _header(arrays):
    return json.loads(arrays["header"].tobytes())


def _set_header(arrays, header):
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


def _first_array(arrays, layer, param):
    return f"a{[tuple(k) for k in _header(arrays)['arrays']].index((layer, param))}"


@pytest.fixture
def tiny(tmp_path):
    """A small fully-connected weights file (no task) in the scratch folder."""
    return save_weights(build("lstm-ptb", vocab=20, embed=8, hidden=16), tmp_path / "lstm.npz")


# Each case: (id, function(tmp_path, tiny) -> (argv, message)). Paths are relative to tmp_path.
def _spec_range(tmp, tiny):
    (tmp / "chip.yaml").write_text("core: {adc_bits: 99}\n")
    return (["--chip", "chip.yaml"],
            "core.adc_bits: must be >= 2 and <= 14, got 99 (in chip.yaml)")


def _spec_unknown(tmp, tiny):
    (tmp / "chip.yaml").write_text("faults: {stuck: 0.1}\n")
    return (["--chip", "chip.yaml"],
            "faults.stuck: unknown field of FaultSpec; did you mean 'stuck_fraction'? (fields: "
            "stuck_fraction, stuck_at_gmax_share, dead_cores, dead_adc_columns, broken_links) "
            "(in chip.yaml)")


def _spec_yaml(tmp, tiny):
    (tmp / "chip.yaml").write_text("core: {adc_bits: 6\n")
    return (["--chip", "chip.yaml"], "chip.yaml: not valid YAML: did not find expected ',' or "
            "'}' (line 2, column 1)")


def _spec_binary(tmp, tiny):
    (tmp / "chip.yaml").write_bytes(bytes(range(256)))
    return (["--chip", "chip.yaml"], "chip.yaml: not a chip spec file (not UTF-8 text)")


def _spec_missing(tmp, tiny):
    return (["--chip", "nochip.yaml"],
            "nochip.yaml: cannot read the chip spec file: No such file or directory")


def _spec_dead_core(tmp, tiny):
    (tmp / "chip.yaml").write_text("faults: {dead_cores: [3, 64]}\n")
    return (["--chip", "chip.yaml"],
            "faults.dead_cores[1]: core 64 is not on the 8x8 chip (cores 0..63) (in chip.yaml)")


def _set_range(tmp, tiny):
    return (["--set", "core.adc_bits=99"], "--set core.adc_bits: must be >= 2 and <= 14, got 99")


def _set_malformed(tmp, tiny):
    return (["--set", "adc_bits"],
            "--set 'adc_bits': expected KEY=VALUE, e.g. core.adc_bits=6 or run.samples=50")


def _set_grid(tmp, tiny):
    return (["--set", "chip.grid=0x8"], "--set grid[0]: must be >= 1 and <= 256, got 0")


def _set_link(tmp, tiny):
    return (["--set", "faults.broken_links=[[0,5]]"],
            "faults.broken_links[0]: cores 0 and 5 are not linked in the hermes_grid network, "
            "so their link cannot be broken")


def _set_adc_column(tmp, tiny):
    return (["--set", "faults.dead_adc_columns=[[0,300]]"],
            "--set faults.dead_adc_columns[0]: column 300 is not on a core of 256 columns "
            "(0..255)")


def _option_range(tmp, tiny):
    return (["--t-seconds", "-1"], "--t-seconds: must be >= 0.0, got -1.0")


def _option_type(tmp, tiny):
    return (["--inferences", "x"],
            "argument --inferences: invalid int value: 'x' (see chipsim run --help)")


def _npz_truncated(tmp, tiny):
    data = tiny.read_bytes()
    (tmp / "net.npz").write_bytes(data[: len(data) // 2])
    return (["net.npz"], "net.npz: not a readable chipsim weights file (not an .npz zip "
            "archive: empty, truncated or another format)")


def _npz_nan(tmp, tiny):
    def mutate(a):
        k = _first_array(a, "fc", "weight")
        a[k] = a[k].copy()
        a[k][3, 2] = np.nan
    _rewrite_npz(tiny, tmp / "net.npz", mutate)
    return (["net.npz"], "net.npz: layer 'fc' (Linear): weight must hold finite real numbers "
            "(no NaN or Inf)")


def _npz_inf(tmp, tiny):
    def mutate(a):
        k = _first_array(a, "lstm", "weight_hh")
        a[k] = a[k].astype(np.float64)
        a[k][0, 0] = 1e39  # finite in float64, Inf in float32
    _rewrite_npz(tiny, tmp / "net.npz", mutate)
    return (["net.npz"], "net.npz: layer 'lstm' (LSTM): weight_hh must hold numbers within "
            "float32's range (|w| < 3.4e38)")


def _npz_shape(tmp, tiny):
    def mutate(a):
        k = _first_array(a, "lstm", "weight_ih")
        a[k] = a[k][:-1]
    _rewrite_npz(tiny, tmp / "net.npz", mutate)
    return (["net.npz"], "net.npz: layer 'lstm' (LSTM): weight_ih has shape (63, 8), expected "
            "(64, 8)")


def _npz_header(tmp, tiny):
    def mutate(a):
        h = _header(a)
        h["params"] = [1, 2]
        _set_header(a, h)
    _rewrite_npz(tiny, tmp / "net.npz", mutate)
    return (["net.npz"], "net.npz: header field 'params' must be a mapping, got [1, 2]")


def _npz_architecture(tmp, tiny):
    def mutate(a):
        h = _header(a)
        h["params"]["hidden"] = 32
        _set_header(a, h)
    _rewrite_npz(tiny, tmp / "net.npz", mutate)
    return (["net.npz"], "net.npz: the header names architecture 'lstm-ptb', but the graph's "
            "layers or input shape are not that network's")


def _onnx_text(tmp, tiny):
    (tmp / "net.onnx").write_text("this is not an ONNX file\n")
    return (["net.onnx"], "net.onnx: cannot read an ONNX model (Error parsing message with type "
            "'onnx.ModelProto': Wire format was corrupt)")


def _onnx_empty(tmp, tiny):
    (tmp / "net.onnx").write_bytes(b"")
    return (["net.onnx"], "net.onnx: not an ONNX model (no graph nodes: empty, truncated or "
            "another format)")


def _onnx_nan(tmp, tiny):
    w = np.ones((4, 3), np.float32)
    w[1, 1] = np.inf
    _fc_onnx(tmp / "net.onnx", w)
    return (["net.onnx"], "net (net.onnx): layer 'fc' (Linear): weight must hold finite real "
            "numbers (no NaN or Inf)")


def _onnx_shape(tmp, tiny):
    _fc_onnx(tmp / "net.onnx", np.ones((4, 5), np.float32))
    return (["net.onnx"], "net (net.onnx): layer 'fc' (Linear): expects 5 input features, its "
            "input 'input' has shape (3)")


def _onnx_op(tmp, tiny):
    _fc_onnx(tmp / "net.onnx", np.ones((4, 3), np.float32), op="Softmax")
    return (["net.onnx"], "net (net.onnx): unsupported operator Softmax with an input that "
            "comes from no in-projection (only inside a self-attention) at 'y'; supported: "
            "Conv, Gemm, MatMul, Add, BatchNormalization, Relu, MaxPool, AveragePool, "
            "GlobalAveragePool, ReduceMean, Flatten, Reshape, Identity, Dropout, Constant, "
            "LSTM, Gather, Transpose, Squeeze, Shape, LayerNormalization, Gelu, Softmax")


def _model_name(tmp, tiny):
    return (["resnet99"], "model: 'resnet99' is neither a zoo network (resnet9, lstm-ptb, "
            "resnet32, char-transformer, resnet18, resnet50, bert-base, speech-lstm) nor a .npz "
            "weights or .onnx file")


def _model_missing(tmp, tiny):
    return (["nothere.npz"], "model: weights file nothere.npz not found")


def _weights_other(tmp, tiny):
    return (["resnet9", "--weights", "lstm.npz"],
            "weights: lstm.npz holds a 'lstm-ptb' network, not 'resnet9'")


def _models_dir(tmp, tiny):
    (tmp / "empty").mkdir()
    return (["resnet9"], "weights: shipped file empty/resnet9-hwa.npz is missing; train it "
            "with python -m chipsim.train resnet9 --recipe hwa", {"CHIPSIM_MODELS": "empty"})


def _resnet9_mapping(tmp):
    layers = resolve_model("resnet9").workload.lowered()
    return save_mapping(map_workload(layers, hermes()), tmp / "mapping.yaml")


def _mapping_yaml(tmp, tiny):
    (tmp / "mapping.yaml").write_text("blocks: [\n")
    return (["resnet9", "--mapping", "mapping.yaml"],
            "mapping.yaml: not valid YAML: did not find expected node content (line 2, column 1)")


def _mapping_missing(tmp, tiny):
    return (["resnet9", "--mapping", "nomap.yaml"],
            "nomap.yaml: cannot read the mapping file: No such file or directory")


def _mapping_shape(tmp, tiny):
    layers = build("resnet9").lowered()  # the 3-channel zoo network: conv0 is 27 × 56
    save_mapping(map_workload(layers, hermes()), tmp / "mapping.yaml")
    return (["resnet9", "--mapping", "mapping.yaml"],
            "mapping.yaml: layers[0]: layer 'conv0' is 27×56 in the file but 9×56 in the "
            "workload")


def _mapping_overlap(tmp, tiny):
    path = _resnet9_mapping(tmp)
    text = path.read_text().splitlines()
    blocks = [i for i, line in enumerate(text) if "core:" in line and "layer:" in line]
    core_of_first = text[blocks[0]].rsplit("core:", 1)[1].strip(" }")
    text[blocks[1]] = text[blocks[1]].rsplit("core:", 1)[0] + f"core: {core_of_first}}}"
    path.write_text("\n".join(text) + "\n")
    return (["resnet9", "--mapping", "mapping.yaml"],
            "mapping.yaml: overlap: layer 'conv1' replica 0 block 0 (core {c}) is on the same "
            "core as layer 'conv0' replica 0 block 0 (core {c})".replace("{c}", core_of_first))


def _out_file(tmp, tiny):
    (tmp / "afile").write_text("x")
    return (["lstm.npz", "--out", "afile/report"],
            "afile/report: cannot write the report directory there: afile is not a directory")


def _out_foreign(tmp, tiny):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "thesis.tex").write_text("x")
    return (["lstm.npz", "--out", "mine"], "mine: exists and is not a chipsim report directory "
            "(it holds 'thesis.tex'); choose another output directory")


# ---------------------------------------------------------------- the input gate (chipsim.inputs)
def _deep(n=100_000):
    return "[" * n + "]" * n


def _spec_fifo(tmp, tiny):
    os.mkfifo(tmp / "chip.yaml")
    return (["--chip", "chip.yaml"],
            "chip.yaml: cannot read the chip spec file: a FIFO (named pipe), not a regular file")


def _spec_dev_zero(tmp, tiny):
    (tmp / "chip.yaml").symlink_to("/dev/zero")
    return (["--chip", "chip.yaml"],
            "chip.yaml: cannot read the chip spec file: a character device, not a regular file")


def _spec_too_large(tmp, tiny):
    with open(tmp / "chip.yaml", "wb") as fh:
        fh.truncate(100 << 20)  # sparse: 100 MB in no time
    return (["--chip", "chip.yaml"],
            "chip.yaml: cannot read the chip spec file: 100 MB is more than the 8 MB allowed "
            "for a YAML file; set CHIPSIM_MAX_INPUT_MB to a number of MB to allow more")


def _spec_cap_lowered(tmp, tiny):
    (tmp / "chip.yaml").write_text("# " + "x" * 3000 + "\ncore: {adc_bits: 6}\n")
    return (["--chip", "chip.yaml"],
            "chip.yaml: cannot read the chip spec file: 3 kB is more than the 1 kB allowed for a "
            "YAML file; set CHIPSIM_MAX_INPUT_MB to a number of MB to allow more",
            {"CHIPSIM_MAX_INPUT_MB": "0.001"})


def _cap_not_a_number(tmp, tiny):
    (tmp / "chip.yaml").write_text("core: {adc_bits: 6}\n")
    return (["--chip", "chip.yaml"], "CHIPSIM_MAX_INPUT_MB: must be a number of MB > 0, got "
            "'lots'", {"CHIPSIM_MAX_INPUT_MB": "lots"})


def _products_unknown(tmp, tiny):
    return ([], "CHIPSIM_PRODUCTS: must be auto, exact or blas, got 'fast'",
            {"CHIPSIM_PRODUCTS": "fast"})


def _spec_deep(tmp, tiny):
    (tmp / "chip.yaml").write_text(f"core: {_deep()}\n")
    return (["--chip", "chip.yaml"],
            "chip.yaml: not valid YAML: nested deeper than 100 levels (line 1, column 106)")


def _spec_deep_json(tmp, tiny):
    (tmp / "chip.json").write_text(f'{{"core": {_deep()}}}')
    return (["--chip", "chip.json"], "chip.json: not valid JSON: nested deeper than 100 levels")


def _billion_laughs(tmp, tiny):
    lols = ["&a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
        f"&{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    (tmp / "chip.yaml").write_text(f"core: {{adc_bits: [{', '.join(lols)}]}}\n")
    return (["--chip", "chip.yaml"], "chip.yaml: not valid YAML: aliases repeat more than "
            "100,000 values (alias expansion is capped) (line 1, column 237)")


def _spec_self_alias(tmp, tiny):
    (tmp / "chip.yaml").write_text("faults: {broken_links: &a [*a]}\n")
    return (["--chip", "chip.yaml"], "chip.yaml: not valid YAML: alias *a refers to a value "
            "that contains it (line 1, column 28)")


def _spec_duplicate_key(tmp, tiny):
    (tmp / "chip.yaml").write_text("core: {adc_bits: 6, adc_bits: 4}\n")
    return (["--chip", "chip.yaml"],
            "chip.yaml: not valid YAML: duplicate key 'adc_bits' (line 1, column 21)")


def _spec_duplicate_json(tmp, tiny):
    (tmp / "chip.json").write_text('{"core": {"adc_bits": 6, "adc_bits": 4}}')
    return (["--chip", "chip.json"], "chip.json: not valid JSON: duplicate key 'adc_bits'")


def _spec_empty(tmp, tiny):
    (tmp / "chip.yaml").write_text("# nothing yet\n")
    return (["--chip", "chip.yaml"], "chip.yaml: empty chip spec file; write {} for a chip "
            "with every field at its default")


def _spec_long_integer(tmp, tiny):
    (tmp / "chip.yaml").write_text(f"core: {{adc_bits: {'9' * 5000}}}\n")
    return (["--chip", "chip.yaml"], "chip.yaml: not valid YAML: an integer of 5,000 digits is "
            "too long (line 1, column 18)")


_HUGE = "9" + "0" * 400


def _spec_float_overflow(tmp, tiny):
    (tmp / "chip.yaml").write_text(f"core: {{v_read_v: {_HUGE}}}\n")
    return (["--chip", "chip.yaml"], "core.v_read_v: must be a number within float's range "
            "(|x| < 1.8e308), got 900000000000000000...0000000000000000000 (in chip.yaml)")


def _set_float_overflow(tmp, tiny):
    return (["--set", f"core.v_read_v={_HUGE}"], "--set core.v_read_v: must be a number "
            "within float's range (|x| < 1.8e308), got 900000000000000000...0000000000000000000")


def _set_run_overflow(tmp, tiny):
    return (["--set", f"run.t_seconds={_HUGE}"], "--set run.t_seconds: must be a number "
            "within float's range (|x| < 1.8e308), got 900000000000000000...0000000000000000000")


def _set_int64(tmp, tiny):
    return (["--set", "run.seed=99999999999999999999"], "--set run.seed: must be an integer of "
            "at most 64 bits (|x| < 9.2e18), got 99999999999999999999")


def _set_long_value(tmp, tiny):
    # deeper than 100 levels: not a YAML list, so the text itself, cut in the message
    return (["--set", f"core.adc_bits={_deep(1000)}"], "--set core.adc_bits: must be an "
            f"integer, got '{'[' * 37}...{']' * 38}' (str)")


def _mapping_unknown_key(tmp, tiny):
    path = _resnet9_mapping(tmp)
    path.write_text(path.read_text().replace("excluded_cores:", "excluded_core:"))
    return (["resnet9", "--mapping", "mapping.yaml"], "mapping.yaml: mapping: unknown field "
            "'excluded_core'; did you mean 'excluded_cores' or 'n_cores'? (fields: format, chip, "
            "grid, n_cores, chips, core, workload, cores_used, placement_cost, excluded_cores, "
            "layers, blocks)")


def _mapping_block_key(tmp, tiny):
    path = _resnet9_mapping(tmp)
    path.write_text(path.read_text().replace("- {layer: conv0, replica: 0, index: 0,",
                                             "- {layer: conv0, replica: 0, index: 0, colour: red,"))
    return (["resnet9", "--mapping", "mapping.yaml"], "mapping.yaml: blocks[0]: unknown field "
            "'colour'; did you mean 'core' or 'cols'? (fields: layer, replica, index, rows, cols, "
            "chip, core)")


def _mapping_grid_float(tmp, tiny):
    path = _resnet9_mapping(tmp)
    path.write_text(path.read_text().replace("grid: [8, 8]", "grid: [8, 8.0]"))
    return (["resnet9", "--mapping", "mapping.yaml"],
            "mapping.yaml: mapping: grid must be two integers [rows, cols], got [8, 8.0]")


def _mapping_empty(tmp, tiny):
    (tmp / "mapping.yaml").write_text("")
    return (["resnet9", "--mapping", "mapping.yaml"], "mapping.yaml: empty mapping file; a "
            "mapping lists every block of every layer; chipsim map MODEL --out DIR writes one "
            "to start from")


def _mapping_fifo(tmp, tiny):
    os.mkfifo(tmp / "mapping.yaml")
    return (["resnet9", "--mapping", "mapping.yaml"], "mapping.yaml: cannot read the mapping "
            "file: a FIFO (named pipe), not a regular file")


def _edge_list_fifo(tmp, tiny):
    (tmp / "chip.yaml").write_text("network: {topology: file, graph_file: edges.txt}\n")
    os.mkfifo(tmp / "edges.txt")
    return (["lstm.npz", "--chip", "chip.yaml"], "network.graph_file: edges.txt: cannot read "
            "the edge list: a FIFO (named pipe), not a regular file")


def _model_directory(tmp, tiny):
    (tmp / "net.npz").mkdir()
    return (["net.npz"],
            "net.npz: cannot read the chipsim weights file: a directory, not a regular file")


def _npz_bomb(tmp, tiny):
    def mutate(a):
        a["a99"] = np.zeros(1 << 20)  # 8 MB of zeros, a few kB compressed
    with np.load(tiny) as z:
        arrays = {k: z[k] for k in z.files}
    mutate(arrays)
    np.savez_compressed(tmp / "net.npz", **arrays)
    return (["net.npz"], "net.npz: cannot read the chipsim weights file: its arrays take 8 MB "
            "uncompressed, more than the 1 MB allowed for an archive or ONNX file; set "
            "CHIPSIM_MAX_INPUT_MB to a number of MB to allow more", {"CHIPSIM_MAX_INPUT_MB": "1"})


def _data_fifo(tmp, tiny):
    os.mkfifo(tmp / "d.npz")
    return (["lstm.npz", "--data", "d.npz"], "data d.npz: cannot read the data file: a FIFO "
            "(named pipe), not a regular file")


def _data_lying_header(tmp, tiny):
    _npz_with_lying_header(tmp / "d.npz")
    return (["lstm.npz", "--data", "d.npz"], "data d.npz: array 'x': its header declares shape "
            "(1000000000000,) of float64 (7,629,395 MB) but the archive holds 128 bytes for it")


def _onnx_hollow(tmp, tiny):
    w = TensorProto(name="fc.weight", data_type=TensorProto.FLOAT, dims=[4, 1 << 27])  # 2 GiB
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], transB=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
    onnx.save(helper.make_model(graph), tmp / "net.onnx")
    return (["net.onnx"], "net (net.onnx): initializer 'fc.weight' of shape (4, 134217728) "
            "cannot be read (cannot reshape array of size 0 into shape (4,134217728))")


def _out_empty(tmp, tiny):
    return (["lstm.npz", "--out", ""], "--out: empty path; give a directory name")


def _out_dot(tmp, tiny):
    return (["lstm.npz", "--out", "."], ".: names the working folder or a folder above it, "
            "which chipsim cannot replace; give a directory inside it, e.g. --out ./report")


def _out_edited(tmp, tiny):
    with building(tmp / "rep", "report") as new:  # as chipsim run --out writes it
        (new / "report.md").write_text("# report\n")
    (tmp / "rep" / "report.md").write_text("# report\nmy notes\n")
    return (["lstm.npz", "--out", "rep"], "rep: report.md was changed after chipsim wrote it; "
            "move it away or choose another output directory")


def _out_added(tmp, tiny):
    with building(tmp / "rep", "report") as new:
        (new / "report.md").write_text("# report\n")
    (tmp / "rep" / "notes.txt").write_text("mine")
    return (["lstm.npz", "--out", "rep"], "rep: holds 'notes.txt', which chipsim did not write; "
            "move it away or choose another output directory")


def _out_mapping_dir(tmp, tiny):
    with building(tmp / "maps", "mapping") as new:  # as chipsim map --out writes it
        (new / "mapping.yaml").write_text("blocks: []\n")
    return (["lstm.npz", "--out", "maps"], "maps: is a chipsim mapping directory, not a report "
            "directory; choose another output directory")


def _system_zero(tmp, tiny):
    return (["--system", "0xhermes"], "system.chips: '0xhermes': a system has 1..256 chips, "
            "got 0")


def _system_and_chip(tmp, tiny):
    return (["--system", "4xhermes", "--chip", "hermes"], "--chip and --system: give one of "
            "them (--system 4xhermes is --chip 4xhermes)")


def _system_too_small(tmp, tiny):
    return (["resnet9", "--system", "2xhermes16"], "the workload needs 3 chips of 16 cores (40 "
            "blocks, whole layers on one chip where they fit); the system has 2: set "
            "system.chips=3 (--system 3xhermes16)")


def _system_too_many_cores(tmp, tiny):
    return (["--set", "system.chips=65"], "--set system.chips: 65 chips of 64 cores are 4160 "
            "cores; a system has at most 4096 (chipsim.spec.MAX_CORES: timing tables grow with "
            "the cores)")


def _system_file_without_file(tmp, tiny):
    return (["--set", "system.topology=file"], "--set system.graph_file: is required when "
            "topology is 'file'")


CASES = {
    "spec-out-of-range": _spec_range, "spec-unknown-field": _spec_unknown,
    "spec-not-yaml": _spec_yaml, "spec-binary": _spec_binary, "spec-missing": _spec_missing,
    "spec-fault-id": _spec_dead_core, "set-out-of-range": _set_range,
    "set-malformed": _set_malformed, "set-grid": _set_grid, "set-not-a-link": _set_link,
    "set-adc-column": _set_adc_column, "option-out-of-range": _option_range,
    "option-type": _option_type, "npz-truncated": _npz_truncated, "npz-nan": _npz_nan,
    "npz-float32-overflow": _npz_inf, "npz-shape": _npz_shape, "npz-header": _npz_header,
    "npz-architecture": _npz_architecture, "onnx-not-onnx": _onnx_text,
    "onnx-empty": _onnx_empty, "onnx-inf": _onnx_nan, "onnx-shape": _onnx_shape,
    "onnx-operator": _onnx_op, "model-name": _model_name, "model-missing": _model_missing,
    "weights-other-network": _weights_other, "models-dir-empty": _models_dir,
    "mapping-not-yaml": _mapping_yaml, "mapping-missing": _mapping_missing,
    "mapping-shape": _mapping_shape, "mapping-overlap": _mapping_overlap,
    "out-under-a-file": _out_file, "out-foreign-dir": _out_foreign, "out-empty": _out_empty,
    "out-working-folder": _out_dot, "out-edited-file": _out_edited,
    "out-added-file": _out_added, "out-mapping-dir": _out_mapping_dir,
    "spec-fifo": _spec_fifo, "spec-dev-zero": _spec_dev_zero, "spec-too-large": _spec_too_large,
    "spec-cap-lowered": _spec_cap_lowered, "cap-not-a-number": _cap_not_a_number,
    "products-unknown": _products_unknown,
    "spec-deep": _spec_deep, "spec-deep-json": _spec_deep_json,
    "spec-billion-laughs": _billion_laughs, "spec-self-alias": _spec_self_alias,
    "spec-duplicate-key": _spec_duplicate_key, "spec-duplicate-json": _spec_duplicate_json,
    "spec-empty": _spec_empty, "spec-long-integer": _spec_long_integer,
    "spec-float-overflow": _spec_float_overflow, "set-float-overflow": _set_float_overflow,
    "set-run-overflow": _set_run_overflow, "set-int64": _set_int64,
    "set-long-value": _set_long_value, "mapping-unknown-key": _mapping_unknown_key,
    "mapping-block-key": _mapping_block_key, "mapping-grid-float": _mapping_grid_float,
    "mapping-empty": _mapping_empty, "mapping-fifo": _mapping_fifo,
    "edge-list-fifo": _edge_list_fifo, "model-directory": _model_directory,
    "npz-zip-bomb": _npz_bomb, "data-fifo": _data_fifo, "data-lying-header": _data_lying_header,
    "onnx-hollow-initializer": _onnx_hollow, "system-zero-chips": _system_zero,
    "system-and-chip": _system_and_chip, "system-too-small": _system_too_small,
    "system-too-many-cores": _system_too_many_cores,
    "system-file-without-file": _system_file_without_file,
}


@pytest.mark.parametrize("case", list(CASES))
def test_cli_rejects(case, tmp_path, tiny, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHIPSIM_MODELS", raising=False)
    argv, message, *env = CASES[case](tmp_path, tiny)
    for key, value in (env[0] if env else {}).items():
        monkeypatch.setenv(key, value)
    before = set(os.listdir(tmp_path))
    code, out, err = cli("run", *argv, "--samples", "2", "--instances", "1", "--quiet")
    assert code == 2
    assert err == ERR + message + "\n"
    assert out == ""
    assert set(os.listdir(tmp_path)) == before  # no report directory, no stray file


def test_a_mapping_on_a_dead_core(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _resnet9_mapping(tmp_path)
    text = path.read_text()
    line = next(ln for ln in text.splitlines() if "core: 27}" in ln)
    layer = line.split("layer: ", 1)[1].split(",", 1)[0]
    index = int(line.split("index: ", 1)[1].split(",", 1)[0])
    i = [ln for ln in text.splitlines() if "layer:" in ln].index(line)
    code, _, err = cli("run", "resnet9", "--mapping", "mapping.yaml", "--set",
                       "faults.dead_cores=[27]")
    assert code == 2
    assert err == (f"{ERR}mapping.yaml: blocks[{i}]: layer '{layer}' replica 0 block {index} "
                   "(core 27): core 27 is dead (faults.dead_cores of chip 'hermes')\n")


def test_sweep_grid_value_is_checked_before_any_point(tmp_path, cli):
    out = tmp_path / "sweep"
    code, _, err = cli("sweep", "resnet9", "--grid", "faults.stuck_fraction=0,1.5", "--out", out)
    assert code == 2
    assert err == ("chipsim sweep: error: --grid faults.stuck_fraction=1.5: "
                   "faults.stuck_fraction: must be >= 0.0 and <= 1.0, got 1.5\n")
    assert not out.exists()


def test_data_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ChipsimError) as err:
        load_cifar10("cifar")
    assert str(err.value) == "cifar/test_batch: CIFAR-10 batch file not found"
    (tmp_path / "ptb.txt").write_bytes(bytes(range(128, 256)))
    with pytest.raises(ChipsimError, match="ptb.txt: cannot read Penn Treebank character file"):
        load_ptb_chars("ptb.txt")


@pytest.mark.parametrize("argv, message", [
    (["map", "resnet9", "--seed", "-1"], "chipsim map: error: seed: must be an integer >= 0, "
     "got -1"),
    (["map", "resnet9", "--exclude", "99"], "chipsim map: error: excluded core 99 is not on "
     "chip 'hermes' (cores 0..63)"),
    (["mvm-error", "--seed", "-1"], "chipsim mvm-error: error: seed: must be an integer >= 0, "
     "got -1"),
    (["mvm-error", "--t-seconds", "nan"], "chipsim mvm-error: error: t_s: time since "
     "programming must be a finite number >= 0 s, got nan"),
    (["report", "nodir"], "chipsim report: error: nodir/report.json: cannot read the report: "
     "No such file or directory"),
    (["map", "resnet9", "--out", ""], "chipsim map: error: --out: empty path; give a directory "
     "name"),
    (["map", "resnet9", "--out", ".."], "chipsim map: error: ..: names the working folder or a "
     "folder above it, which chipsim cannot replace; give a directory inside it, e.g. --out "
     "../mapping"),
    (["report", ""], "chipsim report: error: DIR: empty path; give a directory name"),
    (["report", "."], "chipsim report: error: .: names the working folder or a folder above "
     "it, which chipsim cannot replace; run the command from the folder above it"),
    (["sweep", "resnet9", "--grid", "core.adc_bits=4,8", "--out", ""], "chipsim sweep: error: "
     "--out: empty path; give a directory name"),
    (["sweep", "resnet9", "--grid", "core.adc_bits=4,8", "--workers", "100000", "--out", "s"],
     f"chipsim sweep: error: --workers: must be >= 1 and <= {max_workers()} (4 × the "
     f"{max_workers() // 4} CPUs this process may use: each worker is a one-thread process "
     "with its own model and chips, so more only add memory), got 100000"),
], ids=["map-seed", "map-exclude", "mvm-error-seed", "mvm-error-time", "report-missing",
        "map-out-empty", "map-out-parent", "report-empty", "report-working-folder",
        "sweep-out-empty", "sweep-workers-cap"])
def test_other_commands_reject(argv, message, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*argv)
    assert (code, out, err) == (2, "", message + "\n")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("make, message", [
    (os.mkfifo, "cannot read the report: a FIFO (named pipe), not a regular file"),
    (lambda p: p.symlink_to("/dev/zero"),
     "cannot read the report: a character device, not a regular file"),
    (lambda p: p.write_text(f'{{"chip": {_deep()}}}'),
     "not valid JSON: nested deeper than 100 levels"),
    (lambda p: p.write_text('{"chip": {}, "chip": {}}'), "not valid JSON: duplicate key 'chip'"),
    (lambda p: p.write_text(" \n"), "empty report; chipsim run MODEL --out DIR writes one"),
], ids=["fifo", "dev-zero", "deep", "duplicate-key", "empty"])
def test_report_json_through_the_gate(make, message, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rep").mkdir()
    make(tmp_path / "rep" / "report.json")
    code, out, err = cli("report", "rep")
    assert (code, out, err) == (2, "", f"chipsim report: error: rep/report.json: {message}\n")
    assert os.listdir(tmp_path / "rep") == ["report.json"]


def _readme_rows() -> dict[str, str]:
    """The README's bad-input table: test id → the message shown (Markdown unescaped)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = {}
    for line in text.split("## Bad input and what you see", 1)[1].splitlines():
        m = re.match(r"^\| .* \| `(.*)` \| `([^`]*)` \|$", line)
        if m:
            rows[m.group(2)] = m.group(1).replace("\\|", "|")
    return rows


@pytest.mark.parametrize("case", sorted(CASES))
def test_readme_row_shows_the_exact_message(case, tmp_path, tiny, monkeypatch):
    """Every case of :func:`test_cli_rejects` has its README row, with its message."""
    monkeypatch.chdir(tmp_path)
    _, message, *_ = CASES[case](tmp_path, tiny)
    shown = _readme_rows().get(f"test_bad_input.py::test_cli_rejects[{case}]")
    assert shown == ERR + message
