"""Batch re-analysis: many session directories, in processes or on a (local) Dask cluster,
one summary table; the strides equal those of `runform analyze` on each session alone."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runform.batch import SUMMARY_COLUMNS, run_batch
from runform.store import Store
from runform.store.sessiondir import export_session
from runform.store.virtual import record_virtual_session


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    """Three exported virtual sessions (different runners' seeds) and one with a broken raw line."""
    root = tmp_path_factory.mktemp("batch")
    store = Store(root / "data")
    dirs = []
    for seed in (1, 2, 3):
        sid = record_virtual_session(store, 20.0, seed=seed, label=f"s{seed}")
        out = root / f"run{seed}"
        export_session(store, sid, out, analysis="none")
        dirs.append(out)
    bad = root / "broken"
    shutil.copytree(dirs[0], bad)
    raw = bad / "raw_left_shank.csv"
    lines = raw.read_text().splitlines(keepends=True)
    lines[100] = "0.1,2,three,4,5,6,7\n"
    raw.write_text("".join(lines))
    return dirs, bad


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runform", *args], capture_output=True, text=True, timeout=300)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_batch_equals_analyze_per_session_and_the_table_summarises_the_strides(sessions, tmp_path):
    dirs, _ = sessions
    res = run_batch(dirs, tmp_path / "b", jobs=1, progress=False)
    assert not res.failed and sorted(res.written) == ["run1", "run2", "run3"]
    for d in dirs:
        one = cli("analyze", str(d), "--out", str(tmp_path / "one" / d.name))
        assert one.returncode == 0, one.stderr
        assert (tmp_path / "b" / d.name / "strides.csv").read_bytes() == (tmp_path / "one" / d.name / "strides.csv").read_bytes()
    table = read_csv(tmp_path / "b" / "summary.csv")
    assert tuple(table[0]) == SUMMARY_COLUMNS
    assert {r["session"] for r in table} == {"run1", "run2", "run3"}
    checked = 0
    for d in dirs:
        strides = read_csv(tmp_path / "b" / d.name / "strides.csv")
        assert strides, "the virtual runner makes strides"
        means = {}
        for leg in ("left", "right"):
            valid = [s for s in strides if s["leg"] == leg and s["valid"] == "1"]
            rows = {r["metric"]: r for r in table if r["session"] == d.name and r["leg"] == leg}
            assert int(rows["strides"]["n"]) == sum(s["leg"] == leg for s in strides)
            assert int(rows["valid_strides"]["n"]) == len(valid)
            for metric in ("contact_time_ms", "cadence_spm", "peak_eversion_deg", "stride_length_m"):
                v = np.array([float(s[metric]) for s in valid if s[metric] != ""])
                assert int(rows[metric]["n"]) == v.size
                assert float(rows[metric]["mean"]) == pytest.approx(v.mean(), abs=1e-3)
                assert float(rows[metric]["sd"]) == pytest.approx(v.std(), abs=1e-3)
                means[(leg, metric)] = v.mean()
                checked += 1
        for metric in ("contact_time_ms", "cadence_spm"):
            row = next(r for r in table if r["session"] == d.name and r["leg"] == "left" and r["metric"] == metric)
            l, r = means[("left", metric)], means[("right", metric)]
            assert float(row["symmetry_index_pct"]) == pytest.approx(100 * (l - r) / (0.5 * (l + r)), abs=1e-2)
    assert checked == 24


def test_processes_and_a_local_dask_cluster_give_the_same_files(sessions, tmp_path):
    distributed = pytest.importorskip("distributed")
    dirs, _ = sessions
    ref = run_batch(dirs, tmp_path / "inline", jobs=1, progress=False)
    run_batch(dirs, tmp_path / "procs", jobs=2, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        from runform.cli import main

        assert main(["analyze", *map(str, dirs), "--out", str(tmp_path / "dask"), "--dask", cluster.scheduler_address]) == 0
    for name in ("procs", "dask"):
        assert (tmp_path / name / "summary.csv").read_bytes() == (tmp_path / "inline" / "summary.csv").read_bytes()
        for d in ref.written:
            assert (tmp_path / name / d / "strides.csv").read_bytes() == (tmp_path / "inline" / d / "strides.csv").read_bytes()
            a = json.loads((tmp_path / name / d / "summary.json").read_text())
            b = json.loads((tmp_path / "inline" / d / "summary.json").read_text())
            assert a == b


def test_cli_jobs_prints_the_table_and_a_bad_session_does_not_stop_the_others(sessions, tmp_path):
    dirs, bad = sessions
    res = cli("analyze", *map(str, dirs), str(bad), "--out", str(tmp_path / "o"), "--jobs", "2")
    assert res.returncode == 2
    assert f"{bad / 'raw_left_shank.csv'}:101" in res.stderr  # file and line of the broken value
    assert not (tmp_path / "o" / "broken").exists()  # nothing written for it
    for d in dirs:
        assert (tmp_path / "o" / d.name / "strides.csv").is_file()
    assert "symmetry_index_pct" in res.stdout and "run2" in res.stdout and "cadence_spm" in res.stdout
    printed = {r["session"] for r in read_csv(tmp_path / "o" / "summary.csv")}
    assert printed == {"run1", "run2", "run3"}


def test_batch_makes_the_checks_of_analyze_and_prints_its_notes(sessions, tmp_path):
    """--jobs refused nothing of runform.offline.raw.check_plausible (time_s in ms) and printed
    none of the notes (gaps, saturation, a dead axis) that runform analyze prints. A dead axis
    is analysed (its leg's strides flagged dead_channel), not refused, as without --jobs."""
    dirs, _ = sessions
    dead = tmp_path / "dead"
    shutil.copytree(dirs[0], dead)
    raw = dead / "raw_left_foot.csv"
    data = np.loadtxt(raw, delimiter=",", skiprows=1)
    data[:, 4] = 0.0
    np.savetxt(raw, data, delimiter=",", fmt="%.6f", header=raw.read_text().splitlines()[0], comments="")
    gap = tmp_path / "gap"
    shutil.copytree(dirs[1], gap)
    raw = gap / "raw_right_foot.csv"
    data = np.loadtxt(raw, delimiter=",", skiprows=1)
    data[len(data) // 2:, 0] += 10.0
    np.savetxt(raw, data, delimiter=",", fmt="%.6f", header=raw.read_text().splitlines()[0], comments="")
    proc = subprocess.run([sys.executable, "-m", "runform.cli", "analyze", str(dead), str(gap), "--out", str(tmp_path / "out"),
                           "--jobs", "1"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"note: {dead / 'raw_left_foot.csv'}: gyr_x_dps is 0 in all" in proc.stderr and "dead_channel" in proc.stderr, proc.stderr
    assert f"note: {gap / 'raw_right_foot.csv'}: 1 gap(s) in time_s" in proc.stderr, proc.stderr
