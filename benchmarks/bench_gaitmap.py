"""Peer benchmark: runform's offline pipeline against gaitmap's on the same data, in the same run.

    .venv-test/bin/python benchmarks/bench_gaitmap.py [--duration 300] [--repeats 3] [--cpu N]
                                                      [--session DIR] [--data ../shared/data]

Issue 4's goal: offline, the whole pipeline on four sensors >= 1,000,000 samples/s on one core
and >= 10x gaitmap's pipeline (MadgwickAHRS + RtsKalman per sensor, Rampp event detection per
foot). This prints both pipelines' samples/s and the ratio; see docs/benchmarks.md.

* gaitmap runs in its own virtual environment (``--venv``, default benchmarks/.venv-gaitmap,
  created on first use with ``python3 -m venv`` + ``pip install "gaitmap>=2.6,<3"
  "gaitmap_mad>=2.6,<3"``) as a separate program, benchmarks/gaitmap_peer.py, which reads the
  same raw CSV files and writes its timings and events as JSON. No gaitmap code is imported here.
* Data: a virtual-runner session of four sensors (``runform simulate --duration D --profile
  neutral --seed 1``, 400 Hz, random mounting), written once to benchmarks/out/ (or ``--session``).
* One core: both run with OMP/MKL/OPENBLAS/NUMBA threads = 1 and pinned to the same CPU
  (``--cpu``, default the last one this process may use). Reading CSV files is not timed.
* runform: :func:`runform.offline.analyze.run_core` (calibration, foot tracker, shank
  orientation, metrics of all four sensors), in this process: the first call, then
  ``--runform-repeats`` more (default 7); the median of those is "warm" (wall clock; their CPU
  time is printed beside it).
* gaitmap: ``--repeats`` fresh processes, each with an empty NUMBA_CACHE_DIR, each running its
  alignment + pipeline once "cold" (numba compiles on first use: JIT included) and once "warm"
  (JIT excluded). Medians over the processes.
* Peer accuracy (no timing): IC / toe-off of gaitmap's Rampp detector and of runform's foot
  tracker against (a) the virtual runner's exact events on the same session and (b) the mocap
  reference of gaitmap's own walking example (../shared/data/gaitmap_walking; runform's side
  from benchmarks/bench_events.py).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_events  # noqa: E402

from runform.offline.analyze import run_core  # noqa: E402
from runform.offline.raw import placement_from_name, read_raw_csv  # noqa: E402

VENV = ROOT / "benchmarks" / ".venv-gaitmap"
PEER = ROOT / "benchmarks" / "gaitmap_peer.py"
OUT = ROOT / "benchmarks" / "out"
GAITMAP_REQ = ("gaitmap>=2.6,<3", "gaitmap_mad>=2.6,<3")
#: an event matches the nearest reference event within this window (s): half a running stride
#: (same-foot strides ~0.73 s apart), so an early or late detection is measured, not dropped
RUN_MATCH_TOL_S = 0.35
#: as benchmarks/bench_events.py for the walking recording (strides ~1.1 s)
WALK_MATCH_TOL_S = 0.25
GOAL_SAMPLES_PER_S = 1_000_000
GOAL_RATIO = 10.0


# ---------------------------------------------------------------------------- set-up
def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path) -> Path:
    """gaitmap's own venv (created and filled on first use); returns its python."""
    py = venv_python(venv)
    if py.exists() and subprocess.run([str(py), "-c", "import gaitmap, gaitmap_mad"], capture_output=True).returncode == 0:
        return py
    print(f"creating gaitmap's venv at {venv} (pip install {' '.join(GAITMAP_REQ)})", flush=True)
    base = shutil.which("python3") or sys.executable
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *GAITMAP_REQ], check=True)
    return py


def ensure_session(duration_s: float, profile: str, seed: int) -> Path:
    """A virtual-runner session of four sensors in benchmarks/out/ (written once)."""
    d = OUT / f"gaitmap_sim_{profile}_{duration_s:g}s_seed{seed}"
    if not (d / "session.json").exists():
        subprocess.run([sys.executable, "-m", "runform", "simulate", "--duration", f"{duration_s:g}", "--out", str(d),
                        "--profile", profile, "--seed", str(seed)], check=True)
    return d


def machine() -> str:
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}"


# ---------------------------------------------------------------------------- runform
def run_ours(session: Path, repeats: int) -> dict:
    """run_core on every raw CSV of the session: first call and ``repeats`` more (s)."""
    recs = [read_raw_csv(f) for f in sorted(session.glob("raw_*.csv")) if placement_from_name(f)]
    n = sum(r.time_s.size for r in recs)
    times, cpus, rows = [], [], []
    for _ in range(1 + repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        rows, _summary = run_core(recs)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return {"samples_total": n, "first_s": times[0], "warm_s": times[1:], "warm_cpu_s": cpus[1:], "rows": rows,
            "sensors": [r.placement for r in recs], "rate_hz": recs[0].rate_hz}


# ---------------------------------------------------------------------------- gaitmap
def run_peer(py: Path, args: list[str], numba_cache: Path | None = None) -> dict:
    env = dict(os.environ)
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    with tempfile.TemporaryDirectory(prefix="gaitmap-peer-") as tmp:
        out = Path(tmp) / "result.json"
        subprocess.run([str(py), str(PEER), *args, "--out", str(out)], check=True, env=env)
        return json.loads(out.read_text())


def run_gaitmap(py: Path, session: Path, repeats: int, cpu: int) -> list[dict]:
    """``repeats`` fresh peer processes, each with an empty numba cache (cold run + 1 warm)."""
    res = []
    for k in range(repeats):
        print(f"  gaitmap process {k + 1}/{repeats} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="gaitmap-numba-") as cache:
            res.append(run_peer(py, ["bench", "--session", str(session), "--warm", "1", "--cpu", str(cpu)], Path(cache)))
    return res


# ---------------------------------------------------------------------------- accuracy
def event_errors_ms(ref_s: np.ndarray, det_s: np.ndarray, tol_s: float) -> dict:
    """Signed errors det - ref (ms) of the nearest detection within ``tol_s`` of each reference."""
    e = bench_events.match(np.asarray(ref_s, float), np.asarray(det_s, float), tol_s) * 1000.0
    ok = e[np.isfinite(e)]
    return {"n_ref": int(e.size), "n_det": int(np.size(det_s)), "matched": int(ok.size),
            "bias_ms": float(np.median(ok)) if ok.size else float("nan"),
            "med_abs_ms": float(np.median(np.abs(ok))) if ok.size else float("nan"),
            "mean_abs_ms": float(np.mean(np.abs(ok))) if ok.size else float("nan")}


def sim_accuracy(session: Path, ours_rows: list[dict], peer: dict) -> dict:
    """IC / TO errors of both against the virtual runner's truth on the same session."""
    with open(session / "truth_strides.csv") as f:
        truth = list(csv.DictReader(f))
    out = {}
    for leg in ("left", "right"):
        ref_ic = np.array([float(r["ic_time_s"]) for r in truth if r["leg"] == leg])
        ref_to = np.array([float(r["to_time_s"]) for r in truth if r["leg"] == leg and r["to_time_s"] != ""])
        mine = [r for r in ours_rows if r["leg"] == leg]
        ev = peer["events"].get(f"{leg}_foot", {"ic_time_s": [], "tc_time_s": []})
        out[leg] = {
            "runform": {"ic": event_errors_ms(ref_ic, np.array([r["ic_time_s"] for r in mine], float), RUN_MATCH_TOL_S),
                        "to": event_errors_ms(ref_to, np.array([r["to_time_s"] for r in mine], float), RUN_MATCH_TOL_S)},
            "gaitmap": {"ic": event_errors_ms(ref_ic, np.array(ev["ic_time_s"]), RUN_MATCH_TOL_S),
                        "to": event_errors_ms(ref_to, np.array(ev["tc_time_s"]), RUN_MATCH_TOL_S)},
        }
    return out


def walking_accuracy(py: Path, data: Path) -> dict:
    """IC / TO errors on gaitmap's walking example vs mocap: gaitmap (BarthDtw + Rampp, its
    defaults) and runform (benchmarks/bench_events.py)."""
    g = bench_events.load_gaitmap(data)
    fs = bench_events.GAITMAP_FS
    peer = run_peer(py, ["walking", "--data", str(data / "gaitmap_walking")])
    ours = bench_events.bench_gaitmap(data)
    out = {}
    for foot, d in g.items():
        ev = peer["events"][f"{foot}_foot"]
        out[foot] = {
            "gaitmap": {"ic": event_errors_ms(d["ic"] / fs, np.array(ev["ic_sample"]) / fs, WALK_MATCH_TOL_S),
                        "to": event_errors_ms(d["tc"] / fs, np.array(ev["tc_sample"]) / fs, WALK_MATCH_TOL_S)},
            "runform": ours[foot],
        }
    return out


# ---------------------------------------------------------------------------- report
def med(x) -> float:
    return float(np.median(np.asarray(x, float)))


def span(x) -> str:
    x = np.asarray(x, float)
    return f"{np.median(x):8.2f} [{x.min():.2f}..{x.max():.2f}]"


def fmt_err(e: dict) -> str:
    return (f"{e['matched']:3d}/{e['n_ref']:<3d} det {e['n_det']:3d}  bias {e['bias_ms']:+7.1f}  "
            f"med|e| {e['med_abs_ms']:6.1f}  mean|e| {e['mean_abs_ms']:6.1f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=300.0, help="simulated session length (s)")
    ap.add_argument("--profile", default="neutral")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--session", type=Path, help="use this session directory (raw_<placement>.csv) instead")
    ap.add_argument("--repeats", type=int, default=3, help="gaitmap processes")
    ap.add_argument("--runform-repeats", type=int, default=7,
                    help="warm run_core calls after the first (one is ~0.4 s; the VM's speed moves between them)")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)), help="CPU both pipelines are pinned to")
    ap.add_argument("--venv", type=Path, default=VENV, help="gaitmap's own virtual environment")
    ap.add_argument("--data", type=Path, default=bench_events.DATA, help="../shared/data (for the walking accuracy)")
    ap.add_argument("--json", type=Path, help="also write every measured number here")
    args = ap.parse_args(argv)

    py = ensure_venv(args.venv)
    session = args.session or ensure_session(args.duration, args.profile, args.seed)
    print(f"# bench_gaitmap {datetime.date.today().isoformat()} on {machine()}")
    print(f"# session {session}; both pinned to CPU {args.cpu}; threads = 1; {args.repeats} gaitmap processes, "
          f"{args.runform_repeats} warm runform runs; medians")

    os.sched_setaffinity(0, {args.cpu})
    ours = run_ours(session, args.runform_repeats)
    peers = run_gaitmap(py, session, args.repeats, args.cpu)
    p0 = peers[-1]
    if p0["samples_total"] != ours["samples_total"]:
        print(f"warning: sample counts differ: runform {ours['samples_total']}, gaitmap {p0['samples_total']}")
    n = ours["samples_total"]

    cold = [p["runs"][0] for p in peers]
    warm = [p["runs"][1] for p in peers]
    g_pipe = [r["pipeline_s"] for r in warm]
    g_full = [r["pipeline_s"] + r["alignment_s"] for r in warm]
    g_cold = [r["pipeline_s"] + r["alignment_s"] for r in cold]
    o_warm, o_first = ours["warm_s"], [ours["first_s"]]

    print(f"\n## speed: {len(ours['sensors'])} sensors ({', '.join(ours['sensors'])}), {n:,} samples, "
          f"{ours['rate_hz']:.0f} Hz, {n / len(ours['sensors']) / ours['rate_hz']:.0f} s")
    print(f"gaitmap {p0['gaitmap_version']} (numba {p0['numba_version']}, numpy {p0['numpy_version']}); "
          f"BarthDtw max_cost={p0['max_cost']}; pipeline input frame: {p0['frame']}")
    print(f"{'what':62s} {'time s: median [min..max]':>28s} {'samples/s':>12s}")
    table = [
        ("runform run_core, warm (median of repeats)", o_warm),
        ("runform run_core, first call in the process", o_first),
        ("gaitmap pipeline, warm (JIT excluded)", g_pipe),
        ("gaitmap alignment + pipeline, warm (JIT excluded)", g_full),
        ("gaitmap alignment + pipeline, cold (fresh process, JIT incl.)", g_cold),
    ]
    for name, ts in table:
        print(f"{name:62s} {span(ts):>28s} {n / med(ts):12,.0f}")
    print(f"{'  runform run_core, warm, CPU time (process_time)':62s} {span(ours['warm_cpu_s']):>28s} {n / med(ours['warm_cpu_s']):12,.0f}")
    print(f"{'  gaitmap import (in no figure above)':62s} {span([p['import_s'] for p in peers]):>28s}")
    stages = ("madgwick_s", "rts_kalman_s", "dtw_rampp_s", "alignment_s")
    print("  gaitmap warm stages (median s): " + ", ".join(f"{s[:-2]} {med([r[s] for r in warm]):.2f}" for s in stages))
    print("  gaitmap cold stages (median s): " + ", ".join(f"{s[:-2]} {med([r[s] for r in cold]):.2f}" for s in stages))
    r_pipe = med(g_pipe) / med(o_warm)
    r_full = med(g_full) / med(o_warm)
    r_cold = med(g_cold) / med(o_first)
    print(f"\nratio runform/gaitmap (samples/s): vs gaitmap pipeline warm {r_pipe:.2f}x, "
          f"vs alignment+pipeline warm {r_full:.2f}x, first call vs cold {r_cold:.2f}x")
    rate = n / med(o_warm)
    share = med(ours["warm_cpu_s"]) / med(o_warm)
    if share < 0.9:  # runform's runs got only this share of the CPU: another job ran on it too
        print(f"note: runform's wall clock at {share:.2f} of its CPU time: the CPU was shared during its runs "
              f"(CPU time: {n / med(ours['warm_cpu_s']):,.0f} samples/s, {med(g_pipe) / med(ours['warm_cpu_s']):.2f}x gaitmap's pipeline "
              f"wall clock); rerun on a CPU nobody else uses (--cpu)")
    print(f"goal: >= {GOAL_SAMPLES_PER_S:,} samples/s: {'met' if rate >= GOAL_SAMPLES_PER_S else 'NOT met'} ({rate:,.0f}); "
          f">= {GOAL_RATIO:g}x gaitmap's pipeline: {'met' if r_pipe >= GOAL_RATIO else 'NOT met'} ({r_pipe:.2f}x)")

    print("\n## gaitmap's own alignment on this session (error vs the simulator's true mounting, deg)")
    print("  " + ", ".join(f"{p} {e:.1f}" for p, e in (p0["alignment_error_deg"] or {}).items()))
    print(f"  strides BarthDtw finds with gaitmap's default max_cost=4: {p0['strides_default_max_cost']}")

    acc_sim = sim_accuracy(session, ours["rows"], p0)
    print(f"\n## events vs the virtual runner's truth, same session (running); nearest within {RUN_MATCH_TOL_S * 1000:.0f} ms")
    print("  matched/reference, detections, errors det - ref in ms")
    for leg, r in acc_sim.items():
        for who in ("runform", "gaitmap"):
            for ev in ("ic", "to"):
                print(f"  {leg:5s} {who:7s} {ev.upper():2s} {fmt_err(r[who][ev])}")

    acc_walk = None
    if (args.data / "gaitmap_walking").is_dir():
        acc_walk = walking_accuracy(py, args.data)
        print(f"\n## events vs mocap, gaitmap's walking example (204.8 Hz); nearest within {WALK_MATCH_TOL_S * 1000:.0f} ms")
        for foot, r in acc_walk.items():
            for ev in ("ic", "to"):
                print(f"  {foot:5s} gaitmap {ev.upper():2s} {fmt_err(r['gaitmap'][ev])}")
            o = r["runform"]
            print(f"  {foot:5s} runform IC {o['n_ref'] - o['ic_missed']:3d}/{o['n_ref']:<3d} det {o['n_ic']:3d}  "
                  f"bias {o['ic_bias_ms']:+7.1f}  med|e| {o['ic_med_abs_ms']:6.1f}")
            print(f"  {foot:5s} runform TO {o['n_ref'] - o['to_missed']:3d}/{o['n_ref']:<3d} det {o['n_to']:3d}  "
                  f"bias {o['to_bias_ms']:+7.1f}  med|e| {o['to_med_abs_ms']:6.1f}")
    else:
        print(f"\n(no {args.data / 'gaitmap_walking'}: walking accuracy skipped)")

    if args.json:
        ours.pop("rows")
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine(), "session": str(session), "runform": ours,
                                         "gaitmap": [{k: v for k, v in p.items() if k != "events"} for p in peers],
                                         "accuracy_sim": acc_sim, "accuracy_walking": acc_walk}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
