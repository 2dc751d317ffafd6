"""`runform analyze` reads its files in chunks and spools the rows to a temporary file
(runform.offline.stream): the same strides and summary as the whole-file reader, in memory
that does not grow with the recording."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from runform.core.schema import RAW_COLUMNS
from runform.offline import stream
from runform.offline.analyze import GAP_FACTOR, _cell, run_core
from runform.offline.raw import check_plausible, read_raw_csv
from runform.offline.stream import SpooledRecording, read_streaming
from test_core_analyze import REC


def _table(placement):
    a, g = REC.raw[placement]
    return np.column_stack([REC.time_s, a, g * 180 / np.pi])


def _write(path, x):
    with open(path, "w") as f:
        f.write(",".join(RAW_COLUMNS) + "\n")
        np.savetxt(f, x, delimiter=",", fmt="%.6f")
    return path


def _damaged_session(d):
    """REC's three sensors with what the reader repairs or notes, placed across chunk edges."""
    files = []
    for p in REC.raw:
        x = _table(p)
        if p == "left_foot":
            x[[599, 600, 3001], 2] = np.nan  # sensor values missing, about a chunk edge
            x[len(x) // 2:, 0] += 3.0  # a gap
        if p == "right_foot":
            x = np.insert(x, 600, x[599], axis=0)  # a repeated time, about a chunk edge
            x = np.insert(x, 2500, x[2499], axis=0)
            x[4000, 0] = np.nan  # a row without time
            lim = 0.5 * np.abs(x[:, 4:7]).max()
            x[:, 4:7] = np.clip(x[:, 4:7], -lim, lim)  # a saturated gyroscope
        if p == "left_shank":
            x[:, 3] = 9.5  # a dead axis while moving
        files.append(_write(d / f"raw_{p}.csv", x))
    return files


@pytest.mark.parametrize("chunk", [50_000, 4 << 20])
def test_the_spooled_reader_gives_the_same_strides_and_summary(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(stream, "CHUNK_BYTES", chunk)  # ~600 rows a chunk, or the file in one
    monkeypatch.setattr(stream, "READ_ROWS", 512)
    files = _damaged_session(tmp_path)
    whole = []
    for f in files:
        r = read_raw_csv(f, repair=True)
        check_plausible(r)
        whole.append(r)
    spooled = [read_streaming(f, f.stem[4:], None, GAP_FACTOR) for f in files]
    assert all(isinstance(r, SpooledRecording) for r in spooled)  # none fell back to the whole-file reader
    assert [r.notes for r in spooled] == [r.notes for r in whole]
    assert any("dead_channel" in n for n in spooled[2].notes) and len(spooled[0].notes) == 1 and len(spooled[1].notes) == 3
    rows_w, sum_w = run_core(whole)
    rows_s, sum_s = run_core(spooled)
    assert rows_w and [[_cell(v) for v in r.values()] for r in rows_s] == [[_cell(v) for v in r.values()] for r in rows_w]
    assert json.dumps(sum_s, default=str) == json.dumps(sum_w, default=str)


@pytest.mark.parametrize("case", ["time_back", "text", "units", "ms"])
def test_what_the_spooled_reader_cannot_vouch_for_gets_the_whole_file_readers_message(tmp_path, case):
    x = _table("left_foot")
    if case == "time_back":
        x[[500, 501]] = x[[501, 500]]
    elif case == "units":
        x[:, 4:7] *= np.pi / 180
    elif case == "ms":
        x[:, 0] *= 1000
    p = _write(tmp_path / "raw_left_foot.csv", x)
    if case == "text":
        lines = p.read_text().split("\n")
        lines[300] = lines[300].replace(",", ",x", 1)
        p.write_text("\n".join(lines))
    with pytest.raises(ValueError) as whole:
        check_plausible(read_raw_csv(p, repair=True))
    with pytest.raises(ValueError) as spooled:
        read_streaming(p, "left_foot", None, GAP_FACTOR)
    assert str(spooled.value) == str(whole.value)


@pytest.mark.parametrize("n", [1, 2, 999, 1000, 5001])
def test_exact_order_statistics_in_bounded_passes(monkeypatch, n):
    monkeypatch.setattr(stream, "_SELECT_MAX", 16)
    rng = np.random.default_rng(n)
    x = np.round(rng.normal(0.0025, 1e-5, n), 9)  # many repeated values, as time steps have
    x[::7] = 0.0025
    chunks = lambda: (x[i:i + 97] for i in range(0, n, 97))  # noqa: E731
    assert stream._median_exact(chunks, n) == np.median(x)
    ranks = sorted({0, n // 3, n - 1})
    assert stream._select(chunks, n, ranks) == [float(v) for v in np.sort(x)[ranks]]


def _peak_bytes(path):
    tracemalloc.start()
    try:
        rec = read_streaming(path, "left_foot", None, GAP_FACTOR)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(rec, SpooledRecording)
    rec.close()
    return peak


def test_reading_memory_does_not_grow_with_the_recording(tmp_path, monkeypatch):
    # the whole-file reader holds the table (56 bytes a sample) and its column copies: a 3-hour
    # 4 x 400 Hz session peaked at ~1.4 GB in runform analyze
    monkeypatch.setattr(stream, "CHUNK_BYTES", 1 << 18)
    monkeypatch.setattr(stream, "READ_ROWS", 4096)
    monkeypatch.setattr(stream, "_SELECT_MAX", 1024)  # the values sorted to find the median time step
    base = _table("left_foot")
    peaks = []
    for reps in (4, 32):
        x = np.tile(base, (reps, 1))
        x[:, 0] = np.arange(len(x)) / 400.0
        p = _write(tmp_path / f"raw_left_foot_{reps}.csv", x)
        peaks.append((len(x), _peak_bytes(p)))
    (n1, p1), (n2, p2) = peaks
    assert p2 < 1.3 * p1, peaks  # 4x the samples
    assert p2 < 0.25 * n2 * 7 * 8, peaks  # far below the table of the longer file


def test_a_repeated_time_that_opens_a_chunk_is_dropped_as_in_one_piece(tmp_path, monkeypatch):
    # the repeat is found against the previous chunk's last row
    x = _table("right_foot")
    x = np.insert(x, 700, x[699], axis=0)  # data row 700 repeats row 699
    p = _write(tmp_path / "raw_right_foot.csv", x)
    lines = p.read_text().splitlines(keepends=True)
    start_699 = sum(len(s) for s in lines[1:700])  # data rows 0..698, after the header
    monkeypatch.setattr(stream, "CHUNK_BYTES", start_699 + 1)  # the first chunk ends with row 699
    first = stream._parse(p.read_text()[len(lines[0]):][:start_699 + 1] + lines[700])
    assert first.shape[0] == 700
    whole = read_raw_csv(p, repair=True)
    spooled = read_streaming(p, "right_foot", None, GAP_FACTOR)
    assert isinstance(spooled, SpooledRecording) and spooled.samples == whole.time_s.size == len(x) - 1
    assert spooled.notes == whole.notes and "1 row(s) repeat the previous row's time_s (first at line 702" in spooled.notes[0]
    assert [[_cell(v) for v in r.values()] for r in run_core([spooled])[0]] == [[_cell(v) for v in r.values()] for r in run_core([whole])[0]]


def test_no_file_stays_open_or_behind(tmp_path, monkeypatch):
    # the spooled rows of every session wait in temporary files until its analysis: an open file
    # each would run out of descriptors on a folder of sessions (1,024 by default: 256 sessions)
    import os
    import tempfile

    from runform.cli import main

    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_dir))
    files = _damaged_session(tmp_path)
    fds = len(os.listdir("/proc/self/fd"))
    recs = [read_streaming(f, f.stem[4:], None, GAP_FACTOR) for f in files]
    assert len(os.listdir("/proc/self/fd")) == fds
    assert len(list(spool_dir.iterdir())) == len(recs)
    for r in recs:
        r.close()
    assert list(spool_dir.iterdir()) == []
    assert main(["analyze", str(files[0]), "--out", str(tmp_path / "out")]) == 0
    assert list(spool_dir.iterdir()) == []
