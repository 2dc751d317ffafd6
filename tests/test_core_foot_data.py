"""FootTracker on real recordings (../shared/data): the thresholds the foot core reaches today.
Uses the loaders and the offline alignment of benchmarks/bench_events.py."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_events", REPO_ROOT / "benchmarks" / "bench_events.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_events"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.shared_data
def test_gaitmap_walking_ic_and_to_within_10_ms(shared_data, bench):
    res = bench.bench_gaitmap(shared_data)
    for foot, r in res.items():
        assert r["ic_missed"] <= 1 and r["to_missed"] <= 2, (foot, r)
        assert r["ic_med_abs_ms"] <= 10.0, (foot, r)
        assert r["to_med_abs_ms"] <= 10.0, (foot, r)
        # IC is decided once the pitch rate confirms it (foot slap): typically 10-20 ms in walking
        assert r["ic_lookahead_ms_median"] <= 30.0, (foot, r)


@pytest.mark.shared_data
def test_gaitmap_walking_foot_sagittal_angle_within_3_deg(shared_data, bench):
    # reference brought into the IMU frame by a fit of raw gyro/accelerometer vs mocap vectors
    res = bench.bench_gaitmap(shared_data)
    for foot, r in res.items():
        assert r["sagittal_rmse_imu_frame_deg"] <= 3.0, (foot, r)
        assert r["frontal_rmse_imu_frame_deg"] <= 8.0, (foot, r)  # goal 3 deg: not met yet


@pytest.mark.shared_data
def test_gaitmap_walking_same_events_in_small_blocks(shared_data, bench):
    whole = bench.bench_gaitmap(shared_data)
    blocks = bench.bench_gaitmap(shared_data, block=7)
    assert whole == blocks


PYSHOE_TRIALS = ["2017-11-27-11-18-11", "2017-12-15-18-03-05", "2017-11-27-11-13-41", "2017-11-22-11-22-03"]


@pytest.fixture(scope="module")
def pyshoe_results(shared_data, bench):
    return {name: bench.bench_pyshoe(name, shared_data) for name in PYSHOE_TRIALS}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", PYSHOE_TRIALS)
def test_pyshoe_stances_match_the_vicon_foot_speed(pyshoe_results, name):
    r = pyshoe_results[name]
    assert r["n_strides"] >= 10
    assert r["precision"] >= 0.99, r
    # the first short step out of standing (toes-up turn < swing_angle_rad) is not found yet
    assert r["recall"] >= 0.95, r


@pytest.mark.shared_data
@pytest.mark.parametrize("name", PYSHOE_TRIALS)
def test_pyshoe_stride_length_within_3_percent(pyshoe_results, name):
    r = pyshoe_results[name]
    assert r["n_length_compared"] >= 10, r
    assert r["stride_length_med_abs_pct"] <= 3.0, r


@pytest.mark.shared_data
def test_pyshoe_same_strides_in_small_blocks(shared_data, bench, pyshoe_results):
    name = "2017-11-27-11-13-41"
    assert bench.bench_pyshoe(name, shared_data, block=13) == pyshoe_results[name]


@pytest.mark.shared_data
def test_hugadb_every_file_runs_and_clipping_is_flagged(shared_data, bench):
    files = sorted((shared_data / "hugadb_running").glob("HuGaDB_v1_running_*.txt"))
    assert len(files) == 12
    for path in files:
        for foot, r in bench.bench_hugadb(path).items():
            assert r["status"] == "ok", (path.name, foot, r)
            assert r["n_strides"] >= 5, (path.name, foot, r)
            if r["clipped_gyr_frac"] > 0.01:
                assert r["n_flag_clipped_gyr"] == r["n_strides"]
            if r["clipped_acc_frac"] > 0.01:
                assert r["n_valid"] == 0  # clipped input never gives a "valid" stride
            assert 0.4 < r["stride_time_median_s"] < 0.9
