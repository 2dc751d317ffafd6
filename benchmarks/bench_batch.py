"""Batch re-analysis benchmark: is re-analysis limited by the core or by CSV parsing?

Records ``--sessions`` virtual-runner sessions of ``--minutes`` each (four sensors, 400 Hz),
exports them (raw CSVs only), then runs :func:`runform.batch.run_batch` with 1 and ``--jobs``
processes. Prints the wall time and, summed over the workers, the time spent reading the CSV
files (runform.offline.raw.read_raw_csv) and in the gait core (runform.offline.analyze.run_core).
No pass/fail (issue 6: "re-analysis is limited by the core, not by CSV parsing").

    .venv-test/bin/python benchmarks/bench_batch.py [--sessions 4] [--minutes 5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    from runform.batch import run_batch
    from runform.store import Store
    from runform.store.sessiondir import export_session
    from runform.store.virtual import record_virtual_session

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data")
        dirs = []
        t = time.perf_counter()
        for i in range(args.sessions):
            sid = record_virtual_session(store, args.minutes * 60.0, seed=i, step_s=1.0, label=f"bench{i}")
            out = Path(tmp) / f"s{i}"
            export_session(store, sid, out, analysis="none")
            dirs.append(out)
        mb = sum(p.stat().st_size for d in dirs for p in d.glob("raw_*.csv")) / 1e6
        print(f"{args.sessions} sessions of {args.minutes:g} min (4 sensors, 400 Hz), {mb:.0f} MB of raw CSV; made in {time.perf_counter() - t:.1f} s")
        for jobs in sorted({1, args.jobs}):
            res = run_batch(dirs, Path(tmp) / f"out{jobs}", jobs=jobs, progress=False)
            ok = [r for r in res.results if not r.error]
            read = sum(r.read_s for r in ok)
            core = sum(r.core_s for r in ok)
            strides = sum(len(r.rows) for r in ok)
            print(f"jobs={jobs}: {res.wall_s:.1f} s wall, {strides} strides; workers: reading CSV {read:.1f} s "
                  f"({1e6 * read / sum(r.samples for r in ok):.2f} us/sample), core {core:.1f} s; "
                  f"reading / (reading + core) = {100 * read / (read + core):.0f} %")


if __name__ == "__main__":
    main()
