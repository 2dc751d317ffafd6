"""The /api/sessions routes on a real data directory, `runform replay` and `runform serve` as processes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import pytest
from fastapi.testclient import TestClient

from runform.server.app import create_app
from runform.store import Store
from runform.store.virtual import record_virtual_session

from netutil import free_port, stop_process, wait_for_http


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("data"))
    record_virtual_session(s, 20.0, seed=7, annotations=[(5.0, "insoles on")])
    return s


def test_sessions_list_detail_files_and_zip(store):
    sid = store.list_sessions()[0]["id"]
    client = TestClient(create_app(None, data_dir=store.data_dir))
    rows = client.get("/api/sessions").json()
    assert [r["id"] for r in rows] == [sid] and rows[0]["recovered"] is False
    detail = client.get(f"/api/sessions/{sid}").json()
    assert detail["annotations"] == [{"time_s": 5.0, "text": "insoles on"}]
    assert set(detail["files"]) >= {"session.json", "strides.csv", "raw_left_foot.csv"}
    r = client.get(detail["files"]["strides.csv"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("leg,stride_index,") and r.text.count("\n") > 10
    raw = client.get(detail["files"]["raw_right_shank.csv"]).text
    assert raw.startswith("time_s,acc_x_mps2") and raw.count("\n") > 7000
    z = client.get(detail["zip"])
    assert z.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert f"{sid}/session.json" in names and f"{sid}/raw_left_foot.csv" in names and len(names) == 8
    # a new annotation makes the files again
    client.post(f"/api/sessions/{sid}/annotations", json={"time_s": 12.5, "text": "speed up"})
    ann = client.get(f"/api/sessions/{sid}/annotations.csv").text.splitlines()
    assert ann == ["time_s,text", "5.0,insoles on", "12.5,speed up"]
    assert client.get("/api/sessions/nope").status_code == 404
    assert client.get(f"/api/sessions/{sid}/secrets.txt").status_code == 404
    # a time that is not a finite, non-negative number is refused and stores nothing
    for bad in ('{"time_s": Infinity, "text": "x"}', '{"time_s": NaN, "text": "x"}', '{"time_s": -1, "text": "x"}'):
        r = client.post(f"/api/sessions/{sid}/annotations", content=bad, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (bad, r.status_code)
    assert client.get(f"/api/sessions/{sid}").status_code == 200
    assert len(client.get(f"/api/sessions/{sid}/annotations.csv").text.splitlines()) == 3


def test_without_a_data_dir_the_routes_say_so():
    client = TestClient(create_app(None))
    r = client.get("/api/sessions")
    assert r.status_code == 404 and "no data directory" in r.text


def test_replay_streams_a_session_through_the_live_path_and_records_it(store):
    sid = store.list_sessions()[0]["id"]
    port = free_port()
    res = subprocess.run(
        [sys.executable, "-m", "runform", "replay", sid, "--speed", "10", "--no-browser", "--port", str(port),
         "--data-dir", str(store.data_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "strides" in res.stderr and "recorded as" in res.stderr
    rows = Store(store.data_dir).list_sessions()
    replay = next(r for r in rows if r["source"] == "replay")
    original = next(r for r in rows if r["id"] == sid)
    assert replay["frame_counts"] == original["frame_counts"]
    assert replay["strides"] > 10
    # the replay decodes the same samples with the same session times
    a, b = Store(store.data_dir).decode(sid), Store(store.data_dir).decode(replay["id"])
    for p, s in a.by_placement().items():
        ta, _, ga = s.arrays()
        tb, _, gb = b.by_placement()[p].arrays()
        assert (ta == tb).all() and (ga == gb).all()


def test_serve_lists_stored_sessions_without_sensors(store):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "runform", "serve", "--no-browser", "--port", str(port), "--data-dir", str(store.data_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/sessions")
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/sessions") as r:
            rows = json.load(r)
        assert rows and all("duration_s" in r for r in rows)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status") as r:
            assert json.load(r)["live"] is False
    finally:
        stop_process(proc)
