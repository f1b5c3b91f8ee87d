"""One configuration story: ``simulate`` and ``simulate_timing`` time the same design, and the
host link and buffer depths are chip spec fields, set like any other (files, ``--set``,
sweeps, the library)."""

import json

import pytest

from chipsim import RunConfig, apply_settings, simulate
from chipsim.cli import main
from chipsim.errors import ChipsimError
from chipsim.explore.grid import grid_points, parse_axis
from chipsim.models import resolve_model
from chipsim.spec import hermes
from chipsim.timing import TimingConfig
from chipsim.timing.run import simulate_timing


def _timing_of(report, layers, chip):
    return simulate_timing(report.mapping, layers, chip)  # its defaults: RunConfig()'s design


def test_simulate_timing_defaults_time_what_simulate_times():
    model = resolve_model("resnet9")
    layers = tuple(model.workload.lowered())
    chip = hermes()
    report = simulate(model, chip, config=RunConfig(accuracy=False))
    direct = _timing_of(report, layers, chip)
    t = report.timing
    assert direct.transport == t.transport == RunConfig().transport.value
    assert direct.inferences == t.inferences
    assert direct.latency_ps / 1e3 == t.latency_ns
    assert direct.throughput_inf_per_s == t.throughput_inf_per_s
    assert direct.counts.mvms / direct.inferences == t.mvms_per_inference


def test_timing_config_of_a_run_config():
    run = RunConfig(transport="offchip", inferences=7, gdc_interval_us=5.0,
                    granularity="window")
    cfg = TimingConfig.of(run, timeline=False)
    assert (cfg.transport.value, cfg.inferences, cfg.gdc_interval_us, cfg.granularity,
            cfg.timeline) == ("offchip", 7, 5.0, "window", False)


def test_host_link_and_buffers_are_settings():
    chip, _ = apply_settings(hermes(), RunConfig(), {
        "host.bandwidth_gbps": 25.6, "host.latency_ns": 50, "buffers.psum_vectors": 4,
        "buffers.activation_vectors": 300})
    assert chip.host.bandwidth_gbps == 25.6 and chip.host.latency_ns == 50.0
    assert chip.buffers.psum_vectors == 4 and chip.buffers.activation_vectors == 300
    points = grid_points(hermes(), RunConfig(), [parse_axis("host.bandwidth_gbps=6.4,25.6"),
                                                  parse_axis("buffers.input_vectors=1,8")])
    assert [(p.chip.host.bandwidth_gbps, p.chip.buffers.input_vectors) for p in points] == [
        (6.4, 1), (6.4, 8), (25.6, 1), (25.6, 8)]


def _offchip_latency(capsys, *sets):
    args = ["run", "lstm-ptb", "--transport", "offchip", "--no-accuracy", "--inferences", "2",
            "--quiet", "--json"]
    for item in sets:
        args += ["--set", item]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)["latency_ns"]


def test_cli_set_host_link_changes_the_offchip_latency(capsys):
    base = _offchip_latency(capsys)
    slow = _offchip_latency(capsys, "host.latency_ns=2000")
    narrow = _offchip_latency(capsys, "host.bandwidth_gbps=1.6")
    assert slow > base and narrow > base
    assert main(["run", "--no-accuracy", "--quiet", "--set", "buffers.psum_vectors=0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "buffers.psum_vectors" in err


@pytest.mark.slow
def test_simulate_measures_accuracy_against_time_in_the_library():
    cfg = RunConfig(samples=50, instances=2, timing=False)
    report = simulate("resnet9", config=cfg, t_sweep=[86400, 60, 3600, 60])
    rows = report.accuracy_vs_time
    assert [r.t_seconds for r in rows] == [60.0, 3600.0, 86400.0]
    assert rows[1].chip_mean == report.accuracy.chip_mean  # 3600 s: the run's
    assert [r.reused_instances for r in rows] == [2, 0, 2]  # programmed once
    alone = simulate("resnet9", config=RunConfig(samples=50, instances=2, timing=False,
                                                 t_seconds=60)).accuracy
    assert rows[0].chip == alone.chip  # reading again = programming anew


def test_bad_t_sweep_is_a_one_line_error():
    with pytest.raises(ChipsimError, match="t_sweep: times must be finite numbers >= 0"):
        simulate("resnet9", config=RunConfig(samples=50, timing=False), t_sweep=[-1])
    with pytest.raises(ChipsimError, match="t_sweep: needs the accuracy measurement"):
        simulate("resnet9", config=RunConfig(accuracy=False, timing=False), t_sweep=[60])


@pytest.mark.slow
def test_every_long_step_reports_progress():
    """Mapping, the first programming, the instances and the timing run each pass through the
    progress factory (a tqdm factory in the CLI; off with --quiet or off a terminal)."""
    seen = []

    def progress(iterable, desc=None, **_):
        seen.append(desc)
        return iterable

    simulate("resnet9", config=RunConfig(samples=50, instances=2), progress=progress,
             t_sweep=[60])
    assert seen[:2] == ["mapping", "programming chip instance 1"]
    assert {"chip instances", "timing run (4 inferences)", "t sweep"} <= set(seen)
