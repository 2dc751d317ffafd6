"""The demo's simulated BLE link (runform.live.virtual_source) delays notifications with jitter
but keeps each sensor's notifications in order, as a BLE connection does: no frame is counted
lost or dropped as a duplicate when no loss is configured, even with 10-ms frames and a jitter
larger than the frame period."""

from __future__ import annotations

import asyncio

from runform.live.hub import Hub
from runform.live.session import LiveSession
from runform.live.virtual_sensors import make_virtual_sensors
from runform.live.virtual_source import VirtualSource, in_order_arrival
from runform.sim import LinkEffects, VirtualRunner


def test_a_late_notification_holds_up_the_next_one():
    assert in_order_arrival(1.000, 0.990) == 1.000  # jitter made it earlier than its predecessor
    assert in_order_arrival(1.000, 1.020) == 1.020


def test_jitter_larger_than_the_frame_period_loses_no_frame():
    async def main() -> dict:
        session = LiveSession(Hub())
        session.start()
        motion = VirtualRunner.from_profile("neutral", seed=3)
        firmwares = make_virtual_sensors(motion, rate_hz=100, seed=3)
        # 100 Hz: one sample per 10-ms frame; 8 ms of half-normal jitter reordered ~5 % of them
        source = VirtualSource(session, firmwares, link=LinkEffects(jitter_ms=8.0), seed=3)
        source.connect_all()
        await source.run(duration_s=3.0)
        await asyncio.sleep(0.3)
        session.stop()
        return session.status()

    st = asyncio.run(main())
    assert len(st["sensors"]) == 4
    for s in st["sensors"]:
        assert s["frames_received"] > 200, s
        assert s["frames_lost"] == 0 and s["frames_duplicated"] == 0, s
