"""Crash safety of the recorder: SIGKILL, torn tails, a full disk (file-size limit)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request

import asyncio
import numpy as np
import pytest
import websockets

from runform.protocol.messages import ImuFrame, decode_data, encode_data
from runform.store import Store, framelog as fl

from netutil import free_port, wait_for_http

WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from runform.protocol.messages import ImuFrame, encode_data
    from runform.store.recorder import FrameRecorder
    from runform.store.store import Store

    class FakeSession:  # only what Store.open_live_recording reads: sensors, started_wall
        sensors = {}
        started_wall = time.time()
        recorder = None

    store = Store(sys.argv[1])
    rec = store.open_live_recording(FakeSession(), {"source": "test", "label": "sigkill"})
    rec.describe_sensor(0, {"placement": "left_foot", "key": "k", "name": "n", "device_info": {},
                            "sample_rate_hz": 400.0, "accel_range_g": 16.0, "gyro_range_dps": 2000.0})
    print("session", rec.session_id, flush=True)
    seq = 0
    last = -1
    t0 = time.monotonic()
    while True:
        samples = np.full((19, 6), seq % 30000, dtype=np.int16)
        rec.write(0, "data", encode_data(ImuFrame(seq % 65536, (seq * 47500) % 2**32, samples)), time.monotonic() - t0)
        seq += 1
        on_disk = rec.status()["bytes_on_disk"]
        if on_disk != last:
            last = on_disk
            print("on_disk", on_disk, flush=True)
        time.sleep(0.001)
    """
)


def test_sigkill_mid_session_is_recovered_with_every_flushed_frame(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    lines = []
    sid = None
    try:
        deadline = time.monotonic() + 30
        flushes = 0
        while time.monotonic() < deadline and flushes < 4:  # let it flush a few times
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("session"):
                sid = line.split()[1]
            elif line.startswith("on_disk"):
                flushes += 1
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=10)
    lines += rest.splitlines()
    on_disk = max(int(l.split()[1]) for l in lines if l.startswith("on_disk"))
    assert proc.returncode == -signal.SIGKILL
    assert sid is not None
    log_path = tmp_path / "sessions" / sid / "frames.rfl"
    before = log_path.read_bytes()
    assert len(before) >= on_disk

    store = Store(tmp_path)  # the next start finds and recovers it
    assert [r["id"] for r in store.recovered] == [sid]
    row = store.session(sid)
    assert row["recovered"] is True and row["state"] == "recovered"
    after = log_path.read_bytes()
    # every byte flushed before the kill is still there, unchanged, as whole records
    assert len(after) >= on_disk and after[:on_disk] == before[:on_disk]
    scan = fl.read(log_path)
    assert scan.problem is None
    data = [r for r in scan.records if r.kind == fl.DATA]
    seqs = [decode_data(r.payload).sequence for r in data]
    assert seqs == list(range(len(seqs)))  # no frame missing in the middle
    assert row["frame_counts"] == {"left_foot": len(data)}
    # what was on disk at the last report is a prefix of what was recovered
    assert len(fl.parse(before[:on_disk]).records) <= len(scan.records)
    # a second start does not recover it again
    assert Store(tmp_path).recovered == []


def _write_session(tmp_path, n_frames: int = 50):
    class FakeSession:
        sensors: dict = {}
        started_wall = time.time()
        recorder = None

    store = Store(tmp_path)
    rec = store.open_live_recording(FakeSession(), {"source": "test"})
    rec.describe_sensor(0, {"placement": "right_shank", "key": "k", "name": "n", "device_info": {},
                            "sample_rate_hz": 400.0, "accel_range_g": 32.0, "gyro_range_dps": 2000.0})
    for i in range(n_frames):
        rec.write(0, "data", encode_data(ImuFrame(i, i * 47500, np.full((19, 6), i, np.int16))), i * 0.0475)
    rec.flush()
    return store, rec


@pytest.mark.parametrize("cut", [1, 7, 20, 200])
def test_torn_tail_is_cut_to_the_last_whole_record(tmp_path, cut):
    store, rec = _write_session(tmp_path)
    path = rec.path
    # the process died mid-record: simulate by cutting the file inside the last record
    rec._stop.set()
    os.close(rec._fd)
    rec._fd = None
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - cut)
    torn = fl.read(path)
    assert torn.torn and torn.problem
    recovered = Store(tmp_path).recovered
    assert [r["id"] for r in recovered] == [rec.session_id] and recovered[0]["torn_bytes"] > 0
    scan = fl.read(path)
    assert not scan.torn and path.stat().st_size == scan.valid_bytes
    n = sum(r.kind == fl.DATA for r in scan.records)
    assert n == sum(r.kind == fl.DATA for r in torn.records) and n >= 45


def test_corrupted_record_stops_the_reader_with_a_reason(tmp_path):
    store, rec = _write_session(tmp_path)
    rec.close()
    raw = bytearray(rec.path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    res = fl.parse(bytes(raw), name="x.rfl")
    assert res.problem and "checksum" in res.problem
    with pytest.raises(fl.FrameLogError, match="not a runform frame log"):
        fl.parse(b"hello world, this is not a log", name="x.rfl")


FULL_DISK_LIMIT = 150_000


def _limit_file_size():  # runs in the child before exec
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_LIMIT, FULL_DISK_LIMIT))


async def _hello(port: int) -> dict:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live") as ws:
        return json.loads(await asyncio.wait_for(ws.recv(), 10))


def _status(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return json.load(r)


def test_full_disk_stops_recording_visibly_keeps_an_intact_file_and_the_live_view(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runform", "demo", "--no-browser", "--port", str(port), "--duration", "60", "--seed", "3",
         "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_limit_file_size,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/status")
        deadline = time.monotonic() + 40
        st = _status(port)
        while time.monotonic() < deadline and st["recording"]["state"] == "recording":
            time.sleep(0.3)
            st = _status(port)
        rec = st["recording"]
        assert rec["state"] == "failed" and rec["ok"] is False
        assert "too large" in rec["error"] or "full" in rec["error"]
        frames_then = sum(s["frames_received"] for s in st["sensors"])
        hello = asyncio.run(_hello(port))
        alerts = [m for m in hello["recent"] if m["type"] == "alert" and m["source"] == "recording"]
        assert alerts and alerts[0]["message"] == rec["error"]
        time.sleep(1.0)
        st2 = _status(port)  # the live view goes on
        assert sum(s["frames_received"] for s in st2["sensors"]) > frames_then
        assert all(s["connection"] == "streaming" for s in st2["sensors"])
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "recording stopped" in err  # the CLI says so too
    path = tmp_path / "sessions" / rec["session_id"] / "frames.rfl"
    assert path.stat().st_size <= FULL_DISK_LIMIT
    scan = fl.read(path)
    assert scan.problem is None  # ends with a whole record
    decoded = Store(tmp_path).decode(rec["session_id"])
    assert set(decoded.by_placement()) == {"left_foot", "right_foot", "left_shank", "right_shank"}
    assert all(s.stream.counters.frames_received > 10 and s.stream.counters.frames_rejected == 0 for s in decoded.sensors.values())


def test_without_file_locks_a_log_still_being_written_is_not_recovered(tmp_path, monkeypatch):
    """Where flock is missing (Windows) the recorder's pid in the log header tells that the
    session is still being recorded: a second Store must not repair or index it as recovered."""
    import runform.store.store as store_mod
    from runform.live.hub import Hub
    from runform.live.session import LiveSession
    from runform.store import Store

    session = LiveSession(Hub())
    rec = Store(tmp_path).open_live_recording(session, {"label": "live"})
    try:
        monkeypatch.setattr(store_mod, "fcntl", None)
        rows = {r["id"]: r for r in Store(tmp_path).list_sessions()}
        assert rows[rec.session_id]["state"] == "recording"
        assert not rows[rec.session_id]["recovered"]
    finally:
        rec.close()
