"""Shared scaffolding for BLE scenario tests: virtual sensors, a world, a session, a manager."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from runform.ble import Backoff, ConnectionManager, SensorRequest
from runform.live.hub import Hub
from runform.live.session import LiveSession
from runform.placements import PLACEMENTS
from runform.sensors.firmware import FirmwareConfig, VirtualSensorFirmware
from runform.sensors.motion import SwingMotion

from .inmemory import SimWorld


def make_firmwares(placements=PLACEMENTS, *, offsets_s=None, drifts_ppm=None, rate_hz=400, motion=None, **cfg) -> list[VirtualSensorFirmware]:
    motion = motion or SwingMotion()
    out = []
    for i, p in enumerate(placements):
        fc = FirmwareConfig(
            placement=p,
            address=f"F0:0D:00:00:00:{0x10 + i:02X}",
            sample_rate_hz=rate_hz,
            clock_offset_us=int((offsets_s[i] if offsets_s else 0.0) * 1e6),
            clock_drift_ppm=float(drifts_ppm[i]) if drifts_ppm else 0.0,
            **cfg,
        )
        out.append(VirtualSensorFirmware(fc, motion, motion_placement=p))
    return out


@dataclass
class Run:
    world: SimWorld
    session: LiveSession
    manager: ConnectionManager


async def run_scenario(world: SimWorld, duration_s: float, *, rate_hz: int = 400, requests=None, setup=None,
                       backoff: Backoff = Backoff(initial_s=0.5, max_s=4.0, lost_after_s=10.0)) -> Run:
    """Connect every sensor of ``world`` through the in-memory bleak backend, stream for
    ``duration_s`` of simulated time, stop, and return what happened."""
    session = LiveSession(Hub(), clock=world.clock)
    world_task = asyncio.create_task(world.run())
    requests = requests or [SensorRequest(a) for a in world.peripherals]
    manager = ConnectionManager(session, requests, rate_hz=rate_hz, backend=world.client_backend(), sleep=world.sleep, backoff=backoff)
    try:
        await manager.connect_all()
        if setup is not None:
            setup(world, session)
        session.start(asyncio.get_running_loop())
        run_task = asyncio.create_task(manager.run())
        await world.sleep(duration_s)
        run_task.cancel()
        await asyncio.gather(run_task, return_exceptions=True)
        await asyncio.to_thread(session.stop, 60.0)
    finally:
        world_task.cancel()
        await asyncio.gather(world_task, return_exceptions=True)
    return Run(world, session, manager)
