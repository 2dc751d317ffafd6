"""`runform run` records its session: through the in-memory BLE backend, the frames the live
session received are in the frame log, and `runform sessions --json` lists the session."""

from __future__ import annotations

import asyncio
import json
import re
import socket

from runform.ble.session import run_ble
from runform.cli import build_parser, main
from runform.placements import PLACEMENTS
from runform.store import Store

from ble_backends.inmemory import SimWorld
from ble_backends.scenario import make_firmwares


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_records_the_session_and_sessions_lists_it(tmp_path, capsys):
    fws = make_firmwares()
    world = SimWorld(fws, realtime=True, seed=3)
    data = tmp_path / "data"
    args = build_parser().parse_args(["run", "--auto", "--scan-timeout", "0.01", "--no-browser", "--port", str(free_port()),
                                      "--duration", "3", "--data-dir", str(data)])

    async def go() -> int:
        t = asyncio.create_task(world.run())
        world.drop(fws[0].config.address, at_s=1.0, for_s=0.5)
        try:
            return await run_ble(args, backend=world.client_backend(), scanner_backend=world.scanner_backend(), clock=world.clock)
        finally:
            t.cancel()
            await asyncio.gather(t, return_exceptions=True)

    assert asyncio.run(go()) == 0
    err = capsys.readouterr().err
    sid = re.search(r"recorded session (\S+)", err).group(1)
    live_frames = {m.group(1): int(m.group(2)) for m in re.finditer(r"runform run: (\w+): (\d+) frames", err)}
    assert set(live_frames) == set(PLACEMENTS) and min(live_frames.values()) > 0

    assert main(["sessions", "--json", "--data-dir", str(data)]) == 0
    rows = json.loads(capsys.readouterr().out)
    row = next(r for r in rows if r["id"] == sid)
    assert row["recovered"] is False and 2.0 < row["duration_s"] < 6.0

    store = Store(data)
    decoded = store.decode(sid)
    assert decoded.clean_end and decoded.problem is None
    got = {s.placement: s.stream.counters.frames_received for s in decoded.sensors.values()}
    assert got == live_frames  # every frame the live path accepted is in the log, decoded the same way
    assert store.session(sid)["source"] == "run"
    conns = [m for m in decoded.messages if m.get("type") == "connection" and m.get("placement") == PLACEMENTS[0]]
    assert any(m["connection"] == "disconnected" for m in conns)  # the drop is recorded too
