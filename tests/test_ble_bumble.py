"""BLE acquisition through bleak and a Bumble backend: real ATT on an in-process LocalLink."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("bumble")

from runform.ble import Backoff, ConnectionManager, SensorRequest  # noqa: E402
from runform.live.hub import Hub  # noqa: E402
from runform.live.session import LiveSession  # noqa: E402

from ble_backends.bumble_backend import BumbleWorld  # noqa: E402
from ble_backends.scenario import make_firmwares  # noqa: E402


async def stream(fws, seconds: float, *, max_mtu: int = 247, during=None):
    world = BumbleWorld(fws, max_mtu=max_mtu)  # bumble needs the running loop
    await world.start()
    session = LiveSession(Hub())
    pump = asyncio.create_task(world.run())
    mgr = ConnectionManager(session, [SensorRequest(a) for a in world.sensors], backend=world.client_backend(),
                            backoff=Backoff(initial_s=0.2, max_s=1.0))
    try:
        await mgr.connect_all()
        session.start(asyncio.get_running_loop())
        rt = asyncio.create_task(mgr.run())
        if during is not None:
            await during(world)
        await asyncio.sleep(seconds)
        rt.cancel()
        await asyncio.gather(rt, return_exceptions=True)
        await asyncio.to_thread(session.stop)
    finally:
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)
    return session, mgr


def by_placement(session):
    return {s["placement"]: s for s in session.status()["sensors"]}


def test_two_sensors_at_mtu_247_stream_400_hz_without_loss_over_real_att():
    fws = make_firmwares(("left_foot", "left_shank"))
    session, mgr = asyncio.run(stream(fws, 2.0, max_mtu=247))
    assert mgr.rate_hz == 400 and all(m == 247 for m in mgr.mtus.values())
    for s in by_placement(session).values():
        assert s["frames_lost"] == 0 and s["frames_rejected"] == 0 and s["samples_received"] >= 1.5 * 400, s


def test_mtu_23_over_real_att_lowers_the_rate_and_an_oversized_value_is_truncated_and_rejected():
    fws = make_firmwares()

    async def inject(world):
        await asyncio.sleep(0.5)
        a = fws[0].config.address
        world.injections.append((a, bytes([0x11, 19]) + bytes(6) + bytes(12 * 19)))  # 236 bytes: ATT cuts it to 20

    session, mgr = asyncio.run(stream(fws, 2.0, max_mtu=23, during=inject))
    assert all(m == 23 for m in mgr.mtus.values())
    assert mgr.rate_hz == 200 and any("lowered to 200 Hz" in w for w in mgr.warnings)
    st = by_placement(session)
    for s in st.values():
        assert s["sample_rate_hz"] == 200 and s["frames_lost"] == 0 and s["samples_received"] >= 1.5 * 200
    assert st["left_foot"]["reject_reasons"] == {"length_mismatch": 1}


def test_a_dropped_bumble_link_is_reconnected_and_the_gap_recorded():
    fws = make_firmwares(("left_foot", "left_shank"))

    async def drop(world):
        await asyncio.sleep(0.5)
        await world.drop(fws[1].config.address)

    session, mgr = asyncio.run(stream(fws, 2.5, during=drop))
    st = by_placement(session)
    assert st["left_shank"]["disconnects"] == 1 and st["left_shank"]["gaps"][0]["end_s"] is not None
    assert mgr.supervisors[fws[1].config.address].reconnects == 1
    assert st["left_shank"]["frames_duplicated"] == 0 and st["left_foot"]["disconnects"] == 0
