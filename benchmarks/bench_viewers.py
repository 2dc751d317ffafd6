"""Many dashboard viewers on one live server: added latency of stride messages and server CPU.

The server runs in a child process exactly as ``runform demo`` builds it (four virtual sensors at
``--rate`` Hz through the simulated link, the real gait core, the hub, uvicorn), plus a task that
publishes a marked stride message into the hub every 0.33 s (a runner's stride rate of both legs)
carrying the wall time at publication. Viewers are WebSocket clients in this process; each
records, for every marked stride, receipt wall time minus publication wall time. Phases: 1 viewer
(the baseline), then N viewers. The server's CPU is read from the OS (psutil) over each phase, and
an idle phase (0 viewers) shows what the sensors and the core cost without any viewer.

Run: .venv-test/bin/python benchmarks/bench_viewers.py [--viewers 20] [--seconds 20] [--rate 400]
Target (issue 7): with 20 viewers, p99 of the latency under 20 ms and the server under 25 % of one core.
Both processes share this machine's cores, so client-side parsing is inside the measured latency
(it overestimates the server's part).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

STRIDE_PERIOD_S = 0.33


# ---------------------------------------------------------------------------- server (child)
async def serve(port: int, rate: int) -> None:
    import uvicorn

    from runform.live.core_factory import make_core
    from runform.live.demo import make_motion
    from runform.live.hub import Hub
    from runform.live.session import LiveSession
    from runform.live.virtual_sensors import make_virtual_sensors
    from runform.live.virtual_source import VirtualSource
    from runform.sim import LinkEffects
    from runform.server.app import create_app

    hub = Hub()
    session = LiveSession(hub, core_factory=make_core)
    firmwares = make_virtual_sensors(make_motion("neutral", 5), rate_hz=rate, seed=5)
    source = VirtualSource(session, firmwares, link=LinkEffects(jitter_ms=4.0), seed=5)
    source.connect_all()
    app = create_app(session)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    session.start(asyncio.get_running_loop())

    async def marked_strides() -> None:
        i = 0
        while True:
            await asyncio.sleep(STRIDE_PERIOD_S)
            hub.publish({"type": "stride", "leg": "left" if i % 2 else "right", "stride_index": i, "bench_sent_wall": time.time(),
                         "ic_time_s": session.now(), "peak_eversion_deg": 10.0, "contact_time_ms": 250.0, "valid": 1, "flags": ""})
            i += 1

    tasks = [asyncio.create_task(source.run()), asyncio.create_task(marked_strides())]
    try:
        await server.serve()
    finally:
        for t in tasks:
            t.cancel()
        session.stop()


# ---------------------------------------------------------------------------- viewers (parent)
async def viewer(port: int, stop_at: float, lat: list[float], counts: dict) -> None:
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/live", max_size=None) as ws:
        while time.time() < stop_at:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(0.01, stop_at - time.time()))
            except asyncio.TimeoutError:
                break
            now = time.time()
            counts["msgs"] += 1
            counts["bytes"] += len(raw)
            if '"bench_sent_wall"' in raw:
                m = json.loads(raw)
                if m.get("type") == "stride" and "bench_sent_wall" in m:  # not the copies inside "hello"
                    lat.append(now - m["bench_sent_wall"])


async def phase(port: int, n: int, seconds: float, proc) -> dict:
    lat: list[float] = []
    counts = {"msgs": 0, "bytes": 0}
    stop_at = time.time() + seconds
    c0 = proc.cpu_times()
    w0 = time.monotonic()
    if n:
        await asyncio.gather(*(viewer(port, stop_at, lat, counts) for _ in range(n)))
    else:
        await asyncio.sleep(seconds)
    c1 = proc.cpu_times()
    cpu = (c1.user + c1.system - c0.user - c0.system) / (time.monotonic() - w0)
    a = np.asarray(lat) * 1000.0
    return {"viewers": n, "cpu_pct_of_one_core": 100 * cpu, "strides_received": int(a.size),
            "p50_ms": float(np.percentile(a, 50)) if a.size else None, "p99_ms": float(np.percentile(a, 99)) if a.size else None,
            "max_ms": float(a.max()) if a.size else None, "msgs_per_s": counts["msgs"] / seconds, "kB_per_s": counts["bytes"] / seconds / 1000}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.rate))
        return 0
    import psutil

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--rate", str(args.rate)], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
        time.sleep(3.0)  # calibration and first strides
        proc = psutil.Process(child.pid)
        results = [asyncio.run(phase(port, n, args.seconds, proc)) for n in (0, 1, args.viewers)]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status") as r:
            st = json.load(r)
    finally:
        child.terminate()
        child.wait(10)
    print(f"4 sensors x {args.rate} Hz, real core; {args.seconds:.0f} s per phase; marked stride every {STRIDE_PERIOD_S} s")
    print(f"{'viewers':>7} {'server CPU %':>12} {'strides':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'msg/s':>7} {'kB/s':>7}")
    for r in results:
        f = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        print(f"{r['viewers']:>7} {r['cpu_pct_of_one_core']:>12.1f} {r['strides_received']:>8} {f(r['p50_ms']):>7} {f(r['p99_ms']):>7} {f(r['max_ms']):>7} {r['msgs_per_s']:>7.0f} {r['kB_per_s']:>7.0f}")
    base, many = results[1], results[2]
    if base["p99_ms"] and many["p99_ms"]:
        print(f"ratio p99 {args.viewers} viewers / 1 viewer: {many['p99_ms'] / base['p99_ms']:.2f}; "
              f"CPU added by {args.viewers} viewers over none: {many['cpu_pct_of_one_core'] - results[0]['cpu_pct_of_one_core']:.1f} % of one core")
    print(f"targets: p99 < 20 ms -> {'met' if many['p99_ms'] is not None and many['p99_ms'] < 20 else 'NOT met'}; "
          f"server CPU < 25 % -> {'met' if many['cpu_pct_of_one_core'] < 25 else 'NOT met'}")
    print(f"server: {st['core']['strides']} core strides, {st['viewers']} viewers at the end, frames lost "
          f"{sum(s['frames_lost'] for s in st['sensors'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
