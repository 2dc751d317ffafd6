"""Store benchmark: recording cost and export time of a long four-sensor session.

Targets (issue 6): export of a one-hour, four-sensor, 400 Hz session in under 15 s; recording
costs under 2 % of one core. Prints measured figures; no pass/fail.

    .venv-test/bin/python benchmarks/bench_store.py [--minutes 60] [--motion swing|runner]

The session is made by the virtual sensor firmware (runform.store.virtual) faster than real
time; recording cost = CPU time spent in FrameRecorder.write/flush (perf_counter inside the
recorder) divided by the recorded session time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--motion", choices=("swing", "runner"), default="swing")
    ap.add_argument("--analysis", choices=("none", "auto", "both"), default="both")
    args = ap.parse_args()

    from runform.sensors.motion import SwingMotion
    from runform.store import Store
    from runform.store import recorder as recmod
    from runform.store.sessiondir import export_session
    from runform.store.virtual import make_motion, record_virtual_session

    duration = args.minutes * 60.0
    motion = SwingMotion() if args.motion == "swing" else make_motion(seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data")
        captured = {}
        orig_close = recmod.FrameRecorder.close

        def close(self, end=None):
            orig_close(self, end)
            captured["rec"] = self

        recmod.FrameRecorder.close = close
        t = time.perf_counter()
        sid = record_virtual_session(store, duration, motion=motion, step_s=1.0, label="bench")
        gen_s = time.perf_counter() - t
        recmod.FrameRecorder.close = orig_close
        rec = captured["rec"]
        frames = sum(rec.frames_written.values())
        size = rec.path.stat().st_size
        print(f"session: {args.minutes:g} min, 4 sensors at 400 Hz ({args.motion} motion), {frames} frames, "
              f"{size / 1e6:.1f} MB frame log; made in {gen_s:.1f} s")
        print(f"recording: {rec.write_cpu_s:.3f} s CPU in write/flush for {duration:.0f} s of session "
              f"= {100 * rec.write_cpu_s / duration:.3f} % of one core ({1e6 * rec.write_cpu_s / frames:.1f} us per frame)")
        modes = ("none", "auto") if args.analysis == "both" else (args.analysis,)
        for mode in modes:
            out = Path(tmp) / f"export_{mode}"
            t = time.perf_counter()
            res = export_session(store, sid, out, analysis=mode)
            wall = time.perf_counter() - t
            mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in res.timings_s.items() if k != "total_s")
            print(f"export (analysis={mode}): {wall:.2f} s wall for {sum(res.samples.values())} samples, {mb:.0f} MB "
                  f"({parts}); {res.strides} strides; target 15 s -> ratio {wall / 15.0:.2f}")


if __name__ == "__main__":
    main()
