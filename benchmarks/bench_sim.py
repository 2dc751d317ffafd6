"""Benchmark of the virtual runner (not a test: prints measured figures and ratios).

    .venv-test/bin/python benchmarks/bench_sim.py            # 1 h offline, 60 s live
    .venv-test/bin/python benchmarks/bench_sim.py --minutes 10 --write

Measures, on one core (BLAS threads pinned to 1):
1. offline generation: ``--minutes`` of 4 sensors at 400 Hz through VirtualRunner.imu plus
   int16 quantisation, in 20 s chunks as ``runform simulate`` does (target: 1 h < 10 s);
2. the truth: per-stride metrics for that session;
3. CSV text of the raw samples: runform.sim.csvfast against numpy.savetxt on the same rows;
4. optionally (``--write``) the whole ``runform simulate`` session directory on disk;
5. live generation: 4 sensors at 400 Hz in 50 ms blocks (as the virtual firmware asks),
   CPU time per second of session, against the minimal SwingMotion source (target < 5 %).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import io  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from runform.placements import PLACEMENTS  # noqa: E402
from runform.sensors.motion import SwingMotion  # noqa: E402
from runform.sensors.quantize import acc_lsb_mps2, gyr_lsb_dps, quantize_imu  # noqa: E402
from runform.sim import VirtualRunner  # noqa: E402
from runform.sim import csvfast  # noqa: E402
from runform.sim.export import write_session  # noqa: E402


def cpu() -> float:
    return time.process_time()


def offline(minutes: float, rate: float = 400.0) -> tuple[float, float, int]:
    # as runform simulate does: one sensor after the other from t = 0, so no forgetting
    runner = VirtualRunner.from_profile("neutral", seed=1, bounded_memory=False)
    dur = minutes * 60.0
    c0, w0 = cpu(), time.perf_counter()
    n = 0
    for p in PLACEMENTS:
        info = runner.sensor_info(p)
        t0 = 0.0
        while t0 < dur:
            t1 = min(t0 + 20.0, dur)
            t = runner.sample_times(p, rate, t0, t1)
            acc, gyr = runner.imu(p, t)
            quantize_imu(acc, gyr, info.accel_range_g, info.gyro_range_dps)
            n += t.size
            t0 = t1
    gen_cpu, gen_wall = cpu() - c0, time.perf_counter() - w0
    c0 = cpu()
    rows = runner.truth_strides(dur)
    truth_cpu = cpu() - c0
    print(f"offline  {minutes:g} min x 4 sensors x {rate:g} Hz = {n:,} samples: generation + quantisation "
          f"{gen_cpu:.2f} s CPU ({gen_wall:.2f} s wall), {gen_cpu / n * 1e6:.2f} us/sample; "
          f"per hour {gen_cpu * 60 / minutes:.1f} s CPU (target < 10 s)")
    print(f"truth    {len(rows)} strides: {truth_cpu:.2f} s CPU ({truth_cpu / max(len(rows), 1) * 1e3:.2f} ms/stride)")
    return gen_cpu, truth_cpu, n


def csv_speed(n_rows: int = 200_000) -> None:
    runner = VirtualRunner.from_profile("neutral", seed=2)
    t = runner.sample_times("left_shank", 400.0, 10.0, 10.0 + n_rows / 400.0)
    acc, gyr = runner.imu("left_shank", t)
    ac, gc = quantize_imu(acc, gyr, 32, 2000)
    a_lsb, g_lsb = acc_lsb_mps2(32), gyr_lsb_dps(2000)
    c0 = cpu()
    for i in range(0, t.size, 8000):
        csvfast.imu_rows(t[i:i + 8000], ac[i:i + 8000], gc[i:i + 8000], a_lsb, g_lsb)
    fast = cpu() - c0
    table = np.column_stack([t, ac * a_lsb, gc * g_lsb])
    m = min(t.size, 50_000)
    c0 = cpu()
    np.savetxt(io.StringIO(), table[:m], fmt="%.6f", delimiter=",")
    slow = (cpu() - c0) * t.size / m
    print(f"csv      {t.size:,} rows x 7: csvfast {fast:.2f} s ({fast / t.size * 1e6:.2f} us/row), numpy.savetxt "
          f"{slow:.2f} s (extrapolated from {m:,} rows); savetxt/csvfast = {slow / fast:.1f}x; "
          f"per hour of 4 sensors: {fast / t.size * 4 * 3600 * 400:.1f} s")


def write_dir(minutes: float) -> None:
    runner = VirtualRunner.from_profile("neutral", seed=3)
    out = Path(tempfile.mkdtemp(prefix="bench_sim_"))
    try:
        c0, w0 = cpu(), time.perf_counter()
        write_session(runner, out / "s", minutes * 60.0)
        c, w = cpu() - c0, time.perf_counter() - w0
        size = sum(f.stat().st_size for f in (out / "s").iterdir())
        print(f"write    runform simulate --duration {minutes * 60:g}: {c:.2f} s CPU, {w:.2f} s wall, {size / 1e6:.0f} MB; "
              f"per hour {c * 60 / minutes:.1f} s CPU")
    finally:
        shutil.rmtree(out, ignore_errors=True)


def live(seconds: float = 60.0, rate: float = 400.0, block_s: float = 0.05) -> None:
    def run(source, label):
        nxt = {p: 0.0 for p in PLACEMENTS}
        c0 = cpu()
        t = block_s
        while t <= seconds + 1e-9:
            for p in PLACEMENTS:
                ts = np.arange(nxt[p], t, 1.0 / rate)
                if ts.size:
                    source.imu(p, ts)
                    nxt[p] = ts[-1] + 1.0 / rate
            t += block_s
        c = cpu() - c0
        print(f"live     {label}: 4 x {rate:g} Hz in {block_s * 1000:g} ms blocks: {c / seconds * 100:.2f} % of one core")
        return c

    vr = run(VirtualRunner.from_profile("neutral", seed=4), "VirtualRunner")
    sw = run(SwingMotion(), "SwingMotion  ")
    print(f"live     VirtualRunner / SwingMotion CPU = {vr / sw:.1f}x (target: VirtualRunner < 5 % of one core)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="offline session length (default 60)")
    ap.add_argument("--write", action="store_true", help="also write the session directory (to a temp dir)")
    ap.add_argument("--live-seconds", type=float, default=60.0)
    args = ap.parse_args()
    print(f"bench_sim: numpy {np.__version__}, {os.cpu_count()} CPUs visible, BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}")
    offline(args.minutes)
    csv_speed()
    if args.write:
        write_dir(args.minutes)
    live(args.live_seconds)


if __name__ == "__main__":
    main()
