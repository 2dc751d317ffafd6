"""The demo's live path in real time, without the HTTP server: virtual runner -> virtual sensor
firmware (4 x 400 Hz) -> simulated link -> LiveSession (decode, clock, gait core, display) -> hub.

    .venv-test/bin/python benchmarks/bench_live.py [--seconds 60] [--profile neutral] [--seed 1]

Prints, over the run:
* IC detection latency: publication of each IC event minus the arrival of the frame that carried
  its IC sample (live events only; events held back until calibration are counted apart), p50/p99;
* per-batch worker time (the worker drains the queue in batches), p50/p99/max;
* CPU as % of one core: the whole process, and the worker thread alone (the live path's cost).
Peer figures come from the same run: the cost of generating the signals (the virtual sensors)
is measured separately so it can be subtracted.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import numpy as np

from runform.live.core_factory import make_core
from runform.live.demo import make_motion
from runform.live.hub import Hub
from runform.live.session import LiveSession
from runform.live.virtual_sensors import make_virtual_sensors
from runform.live.virtual_source import VirtualSource
from runform.sim import LinkEffects


class TimedSession(LiveSession):
    """Times every worker batch (thread CPU time), nothing else changed."""

    batch_ms: list[float] = []

    def _handle(self, *args, **kw):  # type: ignore[override]
        t0 = time.perf_counter()
        try:
            return super()._handle(*args, **kw)
        finally:
            self.batch_ms.append((time.perf_counter() - t0) * 1000.0)


async def run(seconds: float, profile: str, seed: int) -> dict:
    motion = make_motion(profile, seed)
    hub = Hub()
    session = TimedSession(hub, core_factory=make_core)
    fws = make_virtual_sensors(motion, rate_hz=400, seed=seed)
    src = VirtualSource(session, fws, link=LinkEffects(jitter_ms=4.0), seed=seed)
    src.connect_all()
    session.start(asyncio.get_running_loop())
    sub = hub.subscribe(maxsize=100000)
    gen_cpu = 0.0
    orig = [fw.advance for fw in fws]

    def timed(f):
        def inner(t):
            nonlocal gen_cpu
            c0 = time.thread_time()
            try:
                return f(t)
            finally:
                gen_cpu += time.thread_time() - c0
        return inner

    for fw, f in zip(fws, orig):
        fw.advance = timed(f)  # type: ignore[method-assign]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await src.run(duration_s=seconds)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    await asyncio.to_thread(session.stop)
    sub.close()
    wall = wall1 - wall0
    lat = session._latency_summary()
    b = np.asarray(session.batch_ms)
    return {
        "seconds": round(wall, 1),
        "strides": session.stride_count,
        "ic_latency": lat,
        "per_notification_ms": {"p50": round(float(np.percentile(b, 50)), 3), "p99": round(float(np.percentile(b, 99)), 3),
                                "max": round(float(b.max()), 3), "n": int(b.size)},
        "process_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / wall, 2),
        "signal_generation_cpu_pct": round(100 * gen_cpu / wall, 2),
        "live_path_worker_cpu_pct": round(100 * session.processing_time_s / wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--profile", default="neutral")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    res = asyncio.run(run(a.seconds, a.profile, a.seed))
    for k, v in res.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
