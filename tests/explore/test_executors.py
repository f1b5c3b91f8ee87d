"""The same sweep on a Dask cluster gives the table of the process pool (the reference).

The serial executor gives it too: see test_sweep's kill-and-resume test."""

import json

import pytest
from distributed import LocalCluster

from chipsim.cli import main
from chipsim.errors import ChipsimError
from chipsim.explore.executors import DaskExecutor

from .conftest import SWEEP

pytestmark = pytest.mark.slow  # part of the full suite, not of `-m "not slow"`


def _records(out):
    recs = {}
    for p in (out / "points").glob("*.json"):
        rec = json.loads(p.read_text())
        rec.pop("elapsed_s")
        recs[p.name] = rec
    return recs


def _same_as_reference(out, reference):
    assert (out / "table.csv").read_bytes() == (reference / "table.csv").read_bytes()
    assert (out / "table.md").read_bytes() == (reference / "table.md").read_bytes()
    assert _records(out) == _records(reference)


def test_process_pool_ran_in_other_processes(reference):
    # the reference sweep ran on 2 pool workers: every computed point has a record
    recs = _records(reference)
    assert sorted(r["status"] for r in recs.values()) == ["infeasible", "infeasible", "ok", "ok"]


def test_dask_local_cluster(reference, tmp_path):
    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        assert main(["sweep", *SWEEP, "--dask", cluster.scheduler_address, "--out",
                     str(out)]) == 0
    _same_as_reference(out, reference)


def test_dask_scheduler_unreachable():
    with pytest.raises(ChipsimError, match="--dask: cannot reach the scheduler at "
                       "tcp://127.0.0.1:9"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=0.5)


def test_a_point_runs_blas_on_one_thread_in_any_process(monkeypatch):
    # the serial executor runs points in this process, whose BLAS may use several threads:
    # run_point caps it at one, as the pool and Dask workers are, so that float32 products
    # round alike wherever a point runs
    from threadpoolctl import threadpool_info, threadpool_limits

    from chipsim.explore import worker

    seen = []

    def fake_simulate(job, programmed):
        seen.append({p["internal_api"]: p["num_threads"] for p in threadpool_info()
                     if p["user_api"] == "blas"})
        return {}

    monkeypatch.setattr(worker, "_simulate", fake_simulate)
    with threadpool_limits(2, user_api="blas"):
        assert all(p["num_threads"] == 2 for p in threadpool_info() if p["user_api"] == "blas")
        record = worker.run_point({"id": "x", "index": 0, "settings": {}})
        after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert record["status"] == "ok"
    assert seen and seen[0] and set(seen[0].values()) == {1}
    assert set(after) == {2}  # restored for the caller


def test_points_that_differ_in_time_or_gdc_share_instances_with_the_same_records():
    import dataclasses

    from chipsim import RunConfig
    from chipsim.explore import worker
    from chipsim.spec import hermes, to_dict

    def job(i, **run):
        config = RunConfig(samples=20, instances=2, inferences=1, **run)
        return {"index": i, "id": f"p{i}", "settings": run, "model": "resnet9",
                "weights": "hwa", "chip": to_dict(hermes()),
                "config": dataclasses.asdict(config)}

    jobs = [job(0, t_seconds=60.0), job(1, t_seconds=86400.0),
            job(2, t_seconds=86400.0, gdc=False), job(3, t_seconds=60.0, seed=1)]
    groups = worker.group_jobs(jobs, 10)
    assert [[j["index"] for j in g] for g in groups] == [[0, 1, 2], [3]]
    together = worker.run_points(groups[0])
    alone = [worker.run_point(j) for j in groups[0]]
    assert [r["reused_instances"] for r in together] == [0, 2, 2]
    assert [r["reused_instances"] for r in alone] == [0, 0, 0]
    for a, b in zip(together, alone, strict=True):
        assert a["status"] == "ok"
        drop = ("elapsed_s", "reused_instances")
        assert {k: v for k, v in a.items() if k not in drop} == \
            {k: v for k, v in b.items() if k not in drop}
