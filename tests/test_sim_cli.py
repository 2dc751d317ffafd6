"""``runform simulate``: the session directory, its bytes by seed, and the PNG of a few strides."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pytest

from runform.cli import main
from runform.core.schema import RAW_COLUMNS, STRIDE_COLUMNS
from runform.placements import PLACEMENTS
from runform.sensors.quantize import acc_lsb_mps2, gyr_lsb_dps


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_simulate_writes_session_and_same_seed_same_bytes(tmp_path, capsys):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    args = ["simulate", "--duration", "12", "--profile", "overpronator", "--set", "speed_mps=3.5", "--seed", "5"]
    assert main(args + ["--out", str(a)]) == 0
    assert main(args + ["--out", str(b)]) == 0
    assert main(args[:-1] + ["6", "--out", str(c)]) == 0
    names = {f"raw_{p}.csv" for p in PLACEMENTS} | {"session.json", "truth_strides.csv", "truth_angles.csv"}
    assert {p.name for p in a.iterdir()} == names  # no temporary files left behind
    assert _digest(a) == _digest(b)
    assert _digest(a)["raw_left_foot.csv"] != _digest(c)["raw_left_foot.csv"]

    meta = json.loads((a / "session.json").read_text())
    assert meta["source"] == "simulate" and meta["profile"] == "overpronator" and meta["seed"] == 5
    assert meta["parameters"]["speed_mps"] == 3.5 and meta["rate_hz"] == 400.0 and meta["duration_s"] == 12.0
    sensors = {s["placement"]: s for s in meta["sensors"]}
    assert set(sensors) == set(PLACEMENTS)
    for s in sensors.values():
        assert len(s["mounting_quat_wxyz"]) == 4
        assert {"accel_range_g", "gyro_range_dps", "clock_offset_us", "clock_drift_ppm"} <= set(s)
    assert sensors["left_foot"]["accel_range_g"] == 16 and sensors["left_shank"]["accel_range_g"] == 32

    with open(a / "raw_right_shank.csv") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == RAW_COLUMNS
    data = np.array(rows[1:], dtype=float)
    assert data.shape[0] == pytest.approx(12 * 400, abs=2)
    assert np.all(np.diff(data[:, 0]) > 0)
    codes_a = data[:, 1:4] / acc_lsb_mps2(32)
    codes_g = data[:, 4:7] / gyr_lsb_dps(2000)
    np.testing.assert_allclose(codes_a, np.round(codes_a), atol=1e-3)  # exact int16 codes
    np.testing.assert_allclose(codes_g, np.round(codes_g), atol=1e-3)

    with open(a / "truth_strides.csv") as fh:
        truth = list(csv.reader(fh))
    assert tuple(truth[0]) == STRIDE_COLUMNS
    assert len(truth) > 10


def test_simulate_rejects_bad_settings(tmp_path, capsys):
    assert main(["simulate", "--duration", "5", "--out", str(tmp_path / "x"), "--set", "nonsense=1"]) == 2
    assert "unknown parameter" in capsys.readouterr().err
    assert main(["simulate", "--duration", "5", "--out", str(tmp_path / "x"), "--profile", "sprinter"]) == 2
    assert "unknown profile" in capsys.readouterr().err


def test_plot_command_draws_png(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "strides.png"
    assert main(["simulate", "--duration", "12", "--out", str(tmp_path / "s"), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000


def test_simulated_session_reads_as_a_session_directory(tmp_path):
    """The store's reader (runform.store.sessiondir) accepts what simulate writes."""
    sessiondir = pytest.importorskip("runform.store.sessiondir")
    out = tmp_path / "s"
    assert main(["simulate", "--duration", "8", "--out", str(out), "--placements", "left_foot,left_shank"]) == 0
    sd = sessiondir.read_session_dir(out)
    assert sd.placements == ["left_foot", "left_shank"]
    assert sd.samples["left_foot"] == pytest.approx(8 * 400, abs=2)


def test_saturation_at_the_configured_range(tmp_path):
    """A +-3 g foot accelerometer clips at heel strike and in swing: the raw CSV holds both end
    codes and session.json counts the clipped samples. (+-4 g clipped both ends on this seed's
    mounting until the toe roll changed push-off and early swing; now only the negative end.)"""
    out = tmp_path / "clip"
    assert main(["simulate", "--duration", "10", "--out", str(out), "--placements", "left_foot",
                 "--set", "foot_accel_range_g=3", "--set", "gyro_range_dps=250"]) == 0
    data = np.loadtxt(out / "raw_left_foot.csv", delimiter=",", skiprows=1)
    codes_a = np.rint(data[:, 1:4] / acc_lsb_mps2(3)).astype(int)
    codes_g = np.rint(data[:, 4:7] / gyr_lsb_dps(250)).astype(int)
    assert codes_a.max() == 32767 and codes_a.min() == -32768
    assert codes_g.max() == 32767 and codes_g.min() == -32768
    meta = json.loads((out / "session.json").read_text())
    s = meta["sensors"][0]
    assert s["accel_range_g"] == 3 and s["gyro_range_dps"] == 250
    assert s["clipped_acc_samples"] == int(np.any((codes_a == 32767) | (codes_a == -32768), axis=1).sum()) > 0
    assert s["clipped_gyr_samples"] > 0
