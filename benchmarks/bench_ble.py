"""Host CPU of BLE acquisition: 4 sensors at 400 Hz through the in-memory bleak backend, in real
time, from the notification callback to samples published on the hub (decode, clock, display
decimation, status), as % of one core.

    .venv-test/bin/python benchmarks/bench_ble.py [--seconds 20] [--core]

Measured: process CPU time / wall time over the streaming window, minus the CPU the simulated
sensors themselves used (firmware sampling, int16 encoding: the sensor side, timed per thread
inside the world loop). ``--core`` also runs the gait core, to show its share next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ble_backends.inmemory import SimWorld  # noqa: E402
from ble_backends.scenario import make_firmwares  # noqa: E402

from runform.ble import ConnectionManager, SensorRequest  # noqa: E402
from runform.live.hub import Hub  # noqa: E402
from runform.live.session import LiveSession  # noqa: E402


async def measure(seconds: float, with_core: bool) -> dict:
    world = SimWorld(make_firmwares(), realtime=True, seed=1)
    core_factory = None
    if with_core:
        from runform.live.core_factory import make_core

        core_factory = make_core
    hub = Hub()
    session = LiveSession(hub, clock=world.clock, core_factory=core_factory)
    wt = asyncio.create_task(world.run())
    mgr = ConnectionManager(session, [SensorRequest(a) for a in world.peripherals], backend=world.client_backend(), sleep=world.sleep)
    await mgr.connect_all()
    session.start(asyncio.get_running_loop())
    rt = asyncio.create_task(mgr.run())
    await asyncio.sleep(1.0)  # settle
    cpu0, wall0, sim_cpu0 = time.process_time(), time.perf_counter(), world.sensor_cpu_s
    notes0 = sum(s.link.stats.notifications for s in mgr.supervisors.values())
    await asyncio.sleep(seconds)
    cpu1, wall1, sim_cpu1 = time.process_time(), time.perf_counter(), world.sensor_cpu_s
    notes1 = sum(s.link.stats.notifications for s in mgr.supervisors.values())
    rt.cancel()
    await asyncio.gather(rt, return_exceptions=True)
    await asyncio.to_thread(session.stop)
    wt.cancel()
    await asyncio.gather(wt, return_exceptions=True)
    wall = wall1 - wall0
    st = session.status()["sensors"]
    return {
        "wall_s": wall,
        "process_cpu_pct": 100 * (cpu1 - cpu0) / wall,
        "sensor_sim_cpu_pct": 100 * (sim_cpu1 - sim_cpu0) / wall,
        "host_cpu_pct": 100 * ((cpu1 - cpu0) - (sim_cpu1 - sim_cpu0)) / wall,
        "notifications_per_s": (notes1 - notes0) / wall,
        "lost": sum(s["frames_lost"] for s in st),
        "samples": sum(s["samples_received"] for s in st),
        "worker_processing_s": session.processing_time_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--core", action="store_true", help="also run the gait core")
    a = ap.parse_args()
    r = asyncio.run(measure(a.seconds, False))
    print(f"4 sensors x 400 Hz, in-memory bleak backend, {r['wall_s']:.1f} s real time, "
          f"{r['notifications_per_s']:.1f} data notifications/s, {r['samples']} samples, {r['lost']} frames lost")
    print(f"  process CPU {r['process_cpu_pct']:.2f} % of one core = sensor simulation {r['sensor_sim_cpu_pct']:.2f} % "
          f"+ host (BLE callback -> decode -> clock -> published samples + asyncio loop) {r['host_cpu_pct']:.2f} %")
    print(f"  worker thread busy {100 * r['worker_processing_s'] / (r['wall_s'] + 1):.2f} % of the time (decode+clock only)")
    print(f"  budget 10 % of one core: host/budget ratio {r['host_cpu_pct'] / 10:.2f}")
    if a.core:
        rc = asyncio.run(measure(a.seconds, True))
        print(f"  with the gait core: host {rc['host_cpu_pct']:.2f} % (core adds {rc['host_cpu_pct'] - r['host_cpu_pct']:.2f} points)")


if __name__ == "__main__":
    main()
