"""`runform analyze` on raw CSV files and session directories; bad input gets a clear message
naming file and line, and nothing is written."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from runform.cli import main
from runform.core.schema import RAW_COLUMNS, STRIDE_COLUMNS
from test_core_synth import make_recording

REC = make_recording(duration_s=15.0, seed=21, placements=("left_foot", "right_foot", "left_shank"))


def write_raw(path, rec, placement, acc_scale=1.0, gyr_scale=180 / np.pi):
    a, g = rec.raw[placement]
    data = np.column_stack([rec.time_s, a * acc_scale, g * gyr_scale])
    with open(path, "w") as f:
        f.write(",".join(RAW_COLUMNS) + "\n")
        np.savetxt(f, data, delimiter=",", fmt="%.6f")
    return path


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sess") / "run1"
    d.mkdir()
    for p in REC.raw:
        write_raw(d / f"raw_{p}.csv", REC, p)
    (d / "notes.txt").write_text("not a raw file")
    return d


def read_rows(path):
    with open(path) as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


def test_analyze_session_directory(session_dir, tmp_path, capsys):
    assert main(["analyze", str(session_dir), "--out", str(tmp_path / "out")]) == 0
    header, rows = read_rows(tmp_path / "out" / "strides.csv")
    assert tuple(header) == STRIDE_COLUMNS
    assert len(rows) >= 25
    by = {c: i for i, c in enumerate(header)}
    left = [r for r in rows if r[by["leg"]] == "left"]
    right = [r for r in rows if r[by["leg"]] == "right"]
    assert left and right
    # right leg has no shank: its shank cells are empty, not invented
    assert all(r[by["tibial_inclination_at_ic_deg"]] == "" and r[by["eversion_reference"]] == "standing" for r in right)
    assert all(r[by["eversion_reference"]] == "shank" for r in left)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "symmetry_index_pct" in summary and summary["legs"]["left"]["strides"] == len(left)


def test_analyze_loose_files_and_one_placement(session_dir, tmp_path):
    f = session_dir / "raw_left_foot.csv"
    assert main(["analyze", str(f), "--out", str(tmp_path / "a")]) == 0
    _, rows = read_rows(tmp_path / "a" / "strides.csv")
    assert rows and all(r[0] == "left" for r in rows)
    assert main(["analyze", str(session_dir), "--placement", "right_foot", "--out", str(tmp_path / "b"), "--rate", "400"]) == 0
    _, rows = read_rows(tmp_path / "b" / "strides.csv")
    assert rows and all(r[0] == "right" for r in rows)


def _fails(tmp_path, capsys, files, expect):
    out = tmp_path / "out"
    assert main(["analyze", *map(str, files), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for e in expect:
        assert e in err, err
    assert not (out / "strides.csv").exists() and not (out / "summary.json").exists()


def test_truncated_file(tmp_path, capsys):
    good = write_raw(tmp_path / "raw_right_foot.csv", REC, "right_foot")
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    text = p.read_text()
    p.write_text(text[: len(text) // 2 - 7])  # cut mid-line, no newline
    n = p.read_text().count("\n") + 1
    _fails(tmp_path, capsys, [good, p], [str(p), f":{n}:", "truncated"])


def test_unknown_columns(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    lines = p.read_text().split("\n")
    lines[0] = lines[0].replace("gyr_x_dps", "gyr_x_rps")
    p.write_text("\n".join(lines))
    _fails(tmp_path, capsys, [p], [f"{p}:1:", "gyr_x_rps"])


def test_text_that_is_not_a_number(tmp_path, capsys):
    # (a NaN is analysed as a dropout: tests/test_analyze_bad_input.py)
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    lines = p.read_text().split("\n")
    parts = lines[100].split(",")
    parts[2] = "NA"
    lines[100] = ",".join(parts)
    p.write_text("\n".join(lines))
    _fails(tmp_path, capsys, [p], [f"{p}:101:", "not a number: 'NA'"])


def test_acc_in_g(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot", acc_scale=1 / 9.80665)
    _fails(tmp_path, capsys, [p], [str(p), "looks like g"])


def test_gyro_in_rad_per_s(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot", gyr_scale=1.0)
    _fails(tmp_path, capsys, [p], [str(p), "looks like rad/s"])


def test_missing_input(tmp_path, capsys):
    _fails(tmp_path, capsys, [tmp_path / "nope"], ["no such file"])


@pytest.mark.parametrize("stand_s, valid", [(3.0, False), (0.0, True)])
def test_a_recording_that_ends_before_the_calibration_still_gives_its_strides(tmp_path, capsys, stand_s, valid):
    # 3 s of running after standing: less than the 4 s of motion the calibration waits for, so
    # it is decided at the end, flagged (not_enough_motion) and its strides are not valid; 5 s
    # of running without standing: the end comes before the 6-s wait for a standing window, but
    # the motion is enough, so the calibration is ready and the strides valid. Both used to
    # give no stride at all (the calibration never decided, state 'standing' / 'moving')
    rec = make_recording(duration_s=stand_s + (3.0 if stand_s else 5.0), seed=5, stand_s=stand_s,
                         placements=("left_foot", "left_shank"))
    d = tmp_path / "short"
    d.mkdir()
    for p in rec.raw:
        write_raw(d / f"raw_{p}.csv", rec, p)
    assert main(["analyze", str(d), "--out", str(tmp_path / "out")]) == 0
    header, rows = read_rows(tmp_path / "out" / "strides.csv")
    by = {c: i for i, c in enumerate(header)}
    assert len(rows) >= 3
    cal = json.loads((tmp_path / "out" / "summary.json").read_text())["calibration"]
    out = capsys.readouterr().out
    if valid:
        assert {c["state"] for c in cal.values()} == {"ready"}
        assert all(r[by["valid"]] == "1" for r in rows if "recording_end" not in r[by["flags"]])
    else:
        assert {c["state"] for c in cal.values()} == {"bad"}
        assert all("not_enough_motion" in c["in_use"]["reasons"] for c in cal.values())
        assert all(r[by["valid"]] == "0" and "calibration_bad" in r[by["flags"]] for r in rows)
        assert "left_foot bad (not_enough_motion)" in out
    assert f"left {len(rows)} strides" in out and "right" not in out  # no right sensor: no right leg to report
