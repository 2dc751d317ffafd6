"""Export, import and re-export of the session directory format; the CLI; bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runform.core.schema import RAW_COLUMNS, STRIDE_COLUMNS
from runform.store import Store
from runform.store.sessiondir import SessionDirError, export_session, import_session_dir, read_session_dir
from runform.store.virtual import record_virtual_session


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    store = Store(root)
    sid = record_virtual_session(store, 30.0, seed=4, annotations=[(10.0, "insoles on"), (20.5, "fatigue, cadence drops")])
    out = root.parent / f"{root.name}_export"
    res = export_session(store, sid, out)
    return store, sid, out, res


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runform", *args], capture_output=True, text=True, timeout=120)


def test_export_writes_every_file_with_the_documented_columns(recorded):
    store, sid, out, res = recorded
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["session.json", "strides.csv", "events.csv", "annotations.csv",
                            "raw_left_foot.csv", "raw_right_foot.csv", "raw_left_shank.csv", "raw_right_shank.csv"])
    meta = json.loads((out / "session.json").read_text())
    assert meta["id"] == sid and meta["format"] == "runform-session"
    assert {s["placement"] for s in meta["sensors"]} == {"left_foot", "right_foot", "left_shank", "right_shank"}
    for s in meta["sensors"]:
        assert s["sample_rate_hz"] == 400 and s["gyro_range_dps"] == 2000 and s["frames"]["frames_lost"] == 0
        lines = (out / s["file"]).read_text().splitlines()
        assert lines[0] == ",".join(RAW_COLUMNS) and len(lines) - 1 == s["samples"]
        data = np.loadtxt(out / s["file"], delimiter=",", skiprows=1)
        assert np.all(np.diff(data[:, 0]) > 0)
        rate = 1 / np.median(np.diff(data[:, 0]))
        assert 395 < rate < 405
        assert 9.0 < np.median(np.linalg.norm(data[:200, 1:4], axis=1)) < 10.6  # standing: 1 g in m/s^2
    assert meta["algorithm"]["core_params"] and meta["software"]["runform"]
    strides = (out / "strides.csv").read_text().splitlines()
    assert strides[0] == ",".join(STRIDE_COLUMNS)
    assert res.strides == len(strides) - 1 > 20 and res.strides_source == "reanalysis"
    assert (out / "annotations.csv").read_text().splitlines() == ["time_s,text", "10.0,insoles on", "20.5,\"fatigue, cadence drops\""]


def test_raw_csv_keeps_the_sensor_values_to_below_one_lsb(recorded):
    store, sid, out, _ = recorded
    dec = store.decode(sid)
    s = dec.by_placement()["left_shank"]
    t, acc, gyr = s.arrays()
    data = np.loadtxt(out / "raw_left_shank.csv", delimiter=",", skiprows=1)
    assert data.shape[0] == t.size
    lsb_acc = 32 * 9.80665 / 32768
    assert np.max(np.abs(data[:, 1:4] - acc)) < lsb_acc / 2
    assert np.max(np.abs(np.radians(data[:, 4:7]) - gyr)) < np.radians(2000 / 32768) / 2
    assert np.max(np.abs(data[:, 0] - t)) <= 5e-7


def test_export_import_export_is_stable(recorded, tmp_path):
    store, sid, out, _ = recorded
    sid2 = import_session_dir(store, out)
    out2 = tmp_path / "again"
    export_session(store, sid2, out2)
    for f in out.iterdir():
        if f.suffix == ".csv":
            assert f.read_bytes() == (out2 / f.name).read_bytes(), f.name
    a, b = json.loads((out / "session.json").read_text()), json.loads((out2 / "session.json").read_text())
    assert a["sensors"] == b["sensors"] and a["algorithm"] == b["algorithm"] and b["imported_from"]["id"] == sid
    assert store.session(sid2)["state"] == "imported"


def test_runform_analyze_on_an_export_gives_its_strides(recorded, tmp_path):
    _, _, out, _ = recorded
    res = cli("analyze", str(out), "--out", str(tmp_path / "a"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "a" / "strides.csv").read_bytes() == (out / "strides.csv").read_bytes()


def test_cli_sessions_json_and_export(recorded, tmp_path):
    store, sid, _, _ = recorded
    res = cli("sessions", "--json", "--data-dir", str(store.data_dir))
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    row = next(r for r in rows if r["id"] == sid)
    assert {"id", "label", "start", "duration_s", "strides", "recovered"} <= set(row)
    assert 29 < row["duration_s"] < 31 and row["recovered"] is False, row
    res = cli("export", sid[:-3], "--out", str(tmp_path / "x"), "--data-dir", str(store.data_dir))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "x" / "strides.csv").is_file()
    res = cli("export", sid, "--out", str(tmp_path / "x"), "--data-dir", str(store.data_dir))
    assert res.returncode == 1 and "not empty" in res.stderr, res.stderr
    res = cli("export", "nope", "--out", str(tmp_path / "y"), "--data-dir", str(store.data_dir))
    assert res.returncode == 1 and "no session 'nope'" in res.stderr and not (tmp_path / "y").exists(), res.stderr
    res = cli("sessions", "--data-dir", str(store.data_dir))
    assert res.stdout.count("\n") >= 2, (res.returncode, res.stdout, res.stderr)


# --------------------------------------------------------------------------- bad input


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _edit(path: Path, fn) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(fn(lines)))


def _recorded_imu(d: Path, sensors) -> None:
    """session.json records the sensors' own corrections ``sensors`` (imu_calibration)."""
    meta = json.loads((d / "session.json").read_text())
    meta["imu_calibration"] = {"file": "imu.json", "sensors": sensors}
    (d / "session.json").write_text(json.dumps(meta))


_IDENTITY = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: _edit(d / "raw_left_foot.csv", lambda ls: ls[:100] + [ls[100][:12]]), r"raw_left_foot.csv:101"),
        (lambda d: _edit(d / "raw_left_foot.csv", lambda ls: ls[:50] + ["0.5,nan,1,2,3,4,5\n"] + ls[51:]), r"raw_left_foot.csv:51"),
        (lambda d: _edit(d / "raw_right_foot.csv", lambda ls: ls[:20] + [ls[19]] + ls[20:]), r"raw_right_foot.csv:21: time_s does not increase"),
        (lambda d: _edit(d / "raw_left_shank.csv", lambda ls: [ls[0].replace("acc_x_mps2", "acc_x_g")] + ls[1:]), r"raw_left_shank.csv:1: unexpected columns.*acc_x_g"),
        (lambda d: _edit(d / "raw_left_shank.csv", lambda ls: [ls[0]] + [",".join([x.split(",")[0]] + [str(float(v) / 9.80665) for v in x.split(",")[1:4]] + x.split(",")[4:]) for x in ls[1:]]), r"looks like g"),
        (lambda d: _edit(d / "raw_right_shank.csv", lambda ls: [ls[0]] + [",".join(x.split(",")[:4] + [f"{float(v) * np.pi / 180:.5f}" for v in x.strip().split(",")[4:]]) + "\n" for x in ls[1:]]), r"looks like rad/s"),
        (lambda d: (d / "raw_right_shank.csv").unlink(), r"session.json: lists right_shank but raw_right_shank.csv is missing"),
        (lambda d: _edit(d / "session.json", lambda ls: ls[:5]), r"session.json:\d+: not valid JSON"),
        (lambda d: _edit(d / "strides.csv", lambda ls: [ls[0].rstrip("\n") + ",extra\n"] + ls[1:]), r"strides.csv:1: unexpected columns.*extra"),
        (lambda d: _edit(d / "annotations.csv", lambda ls: ls + ["12.0"]), r"annotations.csv:\d+: expected 2 values"),
        # a recorded sensor correction that cannot be used: refused at import, not when exported
        (lambda d: _recorded_imu(d, {"left_foot": {"correction": {"acc_matrix": [[3.0, 0, 0], [0, 1, 0], [0, 0, 1]], "acc_bias_mps2": [0, 0, 0],
                                                                  "gyr_matrix": _IDENTITY, "gyr_bias_rps": [0, 0, 0]}}}),
         r"session.json.*imu_calibration.*left_foot.*acc_matrix"),
        (lambda d: _recorded_imu(d, "imu.json"), r"session.json.*imu_calibration"),
    ],
    ids=["truncated", "nan", "duplicated-time", "unit-in-header", "values-in-g", "values-in-rad-s", "missing-placement",
         "corrupt-json", "unknown-column", "truncated-annotations", "imu-calibration-implausible", "imu-calibration-not-object"],
)
def test_bad_session_directories_are_refused_with_file_and_line_and_nothing_written(recorded, tmp_path, damage, message):
    store, _, out, _ = recorded
    bad = _copy(out, tmp_path / "bad")
    damage(bad)
    before = {r["id"] for r in store.list_sessions()}
    with pytest.raises(SessionDirError, match=message):
        import_session_dir(store, bad)
    assert {r["id"] for r in store.list_sessions()} == before
    res = cli("sessions", "--import", str(bad), "--data-dir", str(store.data_dir))
    assert res.returncode == 1 and str(bad) in res.stderr
    assert {r["id"] for r in store.list_sessions()} == before


def test_read_session_dir_accepts_a_subset_of_placements(recorded, tmp_path):
    _, _, out, _ = recorded
    d = _copy(out, tmp_path / "two")
    meta = json.loads((d / "session.json").read_text())
    meta["sensors"] = [s for s in meta["sensors"] if s["placement"].endswith("foot")]
    (d / "session.json").write_text(json.dumps(meta))
    for p in ("left_shank", "right_shank"):
        (d / f"raw_{p}.csv").unlink()
    sd = read_session_dir(d)
    assert sd.placements == ["left_foot", "right_foot"]


def test_export_failure_leaves_no_half_written_directory(recorded, tmp_path, monkeypatch):
    store, sid, _, _ = recorded
    import runform.store.sessiondir as sd

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sd, "_write_csv", boom)
    with pytest.raises(OSError):
        export_session(store, sid, tmp_path / "half")
    assert not (tmp_path / "half").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".half")]
