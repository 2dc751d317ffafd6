"""`runform analyze` on the bad input a user brings (found by feeding it damaged copies of real
and simulated recordings): each case either analyses what is good and says what is odd (stdout
and summary.json), or stops with exit status 2 and a message naming the file, never a
traceback and never numbers from a file it misread."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from runform.cli import main
from runform.core.schema import RAW_COLUMNS
from runform.offline.raw import read_raw_csv
from test_core_analyze import REC, read_rows, write_raw


def _table(rec=REC, placement="left_foot"):
    a, g = rec.raw[placement]
    return np.column_stack([rec.time_s, a, g * 180 / np.pi])


def _write(path, data, header=",".join(RAW_COLUMNS), sep=",", prefix=""):
    with open(path, "w", newline="") as f:
        f.write(prefix + header + "\n")
        np.savetxt(f, data, delimiter=sep, fmt="%.6f")
    return path


def _ok(tmp_path, capsys, args, name="out"):
    out = tmp_path / name
    assert main(["analyze", *map(str, args), "--out", str(out)]) == 0
    header, rows = read_rows(out / "strides.csv")
    return rows, json.loads((out / "summary.json").read_text()), capsys.readouterr().out


def _fails(tmp_path, capsys, args, expect):
    out = tmp_path / "out"
    assert main(["analyze", *map(str, args), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for e in expect:
        assert e in err, err
    assert not (out / "strides.csv").exists()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """strides.csv of the clean left-foot file."""
    d = tmp_path_factory.mktemp("ref")
    write_raw(d / "raw_left_foot.csv", REC, "left_foot")
    assert main(["analyze", str(d / "raw_left_foot.csv"), "--out", str(d / "out")]) == 0
    return (d / "out" / "strides.csv").read_bytes()


def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path, capsys, reference):
    # spreadsheet programs save "CSV UTF-8" with a BOM; it was read as part of 'time_s'
    p = _write(tmp_path / "raw_left_foot.csv", _table(), prefix="\ufeff")
    _ok(tmp_path, capsys, [p])
    assert (tmp_path / "out" / "strides.csv").read_bytes() == reference


def test_the_columns_are_read_by_name_in_any_order(tmp_path, capsys, reference):
    # the message was 'unexpected columns (unknown: none, missing: none)'
    order = [0, 4, 5, 6, 1, 2, 3]
    p = _write(tmp_path / "raw_left_foot.csv", _table()[:, order], header=",".join(RAW_COLUMNS[i] for i in order))
    _ok(tmp_path, capsys, [p])
    assert (tmp_path / "out" / "strides.csv").read_bytes() == reference


@pytest.mark.parametrize("sep, word", [(";", "semicolons"), ("\t", "tabs")])
def test_another_separator_is_named(tmp_path, capsys, sep, word):
    p = _write(tmp_path / "raw_left_foot.csv", _table()[:50], header=sep.join(RAW_COLUMNS), sep=sep)
    _fails(tmp_path, capsys, [p], [f"{p}:1:", f"separated by {word}"])


@pytest.mark.parametrize("rate", ["200", "1000"])
def test_a_rate_the_time_stamps_contradict_is_refused(tmp_path, capsys, rate):
    # the file is at 400 Hz: --rate 200 analysed it as 200 Hz, --rate 1000 gave 0 strides, exit 0
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    _fails(tmp_path, capsys, [p, "--rate", rate], [str(p), f"{rate} Hz given", "400 Hz"])


@pytest.mark.parametrize("rate", ["0", "-5", "nan", "inf"])
def test_a_rate_that_is_no_rate_is_refused(tmp_path, capsys, rate):
    # 0 meant 'estimate', -5 gave 0 strides, nan and inf ended in a traceback
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    _fails(tmp_path, capsys, [p, "--rate", rate], [str(p), "expected a positive number"])


def test_time_in_milliseconds_is_refused(tmp_path, capsys):
    # the core ran at 0.4 Hz and said 'calibration bad (not_enough_motion)', exit 0
    x = _table()
    x[:, 0] *= 1000.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    _fails(tmp_path, capsys, [p], [str(p), "0.4 Hz", "in ms?"])


def _col(header, rows, name):
    i = header.index(name)
    return [r[i] for r in rows]


@pytest.mark.parametrize("col", [1, 4])
def test_a_dead_axis_is_analysed_and_its_legs_strides_flagged(tmp_path, capsys, col):
    # an all-zero accelerometer or gyroscope axis gave strides marked valid; then it was refused,
    # which stopped the whole run for one stuck axis (a hugadb-like file must be analysed). The
    # other leg's strides are not touched
    x = _table()
    x[:, col] = 0.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    q = write_raw(tmp_path / "raw_right_foot.csv", REC, "right_foot")
    out = tmp_path / "out"
    assert main(["analyze", str(p), str(q), "--out", str(out)]) == 0
    header, rows = read_rows(out / "strides.csv")
    summary = json.loads((out / "summary.json").read_text())
    stdout = capsys.readouterr().out
    left = [r for r in rows if r[0] == "left"]
    right = [r for r in rows if r[0] == "right"]
    assert left and all("dead_channel" in r[header.index("flags")].split(";") for r in left)
    assert set(_col(header, left, "valid")) == {"0"}
    assert right and "1" in _col(header, right, "valid") and not any("dead_channel" in r[-1] for r in right)
    assert summary["legs"]["left"]["valid_strides"] == 0 and summary["legs"]["left"]["flags"]["dead_channel"] == len(left)
    assert "dead_channel" not in summary["legs"]["right"]["flags"]
    said = f"{RAW_COLUMNS[col]} is 0 in all {len(x)} samples while the sensor moves"
    assert f"note: {p}: {said}" in stdout
    notes = {i["placement"]: i["notes"] for i in summary["inputs"]}
    assert any(said in n for n in notes["left_foot"]) and notes["right_foot"] == []


@pytest.mark.parametrize("cell", ["nan", "inf", "-inf", ""])
def test_a_missing_sensor_value_is_a_counted_dropout(tmp_path, capsys, cell):
    # a NaN, inf or empty cell stopped the run (NaN or infinite value / not a number); the
    # sample now reaches the core as non-finite, which drops it as a gap and counts it
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    lines = p.read_text().split("\n")
    for k in (1000, 1001, 3000):
        parts = lines[k].split(",")
        parts[2 if k != 1001 else 5] = cell
        lines[k] = ",".join(parts)
    p.write_text("\n".join(lines))
    rows, summary, out = _ok(tmp_path, capsys, [p])
    assert rows
    assert summary["calibration"]["left_foot"]["dropout_samples"] == 3
    said = "3 sample(s) with an empty, NaN or infinite sensor value (3 value(s), first at line 1001)"
    assert f"note: {p}: {said}" in out
    assert any(said in n for n in summary["inputs"][0]["notes"])


def test_a_row_without_time_is_dropped_and_counted(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    lines = p.read_text().split("\n")
    for k, cell in ((700, ""), (701, "nan")):
        parts = lines[k].split(",")
        parts[0] = cell
        lines[k] = ",".join(parts)
    p.write_text("\n".join(lines))
    rows, summary, out = _ok(tmp_path, capsys, [p])
    assert rows and summary["inputs"][0]["samples"] == len(lines) - 2 - 2  # header, trailing newline
    assert f"note: {p}: 2 row(s) with an empty or non-finite time_s (first at line 701): dropped" in out


def test_a_repeated_time_drops_the_later_row(tmp_path, capsys, reference):
    # a repeated timestamp stopped the run (time_s does not increase); the recorder drops the
    # later of two frames with one time live, and so does the reader: the same strides as the
    # file without the repeated rows
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    lines = p.read_text().split("\n")
    lines = lines[:501] + [lines[500]] + lines[501:2001] + [lines[2000].split(",")[0] + ",1,2,3,4,5,6"] + lines[2001:]
    p.write_text("\n".join(lines))
    rows, summary, out = _ok(tmp_path, capsys, [p])
    assert (tmp_path / "out" / "strides.csv").read_bytes() == reference
    assert f"note: {p}: 2 row(s) repeat the previous row's time_s (first at line 502," in out


def test_time_going_back_is_still_refused(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    lines = p.read_text().split("\n")
    lines[500], lines[501] = lines[501], lines[500]
    p.write_text("\n".join(lines))
    _fails(tmp_path, capsys, [p], [f"{p}:502:", "time_s does not increase"])


def test_a_rate_change_within_the_file_is_said(tmp_path, capsys):
    # the second half at half the rate (steps of 2 periods are not gaps): analysed at one rate
    # and nothing said
    x = _table()
    h = len(x) // 2
    p = _write(tmp_path / "raw_left_foot.csv", np.vstack([x[:h], x[h::2]]))
    rows, summary, out = _ok(tmp_path, capsys, [p])
    assert rows
    notes = summary["inputs"][0]["notes"]
    assert len(notes) == 1 and "sample rate changes within the file" in notes[0] and "200 Hz" in notes[0], notes
    assert f"note: {p}: sample rate changes" in out


def test_a_gap_is_counted_and_said(tmp_path, capsys):
    x = _table()
    x[len(x) // 2:, 0] += 10.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    rows, summary, out = _ok(tmp_path, capsys, [p])
    inp = summary["inputs"][0]
    assert inp["gaps"] == 1 and inp["gap_s"] == pytest.approx(10.0, abs=1e-3)
    assert f"note: {p}: 1 gap(s) in time_s, 10.000 s without samples" in out
    assert any("gap" in r[-1] for r in rows)


def test_two_directories_of_the_same_name_do_not_overwrite_each_other(tmp_path, capsys):
    # a/run1 and b/run1 both wrote OUT/run1: the first one's results were lost
    for parent in ("a", "b"):
        (tmp_path / parent / "run1").mkdir(parents=True)
    write_raw(tmp_path / "a" / "run1" / "raw_left_foot.csv", REC, "left_foot")
    write_raw(tmp_path / "b" / "run1" / "raw_right_foot.csv", REC, "right_foot")
    assert main(["analyze", str(tmp_path / "a" / "run1"), str(tmp_path / "b" / "run1"), "--out", str(tmp_path / "out")]) == 0
    assert "wrote" in capsys.readouterr().out
    _, left = read_rows(tmp_path / "out" / "run1" / "strides.csv")
    _, right = read_rows(tmp_path / "out" / "run1_2" / "strides.csv")
    assert left and {r[0] for r in left} == {"left"} and right and {r[0] for r in right} == {"right"}


def test_an_out_that_is_a_file_is_refused_before_the_analysis(tmp_path, capsys):
    # a traceback (FileExistsError) after the whole analysis
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    f = tmp_path / "out"
    f.write_text("keep")
    assert main(["analyze", str(p), "--out", str(f)]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert f.read_text() == "keep"


def test_a_placement_that_contradicts_the_file_name_is_refused(tmp_path, capsys):
    # --placement right_foot on raw_left_foot.csv silently analysed a left foot
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    _fails(tmp_path, capsys, [p, "--placement", "right_foot"], [str(p), "says left_foot", "right_foot"])


def test_text_that_is_not_utf8_names_its_line(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    with open(p, "ab") as f:
        f.write("# caf\xe9\n".encode("latin-1"))
    n = p.read_bytes().count(b"\n")
    _fails(tmp_path, capsys, [p], [f"{p}:{n}:", "not UTF-8"])


def test_reading_does_not_hold_the_text_of_the_file(tmp_path):
    # a 3-hour 4 x 400 Hz session (4 x 250 MB of CSV) peaked at 2.8 GB RSS in runform analyze:
    # the file as one string, its lines and a StringIO of it (4 bytes per character) beside
    # the table. Read as a stream, the peak is the table, its column copies and the parser's buffers
    x = np.tile(_table(), (4, 1))
    x[:, 0] = np.arange(len(x)) / 400.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    size = p.stat().st_size
    tracemalloc.start()
    try:
        rec = read_raw_csv(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rec.time_s.size == len(x)
    assert peak < 4.5 * size, (peak, size)  # 2.3 x the file read as a stream, 7.6 x as one string


def test_a_directory_without_raw_files_says_what_it_has(tmp_path, capsys):
    # 'no raw_<placement>.csv files' and nothing else: a misspelt placement, another device's
    # file names, or a folder of sessions given instead of the sessions were left to guess
    d = tmp_path / "run1"
    d.mkdir()
    write_raw(d / "raw_left_feet.csv", REC, "left_foot")
    _fails(tmp_path, capsys, [d], [str(d), "raw_left_feet.csv", "left_foot, right_foot"])
    root = tmp_path / "sessions"
    (root / "s1").mkdir(parents=True)
    write_raw(root / "s1" / "raw_left_foot.csv", REC, "left_foot")
    _fails(tmp_path, capsys, [root], ["1 of its subdirectories are sessions (s1)", str(root / "*")])


def test_a_saturated_channel_is_said(tmp_path, capsys):
    # clipped strides were flagged, but the command said '29 strides (0 valid)' and not why
    x = _table()
    x[:, 4:7] = np.clip(x[:, 4:7], -250.0, 250.0)
    p = _write(tmp_path / "raw_left_foot.csv", x)
    rows, summary, out = _ok(tmp_path, capsys, [p])
    n = int(np.count_nonzero(np.any(np.abs(x[:, 4:7]) >= 250.0 * (1 - 1e-6), axis=1)))
    assert f"note: {p}: gyroscope saturates at 250 deg/s in {n} of {len(x)} samples" in out
    assert any("clipped_gyr" in r[-1] for r in rows)
    assert summary["inputs"][0]["gyr_saturation_dps"] == pytest.approx(250.0)


@pytest.mark.parametrize("cols, names", [(slice(1, 4), ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2")),
                                         (slice(4, 7), ("gyr_x_dps", "gyr_y_dps", "gyr_z_dps"))])
def test_an_all_zero_sensor_is_analysed_as_dead_axes_not_a_unit_mistake(tmp_path, capsys, cols, names):
    # 'looks like g' / 'looks like rad/s' sent the user converting units of a dead sensor; then
    # 'is 0 in every sample' stopped the whole run (every session): a sensor that did not record
    # while the others did is analysed, its axes said dead, its leg's strides not valid
    x = _table()
    x[:, cols] = 0.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    rows, summary, out = _ok(tmp_path, capsys, [p])
    for name in names:
        assert f"note: {p}: {name} is 0 in all" in out and "dead_channel" in out, out
    assert all("dead_channel" in r[-1].split(";") for r in rows)
    assert summary["legs"]["left"]["valid_strides"] == 0


@pytest.mark.parametrize("cols, says", [(slice(1, 4), "the accelerometer is 0 in every sample"),
                                        (slice(4, 7), "the gyroscope is 0 in every sample")])
def test_an_all_zero_sensor_is_refused_by_the_import(cols, says, tmp_path):
    # runform sessions --import (read_raw_csv without repair) keeps a recording as it is or not at all
    from runform.offline.raw import RawInputError, read_raw_csv

    x = _table()
    x[:, cols] = 0.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    with pytest.raises(RawInputError, match=says):
        read_raw_csv(p)


def test_files_on_different_time_bases_do_not_hang_and_are_said(tmp_path, capsys, monkeypatch):
    # one file from 0 s, the other in epoch seconds: run_core stepped through every empty 4-s
    # block in between (4e8 of them for a real epoch time: a hang). Counted here with 1e5 s
    from runform.core.processor import SessionProcessor

    calls = []
    real = SessionProcessor.advance
    monkeypatch.setattr(SessionProcessor, "advance", lambda self, t: calls.append(t) or real(self, t))
    write_raw(tmp_path / "raw_left_foot.csv", REC, "left_foot")
    x = _table(placement="right_foot")
    x[:, 0] += 1e5
    _write(tmp_path / "raw_right_foot.csv", x)
    rows, summary, out = _ok(tmp_path, capsys, [tmp_path / "raw_left_foot.csv", tmp_path / "raw_right_foot.csv"])
    assert len(calls) < 50, len(calls)
    assert {r[0] for r in rows} == {"left", "right"}
    assert "overlaps no other file of the session" in out
    assert all(len(i["notes"]) == 1 for i in summary["inputs"])


@pytest.mark.shared_data
def test_feet_swapped_left_for_right_are_said(shared_data, tmp_path, capsys):
    # gaitmap's two feet with left and right swapped gave valid strides with peak eversion of
    # 19 and 27 deg (0.5 and 2.8 deg the right way round) and nothing said; the right way round
    # no such note (nor on any other check recording: 0-6 % of strides peak late there)
    from runform.offline.public import load_gaitmap, write_session

    session = load_gaitmap(shared_data / "gaitmap_walking")
    right = write_session(tmp_path / "right", session)
    swapped = write_session(tmp_path / "swapped", {"left_foot": session["right_foot"], "right_foot": session["left_foot"]})
    *_, out = _ok(tmp_path, capsys, [right], name="out_right")
    assert "other foot" not in out
    *_, out = _ok(tmp_path, capsys, [swapped], name="out_swapped")
    for p in ("left_foot", "right_foot"):
        assert f"note: {swapped / f'raw_{p}.csv'}: peak eversion in the last 20 % of stance" in out, out
    assert "is this sensor on the other foot (left and right swapped)" in out


def test_a_value_beyond_any_imu_is_refused_with_its_line(tmp_path, capsys):
    # one acc_x of 1e300 ended runform analyze in a traceback (math domain error, strapdown)
    x = _table()
    x[1000, 1] = 1e300
    p = _write(tmp_path / "raw_left_foot.csv", x)
    _fails(tmp_path, capsys, [p], [f"{p}:1002:", "acc_x_mps2 = 1e+300 is beyond any IMU's range"])


def test_a_shank_without_its_foot_says_why_it_has_no_strides(tmp_path, capsys):
    p = write_raw(tmp_path / "raw_left_shank.csv", REC, "left_shank")
    rows, summary, out = _ok(tmp_path, capsys, [p])
    assert rows == []
    assert f"note: {p}: no left_foot file in the session" in out


@pytest.mark.parametrize("cols, scale, says", [(slice(1, 4), 1000 / 9.80665, "looks like mg, cm/s^2 or raw counts"),
                                               (slice(1, 4), 100.0, "looks like mg, cm/s^2 or raw counts"),
                                               (slice(4, 7), 1000.0, "looks like mdeg/s or raw counts")])
def test_units_far_above_si_are_refused(tmp_path, capsys, cols, scale, says):
    # acceleration in mg or cm/s^2, angular rate in mdeg/s: strides, none
    # valid, exit 0 and no reason (only values below the expected units were caught)
    x = _table()
    x[:, cols] *= scale
    p = _write(tmp_path / "raw_left_foot.csv", x)
    _fails(tmp_path, capsys, [p], [str(p), says])


def test_the_live_strides_of_an_exported_session_are_not_replaced(tmp_path, capsys):
    # runform analyze DIR --out DIR on a session exported with --analysis live replaced the
    # strides the therapist saw live (not computable again) and left session.json saying 'live'
    d = tmp_path / "run1"
    d.mkdir()
    write_raw(d / "raw_left_foot.csv", REC, "left_foot")
    (d / "session.json").write_text(json.dumps({"format": "runform-session", "algorithm": {"strides_source": "live"}}))
    (d / "strides.csv").write_text("live strides\n")
    assert main(["analyze", str(d), "--out", str(d)]) == 2
    assert "strides computed live" in capsys.readouterr().err
    assert (d / "strides.csv").read_text() == "live strides\n"
    assert main(["analyze", str(d), "--out", str(tmp_path / "elsewhere")]) == 0


def test_time_stamps_coarser_than_the_samples_are_refused_not_thinned(tmp_path, capsys):
    # repeated time_s are dropped while they are rare (a frame recorded twice); time_s rounded to
    # 10 ms at 400 Hz repeats in half the rows: dropping those analysed every other sample
    x = _table()
    x[:, 0] = np.floor(x[:, 0] * 100.0) / 100.0
    p = _write(tmp_path / "raw_left_foot.csv", x)
    _fails(tmp_path, capsys, [p], [f"{p}:3:", "time_s repeats the previous row's", "coarser than the sample period"])
