"""``runform scan`` and ``runform run`` end to end with the in-memory bleak backend:
the CLI parser, the real LiveSession, the real server, /api/status over HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import urllib.request

import numpy as np

from runform.ble.session import run_ble
from runform.cli import build_parser
from runform.commands import scan as scan_cmd
from runform.placements import PLACEMENTS

from ble_backends.inmemory import SimWorld
from ble_backends.scenario import make_firmwares


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_polling_status(world: SimWorld, argv: list[str], port: int, at_start=None) -> tuple[int, list[dict]]:
    """``runform run ARGV`` against ``world`` with /api/status polled every 0.25 s; returns the exit
    status and every status read. ``at_start(world)`` is called once the loop runs."""
    args = build_parser().parse_args(argv)
    seen: list[dict] = []

    def get_status() -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
            return json.loads(r.read())

    async def main() -> int:
        world_task = asyncio.create_task(world.run())

        async def poll() -> None:
            while True:
                await asyncio.sleep(0.25)
                try:
                    seen.append(await asyncio.to_thread(get_status))
                except OSError:
                    pass

        poller = asyncio.create_task(poll())
        if at_start is not None:
            at_start(world)
        try:
            return await run_ble(args, backend=world.client_backend(), scanner_backend=world.scanner_backend(), clock=world.clock)
        finally:
            poller.cancel()
            world_task.cancel()
            await asyncio.gather(poller, world_task, return_exceptions=True)

    return asyncio.run(main()), seen


def run_until_refused(world: SimWorld, argv: list[str]) -> int:
    """``runform run ARGV`` against ``world`` when it is expected to stop before streaming."""
    args = build_parser().parse_args(argv)

    async def main() -> int:
        t = asyncio.create_task(world.run())
        try:
            return await run_ble(args, backend=world.client_backend(), scanner_backend=world.scanner_backend(), clock=world.clock, sleep=world.sleep)
        finally:
            t.cancel()

    return asyncio.run(main())


def test_scan_command_prints_json_and_table(capsys):
    fws = make_firmwares(("left_foot", "right_shank"))
    fws[1].placement_code = 0
    world = SimWorld(fws)
    args = build_parser().parse_args(["scan", "--timeout", "0.01", "--json"])
    assert scan_cmd.run(args, backend=world.scanner_backend()) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["placement"] for r in rows} == {"left_foot", None}
    assert all({"name", "address", "rssi_dbm", "battery_percent", "firmware"} <= r.keys() for r in rows)
    args = build_parser().parse_args(["scan", "--timeout", "0.01"])
    assert scan_cmd.run(args, backend=world.scanner_backend()) == 0
    out = capsys.readouterr().out
    assert "left_foot" in out and "not assigned" in out and "RunForm-" in out


def test_run_auto_streams_into_the_live_server_and_reports_a_gap_in_api_status(capsys):
    fws = make_firmwares()
    world = SimWorld(fws, realtime=True, seed=7)
    victim = fws[3].config.address  # right_shank
    port = free_port()
    rc, seen = run_polling_status(world, ["run", "--auto", "--scan-timeout", "0.01", "--no-browser", "--port", str(port), "--duration", "5"],
                                  port, at_start=lambda w: w.drop(victim, at_s=2.0, for_s=0.7))
    assert rc == 0
    assert seen, "the server never answered"
    last = {s["placement"]: s for s in seen[-1]["sensors"]}
    assert set(last) == set(PLACEMENTS)
    for p, s in last.items():
        assert s["samples_received"] > 1000 and s["frames_lost"] == 0, (p, s)
    assert len(last["right_shank"]["gaps"]) == 1 and last["right_shank"]["gaps"][0]["end_s"] is not None
    assert any(s["connection"] == "disconnected" for st in seen for s in st["sensors"] if s["placement"] == "right_shank")
    assert "dashboard at http://127.0.0.1" in capsys.readouterr().out


def test_run_refuses_a_missing_placement_before_streaming(capsys):
    fws = make_firmwares(("left_foot", "right_foot"))
    fws[1].placement_code = 0
    world = SimWorld(fws)
    assert run_until_refused(world, ["run", "--auto", "--scan-timeout", "0.01", "--no-browser", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert "no placement for RunForm-" in err and "--sensor PLACEMENT=ADDRESS" in err
    assert not any(fw.streaming for fw in fws)


def _imu_file(tmp_path, placement: str, address: str):
    from runform.core.imu_correction import ImuCorrection
    from runform.imu_file import ImuEntry, save_imu_entries

    path = tmp_path / "imu.json"
    m = ImuCorrection(np.diag([1.01, 0.99, 1.0]), [0.1, 0.0, 0.0], np.eye(3), [0.0, 0.0, 0.01])
    save_imu_entries(path, {placement: ImuEntry(placement, m, address)})
    return path


def test_run_refuses_the_imu_calibration_of_another_sensor_before_streaming(tmp_path, capsys):
    fws = make_firmwares(("left_foot", "right_foot"))
    world = SimWorld(fws)
    imu = _imu_file(tmp_path, "left_foot", "AA:BB:CC:DD:EE:FF")
    assert run_until_refused(world, ["run", "--auto", "--scan-timeout", "0.01", "--no-browser", "--port", str(free_port()),
                                     "--imu-calibration", str(imu)]) == 2
    err = capsys.readouterr().err
    assert "is of sensor AA:BB:CC:DD:EE:FF" in err and fws[0].config.address in err
    assert not any(fw.streaming for fw in fws)


def test_run_corrects_the_calibrated_sensor_and_says_so(tmp_path, capsys):
    fws = make_firmwares(("left_foot", "right_foot"))
    world = SimWorld(fws, realtime=True, seed=3)
    imu = _imu_file(tmp_path, "left_foot", fws[0].config.address.lower())
    port = free_port()
    rc, seen = run_polling_status(world, ["run", "--auto", "--scan-timeout", "0.01", "--no-browser", "--port", str(port),
                                          "--duration", "2", "--imu-calibration", str(imu)], port)
    assert rc == 0
    assert seen and seen[-1]["core"]["imu_corrected"] == ["left_foot"]
    assert "no IMU calibration for right_foot" in capsys.readouterr().err
