"""The product's calibration (runform.core.calibration) against independent references on the
real recordings of ../shared/data:

    .venv-test/bin/python benchmarks/bench_calibration.py [--data ../shared/data]

* gaitmap_walking: the calibrated foot's mediolateral axis against the motion-capture marker
  frame (x from the heel marker FCC to the TOE marker, the foot's anatomical long axis), as the
  signed angle about the calibrated vertical (+ = the calibrated y turned counter-clockwise
  seen from above), for the product's settings and for other swing windows of the axis
  (``CalibrationParams.swing_axis_from``; ``all motion`` = ``swing_axis=False``); also the
  direction of travel in the calibrated frame (median over straight strides) and the angle
  between the calibrated and the marker verticals. The marker-to-IMU rotation is the bench's
  fit (benchmarks/bench_events.py ``imu_to_marker_rotation``: mocap angular velocity vs raw gyro
  plus the up direction at mid-stance; it never uses our estimate).
* hugadb_running (no reference): every foot's calibration state, sign rule and margin, and
  its y axis against the direction that the same foot's y has in most files (the sensors were
  mounted the same way for every file: a foot far from it, or opposite, is suspect).

Nothing is asserted; tests/test_core_calibration.py checks the hugadb consistency.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_events as BE  # noqa: E402  (the foot engineer's loaders and marker-frame fixes)

from runform.core.calibration import calibrate  # noqa: E402
from runform.core.foot import FootStride, FootTracker  # noqa: E402
from runform.core.params import CalibrationParams  # noqa: E402
from runform.offline.public import load_hugadb  # noqa: E402
from runform.rotations import quat_to_matrix  # noqa: E402


def angle_about(z: np.ndarray, v_est: np.ndarray, v_ref: np.ndarray) -> float:
    """Signed angle (deg) from ``v_ref`` to ``v_est`` about ``z``, both projected on the plane
    normal to ``z``."""
    a = v_ref - np.dot(v_ref, z) * z
    b = v_est - np.dot(v_est, z) * z
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    return float(np.degrees(np.arctan2(np.dot(np.cross(a, b), z), np.dot(a, b))))


def gaitmap(data: Path) -> None:
    g = BE.load_gaitmap(data)
    ori = BE.load_gaitmap_orientation(data)
    mk = BE.load_gaitmap_markers(data)
    with open(data / "gaitmap_walking" / "stride_events_sample.csv") as f:
        ev_rows = list(csv.DictReader(f))
    variants = [("product (swing_axis_from 0.25)", CalibrationParams()),
                ("whole swing (from 0)", CalibrationParams(swing_axis_from=0.0)),
                ("late swing (from 0.5)", CalibrationParams(swing_axis_from=0.5)),
                ("all motion (swing_axis off)", CalibrationParams(swing_axis=False))]
    print("== gaitmap_walking: calibrated foot y vs the mocap marker frame (about the calibrated vertical)")
    for foot, d in g.items():
        refs = []
        for r in ev_rows:
            q_ref = ori[foot].get(int(r["s_id"])) if r["foot"] == foot else None
            if q_ref is None:
                continue
            k0 = int(round(float(r["start"]) / BE.GAITMAP_FS * 100.0))
            q_ref, _, _ = BE.reference_frame_fix(q_ref, mk[foot]["TOE"][k0], mk[foot]["FCC"][k0])
            refs.append((float(r["start"]) / BE.GAITMAP_FS + np.arange(len(q_ref)) / 100.0, q_ref))
        c = quat_to_matrix(BE.imu_to_marker_rotation(refs, d["t"], d["gyr"], d["acc"]))  # v_marker = c v_imu
        for name, p in variants:
            cal = calibrate(f"{foot}_foot", d["t"], d["acc"], d["gyr"], BE.GAITMAP_FS, p)
            m = cal.matrix
            line = (f"  {foot:5s} {name:32s} y vs marker y {angle_about(m[2], m[1], c[1]):+6.1f} deg,"
                    f" verticals {np.degrees(np.arccos(np.clip(np.dot(m[2], c[2]), -1, 1))):4.1f} deg apart")
            if p == variants[0][1]:
                a, w = cal.apply(d["acc"], d["gyr"])
                st = [o for o in FootTracker(BE.GAITMAP_FS).push(d["t"], a, w) if isinstance(o, FootStride)]
                ang = [np.degrees(np.arctan2(s.displacement_m[1], s.displacement_m[0])) for s in st
                       if "turn" not in s.flags and s.stride_length_m > 0.5]
                mx = c[0] - np.dot(c[0], m[2]) * m[2]
                line += (f"; in this frame: travel direction {np.median(ang):+5.1f} deg (median of {len(ang)} strides),"
                         f" marker x {np.degrees(np.arctan2(np.dot(mx, m[1]), np.dot(mx, m[0]))):+5.1f} deg")
            print(line, flush=True)
        print(f"  {foot:5s} {'stored (gaitmap sensor frame)':32s} y vs marker y"
              f" {angle_about(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]), c[1]):+6.1f} deg (about the stored z)")


def hugadb(data: Path) -> None:
    print("== hugadb_running: calibration per foot; y vs the direction of the same foot's y in most files")
    cals: dict[str, list] = {"left_foot": [], "right_foot": []}
    for path in sorted((data / "hugadb_running").glob("HuGaDB_v1_*.txt")):
        s = load_hugadb(path)
        for foot in cals:
            t, a, g = s[foot]
            cals[foot].append((path.stem, calibrate(foot, t, a, np.radians(g), 58.8)))
    for foot, lst in cals.items():
        ys = np.array([c.ml_axis_sensor for _, c in lst])
        u = np.linalg.svd(ys, full_matrices=False)[2][0]
        u = u if np.sum(ys @ u > 0) >= ys.shape[0] / 2 else -u
        n_ok = sum(c.ok for _, c in lst)
        print(f"  {foot}: {n_ok} of {len(lst)} ready")
        for (name, c), y in zip(lst, ys):
            ang = np.degrees(np.arccos(np.clip(y @ u, -1, 1)))
            print(f"    {name} {'ready' if c.ok else 'bad  '} {'+'.join(c.reasons) or '-':20s} sign {c.sign_rule:17s}"
                  f" margin {c.sign_margin:.2f}  y vs majority {ang:5.1f} deg")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=BE.DATA)
    args = ap.parse_args(argv)
    gaitmap(args.data)
    hugadb(args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
