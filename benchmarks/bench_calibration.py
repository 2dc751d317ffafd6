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
* gaitmap_walking, the real foot's own swing rotation (``--swing-windows``; docs/validation.md,
  "Foot heading, seventh shift"): (a) from the mocap alone (marker frame, no IMU, no
  calibration): the principal axis of the foot's body angular velocity over parts of the swing
  (fractions of TC..IC), as its angle about the marker z from the marker y, and the foot's
  median yaw / pitch / roll relative to mid-stance through the swing; (b) the same windows, the
  stance and the direction of travel on the IMU in the product's calibrated frame over every
  stride of the recording, against the marker y. Sign: every angle here is the rotation from
  the reference y to the estimate about +z (counter-clockwise seen from above);
  ``bench_core_sim.py --frames`` prints the opposite sign (the rotation taking the calibrated
  frame to the true one), so its -3.1 (neutral, left foot) is +3.1 in this convention.
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

from runform.core.calibration import calibrate, principal_axis  # noqa: E402
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


def gaitmap_with_references(data: Path) -> tuple[dict, dict]:
    """gaitmap's IMU recordings per foot and, per foot, its mocap reference strides
    (:func:`bench_events.marker_references`)."""
    ori = BE.load_gaitmap_orientation(data)
    mk = BE.load_gaitmap_markers(data)
    with open(data / "gaitmap_walking" / "stride_events_sample.csv") as f:
        ev_rows = list(csv.DictReader(f))
    g = BE.load_gaitmap(data)
    return g, {foot: BE.marker_references(ev_rows, ori, mk, foot) for foot in g}


def gaitmap(data: Path) -> None:
    g, marker_refs = gaitmap_with_references(data)
    variants = [("product (swing_axis_from 0.25)", CalibrationParams()),
                ("whole swing (from 0)", CalibrationParams(swing_axis_from=0.0)),
                ("late swing (from 0.5)", CalibrationParams(swing_axis_from=0.5)),
                ("all motion (swing_axis off)", CalibrationParams(swing_axis=False))]
    print("== gaitmap_walking: calibrated foot y vs the mocap marker frame (about the calibrated vertical)")
    for foot, d in g.items():
        refs = [(t_ref, q_ref) for _, _, t_ref, q_ref, _ in marker_refs[foot]]
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


#: parts of the swing (fractions of toe-off .. next IC) whose rotation axis is printed
SWING_WINDOWS = ((0.0, 1.0), (0.25, 1.0), (0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0), (0.25, 0.75), (0.25, 2 / 3), (1 / 3, 2 / 3))


def body_rate(r: np.ndarray, dt: float) -> np.ndarray:
    """Body angular velocity (n, 3) rad/s of rotation matrices (n, 3, 3) world-from-body
    sampled every ``dt`` s: the axial vector of R^T dR/dt (central differences)."""
    w = np.einsum("nji,njk->nik", r, np.gradient(r, dt, axis=0))
    return np.stack([w[:, 2, 1], w[:, 0, 2], w[:, 1, 0]], 1)


def axis_angle_about_z(axis: np.ndarray) -> float:
    """Angle (deg) about +z from +y to ``axis`` (sign chosen so that it points to +y)."""
    a = axis if axis[1] >= 0 else -axis
    return float(np.degrees(np.arctan2(-a[0], a[1])))


def swing_windows(data: Path) -> None:
    g, marker_refs = gaitmap_with_references(data)
    print("== gaitmap_walking: the real foot's swing rotation axis by part of the swing (deg about z from the marker y;"
          " + = counter-clockwise seen from above)")
    for foot in ("left", "right"):
        win: dict = {w: [] for w in SWING_WINDOWS}
        course, refs = [], []
        for r, _, t_ref, q_ref, _ in marker_refs[foot]:
            refs.append((t_ref, q_ref))
            rm = quat_to_matrix(q_ref)
            w = body_rate(rm, 0.01)
            st = float(r["start"])
            tc, ic = ((float(r[k]) - st) / BE.GAITMAP_FS * 100.0 for k in ("tc", "ic"))
            if not 0 < tc < ic < len(rm) - 1:
                continue
            for w0, w1 in SWING_WINDOWS:
                win[(w0, w1)].append(w[int(round(tc + w0 * (ic - tc))):int(round(tc + w1 * (ic - tc)))])
            rows = []
            for f in (0.0, 0.25, 0.5, 0.75, 1.0):
                rr = rm[0].T @ rm[int(round(tc + f * (ic - tc)))]
                rows.append(np.degrees([np.arctan2(rr[1, 0], rr[0, 0]), -np.arcsin(np.clip(rr[2, 0], -1, 1)),
                                        np.arctan2(rr[2, 1], rr[2, 2])]))
            course.append(rows)
        print(f"  {foot:5s} mocap only, {len(course)} strides: " + ", ".join(
            f"{w0:.2f}-{w1:.2f} {axis_angle_about_z(principal_axis(np.concatenate(v))[0]):+5.1f}" for (w0, w1), v in win.items()))
        med = np.median(np.array(course), axis=0)
        print(f"  {foot:5s} mocap only, median (yaw, pitch, roll) deg relative to mid-stance at TC, 25, 50, 75 % of swing, IC: "
              + "; ".join("(" + ", ".join(f"{v:+.1f}" for v in row) + ")" for row in med))
        # the IMU in the product's calibrated frame, every stride the foot tracker finds
        d = g[foot]
        c = quat_to_matrix(BE.imu_to_marker_rotation(refs, d["t"], d["gyr"], d["acc"]))  # v_marker = c v_imu
        cal = calibrate(f"{foot}_foot", d["t"], d["acc"], d["gyr"], BE.GAITMAP_FS)
        m = cal.matrix
        a, w = cal.apply(d["acc"], d["gyr"])
        st = [o for o in FootTracker(BE.GAITMAP_FS).push(d["t"], a, w) if isinstance(o, FootStride)]
        yref = m @ c[1]  # the marker y in the calibrated frame
        off = float(np.degrees(np.arctan2(-yref[0], yref[1])))

        def about(axis_seg: np.ndarray) -> float:
            return (axis_angle_about_z(axis_seg) - off + 180.0) % 360.0 - 180.0

        out = []
        for w0, w1, phase in [(a0, a1, "swing") for a0, a1 in SWING_WINDOWS] + [(0.0, 1.0, "stance")]:
            sel = np.zeros(d["t"].size, bool)
            for s in st:
                t0, t1 = (s.to_time_s, s.next_ic_time_s) if phase == "swing" else (s.ic_time_s, s.to_time_s)
                if np.isfinite(t0) and np.isfinite(t1) and t1 > t0:
                    i0, i1 = np.searchsorted(d["t"], [t0 + w0 * (t1 - t0), t0 + w1 * (t1 - t0)])
                    sel[i0:i1] = True
            ww = w[sel]
            ww = ww[np.linalg.norm(ww, axis=1) > 1.0]
            out.append(f"{phase} {w0:.2f}-{w1:.2f} {about(principal_axis(ww)[0]):+5.1f}")
        ang = [np.arctan2(s.displacement_m[1], s.displacement_m[0]) for s in st
               if "turn" not in s.flags and s.stride_length_m > 0.5]
        # y perpendicular to the direction of travel (the travel turned +90 deg about z)
        tr = float(np.median(ang))
        out.append(f"travel {(np.degrees(tr) - off + 180.0) % 360.0 - 180.0:+5.1f}")
        print(f"  {foot:5s} IMU, calibrated frame, {len(st)} strides: " + ", ".join(out))


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
    ap.add_argument("--swing-windows", action="store_true",
                    help="also the real foot's swing rotation axis by part of the swing (mocap, and IMU in the calibrated frame)")
    args = ap.parse_args(argv)
    gaitmap(args.data)
    if args.swing_windows:
        swing_windows(args.data)
    hugadb(args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
