"""BLE acquisition through bleak with the in-memory backend (simulated time, deterministic)."""

from __future__ import annotations

import asyncio

import pytest

from runform.ble import IncompatibleSensorError, PlacementError, SensorRequest, scan
from runform.protocol.sizing import host_frame_samples
from runform.placements import PLACEMENTS

from ble_backends.inmemory import SimWorld
from ble_backends.scenario import make_firmwares, run_scenario


def status_of(run, placement):
    return next(s for s in run.session.status()["sensors"] if s["placement"] == placement)


def test_scan_lists_our_sensors_with_placement_battery_firmware():
    fws = make_firmwares(firmware_version=(1, 4, 2), battery_percent=77)
    world = SimWorld(fws)
    found = asyncio.run(scan(0.01, backend=world.scanner_backend()))
    assert {f.placement for f in found} == set(PLACEMENTS)
    assert {f.address for f in found} == set(world.peripherals)
    for f in found:
        assert f.name.startswith("RunForm-") and f.battery_percent == 77 and f.firmware == "1.4.2"
        assert f.compatible and f.rssi_dbm == -60


def test_four_sensors_400_hz_for_60_s_of_sensor_time_lose_nothing():
    fws = make_firmwares(offsets_s=[3.0, 17.5, 0.2, 41.0], drifts_ppm=[50, -50, 20, -10])
    run = asyncio.run(run_scenario(SimWorld(fws, seed=1), 61.0))
    assert run.manager.rate_hz == 400 and not run.manager.warnings
    for placement in PLACEMENTS:
        s = status_of(run, placement)
        assert s["frames_lost"] == 0 and s["frames_rejected"] == 0 and s["frames_duplicated"] == 0, s
        # 60 s of sensor time (the stream starts ~0.3 s in, after the serial connects)
        assert s["samples_received"] >= 60 * 400, s["samples_received"]
        assert s["effective_rate_hz"] == pytest.approx(400.0, abs=0.05)
        assert s["disconnects"] == 0 and s["gaps"] == []
    # every notification the link delivered reached the session, none was lost in between
    total_frames = sum(s["frames_received"] for s in run.session.status()["sensors"])
    data_notes = sum(sup.link.stats.notifications for sup in run.manager.supervisors.values())
    assert total_frames == data_notes


def test_a_sensor_that_drops_and_returns_is_reconnected_with_a_gap_others_unaffected():
    fws = make_firmwares()
    world = SimWorld(fws, seed=2)
    victim = fws[2].config.address  # left_shank
    world.drop(victim, at_s=10.0, for_s=3.0)
    run = asyncio.run(run_scenario(world, 30.0))
    s = status_of(run, "left_shank")
    assert s["disconnects"] == 1 and len(s["gaps"]) == 1
    gap = s["gaps"][0]
    assert gap["start_s"] == pytest.approx(10.0, abs=0.05)
    assert gap["end_s"] is not None and 13.0 <= gap["end_s"] <= 13.0 + 4.0 + 1.0  # within one back-off step
    assert run.manager.supervisors[victim].reconnects == 1
    # streaming again: samples after the gap; the restarted sequence is not counted as duplicates
    assert s["frames_duplicated"] == 0 and s["frames_rejected"] == 0
    assert s["samples_received"] >= (30.0 - (gap["end_s"] - gap["start_s"]) - 1.0) * 400
    for other in ("left_foot", "right_foot", "right_shank"):
        o = status_of(run, other)
        assert o["disconnects"] == 0 and o["frames_lost"] == 0 and o["samples_received"] >= 29 * 400


def test_a_sensor_that_never_returns_is_lost_and_the_others_go_on():
    fws = make_firmwares()
    world = SimWorld(fws, seed=3)
    victim = fws[1].config.address  # right_foot
    world.drop(victim, at_s=5.0, for_s=None)
    run = asyncio.run(run_scenario(world, 30.0))
    s = status_of(run, "right_foot")
    assert s["connection"] == "lost" and s["gaps"][0]["end_s"] is None
    assert run.manager.supervisors[victim].attempts >= 3
    assert any("lost" in w for w in run.manager.warnings)
    for other in ("left_foot", "left_shank", "right_shank"):
        o = status_of(run, other)
        assert o["connection"] in ("streaming", "stopped") and o["frames_lost"] == 0 and o["samples_received"] >= 29 * 400


def test_malformed_and_oversized_notifications_are_counted_and_the_stream_goes_on():
    fws = make_firmwares()
    world = SimWorld(fws, seed=4)
    a = fws[0].config.address
    world.inject(a, 2.0, "data", b"\x11\x01\x2a")  # too short
    world.inject(a, 2.1, "data", bytes([0x11, 3]) + bytes(6) + bytes(12))  # says 3 samples, carries 1
    world.inject(a, 2.2, "data", bytes([0x11, 40]) + bytes(6) + bytes(12 * 40))  # oversized: ATT cuts it at MTU - 3
    world.inject(a, 2.3, "data", bytes([0x21, 1]) + bytes(6) + bytes(12))  # another major version
    world.inject(a, 2.4, "status", b"\x01")  # status too short
    run = asyncio.run(run_scenario(world, 6.0))
    s = status_of(run, "left_foot")
    assert s["frames_rejected"] == 4, s["reject_reasons"]
    assert s["reject_reasons"] == {"too_short": 1, "length_mismatch": 2, "unsupported_version": 1}
    assert s["frames_lost"] == 0 and s["samples_received"] >= 5 * 400
    assert run.session.sensors[a].status_rejected == 1


def test_wrong_protocol_version_is_refused_before_streaming_with_a_clear_message():
    fws = make_firmwares(("left_foot", "right_foot"))
    fws[1].config.protocol_version = 2
    world = SimWorld(fws)
    with pytest.raises(IncompatibleSensorError, match=r"protocol version 2.*speaks version 1"):
        asyncio.run(run_scenario(world, 1.0))
    assert not any(fw.streaming for fw in fws)
    assert all(p.client is None for p in world.peripherals.values())  # nothing left connected


def test_placement_conflict_and_missing_placement_are_errors_before_streaming():
    fws = make_firmwares(("left_foot", "right_foot", "left_shank"))
    addrs = [f.config.address for f in fws]
    with pytest.raises(PlacementError, match="left_foot claimed by"):
        asyncio.run(run_scenario(SimWorld(fws), 1.0, requests=[SensorRequest(addrs[0]), SensorRequest(addrs[1], "left_foot")]))
    fws[2].placement_code = 0
    with pytest.raises(PlacementError, match="no placement for"):
        asyncio.run(run_scenario(SimWorld(fws), 1.0, requests=[SensorRequest(addrs[2])]))
    # the command line overrides the stored placement
    run = asyncio.run(run_scenario(SimWorld(fws), 2.0, requests=[SensorRequest(addrs[2], "right_shank")]))
    assert status_of(run, "right_shank")["samples_received"] > 0
    assert not any(fw.streaming for fw in fws)


def test_mtu_23_lowers_the_rate_with_a_warning_and_loses_nothing():
    fws = make_firmwares()
    world = SimWorld(fws, max_mtu=23, seed=5)
    run = asyncio.run(run_scenario(world, 10.0))
    assert run.manager.rate_hz == 200
    assert any("MTU 23" in w and "lowered to 200 Hz" in w for w in run.manager.warnings), run.manager.warnings
    for placement in PLACEMENTS:
        s = status_of(run, placement)
        assert s["sample_rate_hz"] == 200 and s["frames_lost"] == 0
        assert s["frames_received"] == s["samples_received"]  # one sample per 20-byte notification
        assert s["samples_received"] >= 9 * 200


def test_mtu_247_keeps_400_hz_for_four_sensors():
    fws = make_firmwares()
    run = asyncio.run(run_scenario(SimWorld(fws, max_mtu=247), 3.0))
    assert run.manager.rate_hz == 400 and not run.manager.warnings
    for sup in run.manager.supervisors.values():
        assert sup.link.stats.att_mtu == 247
        assert sup.link.stats.notification_bytes / sup.link.stats.notifications == pytest.approx(8 + 12 * host_frame_samples(400), abs=1)
