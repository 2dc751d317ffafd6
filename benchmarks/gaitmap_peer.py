"""gaitmap's pipeline as a peer, run INSIDE gaitmap's own virtual environment.

Started by benchmarks/bench_gaitmap.py as a separate program (never imported by runform):

    benchmarks/.venv-gaitmap/bin/python benchmarks/gaitmap_peer.py bench --session DIR --warm 1 --out result.json
    benchmarks/.venv-gaitmap/bin/python benchmarks/gaitmap_peer.py walking --data ../shared/data/gaitmap_walking --out r.json

It only calls gaitmap's public API (gaitmap and gaitmap_mad 2.x, Küderle et al. 2024, JOSS
9(99):6259); no gaitmap code is copied here. Results go to ``--out`` as JSON (stdout is left
to gaitmap's own messages).

``bench``: reads the ``raw_<placement>.csv`` files of a runform session (sensor frame, acc m/s^2,
gyr deg/s, any mounting) and runs, once "cold" (first call in this process: numba compiles
gaitmap's kernels; the driver gives each process an empty NUMBA_CACHE_DIR so nothing is
reused from disk) and then ``--warm`` more times:

* alignment (gaitmap's own automatic sensor-to-foot alignment, its example
  ``automatic_sensor_alignment_compact``): ``align_dataset_to_gravity`` (z up),
  ``PcaAlignment`` (y = main rotation axis), ``ForwardDirectionSignAlignment`` (x forward), on
  every sensor; timed separately from the pipeline;
* pipeline, per sensor: ``MadgwickAHRS().estimate`` and ``RtsKalman().estimate`` over the whole
  recording (default parameters); per foot: ``convert_to_fbf`` then ``BarthDtw().segment``
  (Barth et al. 2015) and ``RamppEventDetection().detect`` (Rampp et al. 2015), as in gaitmap's
  example ``full_pipelines/mad_gait_pipeline.py``, except that Rampp's ``enforce_consistency``
  is off: in running its mid-stance (``min_vel``) falls before the IC, so the default order
  check drops every stride; each event is then kept where it was found. BarthDtw runs with ``max_cost`` from
  ``--max-cost`` (default: none, i.e. every cost minimum of plausible length is a stride):
  with gaitmap's default of 4.0 its walking template matches no stride of the virtual runner
  (counted and reported as ``strides_default_max_cost``).

The pipeline's input frame (``--frame``): ``known`` (default when the session's session.json
has the simulator's ``mounting_quat_wxyz``): the raw samples rotated by the true mounting into
the segment frame (x anterior, y left, z up = gaitmap's sensor frame), so gaitmap's detectors
see perfectly aligned data; ``gaitmap``: the output of gaitmap's own alignment. Either way the
alignment is timed, and its error against the true mounting is reported
(``alignment_error_deg``: angle of the rotation between gaitmap's aligned frame and the true
segment frame, both fitted from the gyroscope samples).

CSV reading is not timed (neither is runform's in the driver). Times are wall clock
(time.perf_counter) in s.

``walking``: gaitmap's own example recording (already in gaitmap's sensor frame), BarthDtw +
Rampp per foot; returns the detected IC / TC (toe-off) sample indices per foot, which the
driver compares with the mocap reference.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PLACEMENTS = ("left_foot", "right_foot", "left_shank", "right_shank")
FEET = ("left_foot", "right_foot")
GAITMAP_COLUMNS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
RUNFORM_COLUMNS = ["acc_x_mps2", "acc_y_mps2", "acc_z_mps2", "gyr_x_dps", "gyr_y_dps", "gyr_z_dps"]


def load_session(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray], float]:
    """gaitmap sensor data {placement: DataFrame acc_x..gyr_z (m/s^2, deg/s)}, the sample times
    (s) per placement, and the common sampling rate (Hz) estimated from the time stamps."""
    data, times, rates = {}, {}, []
    for p in PLACEMENTS:
        f = folder / f"raw_{p}.csv"
        if not f.exists():
            continue
        df = pd.read_csv(f)
        t = df["time_s"].to_numpy(float)
        times[p] = t
        rates.append((t.size - 1) / (t[-1] - t[0]))
        data[p] = pd.DataFrame(df[RUNFORM_COLUMNS].to_numpy(float), columns=GAITMAP_COLUMNS)
    if not data:
        raise SystemExit(f"{folder}: no raw_<placement>.csv files")
    return data, times, float(np.median(rates))


def align(data: dict[str, pd.DataFrame], fs: float) -> dict[str, pd.DataFrame]:
    """gaitmap's automatic sensor alignment (gravity, PCA, forward sign) of every sensor."""
    from gaitmap.preprocessing.sensor_alignment import (
        ForwardDirectionSignAlignment,
        PcaAlignment,
        align_dataset_to_gravity,
    )

    d = align_dataset_to_gravity(data, sampling_rate_hz=fs)
    d = PcaAlignment().align(d).aligned_data_
    return ForwardDirectionSignAlignment().align(d, sampling_rate_hz=fs).aligned_data_


def known_frame(data: dict[str, pd.DataFrame], folder: Path) -> dict[str, pd.DataFrame] | None:
    """The samples rotated into the true segment frame (v_segment = R(q) v_sensor) with the
    simulator's mounting quaternions (w, x, y, z) from session.json; None without them."""
    from scipy.spatial.transform import Rotation

    f = folder / "session.json"
    if not f.exists():
        return None
    q = {s.get("placement"): s.get("mounting_quat_wxyz") for s in json.loads(f.read_text()).get("sensors", [])}
    if any(q.get(p) is None for p in data):
        return None
    out = {}
    for p, d in data.items():
        w, x, y, z = q[p]
        m = Rotation.from_quat([x, y, z, w]).as_matrix()
        v = d.to_numpy()
        out[p] = pd.DataFrame(np.hstack([v[:, :3] @ m.T, v[:, 3:] @ m.T]), columns=GAITMAP_COLUMNS)
    return out


def frame_error_deg(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Angle (deg) of the rotation between the frames of two copies of one sensor's samples,
    fitted (least squares, then the nearest rotation) to their gyroscope columns."""
    ga, gb = a[GAITMAP_COLUMNS[3:]].to_numpy(), b[GAITMAP_COLUMNS[3:]].to_numpy()
    m, *_ = np.linalg.lstsq(ga, gb, rcond=None)
    u, _, vt = np.linalg.svd(m)
    r = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1.0, 1.0))))


def segment_and_detect(feet: dict[str, pd.DataFrame], fs: float, max_cost: float | None = 4.0,
                       enforce_consistency: bool = True):
    """BarthDtw + RamppEventDetection on foot data in gaitmap's sensor frame; returns the
    Rampp result (``annotated_original_event_list_``: start, end, ic, tc, min_vel in samples;
    NaN where an event was not found when ``enforce_consistency`` is off)."""
    from gaitmap.event_detection import RamppEventDetection
    from gaitmap.stride_segmentation import BarthDtw
    from gaitmap.utils.coordinate_conversion import convert_to_fbf

    bf = convert_to_fbf(feet, left_like="left_", right_like="right_")
    dtw = BarthDtw(max_cost=max_cost).segment(data=bf, sampling_rate_hz=fs)
    ed = RamppEventDetection(enforce_consistency=enforce_consistency)
    return ed.detect(data=bf, stride_list=dtw.stride_list_, sampling_rate_hz=fs)


def pipeline(data: dict[str, pd.DataFrame], fs: float, max_cost: float | None) -> tuple[dict[str, float], object]:
    """The timed pipeline; returns stage times (s) and the Rampp result."""
    from gaitmap.trajectory_reconstruction import MadgwickAHRS, RtsKalman

    st = {"madgwick_s": 0.0, "rts_kalman_s": 0.0}
    for p, d in data.items():
        t0 = time.perf_counter()
        MadgwickAHRS().estimate(d, sampling_rate_hz=fs)
        t1 = time.perf_counter()
        RtsKalman().estimate(d, sampling_rate_hz=fs)
        t2 = time.perf_counter()
        st["madgwick_s"] += t1 - t0
        st["rts_kalman_s"] += t2 - t1
    t0 = time.perf_counter()
    ed = segment_and_detect({p: data[p] for p in FEET if p in data}, fs, max_cost, enforce_consistency=False)
    st["dtw_rampp_s"] = time.perf_counter() - t0
    st["pipeline_s"] = st["madgwick_s"] + st["rts_kalman_s"] + st["dtw_rampp_s"]
    return st, ed


def events_out(ed, times: dict[str, np.ndarray] | None, fs: float) -> dict:
    """Per foot: IC / TC as sample indices and (when ``times`` is given) as session times (s)."""
    out = {}
    for p, ev in ed.annotated_original_event_list_.items():
        ic = ev["ic"].dropna().to_numpy(float)
        tc = ev["tc"].dropna().to_numpy(float)
        r = {"n_strides": int(len(ev)), "ic_sample": ic.tolist(), "tc_sample": tc.tolist()}
        if times is not None:
            t = times[p]
            idx = np.arange(t.size)
            r["ic_time_s"] = np.interp(ic, idx, t).tolist()
            r["tc_time_s"] = np.interp(tc, idx, t).tolist()
        out[p] = r
    return out


def cmd_bench(args) -> dict:
    import gaitmap

    t_imp = time.perf_counter()
    import gaitmap_mad  # noqa: F401
    from gaitmap.preprocessing import sensor_alignment  # noqa: F401
    from gaitmap.trajectory_reconstruction import MadgwickAHRS, RtsKalman  # noqa: F401

    import_s = time.perf_counter() - t_imp
    folder = Path(args.session)
    data, times, fs = load_session(folder)
    known = known_frame(data, folder)
    frame = args.frame or ("known" if known is not None else "gaitmap")
    if frame == "known" and known is None:
        raise SystemExit(f"{folder}: --frame known needs session.json with mounting_quat_wxyz for every sensor")
    max_cost = None if args.max_cost.lower() == "none" else float(args.max_cost)
    n = sum(len(d) for d in data.values())
    runs = []
    ed = aligned = None
    for k in range(1 + args.warm):
        t0 = time.perf_counter()
        aligned = align(data, fs)
        t_align = time.perf_counter() - t0
        st, ed = pipeline(known if frame == "known" else aligned, fs, max_cost)
        st["alignment_s"] = t_align
        st["cold"] = k == 0
        runs.append(st)
    feet = {p: (known if frame == "known" else aligned)[p] for p in FEET if p in data}
    ed_default = segment_and_detect(feet, fs, 4.0, enforce_consistency=False)
    return {
        "frame": frame,
        "max_cost": max_cost,
        "alignment_error_deg": None if known is None else {p: frame_error_deg(aligned[p], known[p]) for p in data},
        "strides_default_max_cost": {p: int(len(v)) for p, v in ed_default.annotated_original_event_list_.items()},
        "gaitmap_version": gaitmap.__version__,
        "numba_version": __import__("numba").__version__,
        "numpy_version": np.__version__,
        "python": sys.version.split()[0],
        "sampling_rate_hz": fs,
        "samples_total": n,
        "sensors": list(data),
        "import_s": import_s,
        "runs": runs,
        "events": events_out(ed, times, fs),
    }


def cmd_walking(args) -> dict:
    """gaitmap's example walking recording, same frame and units as gaitmap expects."""
    folder = Path(args.data)
    raw = pd.read_csv(folder / "imu_sample.csv", header=[0, 1], index_col=0)
    fs = 204.8
    feet = {f"{side}_foot": raw[f"{side}_sensor"][GAITMAP_COLUMNS].astype(float).reset_index(drop=True)
            for side in ("left", "right")}
    ed = segment_and_detect(feet, fs)
    return {"sampling_rate_hz": fs, "events": events_out(ed, None, fs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--session", required=True)
    b.add_argument("--warm", type=int, default=1, help="warm runs after the cold one")
    b.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    b.add_argument("--frame", choices=("known", "gaitmap"), default=None,
                   help="pipeline input: true mounting (default when known) or gaitmap's own alignment")
    b.add_argument("--max-cost", default="none", help="BarthDtw max_cost (a number, or none; gaitmap's default is 4)")
    b.add_argument("--out", required=True)
    w = sub.add_parser("walking")
    w.add_argument("--data", required=True)
    w.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if getattr(args, "cpu", None) is not None:
        os.sched_setaffinity(0, {args.cpu})
    warnings.simplefilter("ignore")
    res = cmd_bench(args) if args.cmd == "bench" else cmd_walking(args)
    Path(args.out).write_text(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
