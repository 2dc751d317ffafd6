"""Same strides offline and live: run the gait core over each session twice -- the offline path
of ``runform analyze`` (runform.offline.analyze.run_core, its long blocks and batched stride
work) and the live path (every sensor in 7-sample frames, interleaved in time as the BLE host
pushes them) -- and compare every cell of strides.csv as written (6 decimals).

    .venv-test/bin/python benchmarks/check_partition.py [--frame 7] [--work DIR] [SESSION_DIR ...]

Without session directories it builds the standard set in ``--work`` (default
/tmp/runform_check_partition): ``runform simulate --profile neutral|walker|forefoot --duration
120 --seed 1`` and every public recording of ../shared/data converted as in
tests/test_core_public_data.py. Exit status 1 on any difference. A simulated session is
rebuilt when the hash of runform/sim/*.py differs from the one it was written with
(``sim_source.sha256`` in its directory).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import runform.sim
from runform.core.processor import SessionProcessor
from runform.core.schema import STRIDE_COLUMNS
from runform.offline.analyze import GAP_FACTOR, _cell, run_core, sensor_spec, sessions_from_inputs
from runform.offline.raw import placement_from_name, read_raw_csv

ROOT = Path(__file__).resolve().parents[1]


def run_live(recs, frame: int = 7) -> list[dict]:
    """The live path: each sensor in ``frame``-sample pushes, in time order of the frames' last
    samples across sensors (gaps split a frame and are announced, as in run_core)."""
    proc = SessionProcessor({r.placement: sensor_spec(r) for r in recs})
    pieces = []
    for r in recs:
        n = r.time_s.size
        big = set((np.flatnonzero(np.diff(r.time_s) > GAP_FACTOR / r.rate_hz) + 1).tolist())
        cuts = sorted(set(range(0, n, frame)) | big | {n})
        for s0, s1 in zip(cuts[:-1], cuts[1:]):
            pieces.append((float(r.time_s[s1 - 1]), r.placement, s0, s1, s0 in big, r))
    pieces.sort(key=lambda x: (x[0], x[1]))
    rows = []
    for _, p, s0, s1, gap, r in pieces:
        rows += [o.row for o in proc.push(p, r.time_s[s0:s1], r.acc_mps2[s0:s1], r.gyr_rps[s0:s1], gap_before=gap) if hasattr(o, "row")]
    rows += [o.row for o in proc.finish() if hasattr(o, "row")]
    rows.sort(key=lambda row: (row["ic_time_s"], row["leg"]))
    return rows


def cells(rows: list[dict]) -> list[list[str]]:
    return [[_cell(row.get(c)) for c in STRIDE_COLUMNS] for row in rows]


def build_sessions(work: Path) -> list[Path]:
    work.mkdir(parents=True, exist_ok=True)
    out = []
    # a simulated session is rebuilt when the simulator's code changed since it was written: the
    # cached forefoot session of 1fdb29a (before every landing had its impact, f2d9c29, and the
    # toe roll, 4465b6c) outlived them and showed 14 forefoot ICs 71-96 ms late that the current
    # simulator does not make
    sim_src = Path(runform.sim.__file__).parent
    stamp = hashlib.sha256(b"".join(f.read_bytes() for f in sorted(sim_src.glob("*.py")))).hexdigest()
    for prof in ("neutral", "walker", "forefoot"):
        d = work / f"sim_{prof}"
        mark = d / "sim_source.sha256"
        if not (d / "raw_left_foot.csv").exists() or not mark.exists() or mark.read_text().strip() != stamp:
            if (d / "raw_left_foot.csv").exists():
                print(f"{d}: written by another simulator, rebuilt", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "runform.cli", "simulate", "--profile", prof, "--duration", "120",
                            "--seed", "1", "--out", str(d)], check=True, stdout=subprocess.DEVNULL)
            mark.write_text(stamp + "\n")
        out.append(d)
    from runform.offline.public import public_recordings, write_session

    data = ROOT.parent / "shared" / "data"
    for name, session in public_recordings(data):
        d = work / f"pub_{name}"
        if not d.exists():
            write_session(d, session)
        out.append(d)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sessions", nargs="*")
    ap.add_argument("--frame", type=int, default=7)
    ap.add_argument("--work", default="/tmp/runform_check_partition")
    args = ap.parse_args()
    dirs = [Path(s) for s in args.sessions] or build_sessions(Path(args.work))
    total_rows = total_diff = 0
    for d in dirs:
        (_, files), = sessions_from_inputs([d])
        recs = [read_raw_csv(f, placement_from_name(f), None) for f in files]
        t0 = time.perf_counter()
        off = cells(run_core(recs)[0])
        t1 = time.perf_counter()
        live = cells(run_live(recs, args.frame))
        t2 = time.perf_counter()
        diff = []
        if len(off) != len(live):
            diff.append(f"row count {len(off)} offline vs {len(live)} live")
        for i, (a, b) in enumerate(zip(off, live)):
            for c, x, y in zip(STRIDE_COLUMNS, a, b):
                if x != y:
                    diff.append(f"row {i} {c}: offline {x!r} live {y!r}")
        total_rows += len(off)
        total_diff += len(diff)
        print(f"{d.name}: {len(off)} rows, {len(diff)} differing cells (offline {t1 - t0:.2f} s, live {t2 - t1:.2f} s)")
        for line in diff[:10]:
            print("   ", line)
    print(f"TOTAL: {len(dirs)} sessions, {total_rows} rows, {total_diff} differing cells")
    return 1 if total_diff else 0


if __name__ == "__main__":
    sys.exit(main())
