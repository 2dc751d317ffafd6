"""`runform demo` as a user runs it: a real process, a real server, a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import websockets

from netutil import free_port, running_demo
from runform.placements import PLACEMENTS


@pytest.fixture
def demo(tmp_path):
    with running_demo(tmp_path, 60) as (port, proc):
        yield port, proc


async def collect(port: int, seconds: float) -> list[dict]:
    msgs = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live") as ws:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                msgs.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=end - time.monotonic())))
            except asyncio.TimeoutError:
                break
            seen = {p for m in msgs if m["type"] == "samples" for p in m["sensors"]}
            if seen >= set(PLACEMENTS):
                break
    return msgs


def test_websocket_receives_samples_of_all_four_placements_within_5_s(demo):
    port, _ = demo
    t0 = time.monotonic()
    msgs = asyncio.run(collect(port, 5.0))
    elapsed = time.monotonic() - t0
    assert msgs[0]["type"] == "hello"
    assert all("type" in m for m in msgs)
    seen = {p for m in msgs if m["type"] == "samples" for p in m["sensors"]}
    assert seen == set(PLACEMENTS), f"got samples of {seen} in {elapsed:.1f} s"


async def peak_foot_rate_dps(port: int, seconds: float) -> float:
    peak = 0.0
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live") as ws:
        end = time.monotonic() + seconds
        while time.monotonic() < end and peak < 100:
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            if m["type"] == "samples" and "left_foot" in m["sensors"]:
                peak = max([peak] + [abs(v) for g in m["sensors"]["left_foot"]["gyr_dps"] for v in g])
    return peak


def test_signals_move_once_the_virtual_runner_starts(demo):
    # the virtual runner stands still for calibration first, then runs
    port, _ = demo
    assert asyncio.run(peak_foot_rate_dps(port, 20.0)) >= 100


def test_status_lists_each_sensor_with_its_counters(demo):
    port, _ = demo
    time.sleep(1.5)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status") as r:
        st = json.load(r)
    sensors = {s["placement"]: s for s in st["sensors"]}
    assert set(sensors) == set(PLACEMENTS)
    for s in sensors.values():
        assert s["connection"] == "streaming"
        assert s["sample_rate_hz"] == 400
        assert s["frames_received"] > 0
        assert s["frames_lost"] == 0 and s["frames_rejected"] == 0
        assert 380 < s["effective_rate_hz"] < 420


def test_page_is_served_at_root(demo):
    port, _ = demo
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as r:
        html = r.read().decode()
    assert "/static/live.js" in html and "/ws/live" not in html
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/live.js") as r:
        assert "/ws/live" in r.read().decode()


def test_demo_with_duration_exits_by_itself_with_status_0(tmp_path):
    port = free_port()
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "runform", "demo", "--duration", "3", "--no-browser", "--port", str(port), "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert time.monotonic() - t0 < 30
    assert "frames received" in res.stderr


def test_demo_binds_to_loopback_by_default():
    from runform.cli import build_parser

    args = build_parser().parse_args(["demo"])
    assert args.host == "127.0.0.1" and args.port == 8000


def test_help_lists_every_command_with_one_line():
    res = subprocess.run([sys.executable, "-m", "runform", "--help"], capture_output=True, text=True, check=True)
    assert "demo" in res.stdout
    from runform.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        helps = {a.dest: a.help for a in sub._choices_actions}
        assert helps.get(name), f"command {name} has no one-line help"
        assert "\n" not in helps[name]
        assert name in res.stdout


async def recalibrate_and_watch(port: int) -> list[dict]:
    seen = []
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live") as ws:
        await asyncio.wait_for(ws.recv(), timeout=5)  # hello
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/recalibrate?placement=left_shank", method="POST")
        with await asyncio.to_thread(urllib.request.urlopen, req) as r:
            assert r.status == 200
        end = time.monotonic() + 5
        while time.monotonic() < end:
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            if m["type"] == "calibration":
                seen.append(m)
                if m["placement"] == "left_shank" and m["state"] == "standing":
                    break
    return seen


def test_recalibration_runs_in_the_worker_and_is_announced(demo):
    port, _ = demo
    seen = asyncio.run(recalibrate_and_watch(port))
    assert any(m["placement"] == "left_shank" and m["state"] == "standing" for m in seen)
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/recalibrate?placement=nowhere", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 422


def test_wildcard_bind_prints_the_lan_addresses(monkeypatch):
    from runform.server import addresses

    monkeypatch.setattr(addresses, "lan_addresses", lambda: ["192.0.2.7"])
    assert addresses.urls_for("0.0.0.0", 8000) == ["http://192.0.2.7:8000/", "http://127.0.0.1:8000/"]
    assert addresses.urls_for("127.0.0.1", 8001) == ["http://127.0.0.1:8001/"]
    assert addresses.urls_for("::1", 8002) == ["http://[::1]:8002/"]


def test_link_effects_of_the_runner_profile_reach_the_live_path():
    """Frame loss and link drops set with --set show up as lost frames, gaps and reconnects."""
    from runform.live.hub import Hub
    from runform.live.session import LiveSession
    from runform.live.virtual_sensors import make_virtual_sensors
    from runform.live.virtual_source import VirtualSource
    from runform.sim import VirtualRunner

    runner = VirtualRunner.from_profile("neutral", seed=3, overrides={
        "link_frame_loss_probability": "0.05", "link_disconnect_every_s": "2", "link_disconnect_duration_s": "0.5"})

    class FastClock:  # the source's loop runs as fast as it can on a simulated clock
        t = 0.0

        def __call__(self):
            return self.t

    clock = FastClock()

    async def go():
        session = LiveSession(Hub(), clock=clock)
        src = VirtualSource(session, make_virtual_sensors(runner, seed=3), link=runner.link, seed=3, tick_s=0)
        src.connect_all()
        session.start(asyncio.get_running_loop())

        async def advance():
            while clock.t < 12.0:
                clock.t += 0.01
                await asyncio.sleep(0)

        await asyncio.gather(src.run(duration_s=12.0), advance())
        await asyncio.to_thread(session.stop)
        return session, src

    session, src = asyncio.run(go())
    st = {s["placement"]: s for s in session.status()["sensors"]}
    assert src.frames_dropped_by_link > 0
    assert sum(s["frames_lost"] for s in st.values()) > 0
    assert sum(s["disconnects"] for s in st.values()) >= 4
    assert all(s["frames_rejected"] == 0 for s in st.values())


def test_status_carries_each_placements_calibration_state_for_new_viewers(demo):
    port, _ = demo
    deadline = time.monotonic() + 40
    cal = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status") as r:
            cal = json.load(r)["calibration"]
        if set(cal) == set(PLACEMENTS) and all(c["state"] == "ready" for c in cal.values()):
            break
        time.sleep(1)
    assert set(cal) == set(PLACEMENTS)
    assert all(c["state"] == "ready" for c in cal.values()), cal


def _post_json(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def test_recording_stops_and_starts_again_while_the_live_view_goes_on(demo, tmp_path):
    port, _ = demo
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(base + "/api/recording") as r:
        first = json.load(r)
    assert first["available"] and first["status"]["recording"]
    stopped = _post_json(base + "/api/recording", {"action": "stop"})["status"]
    assert not stopped["recording"] and stopped["finished"] == [first["status"]["session_id"]]
    with urllib.request.urlopen(base + "/api/status") as r:
        frames_before = sum(s["frames_received"] for s in json.load(r)["sensors"])
    time.sleep(1.0)
    with urllib.request.urlopen(base + "/api/status") as r:
        assert sum(s["frames_received"] for s in json.load(r)["sensors"]) > frames_before  # live goes on
    started = _post_json(base + "/api/recording", {"action": "start", "label": "insoles", "runner": "R. Unner"})["status"]
    assert started["recording"] and started["session_id"] != first["status"]["session_id"]
    time.sleep(1.5)
    _post_json(base + "/api/recording", {"action": "stop"})
    # both sessions are in the store: the first finished, the second with its label and frames
    res = subprocess.run([sys.executable, "-m", "runform", "sessions", "--json", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    rows = {r["id"]: r for r in json.loads(res.stdout)}
    assert first["status"]["session_id"] in rows and started["session_id"] in rows
    assert rows[started["session_id"]]["label"] == "insoles"


def test_other_web_pages_cannot_drive_or_watch_the_server(demo):
    """Cross-site WebSocket hijacking, cross-site POSTs and DNS rebinding are refused."""
    port, _ = demo
    base = f"http://127.0.0.1:{port}"

    async def ws_with(headers):
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live", additional_headers=headers) as ws:
                return json.loads(await asyncio.wait_for(ws.recv(), timeout=5))["type"]
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(ws_with({"Origin": "http://evil.example"})) == 403
    assert asyncio.run(ws_with({"Origin": f"http://127.0.0.1:{port}"})) == "hello"
    req = urllib.request.Request(base + "/api/recalibrate", method="POST", headers={"Origin": "http://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403
    # DNS rebinding: a name that resolves here but is not a loopback name
    req = urllib.request.Request(base + "/api/status", headers={"Host": f"evil.example:{port}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403
    req = urllib.request.Request(base + "/api/status", headers={"Host": f"localhost:{port}"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200


def test_a_port_in_use_is_a_clear_message_and_exit_status_1(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        res = subprocess.run(
            [sys.executable, "-m", "runform", "demo", "--duration", "3", "--no-browser", "--port", str(port),
             "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1, res.stderr
    assert "could not listen" in res.stderr and "--port" in res.stderr
    assert "Traceback" not in res.stderr
    # said before anything is recorded: no empty session left behind
    assert "recorded session" not in res.stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], list(tmp_path.rglob("*"))
