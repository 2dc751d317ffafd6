"""Validation of the foot processor (runform.core.foot) on real recordings in ../shared/data.

    .venv-test/bin/python benchmarks/bench_events.py [--data ../shared/data] [--only gaitmap|pyshoe|hugadb|dorschky|sim]
        [--calibration offline|core|both] [--strides]

``--calibration`` chooses the sensor-to-foot alignment of the real recordings: ``offline`` (the
default) is this file's own ``align_offline`` (gaitmap: none, its data are already in the foot
frame); ``core`` is the product's ``runform.core.calibration`` exactly as ``SessionProcessor``
(``runform analyze``) uses it: the first calibration decided on the raw sensor-frame samples,
with standing or, without standing, from motion alone (``moving_only``), applied to every sample
even when it is not ``ok`` (the processor then flags the strides ``calibration_bad``), nothing
at all when it is never decided; ``both`` prints the two side by side per trial.

Prints one block per trial (every trial, good or bad) with the measured errors; the numbers go
into docs/validation-foot.md. The loaders and the offline sensor-to-foot alignment here are
also used by tests/test_core_foot_*.py.

References used:
* gaitmap_walking: mocap IC/TO (``ic``/``tc`` in stride_events_sample.csv), mocap foot
  orientation per stride (orientation_sample.csv); the frontal angle also over the stance
  samples where the three foot markers are a rigid body (``MARKER_RIGID_TOL_M``: from heel-off
  to TO the toe marker moves 20 mm towards the others and the marker frame inverts against the
  shoe-mounted IMU), the marker-to-IMU rotation fitted over those samples only.
* pyshoe_dev: Vicon zero-velocity labels (stances) and Vicon foot position (stride length =
  horizontal displacement between the detected mid-stance instants).
* hugadb_running: no reference; every file must run, clipping / implausible gyro are flagged.
* dorschky_mean_stride: force-plate IC/TO of one runner's mean running and walking stride
  (vertical GRF crossing 0.05 / 0.03 body weights), the stride repeated 12 times.
* virtual runner (runform.sim): the simulator's exact events and stride lengths.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from runform.core.foot import FootEvent, FootParams, FootStride, FootTracker, principal_rotation_axis
from runform.units import DEG_PER_RAD, RAD_PER_DEG, STANDARD_GRAVITY_MPS2

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GAITMAP_FS = 204.8
HUGADB_FS = 58.8
PYSHOE_RUNNING = ("2017-11-27-11-18-11", "2017-12-15-18-03-05", "2017-11-27-11-13-41")
PYSHOE_WALKING = ("2017-11-22-11-22-03",)
PYSHOE_ACC_RANGE_MPS2 = 8 * STANDARD_GRAVITY_MPS2  # LORD 3DM-GX5-25, +-8 g
# the gyro output plateaus at 520-560 deg/s per axis in these files (saturation; measured)
PYSHOE_GYR_CLIP_RPS = 500.0 * RAD_PER_DEG


# ---------------------------------------------------------------------------- loaders
def load_gaitmap(data: Path = DATA) -> dict:
    """{'left'|'right': dict(t, acc (m/s^2), gyr (rad/s), ic, tc (sample indices, float))}."""
    d = data / "gaitmap_walking"
    with open(d / "imu_sample.csv") as f:
        rows = list(csv.reader(f))
    sensors, axes = rows[0][1:], rows[1][1:]
    raw = np.array(rows[2:], dtype=float)[:, 1:]
    with open(d / "stride_events_sample.csv") as f:
        ev = list(csv.DictReader(f))
    out = {}
    for foot in ("left", "right"):
        col = {a: i for i, (s, a) in enumerate(zip(sensors, axes)) if s == f"{foot}_sensor"}
        acc = raw[:, [col["acc_x"], col["acc_y"], col["acc_z"]]]
        gyr = raw[:, [col["gyr_x"], col["gyr_y"], col["gyr_z"]]] * RAD_PER_DEG
        e = [r for r in ev if r["foot"] == foot]
        out[foot] = dict(
            t=np.arange(raw.shape[0]) / GAITMAP_FS,
            acc=acc,
            gyr=gyr,
            ic=np.array([float(r["ic"]) for r in e]),
            tc=np.array([float(r["tc"]) for r in e]),
        )
    return out


def load_gaitmap_orientation(data: Path = DATA) -> dict:
    """{'left'|'right': {s_id: quaternions (n, 4) wxyz at 100 Hz}} of the mocap foot."""
    d = data / "gaitmap_walking"
    out: dict = {"left": {}, "right": {}}
    with open(d / "orientation_sample.csv") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            foot = row[0].split("_")[0]
            sid = int(row[1])
            out[foot].setdefault(sid, []).append([float(row[6]), float(row[3]), float(row[4]), float(row[5])])
    return {k: {s: np.array(v) for s, v in d_.items()} for k, d_ in out.items()}


def load_gaitmap_markers(data: Path = DATA) -> dict:
    """{'left'|'right': {'TOE'|'FCC'|'FM5': positions (n, 3) in m at 100 Hz}} (lab frame, z up)."""
    with open(data / "gaitmap_walking" / "mocap_sample.csv") as f:
        rows = list(csv.reader(f))
    raw = np.array(rows[2:], dtype=float)
    col = {(m, a): i for i, (m, a) in enumerate(zip(rows[0], rows[1]))}
    out: dict = {}
    for foot, p in (("left", "L"), ("right", "R")):
        out[foot] = {m: raw[:, [col[(f"{p}_{m}", a)] for a in "xyz"]] / 1000.0 for m in ("TOE", "FCC", "FM5")}
    return out


def reference_frame_fix(q_ref: np.ndarray, toe_m: np.ndarray, heel_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """The mocap reference orientation of one stride in our convention, decided from the
    markers alone (never from our estimate).

    ``q_ref`` (n, 4) wxyz as stored; ``toe_m``/``heel_m`` (3,) the TOE and FCC markers at the
    stride's first sample. The stored quaternions map the lab frame to the mocap foot frame
    (their matrix ROWS are the foot axes: row x matches FCC - TOE to within a degree), so they
    are conjugated first. The mocap foot frame's x points to the heel on both feet; on the right
    foot its z points down (mirrored y). The body-frame half-turn that makes x point to the toe
    (TOE - FCC) and z up is appended. Returns (quaternions (n, 4) foot-to-lab with x toe, y left,
    z up; the half-turn; its label)."""
    from runform.rotations import quat_conj, quat_mul, quat_to_matrix

    q = quat_conj(np.asarray(q_ref, dtype=float))
    r0 = quat_to_matrix(q[0])  # columns: the mocap foot axes in the lab frame
    flip_x = float(r0[:, 0] @ (toe_m - heel_m)) < 0
    flip_z = float(r0[2, 2]) < 0
    half = {(False, False): ([1.0, 0, 0, 0], "none"), (True, False): ([0, 0, 0, 1.0], "rz180"),
            (False, True): ([0, 1.0, 0, 0], "rx180"), (True, True): ([0, 0, 1.0, 0], "ry180")}[(flip_x, flip_z)]
    fix = np.array(half[0], dtype=float)
    return quat_mul(q, fix), fix, half[1]


def load_pyshoe(name: str, data: Path = DATA) -> dict:
    """dict(t, acc, gyr (sensor frame, SI), gt (m, Vicon), zv (0/1 Vicon zero velocity))."""
    import scipy.io as sio

    m = sio.loadmat(data / "pyshoe_dev" / f"{name}.mat", squeeze_me=True)
    imu = np.asarray(m["imu"], dtype=float)
    return dict(t=np.asarray(m["ts"], dtype=float), acc=imu[:, :3], gyr=imu[:, 3:], gt=np.asarray(m["gt"], float),
                zv=np.asarray(m["zv_vicon_opt"]).astype(int))


def load_hugadb(path: Path) -> dict:
    """{'right_foot'|'left_foot': dict(acc, gyr (sensor frame, SI), clip_acc, clip_gyr)} and 't'."""
    with open(path) as f:
        lines = [ln for ln in f if not ln.startswith("#")]
    header = lines[0].split()
    raw = np.array([ln.split() for ln in lines[1:] if ln.strip()], dtype=np.int64)
    col = {h: i for i, h in enumerate(header)}
    out: dict = {"t": np.arange(raw.shape[0]) / HUGADB_FS}
    for code, name in (("rf", "right_foot"), ("lf", "left_foot")):
        a = raw[:, [col[f"acc_{code}_{x}"] for x in "xyz"]]
        g = raw[:, [col[f"gyro_{code}_{x}"] for x in "xyz"]]
        out[name] = dict(
            acc=a / 32768.0 * 2.0 * STANDARD_GRAVITY_MPS2,
            gyr=g / 32768.0 * 2000.0 * RAD_PER_DEG,
            clip_acc=(np.abs(a) >= 32767).any(axis=1),
            clip_gyr=(np.abs(g) >= 32767).any(axis=1),
        )
    return out


def load_dorschky(kind: str, data: Path = DATA, n_cycles: int = 12) -> dict:
    """The right foot IMU of the Dorschky et al. 2019 mean ``kind`` ("running" | "walking")
    stride (BioMAC-Sim-Toolbox IMU2D data: 100 samples per stride, OpenSim sensor axes x
    forward, y up, z right) repeated ``n_cycles`` times, in our foot frame (x toe, y left, z
    up): dict(t, acc, gyr, ic, to (s, where the vertical GRF crosses 0.05 body weights upwards /
    downwards), to_003 (the same at 0.03 BW)). Needs the mat-io package (MATLAB tables)."""
    import matio

    v = matio.load_from_mat(str(data / "dorschky_mean_stride" / f"P01_norm{kind}.mat"))["dataStruct"]["variables"][0, 0]
    d = {}
    for i in range(len(v)):
        r = v.iloc[i]
        key = f"{np.asarray(r['type']).ravel()[0]}:{np.asarray(r['name']).ravel()[0]}"
        if key.split(":")[0] in ("acc", "gyro"):
            key += ":" + "xyz"[int(np.nanargmax([r["direction_1"], r["direction_2"], r["direction_3"]]))]
        d[key] = np.array([float(np.asarray(x).ravel()[0]) for x in r["mean"]])
    n = d["GRF:GRF_y_r"].size  # samples per stride
    dt = float(d["dur:dur"][0]) / n
    acc = np.column_stack([d["acc:foot_r:x"], -d["acc:foot_r:z"], d["acc:foot_r:y"]])
    gyr = np.column_stack([d["gyro:foot_r:x"], -d["gyro:foot_r:z"], d["gyro:foot_r:y"]])
    grf = np.tile(d["GRF:GRF_y_r"], n_cycles)
    t = np.arange(n * n_cycles) * dt

    def crossings(thr: float, up: bool) -> np.ndarray:
        a, b = grf[:-1], grf[1:]
        k = np.flatnonzero((a < thr) & (b >= thr) if up else (a >= thr) & (b < thr))
        return t[k] + (thr - a[k]) / (b[k] - a[k]) * dt

    return dict(t=t, acc=np.tile(acc, (n_cycles, 1)), gyr=np.tile(gyr, (n_cycles, 1)),
                ic=crossings(0.05, True), to=crossings(0.05, False), to_003=crossings(0.03, False))


# ---------------------------------------------------------------------------- offline alignment
def align_offline(acc: np.ndarray, gyr: np.ndarray, rate_hz: float) -> np.ndarray:
    """Rotation matrix R (3, 3), foot-from-sensor (v_foot = R v_sensor), from the recording
    itself: z = mean specific force of the stillest 10 % of samples; y = principal rotation
    axis made orthogonal to z; its sign is the one for which the foot tracker's strides move
    forward (+x at mid-stance, median over strides); x = y x z.
    A stand-in for the calibration engineer's runform.core.calibration."""
    still = np.linalg.norm(gyr, axis=1) + 0.05 * np.abs(np.linalg.norm(acc, axis=1) - STANDARD_GRAVITY_MPS2)
    sel = still <= np.quantile(still, 0.10)
    z = acc[sel].mean(axis=0)
    z /= np.linalg.norm(z)
    y = principal_rotation_axis(gyr)
    y = y - y.dot(z) * z
    y /= np.linalg.norm(y)
    t = np.arange(acc.shape[0]) / rate_hz
    best, best_score = None, -np.inf
    for sign in (1.0, -1.0):
        ys = sign * y
        r = np.stack([np.cross(ys, z), ys, z])
        _, st = run_tracker(t, acc @ r.T, gyr @ r.T, rate_hz)
        fwd = [s.displacement_m[0] / s.stride_length_m for s in st if s.stride_length_m > 0.1]
        score = float(np.median(fwd)) if fwd else -np.inf
        if score > best_score:
            best, best_score = r, score
    return best


def align_core(placement: str, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, rate_hz: float):
    """The product's calibration of one raw sensor-frame recording, as SessionProcessor does it:
    ``runform.core.calibration.calibrate`` with ``CoreParams().calibration`` on the raw samples
    (bias included). Returns (acc, gyr in the foot frame with the bias removed, t, calibration):
    the samples the processor would feed to its FootTracker (all of them, except those older than
    ``max_buffer_s`` before the decision, which its pending buffer drops), or (None, None, None,
    None) when no calibration is ever decided (the processor then produces nothing)."""
    from runform.core.calibration import calibrate
    from runform.core.params import CoreParams

    p = CoreParams().calibration
    cal = calibrate(placement, t, acc, gyr, rate_hz, p)
    if cal is None:
        return None, None, None, None
    keep = t >= cal.ready_time_s - p.max_buffer_s
    a_f, g_f = cal.apply(acc[keep], gyr[keep])
    return a_f, g_f, keep, cal


def calibration_info(cal, r_offline: np.ndarray | None = None) -> dict:
    """Calibration state and quality numbers of ``align_core``'s result for the printout;
    ``frame_vs_offline_deg``: rotation angle between the core's foot frame and ``r_offline``."""
    if cal is None:
        return dict(cal_state="undecided")
    out = dict(
        cal_state="ready" if cal.ok else "bad", cal_reasons="+".join(cal.reasons) or "-", cal_method=cal.method,
        cal_reference=cal.reference, cal_sign_rule=cal.sign_rule, cal_ready_s=float(cal.ready_time_s),
        cal_planarity=float(cal.planarity), cal_sign_margin=float(cal.sign_margin), cal_axis_tilt_deg=float(cal.axis_tilt_deg),
        cal_still_gyr_dps=float(cal.stillness_gyr_rps * DEG_PER_RAD), cal_still_acc_mps2=float(cal.stillness_acc_mps2),
        cal_gyro_bias_dps=float(np.linalg.norm(cal.gyro_bias_rps) * DEG_PER_RAD),
    )
    if r_offline is not None:
        c = np.clip((np.trace(cal.matrix @ np.asarray(r_offline).T) - 1) / 2, -1.0, 1.0)
        out["frame_vs_offline_deg"] = float(np.degrees(np.arccos(c)))
    return out


# ---------------------------------------------------------------------------- running the tracker
def run_tracker(t, acc, gyr, rate_hz, params=None, block=None, clip_acc=None, clip_gyr=None):
    """Events (list of FootEvent) and strides (list of FootStride) over a whole recording."""
    tr = FootTracker(rate_hz, params)
    outs = []
    n = len(t)
    step = n if block is None else block
    for s in range(0, n, step):
        e = min(n, s + step)
        outs += tr.push(t[s:e], acc[s:e], gyr[s:e],
                        clipped_acc=None if clip_acc is None else clip_acc[s:e],
                        clipped_gyr=None if clip_gyr is None else clip_gyr[s:e])
    outs += tr.finish()
    ev = [o for o in outs if isinstance(o, FootEvent)]
    st = [o for o in outs if isinstance(o, FootStride)]
    return ev, st


def match(ref: np.ndarray, det: np.ndarray, tol: float) -> np.ndarray:
    """Signed error det - ref for each ref with a detection within ``tol`` (NaN otherwise)."""
    err = np.full(ref.shape, np.nan)
    if det.size == 0:
        return err
    for i, r in enumerate(ref):
        k = np.argmin(np.abs(det - r))
        if abs(det[k] - r) <= tol:
            err[i] = det[k] - r
    return err


def _fmt(x, unit=""):
    return f"{x:.1f}{unit}" if np.isfinite(x) else "n/a"


# ---------------------------------------------------------------------------- gaitmap walking
def _angles(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(foot sagittal angle = -pitch, roll) in rad of quaternions (n, 4) wxyz."""
    from runform.anatomy import tait_bryan_zyx
    from runform.rotations import quat_to_matrix

    _, pitch, roll = tait_bryan_zyx(quat_to_matrix(q))
    return -pitch, roll


def _wrap(a: np.ndarray) -> np.ndarray:
    return np.angle(np.exp(1j * a))


# The mocap foot frame is built from three markers (TOE, FCC heel, FM5 5th metatarsal head); it
# is a rigid-body frame only while their distances stay as they are with the foot flat. From
# heel-off to toe-off the TOE marker moves towards the others (TOE-FCC -15 mm, TOE-FM5 -4..-8 mm
# at TO, median over the strides; FCC-FM5 within 2 mm): the toes / shoe tip bend at the
# metatarsophalangeal joints, which the IMU on the shoe's rear part does not follow. The marker
# frame then turns against the IMU by up to 7 (left) / 16 (right) deg about the foot's long axis
# (reference rotation since mid-stance vs the raw gyroscope's, median of the last stance decile),
# i.e. it reports an inversion the rigid rear foot does not make. A reference sample counts as a
# rigid-body frame when no marker distance differs from the stride's first sample (a mid-stance,
# foot flat) by more than this; 3 mm across the shortest side (TOE-FM5, 85 mm) turns the frame by
# at most 2 deg (0.7 deg across TOE-FCC, 250 mm). Decided from the markers alone.
MARKER_RIGID_TOL_M = 0.003


def marker_deformation_m(markers: dict, k0: int, n: int) -> np.ndarray:
    """Largest change (m) of the three TOE/FCC/FM5 distances at the reference samples
    ``k0 .. k0 + n - 1`` (100 Hz) against sample ``k0`` (the stride's first, a mid-stance); NaN
    where the markers are missing or outside the recording."""
    names = ("TOE", "FCC", "FM5")
    k = np.arange(k0, k0 + n)
    ok = k < len(markers["TOE"])
    out = np.full(n, np.nan)
    if not ok.any():
        return out
    kk = k[ok]
    pairs = [(0, 1), (0, 2), (1, 2)]
    dist = np.column_stack([np.linalg.norm(markers[names[a]][kk] - markers[names[b]][kk], axis=1) for a, b in pairs])
    out[ok] = np.max(np.abs(dist - dist[:1]), axis=1)
    return out


def marker_references(ev_rows: list, ori: dict, mk: dict, foot: str) -> list:
    """gaitmap's mocap reference strides of ``foot``: [(event row, first mocap sample k0, times
    (n,) s on the IMU clock, foot-to-lab quaternions (n, 4) in our foot convention, the
    :func:`reference_frame_fix` label)] for every stride with an orientation."""
    out = []
    for r in ev_rows:
        q_ref = ori[foot].get(int(r["s_id"])) if r["foot"] == foot else None
        if q_ref is None:
            continue
        k0 = int(round(float(r["start"]) / GAITMAP_FS * 100.0))
        q_ref, _, label = reference_frame_fix(q_ref, mk[foot]["TOE"][k0], mk[foot]["FCC"][k0])
        out.append((r, k0, float(r["start"]) / GAITMAP_FS + np.arange(len(q_ref)) / 100.0, q_ref, label))
    return out


def imu_to_marker_rotation(refs: list, t_imu: np.ndarray, gyr_imu: np.ndarray, acc_imu: np.ndarray) -> np.ndarray:
    """Quaternion C (wxyz) with v_marker = C v_imu, fitted (Kabsch, Wahba's problem) to pairs of
    vectors seen in both frames, never to our orientation estimate: the angular velocity of the
    mocap foot frame (from consecutive reference quaternions) vs the raw gyroscope, and -- since
    walking rotates mostly about one axis, which leaves the rotation about that axis poorly
    determined -- the up direction at each reference stride's first sample (a mid-stance, foot
    flat) vs the IMU's mean specific force there (+-25 ms), both weighted equally in total.
    ``refs``: [(t (n,), q (n, 4) foot-to-lab)] or [(t, q, rigid (n,) bool)]: with ``rigid``, only
    angular velocities between two rigid-body reference samples (:data:`MARKER_RIGID_TOL_M`) are
    used (a mounting rotation is only defined while the marker frame is a rigid body)."""
    from runform.rotations import matrix_to_quat, quat_conj, quat_mul, quat_rotate, quat_to_rotvec

    w_ref, w_imu, up_ref, up_imu = [], [], [], []
    for ref in refs:
        t_ref, q = ref[0], ref[1]
        use = np.ones(len(t_ref) - 1, bool) if len(ref) < 3 else (ref[2][1:] & ref[2][:-1])
        dq = quat_mul(quat_conj(q[:-1]), q[1:])
        w_ref.append((quat_to_rotvec(dq) / np.diff(t_ref)[:, None])[use])
        tm = 0.5 * (t_ref[1:] + t_ref[:-1])[use]
        w_imu.append(np.column_stack([np.interp(tm, t_imu, gyr_imu[:, j]) for j in range(3)]))
        up_ref.append(quat_rotate(quat_conj(q[0]), np.array([0.0, 0.0, 1.0])))
        sel = np.abs(t_imu - t_ref[0]) <= 0.025
        f = acc_imu[sel].mean(axis=0)
        up_imu.append(f / np.linalg.norm(f))
    a, b = np.concatenate(w_ref), np.concatenate(w_imu)
    scale = np.sqrt(np.sum(a**2) / max(len(up_ref), 1))
    a = np.vstack([a, scale * np.array(up_ref)])
    b = np.vstack([b, scale * np.array(up_imu)])
    u, _, vt = np.linalg.svd(a.T @ b)
    m = u @ np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))]) @ vt
    return matrix_to_quat(m)


def _angle_errors(refs: list, strides: list, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sagittal errors (deg, whole strides), frontal errors (deg, stances) and, for each frontal
    error, whether the reference was a rigid-body frame there, of our strides vs the reference
    orientation expressed in the IMU frame (``q_ref * c``). ``refs``: [(t, q, rigid)]."""
    from runform.rotations import quat_mul

    sag_err, fr_err, fr_rigid, fr_phase = [], [], [], []
    for t_ref, q, rigid in refs:
        q = quat_mul(q, c)
        for s in strides:
            inside = (t_ref >= s.time_s[0]) & (t_ref <= s.time_s[-1])
            if not inside.any():
                continue
            sa_ref, ro_ref = _angles(q[inside])
            sa, ro = _angles(s.orientation_at(t_ref[inside]))
            sag_err.append(_wrap(sa - sa_ref))
            stance = (t_ref[inside] >= s.ic_time_s) & (t_ref[inside] <= s.to_time_s)
            fr_err.append(_wrap(ro - ro_ref)[stance])
            fr_rigid.append(rigid[inside][stance])
            fr_phase.append((t_ref[inside][stance] - s.ic_time_s) / max(s.to_time_s - s.ic_time_s, 1e-9))
    sag = np.concatenate(sag_err) * DEG_PER_RAD if sag_err else np.array([np.nan])
    fr = np.concatenate(fr_err) * DEG_PER_RAD if fr_err else np.array([np.nan])
    rig = np.concatenate(fr_rigid) if fr_rigid else np.array([False])
    phase = np.concatenate(fr_phase) if fr_phase else np.array([np.nan])
    return sag, fr, rig, phase


# stance phases of the frontal breakdown, as fractions of our stance (IC = 0, TO = 1)
STANCE_PHASES = (("loading", 0.0, 0.15), ("foot_flat", 0.15, 0.5), ("heel_off", 0.5, 0.8), ("push_off", 0.8, 1.0 + 1e-9))


def reference_vs_gyro_roll_in_push_off(refs: list, strides: list, t_imu: np.ndarray, gyr_imu: np.ndarray, c: np.ndarray,
                                       markers: dict, k0s: list) -> tuple[float, float]:
    """Does the marker frame stay a rigid body with the IMU in the push-off? Per reference stride
    that contains one of our TOs, at the reference sample between the stride's first sample (a
    mid-stance) and that TO where the marker distances have changed most: the rotation of the
    reference frame (brought into the IMU frame by ``c``) since the first sample, against the
    raw gyroscope's rotation over the same interval (0.3-0.4 s of integration: no tilt
    correction, nothing of our orientation estimate), its component about the foot's long axis
    (x, deg), and that largest distance change (mm). Medians over the strides (NaN without any)."""
    from runform.core.foot.strapdown import increments
    from runform.core.orientation import prefix_product, qnormalize
    from runform.rotations import quat_conj, quat_mul, quat_to_rotvec

    roll, defo = [], []
    for (t_ref, q, _), k0 in zip(refs, k0s):
        to = [s.to_time_s for s in strides if t_ref[0] < s.to_time_s <= t_ref[-1] and s.ic_time_s < t_ref[0]]
        if not to:
            continue
        k_to = int(np.argmin(np.abs(t_ref - to[0])))
        dm = marker_deformation_m(markers, k0, k_to + 1)
        if not np.isfinite(dm).any():
            continue
        k = int(np.nanargmax(dm))
        sel = (t_imu >= t_ref[0]) & (t_imu <= t_ref[k])
        if sel.sum() < 2:
            continue
        qi = quat_mul(q[[0, k]], c)
        rel_gyr = qnormalize(prefix_product(increments(t_imu[sel], gyr_imu[sel])))[-1]
        rel_ref = quat_mul(quat_conj(qi[0]), qi[1])
        roll.append(quat_to_rotvec(quat_mul(quat_conj(rel_gyr), rel_ref))[0] * DEG_PER_RAD)
        defo.append(dm[k] * 1000.0)
    if not roll:
        return float("nan"), float("nan")
    return float(np.median(roll)), float(np.median(defo))


def bench_gaitmap(data: Path = DATA, block: int | None = None, calibration: str = "offline") -> dict:
    """IC/TO errors (ms) and foot angle RMSE (deg) per foot on gaitmap's walking example.
    ``calibration``: ``offline`` (data used as stored: already in the foot frame) or ``core``
    (:func:`align_core` on the stored data as if they were raw sensor-frame samples)."""
    from runform.rotations import quat_conj, quat_mul

    g = load_gaitmap(data)
    ori = load_gaitmap_orientation(data)
    mk = load_gaitmap_markers(data)
    with open(data / "gaitmap_walking" / "stride_events_sample.csv") as f:
        ev_rows = list(csv.DictReader(f))
    res = {}
    for foot, d in g.items():
        info: dict = {}
        q_cal = np.array([1.0, 0.0, 0.0, 0.0])  # segment-from-sensor of the alignment used
        if calibration == "core":
            a_f, g_f, keep, cal = align_core(f"{foot}_foot", d["t"], d["acc"], d["gyr"], GAITMAP_FS)
            info = calibration_info(cal, np.eye(3))
            if cal is None:
                ev, st = [], []
            else:
                q_cal = np.asarray(cal.sensor_to_segment, float)
                ev, st = run_tracker(d["t"][keep], a_f, g_f, GAITMAP_FS, block=block)
        else:
            ev, st = run_tracker(d["t"], d["acc"], d["gyr"], GAITMAP_FS, block=block)
        ic = np.array([e.time_s for e in ev if e.kind == "ic"])
        to = np.array([e.time_s for e in ev if e.kind == "to"])
        e_ic = match(d["ic"] / GAITMAP_FS, ic, 0.25) * 1000
        e_to = match(d["tc"] / GAITMAP_FS, to, 0.25) * 1000
        # stride time (sixth shift): our IC-to-IC against the mocap IC-to-IC of the same two
        # consecutive reference strides (a sharp contact reference, unlike pyshoe's Vicon)
        ref_ic = np.sort(d["ic"] / GAITMAP_FS)
        e_st = []
        for s in st:
            k0, k1 = int(np.argmin(np.abs(ref_ic - s.ic_time_s))), int(np.argmin(np.abs(ref_ic - s.next_ic_time_s)))
            if k1 == k0 + 1 and abs(ref_ic[k0] - s.ic_time_s) <= 0.25 and abs(ref_ic[k1] - s.next_ic_time_s) <= 0.25:
                e_st.append((s.stride_time_s - (ref_ic[k1] - ref_ic[k0])) * 1000)
        e_st = np.array(e_st)
        lat = [e.lookahead_s * 1000 for e in ev if e.kind == "ic"]
        lat_to = [e.lookahead_s * 1000 for e in ev if e.kind == "to"]
        # orientation: mocap per-stride quaternions at 100 Hz from the stride's 'start' sample,
        # brought into our foot convention by reference_frame_fix (decided from the markers)
        refs, fixes, k0s = [], {}, []
        for _, k0, t_ref, q_ref, label in marker_references(ev_rows, ori, mk, foot):
            fixes[label] = fixes.get(label, 0) + 1
            rigid = marker_deformation_m(mk[foot], k0, len(q_ref)) <= MARKER_RIGID_TOL_M  # NaN -> False
            refs.append((t_ref, q_ref, rigid))
            k0s.append(k0)
        # the IMU sits on the shoe at a fixed small rotation from the marker frame: estimated
        # from angular velocities alone (mocap vs raw gyro, Kabsch), never from our orientation,
        # over the reference samples where the marker frame is a rigid body
        c_align = imu_to_marker_rotation(refs, d["t"], d["gyr"], d["acc"])
        angle_res = {}
        # our strides are in the alignment's foot frame: v_seg = q_cal v_imu, so the reference
        # brought into that frame is q_ref * c_align * conj(q_cal)
        c_seg = quat_mul(c_align, quat_conj(q_cal))
        for tag, c in (("", np.array([1.0, 0.0, 0.0, 0.0])), ("_imu_frame", c_seg)):
            sag, fr, rig, phase = _angle_errors(refs, st, c)
            fr_r = fr[rig] if rig.any() else np.array([np.nan])
            angle_res.update({
                f"sagittal_rmse{tag}_deg": float(np.sqrt(np.mean(sag**2))),
                f"sagittal_offset{tag}_deg": float(np.mean(sag)),
                f"frontal_rmse{tag}_deg": float(np.sqrt(np.mean(fr**2))),
                f"frontal_offset{tag}_deg": float(np.mean(fr)),
                f"frontal_rmse{tag}_offset_removed_deg": float(np.std(fr)),
                # stance samples where the marker frame is a rigid body (MARKER_RIGID_TOL_M)
                f"frontal_rmse{tag}_rigid_ref_deg": float(np.sqrt(np.mean(fr_r**2))),
                f"frontal_offset{tag}_rigid_ref_deg": float(np.mean(fr_r)),
            })
            if tag == "_imu_frame":  # where in the stance the frontal error is (every sample)
                for name, lo, hi in STANCE_PHASES:
                    ph = fr[(phase >= lo) & (phase < hi)]
                    angle_res[f"frontal_rmse{tag}_{name}_deg"] = float(np.sqrt(np.mean(ph**2))) if ph.size else float("nan")
        angle_res["stance_rigid_ref_share"] = float(np.mean(rig))
        # raw stored gyroscope and c_align (stored IMU frame -> markers), whatever alignment ran
        roll_po, defo_po = reference_vs_gyro_roll_in_push_off(refs, st, d["t"], d["gyr"], c_align, mk[foot], k0s)
        angle_res["push_off_marker_deformation_max_mm"] = defo_po
        angle_res["push_off_ref_vs_gyro_roll_deg"] = roll_po
        angle_res["imu_to_marker_deg"] = float(2 * np.degrees(np.arccos(min(1.0, abs(c_align[0])))))
        angle_res["reference_frame_fixes"] = " ".join(f"{k}:{v}" for k, v in sorted(fixes.items()))
        res[foot] = dict(
            n_ref=len(d["ic"]), n_ic=len(ic), n_to=len(to), n_strides=len(st),
            ic_missed=int(np.isnan(e_ic).sum()), to_missed=int(np.isnan(e_to).sum()),
            ic_med_abs_ms=float(np.nanmedian(np.abs(e_ic))), ic_bias_ms=float(np.nanmedian(e_ic)),
            to_med_abs_ms=float(np.nanmedian(np.abs(e_to))), to_bias_ms=float(np.nanmedian(e_to)),
            n_stride_time_compared=int(e_st.size),
            stride_time_med_abs_ms=float(np.median(np.abs(e_st))) if e_st.size else None,
            stride_time_bias_ms=float(np.median(e_st)) if e_st.size else None,
            stride_time_p90_abs_ms=float(np.percentile(np.abs(e_st), 90)) if e_st.size else None,
            stride_time_max_abs_ms=float(np.max(np.abs(e_st))) if e_st.size else None,
            ic_lookahead_ms_median=float(np.median(lat)) if lat else float("nan"),
            ic_lookahead_ms_max=float(np.max(lat)) if lat else float("nan"),
            to_lookahead_ms_median=float(np.median(lat_to)) if lat_to else float("nan"),
            **angle_res,
            **info,
        )
    return res


# ---------------------------------------------------------------------------- pyshoe
VICON_STANCE_SPEED_MPS = 0.3  # a stance: Vicon foot speed below this ...
VICON_STANCE_MIN_S = 0.025  # ... for at least this long (5 samples) ...
VICON_STANCE_MERGE_S = 0.10  # ... pieces closer than this are one stance (swing >= 0.3 s)
VICON_MAX_STEP_M = 0.05  # a Vicon sample jumping more than this (10 m/s) is a glitch
STANDING_S = 1.0  # a reference stance longer than this is standing, not a gait stance
VICON_SWING_SPEED_MPS = 1.0  # a gait stance has a swing faster than this before and after it;
# the landing is the last downward crossing of this speed before the stance


def vicon_stances(zv: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Stance intervals (k, 2) in s from the dataset's Vicon zero-velocity labels, cleaned as
    described in pyshoe_dev/README.txt: gaps < 30 ms merged, intervals < 50 ms dropped.
    Kept for comparison only: the labels flip at single samples and mark a few swings."""
    z = np.r_[0, zv.astype(int), 0]
    on = np.flatnonzero(np.diff(z) == 1)
    off = np.flatnonzero(np.diff(z) == -1) - 1
    iv = []
    for a, b in zip(on, off):
        if iv and t[a] - t[iv[-1][1]] < 0.030:
            iv[-1][1] = b
        else:
            iv.append([a, b])
    iv = [(t[a], t[b]) for a, b in iv if t[b] - t[a] >= 0.050]
    return np.array(iv).reshape(-1, 2)


def vicon_speed(gt: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(speed (n,) m/s, unknown (n,) bool, cleaned positions (n, 3) m) of the Vicon foot.

    Vicon samples repeated exactly (marker lost, value held) or jumping more than
    ``VICON_MAX_STEP_M`` in one sample are glitches: replaced by linear interpolation between
    good samples; runs of glitches longer than 50 ms are ``unknown``. Speed = norm of the
    derivative of a Savitzky-Golay fit (9 samples = 45 ms, order 2)."""
    from scipy.signal import savgol_filter

    step = np.r_[0.0, np.linalg.norm(np.diff(gt, axis=0), axis=1)]
    held = np.r_[False, np.all(np.diff(gt, axis=0) == 0, axis=1)]
    bad = held | (step > VICON_MAX_STEP_M)
    bad |= np.r_[step[1:] > VICON_MAX_STEP_M, False]
    ok = ~bad
    pos = np.column_stack([np.interp(t, t[ok], gt[ok, j]) for j in range(3)])
    speed = np.linalg.norm(np.gradient(savgol_filter(pos, 9, 2, axis=0), t, axis=0), axis=1)
    z = np.r_[0, bad.astype(int), 0]
    unknown = np.zeros(len(t), dtype=bool)
    for a, b in zip(np.flatnonzero(np.diff(z) == 1), np.flatnonzero(np.diff(z) == -1)):
        if t[min(b, len(t) - 1)] - t[a] > 0.05:
            unknown[a:b] = True
    return speed, unknown, pos


def vicon_speed_stances(gt: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference stances from the Vicon foot speed: intervals (k, 2) in s where the speed is
    below VICON_STANCE_SPEED_MPS (pieces less than VICON_STANCE_MERGE_S apart merged) for at
    least VICON_STANCE_MIN_S in total; ``gait`` (k,) bool: not longer than STANDING_S and with
    a swing faster than VICON_SWING_SPEED_MPS on both sides (shuffles while standing are not
    stances); ``landing`` (k,) s: last downward crossing of VICON_SWING_SPEED_MPS before the
    stance (the foot decelerates steeply there, so it is a sharp timing feature)."""
    speed, _, _ = vicon_speed(gt, t)
    z = np.r_[0, (speed < VICON_STANCE_SPEED_MPS).astype(int), 0]
    on = np.flatnonzero(np.diff(z) == 1)
    off = np.flatnonzero(np.diff(z) == -1) - 1
    iv: list[list[int]] = []
    for a, b in zip(on, off):
        if iv and t[a] - t[iv[-1][1]] < VICON_STANCE_MERGE_S:
            iv[-1][1] = b
            iv[-1][2] += b - a + 1
        else:
            iv.append([a, b, b - a + 1])
    dt = float(np.median(np.diff(t)))
    iv = [[a, b] for a, b, n_below in iv if n_below * dt >= VICON_STANCE_MIN_S]
    n = len(iv)
    gait = np.zeros(n, dtype=bool)
    landing = np.full(n, np.nan)
    fast = speed > VICON_SWING_SPEED_MPS
    for k, (a, b) in enumerate(iv):
        prev_end = iv[k - 1][1] if k > 0 else 0
        next_start = iv[k + 1][0] if k + 1 < n else len(t)
        before, after = fast[prev_end:a], fast[b + 1 : next_start]
        gait[k] = before.any() and after.any() and t[b] - t[a] <= STANDING_S
        if before.any():
            j = prev_end + int(np.flatnonzero(before)[-1])  # last fast sample before the stance
            s0, s1 = speed[j], speed[j + 1]
            landing[k] = t[j] + (s0 - VICON_SWING_SPEED_MPS) / (s0 - s1) * (t[j + 1] - t[j])
    ref = np.array([(t[a], t[b]) for a, b in iv]).reshape(-1, 2)
    return ref, gait, landing


def standing_gyro_bias(t: np.ndarray, gyr: np.ndarray, speed: float = 0.05, min_s: float = 0.5) -> np.ndarray:
    """Gyro bias (3,) rad/s: mean over the still start of a trial (before the first sample
    faster than ``speed`` rad/s, minus 0.1 s); zeros when the start is shorter than ``min_s``."""
    moving = np.flatnonzero(np.linalg.norm(gyr, axis=1) > speed)
    k = int(np.searchsorted(t, t[moving[0]] - 0.1)) if moving.size else len(t)
    if k < 2 or t[k - 1] - t[0] < min_s:
        return np.zeros(3)
    return gyr[:k].mean(axis=0)


def _overlap_stats(det: np.ndarray, ref: np.ndarray, gait: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(recall over gait stances, precision, overlap matrix): a detected stance [IC, TO]
    matches a reference stance if they overlap; detections matching only non-gait reference
    stances (standing) count neither way."""
    ov = (det[:, None, 0] <= ref[None, :, 1]) & (det[:, None, 1] >= ref[None, :, 0])
    recall = float(ov[:, gait].any(axis=0).mean()) if gait.any() else float("nan")
    on_gait = ov[:, gait].any(axis=1)
    only_standing = ~on_gait & ov[:, ~gait].any(axis=1)
    counted = ~only_standing
    precision = float(on_gait[counted].mean()) if counted.any() else float("nan")
    return recall, precision, ov


# The slap reference (sixth shift; defined from the physics of a heel strike before it was
# compared with any of our events). The marker sits on top of the shoe, in front of the heel.
# When the heel touches down the foot rotates toes-down about it (the foot slap: the IMU's pitch
# rate turns positive) and the marker, carried around the heel, descends at up to 1-1.5 m/s
# until the forefoot lands; the "landing" (speed through 1 m/s) is the end of that descent. The
# slap reference is the rising edge of the descent: the last instant before the marker's fastest
# descent in the VICON_SLAP_SEARCH_S before the landing at which its downward vertical velocity
# was below VICON_SLAP_FRAC of that fastest descent (a constant-fraction crossing of a steep
# edge, insensitive to the edge's height), interpolated between samples; vertical velocity from
# the same Savitzky-Golay fit as the speed (9 samples, order 2). A fixed phase shortly after
# heel contact, so its stride times are as valid as those from stance starts or landings.
VICON_SLAP_SEARCH_S = 0.08
VICON_SLAP_FRAC = 0.5
VICON_SLAP_BACK_S = 0.25  # the crossing is sought at most this long before the fastest descent


def vicon_slap(pos: np.ndarray, t: np.ndarray, landing: np.ndarray) -> np.ndarray:
    """Slap reference (s) of each reference stance (NaN without a landing or without a descent
    before it): see the comment above :data:`VICON_SLAP_SEARCH_S`. ``pos`` (n, 3) cleaned
    Vicon positions (m, z up; :func:`vicon_speed`), ``landing`` (k,) s."""
    from scipy.signal import savgol_filter

    vz = savgol_filter(pos[:, 2], 9, 2, deriv=1, delta=float(np.median(np.diff(t))))
    out = np.full(len(landing), np.nan)
    for k, land in enumerate(landing):
        if not np.isfinite(land):
            continue
        a, b = np.searchsorted(t, [land - VICON_SLAP_SEARCH_S, land])
        if b - a < 3:
            continue
        m = a + int(np.argmin(vz[a:b]))
        if vz[m] >= 0.0:
            continue
        lev = VICON_SLAP_FRAC * vz[m]
        lo = int(np.searchsorted(t, t[m] - VICON_SLAP_BACK_S))
        above = np.flatnonzero(vz[lo : m + 1] > lev)
        if not above.size:
            continue
        i = lo + int(above[-1])
        out[k] = t[i] + (vz[i] - lev) / (vz[i] - vz[i + 1]) * (t[i + 1] - t[i])
    return out


def three_cornered_hat(series: dict) -> dict:
    """Each series' own noise from several measurements of the same quantities (here: stride
    times, s) whose errors are independent: var(a - b) = var_a + var_b for every pair, solved by
    least squares over all pairs (the "three-cornered hat", Gray & Allan 1974, Proc. 28th
    Frequency Control Symposium). Variances are robust: (1.4826 x median absolute deviation)^2 of
    each pairwise difference. Returns {name: signed SD (same unit)}: a negative value means that
    series' variance came out negative, i.e. its noise is below what the others resolve.
    ``series``: {name: (n,) array}, only entries finite in every series are used."""
    names = list(series)
    x = np.column_stack([np.asarray(series[k], float) for k in names])
    x = x[np.isfinite(x).all(axis=1)]
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    if x.shape[0] < 5 or len(names) < 3:
        return {k: None for k in names}
    a = np.zeros((len(pairs), len(names)))
    y = np.zeros(len(pairs))
    for r, (i, j) in enumerate(pairs):
        dd = x[:, i] - x[:, j]
        a[r, i] = a[r, j] = 1.0
        y[r] = (1.4826 * np.median(np.abs(dd - np.median(dd)))) ** 2
    v = np.linalg.lstsq(a, y, rcond=None)[0]
    return {k: float(np.sign(vi) * np.sqrt(abs(vi))) for k, vi in zip(names, v)}


def vicon_delay_vs_imu_s(t: np.ndarray, acc: np.ndarray, pos: np.ndarray, unknown: np.ndarray,
                         max_lag_s: float = 0.2) -> float:
    """How much later (s) the Vicon shows the foot's motion than the IMU: the lag maximising the
    correlation between the IMU's |f| and |a - g| of the twice-differentiated marker (Savitzky-
    Golay, 15 samples, order 3; g = 9.81 m/s^2 down, z up), both low-passed at 10 Hz (2nd-order
    Butterworth, zero phase), refined by a parabola; samples in long marker gaps (``unknown``)
    left out. |f| is frame-free, so no alignment is needed; the marker is not at the IMU, so the
    two differ by rotation terms, which do not shift the correlation's peak much."""
    from scipy.signal import butter, filtfilt, savgol_filter

    dt = float(np.median(np.diff(t)))
    a = savgol_filter(pos, 15, 3, deriv=2, delta=dt, axis=0)
    b_, a_ = butter(2, 10.0 / (0.5 / dt), "low")
    fv = filtfilt(b_, a_, np.linalg.norm(a + np.array([0.0, 0.0, STANDARD_GRAVITY_MPS2]), axis=1))
    fi = filtfilt(b_, a_, np.linalg.norm(acc, axis=1))
    n_lag = int(round(max_lag_s / dt))
    lags = np.arange(-n_lag, n_lag + 1)
    cc = np.full(lags.size, -np.inf)
    for k, lag in enumerate(lags):  # fi shifted later by lag samples against fv
        lo, hi = max(lag, 0) + 50, len(t) + min(lag, 0) - 50
        x, y = fi[lo - lag : hi - lag], fv[lo:hi]
        ok = ~(unknown[lo - lag : hi - lag] | unknown[lo:hi])
        if ok.sum() > 10:
            cc[k] = np.corrcoef(x[ok], y[ok])[0, 1]
    k = int(np.argmax(cc))
    off = 0.0
    if 0 < k < lags.size - 1:
        y0, y1, y2 = cc[k - 1 : k + 2]
        den = y0 - 2 * y1 + y2
        off = 0.5 * (y0 - y2) / den if den != 0 else 0.0
    return float((lags[k] + off) * dt)


def ic_rule(e: FootEvent, t: np.ndarray, w: np.ndarray) -> str:
    """Which rule of ``events.py`` decided an IC: ``"zero_crossing"`` when the IC lies exactly
    on the upward zero crossing of the pitch rate ``w`` (rad/s, the foot-frame gyr_y the tracker
    saw; ``t`` its times) between its sample and the one before, interpolated as the detector
    does; otherwise ``"impact"`` (the impact onset, or a first step out of standing, which is
    decided by its landing impact)."""
    i = e.sample_index
    if 1 <= i < len(w) and w[i - 1] < 0.0 <= w[i]:
        w0, w1 = w[i - 1], w[i]
        frac = min(max((-w0) / (w1 - w0) if w1 != w0 else 1.0, 0.0), 1.0)
        if abs(t[i - 1] + frac * (t[i] - t[i - 1]) - e.time_s) <= 1e-9:
            return "zero_crossing"
    return "impact"


def strike_features(s: FootStride, t: np.ndarray, acc: np.ndarray, w: np.ndarray, jerk_mps3: float) -> dict:
    """How one stride's foot lands (the tracker's own samples ``t``, foot-frame ``acc``, pitch
    rate ``w``): ``fsa_deg`` foot strike angle (foot sagittal angle at IC from the stride's
    orientation, positive = toes up, as runform.core.metrics reports it; > 8 deg rearfoot,
    Altman & Davis 2012); ``slap_deg`` toes-down rotation from the first sample at/after IC with
    ``w >= 0`` until ``w`` is negative again (the foot slap of a heel strike, about the heel;
    a forefoot strike turns toes-up first); ``shock_after_ic_ms`` the first sample from IC on
    where ``|f|`` rises faster than ``jerk_mps3`` (the impact); ``shock_before_ic``: whether
    ``|f|`` rose that fast anywhere in the 100 ms before IC."""
    from runform.anatomy import foot_sagittal_angle
    from runform.rotations import quat_to_matrix

    i = int(np.searchsorted(t, s.ic_time_s))
    fsa = float(foot_sagittal_angle(quat_to_matrix(s.orientation_at(s.ic_time_s))) * DEG_PER_RAD)
    pos = np.flatnonzero(w[i : i + 60] >= 0.0)
    slap = 0.0
    if pos.size:
        k = i + int(pos[0])
        neg = np.flatnonzero(w[k : k + 120] < 0.0)
        e = k + (int(neg[0]) if neg.size else min(120, len(w) - k))
        slap = float(np.sum(w[k:e] * np.diff(t[k : e + 1])) * DEG_PER_RAD) if e + 1 <= len(t) else float("nan")
    f = np.linalg.norm(acc[max(i - 60, 0) : i + 60], axis=1)
    tt = t[max(i - 60, 0) : i + 60]
    j = np.diff(f) / np.diff(tt)  # j[k]: rise rate into sample k + 1
    after = np.flatnonzero((j > jerk_mps3) & (tt[1:] >= s.ic_time_s))
    before = (j > jerk_mps3) & (tt[1:] < s.ic_time_s) & (tt[1:] >= s.ic_time_s - 0.1)
    return dict(fsa_deg=fsa, slap_deg=slap,
                shock_after_ic_ms=float((tt[1 + after[0]] - s.ic_time_s) * 1000) if after.size else float("nan"),
                shock_before_ic=bool(before.any()))


def sensor_height_from_push_off(s: FootStride, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray,
                                 end_before_to_s: float = 0.02) -> float:
    """The foot sensor's height (m) above the point the foot pivots about in push-off, from the
    IMU alone (no Vicon): from mid-stance to ``end_before_to_s`` before TO the heel rises about
    the forefoot on the ground, so the sensor's acceleration is that of a point ``(0, 0, h)``
    above a still pivot, ``w' x r + w x (w x r)``: foot-frame x ``h (w'_y + w_x w_z)``, y
    ``h (-w'_x + w_y w_z)``. ``acc - gravity`` (gravity from the stride's orientation) against
    those terms, least squares for ``h`` over the window (NaN when too short). ``t``, ``acc``,
    ``gyr`` the tracker's foot-frame samples. The product's ``sensor_height_m`` (the contact
    under the sensor is still at mid-stance; strapdown.SENSOR_HEIGHT_M) can be checked with it."""
    from runform.rotations import quat_to_matrix

    a, b = np.searchsorted(t, [s.midstance_time_s, s.to_time_s - end_before_to_s])
    if b - a < 5:
        return float("nan")
    k = np.arange(a, b)
    r = quat_to_matrix(np.array([s.orientation_at(x) for x in t[k]]))
    f = acc[k] - r[:, 2, :] * STANDARD_GRAVITY_MPS2  # minus gravity's reaction in the foot frame
    w = gyr[k]
    wd = np.gradient(gyr[a - 1 : b + 1], t[a - 1 : b + 1], axis=0)[1:-1]
    x = np.concatenate([wd[:, 1] + w[:, 0] * w[:, 2], -wd[:, 0] + w[:, 1] * w[:, 2]])
    y = np.concatenate([f[:, 0], f[:, 1]])
    return float(x @ y / (x @ x)) if x @ x > 0 else float("nan")


def bench_pyshoe(name: str, data: Path = DATA, block: int | None = None, params: FootParams | None = None,
                 calibration: str = "offline", strides_out: list | None = None) -> dict:
    """Stance recall/precision, stride time and stride length errors on one pyshoe trial.

    References (docs/validation-foot.md): stances from the Vicon foot speed
    (:func:`vicon_speed_stances`); stride time from consecutive reference stance starts, and
    (second figure) from consecutive landings, (third, sixth shift) from consecutive slap
    references (:func:`vicon_slap`); their disagreement with each other is printed as a measure
    of the references' own timing noise, and each series' own noise is estimated by
    :func:`three_cornered_hat` (ours, starts, landings, slaps); stride length from the
    cleaned Vicon positions at the detected mid-stance instants. Also printed: which rule
    decided each IC (:func:`ic_rule`), how the foot lands (:func:`strike_features`) and where
    the Vicon events lie after our IC. ``strides_out``: a list to which one dict per stride
    (times, rules, errors against every reference, strike features) is appended."""
    d = load_pyshoe(name, data)
    t = d["t"]
    rate = 1.0 / np.median(np.diff(t))
    bias = standing_gyro_bias(t, d["gyr"])
    gyr_s = d["gyr"] - bias
    clip_acc = (np.abs(d["acc"]) >= 0.98 * PYSHOE_ACC_RANGE_MPS2).any(axis=1)
    clip_gyr = (np.abs(d["gyr"]) >= PYSHOE_GYR_CLIP_RPS).any(axis=1)
    info: dict = {}
    if calibration == "core":
        # IMU on the right shoe (README); the product's calibration on the raw samples
        acc, gyr, keep, cal = align_core("right_foot", t, d["acc"], d["gyr"], rate)
        info = calibration_info(cal, align_offline(d["acc"], gyr_s, rate))
        if cal is None:
            ev, st = [], []
        else:
            bias = cal.gyro_bias_rps
            ev, st = run_tracker(t[keep], acc, gyr, rate, params=params, block=block,
                                 clip_acc=clip_acc[keep], clip_gyr=clip_gyr[keep])
        t_run = t if keep is None else t[keep]
    else:
        r = align_offline(d["acc"], gyr_s, rate)
        acc, gyr = d["acc"] @ r.T, gyr_s @ r.T
        ev, st = run_tracker(t, acc, gyr, rate, params=params, block=block, clip_acc=clip_acc, clip_gyr=clip_gyr)
        t_run = t
    ref, gait, landing = vicon_speed_stances(d["gt"], t)
    ref_lab = vicon_stances(d["zv"], t)
    tos = {e.stance_index: e.time_s for e in ev if e.kind == "to"}
    det = np.array([(e.time_s, tos[e.stance_index]) for e in ev if e.kind == "ic" and e.stance_index in tos]).reshape(-1, 2)
    recall, precision, ov = _overlap_stats(det, ref, gait)
    recall_lab, precision_lab, _ = _overlap_stats(det, ref_lab, (ref_lab[:, 1] - ref_lab[:, 0]) <= STANDING_S)
    missed = [f"{a:.2f}-{b:.2f}" for (a, b) in ref[gait & ~ov.any(axis=0)]]
    extra = [f"{a:.2f}" for (a, _) in det[~ov.any(axis=1)]]
    # stride time: the reference stances matched by this stride's stance and by its next one
    st_err, st_err_land, ref_vs_ref, ic_lead, len_err, len_rel = [], [], [], [], [], []
    _, unknown, pos = vicon_speed(d["gt"], t)
    slap = vicon_slap(pos, t, landing)
    w_run = gyr[:, 1] if ev else np.zeros(0)
    jerk_thr = (params or FootParams()).impact_jerk_mps3 or 3000.0
    rules = {e.stance_index: ic_rule(e, t_run, w_run) for e in ev if e.kind == "ic"}
    rule_at = {e.time_s: rules[e.stance_index] for e in ev if e.kind == "ic"}
    hat: dict = {k: [] for k in ("ic", "start", "landing", "slap")}
    st_err_slap, slap_vs_start, offs, strike = [], [], {"start": [], "landing": [], "slap": []}, []
    heights, ms_gyr, ms_marker = [], [], []
    from scipy.signal import savgol_filter

    vel_m = np.gradient(savgol_filter(pos, 9, 2, axis=0), t, axis=0)  # as vicon_speed
    for s in st:
        sf = strike_features(s, t_run, acc, w_run, jerk_thr)
        i0 = int(np.searchsorted(t, s.ic_time_s))
        sf["marker_drop_mm"] = float((np.interp(s.ic_time_s, t, pos[:, 2]) - pos[i0 : i0 + 40, 2].min()) * 1000)
        strike.append(sf)
        k0 = np.flatnonzero((ref[:, 0] <= s.to_time_s) & (ref[:, 1] >= s.ic_time_s))
        k1 = np.flatnonzero((ref[:, 0] <= s.next_ic_time_s + 0.25) & (ref[:, 1] >= s.next_ic_time_s))
        if k0.size == 1 and k1.size == 1 and k1[0] == k0[0] + 1 and gait[k0[0]] and gait[k1[0]]:
            ref_start = ref[k1[0], 0] - ref[k0[0], 0]
            ref_land = landing[k1[0]] - landing[k0[0]]
            st_err.append(s.stride_time_s - ref_start)
            st_err_land.append(s.stride_time_s - ref_land)
            ref_vs_ref.append(ref_land - ref_start)
            ic_lead.append(ref[k0[0], 0] - s.ic_time_s)
            ref_slap = slap[k1[0]] - slap[k0[0]]
            st_err_slap.append(s.stride_time_s - ref_slap)
            slap_vs_start.append(ref_slap - ref_start)
            for key, val in (("ic", s.stride_time_s), ("start", ref_start), ("landing", ref_land), ("slap", ref_slap)):
                hat[key].append(val)
            for key, ev_t in (("start", ref[k0[0], 0]), ("landing", landing[k0[0]]), ("slap", slap[k0[0]])):
                offs[key].append(ev_t - s.ic_time_s)
            if strides_out is not None:
                strides_out.append(dict(
                    ic_time_s=s.ic_time_s, stride_time_ms=s.stride_time_s * 1000,
                    rules=f"{rule_at.get(s.ic_time_s, '?')}/{rule_at.get(s.next_ic_time_s, '?')}",
                    err_vs_start_ms=(s.stride_time_s - ref_start) * 1000,
                    err_vs_landing_ms=(s.stride_time_s - ref_land) * 1000,
                    err_vs_slap_ms=(s.stride_time_s - ref_slap) * 1000,
                    start_after_ic_ms=(ref[k0[0], 0] - s.ic_time_s) * 1000,
                    landing_after_ic_ms=(landing[k0[0]] - s.ic_time_s) * 1000,
                    slap_after_ic_ms=(slap[k0[0]] - s.ic_time_s) * 1000, **sf))
        heights.append(sensor_height_from_push_off(s, t_run, acc, gyr))
        k_ms = int(np.searchsorted(t_run, s.midstance_time_s))
        ms_gyr.append(float(np.linalg.norm(gyr[min(k_ms, len(t_run) - 1)])))
        ms_marker.append(float(np.hypot(*(np.interp(s.midstance_time_s, t, vel_m[:, j]) for j in range(2)))))
        if np.isfinite(s.stride_length_m):
            p0 = np.array([np.interp(s.midstance_time_s, t, pos[:, j]) for j in range(2)])
            p1 = np.array([np.interp(s.next_midstance_time_s, t, pos[:, j]) for j in range(2)])
            L = float(np.hypot(*(p1 - p0)))
            len_err.append(s.stride_length_m - L)
            len_rel.append((s.stride_length_m - L) / L)
    st_err, st_err_land, ref_vs_ref, len_err, len_rel = map(np.array, (st_err, st_err_land, ref_vs_ref, len_err, len_rel))
    st_err_slap, slap_vs_start = np.array(st_err_slap), np.array(slap_vs_start)
    med_ms = lambda x: float(np.median(np.abs(x)) * 1000) if x.size else float("nan")  # noqa: E731

    def pct_ms(x, q):  # q-th percentile of |x| in ms over the finite entries (None without any)
        x = np.abs(np.asarray(x, float))
        x = x[np.isfinite(x)]
        return float(np.percentile(x, q) * 1000) if x.size else None

    def med_iqr(x, scale=1.0):  # "median (q25..q75)" over the finite entries, times scale
        x = np.asarray(x, float)
        x = x[np.isfinite(x)] * scale
        return f"{np.median(x):.1f} ({np.percentile(x, 25):.1f}..{np.percentile(x, 75):.1f})" if x.size else "-"

    def med_range(x):  # "median (min..max)" over the finite entries
        x = np.asarray(x, float)
        x = x[np.isfinite(x)]
        return f"{np.median(x):.1f} ({x.min():.1f}..{x.max():.1f})" if x.size else "-"

    fsa = np.array([f["fsa_deg"] for f in strike])
    slap_deg = np.array([f["slap_deg"] for f in strike])
    shock = np.array([f["shock_after_ic_ms"] for f in strike])
    sd = three_cornered_hat({k: np.array(v) for k, v in hat.items()})
    rule_list = list(rules.values())
    turns = np.array([s.heading_change_rad for s in st if np.isfinite(s.heading_change_rad)])
    return dict(
        rate_hz=float(rate), gyro_bias_dps=float(np.linalg.norm(bias) * DEG_PER_RAD),
        n_ref_stances=int(gait.sum()), n_ref_standing=int((~gait).sum()),
        n_detected=int(len(det)), recall=recall, precision=precision,
        recall_vs_labels=recall_lab, precision_vs_labels=precision_lab,
        missed_s=" ".join(missed) or "-", extra_s=" ".join(extra) or "-",
        n_strides=len(st), n_stride_time_compared=int(st_err.size), n_length_compared=int(len_rel.size),
        heading_change_median_deg=float(np.median(turns) * DEG_PER_RAD) if turns.size else float("nan"),
        n_turn_flagged=int(sum("turn" in s.flags for s in st)),
        n_clipped_acc=int(sum("clipped_acc" in s.flags for s in st)),
        n_clipped_gyr=int(sum("clipped_gyr" in s.flags for s in st)),
        stride_time_med_abs_ms=med_ms(st_err),
        stride_time_bias_ms=float(np.median(st_err) * 1000) if st_err.size else float("nan"),
        stride_time_p90_abs_ms=pct_ms(st_err, 90), stride_time_max_abs_ms=pct_ms(st_err, 100),
        stride_time_vs_landing_med_abs_ms=med_ms(st_err_land),
        vicon_start_vs_landing_stride_time_med_abs_ms=med_ms(ref_vs_ref),
        vicon_start_vs_landing_stride_time_p90_abs_ms=pct_ms(ref_vs_ref, 90),
        stride_time_vs_slap_med_abs_ms=pct_ms(st_err_slap, 50), stride_time_vs_slap_p90_abs_ms=pct_ms(st_err_slap, 90),
        vicon_slap_vs_start_stride_time_med_abs_ms=pct_ms(slap_vs_start, 50),
        hat_sd_ms=" ".join(f"{k}:{'n/a' if v is None else f'{v * 1000:.1f}'}" for k, v in sd.items()),
        n_ic_zero_crossing=rule_list.count("zero_crossing"), n_ic_impact=rule_list.count("impact"),
        vicon_after_ic_ms=" ".join(f"{k}:{med_iqr(v, 1000)}" for k, v in offs.items()),
        foot_strike_angle_deg=med_iqr(fsa),
        n_rearfoot=int((fsa > 8.0).sum()), n_forefoot=int((fsa < -1.6).sum()),
        slap_deg=f"{np.median(slap_deg):.1f}" if slap_deg.size else "-",
        marker_drop_after_ic_mm=f"{np.median([f['marker_drop_mm'] for f in strike]):.1f}" if strike else "-",
        vicon_delay_vs_imu_ms=vicon_delay_vs_imu_s(t, d["acc"], pos, unknown) * 1000,
        shock_after_ic_ms=med_range(shock),
        n_shock_before_ic=int(sum(f["shock_before_ic"] for f in strike)),
        ic_to_vicon_stance_start_ms=float(np.median(ic_lead) * 1000) if ic_lead else float("nan"),
        stride_length_med_abs_pct=float(np.median(np.abs(len_rel)) * 100) if len_rel.size else float("nan"),
        stride_length_med_abs_m=float(np.median(np.abs(len_err))) if len_err.size else float("nan"),
        stride_length_bias_pct=float(np.median(len_rel) * 100) if len_rel.size else float("nan"),
        stride_length_p90_abs_pct=float(np.percentile(np.abs(len_rel), 90) * 100) if len_rel.size else float("nan"),
        # why the foot is not still at mid-stance (docs/validation-foot.md, "Stride length bias"):
        # |w| there, the Vicon marker's horizontal speed there, and the sensor's height above the
        # push-off pivot from the IMU alone (median (q25..q75) over strides, m)
        midstance_gyr_dps=float(np.median(ms_gyr) * DEG_PER_RAD) if ms_gyr else float("nan"),
        midstance_marker_speed_mps=float(np.median(ms_marker)) if ms_marker else float("nan"),
        sensor_height_push_off_m=(lambda x: f"{np.median(x):.3f} ({np.percentile(x, 25):.3f}..{np.percentile(x, 75):.3f})"
                                  if x.size else "-")(np.array([h for h in heights if np.isfinite(h)])),
        **info,
    )


# ---------------------------------------------------------------------------- hugadb
def bench_hugadb(path: Path, calibration: str = "offline") -> dict:
    """Per foot: strides, flags, and whether the run finished without error."""
    h = load_hugadb(path)
    t = h["t"]
    out = {}
    for foot in ("right_foot", "left_foot"):
        d = h[foot]
        info: dict = {}
        try:
            if calibration == "core":
                acc, gyr, keep, cal = align_core(foot, t, d["acc"], d["gyr"], HUGADB_FS)
                info = calibration_info(cal, align_offline(d["acc"], d["gyr"], HUGADB_FS))
                ev, st = ([], []) if cal is None else run_tracker(
                    t[keep], acc, gyr, HUGADB_FS, clip_acc=d["clip_acc"][keep], clip_gyr=d["clip_gyr"][keep])
            else:
                r = align_offline(d["acc"], d["gyr"], HUGADB_FS)
                ev, st = run_tracker(t, d["acc"] @ r.T, d["gyr"] @ r.T, HUGADB_FS,
                                     clip_acc=d["clip_acc"], clip_gyr=d["clip_gyr"])
            ok = "ok"
        except Exception as exc:  # report, do not hide
            ev, st, ok = [], [], f"error: {exc!r}"
        stt = np.array([s.stride_time_s for s in st])
        out[foot] = dict(
            status=ok, n_ic=sum(e.kind == "ic" for e in ev), n_strides=len(st),
            n_valid=sum(s.valid for s in st),
            clipped_acc_frac=float(d["clip_acc"].mean()), clipped_gyr_frac=float(d["clip_gyr"].mean()),
            n_flag_clipped_acc=sum("clipped_acc" in s.flags for s in st),
            n_flag_clipped_gyr=sum("clipped_gyr" in s.flags for s in st),
            stride_time_median_s=float(np.median(stt)) if stt.size else float("nan"),
            stride_time_iqr_s=float(np.subtract(*np.percentile(stt, [75, 25]))) if stt.size else float("nan"),
            **info,
        )
    return out


# ---------------------------------------------------------------------------- Dorschky force plate
def bench_dorschky(kind: str, data: Path = DATA, params: FootParams | None = None) -> dict:
    """IC/TO of the tracker on the repeated Dorschky et al. 2019 mean stride against the force
    plate (signed errors in ms; TO against the 0.05 and 0.03 body-weight crossings) and the TO
    decision latency (look-ahead)."""
    d = load_dorschky(kind, data)
    ev, _ = run_tracker(d["t"], d["acc"], d["gyr"], 1.0 / (d["t"][1] - d["t"][0]), params=params)
    out = dict(sample_ms=float((d["t"][1] - d["t"][0]) * 1000))
    for kd, refs in (("ic", (("", d["ic"]),)), ("to", (("", d["to"]), ("_003bw", d["to_003"])))):
        x = np.array([e.time_s for e in ev if e.kind == kd])
        out[f"n_{kd}"] = int(x.size)
        for tag, ref in refs:
            err = np.array([xi - ref[np.argmin(np.abs(ref - xi))] for xi in x]) * 1000
            out[f"{kd}{tag}_err_ms"] = float(np.median(err)) if err.size else float("nan")
    lat = [e.lookahead_s * 1000 for e in ev if e.kind == "to"]
    out["to_lookahead_ms"] = float(np.median(lat)) if lat else float("nan")
    return out


# ---------------------------------------------------------------------------- virtual runner
SIM_RATE_HZ = 400.0
SIM_DURATION_S = 60.0


def bench_sim(profile: str, seed: int = 1, duration_s: float = SIM_DURATION_S) -> dict:
    """Virtual runner (runform.sim), random mounting, sensor errors on, 400 Hz: IC/TO errors vs
    the exact truth events, missed/extra strides, stride length vs the truth rows.

    Sensor-to-foot rotation and gyro bias: runform.core.calibration (standing start, then the
    first strides) when its result is ``ok``; otherwise the simulator's known mounting and bias
    (counted in ``n_known_mounting``). Samples beyond the sensor's range are clipped and flagged
    as the firmware would."""
    from runform.core.calibration import calibrate
    from runform.sim import VirtualRunner
    from runform.rotations import quat_to_matrix

    runner = VirtualRunner.from_profile(profile, seed=seed, placements=("left_foot", "right_foot"), bounded_memory=False)
    t = np.arange(0.0, duration_s, 1.0 / SIM_RATE_HZ)
    ic_err, to_err, len_rel = [], [], []
    missed = extra = n_known = n_strides = n_ref = 0
    truth_rows = runner.truth_strides(duration_s)
    for leg in ("left", "right"):
        pl = f"{leg}_foot"
        acc, gyr = runner.imu(pl, t)
        info = runner.sensor_info(pl)
        a_rng, g_rng = info.accel_range_g * STANDARD_GRAVITY_MPS2, info.gyro_range_dps * RAD_PER_DEG
        clip_a, clip_g = (np.abs(acc) >= a_rng).any(axis=1), (np.abs(gyr) >= g_rng).any(axis=1)
        acc, gyr = np.clip(acc, -a_rng, a_rng), np.clip(gyr, -g_rng, g_rng)
        cal = calibrate(pl, t, acc, gyr, SIM_RATE_HZ)
        if cal is not None and cal.ok:
            acc_f, gyr_f = cal.apply(acc, gyr)
        else:
            n_known += 1
            m = quat_to_matrix(np.asarray(info.mounting_quat_wxyz, dtype=float))
            acc_f, gyr_f = acc @ m.T, (gyr - np.asarray(info.gyr_bias_dps) * RAD_PER_DEG) @ m.T
        ev, st = run_tracker(t, acc_f, gyr_f, SIM_RATE_HZ, clip_acc=clip_a, clip_gyr=clip_g)
        truth = runner.events(leg, duration_s)
        ic = np.array([e.time_s for e in ev if e.kind == "ic"])
        to = np.array([e.time_s for e in ev if e.kind == "to"])
        e_ic = match(truth["ic"], ic, 0.1)
        e_to = match(truth["to"], to, 0.1)
        ic_err.append(e_ic)
        to_err.append(e_to)
        # strides: each truth stride (IC -> next IC) should be one detected stride
        rows = [r for r in truth_rows if r["leg"] == leg]
        n_ref += len(rows)
        det_ic = np.array([s.ic_time_s for s in st])
        for r in rows:
            k = np.flatnonzero(np.abs(det_ic - r["ic_time_s"]) <= 0.05) if det_ic.size else np.array([], int)
            if k.size == 0:
                missed += 1
                continue
            s_ = st[int(k[0])]
            n_strides += 1
            if np.isfinite(s_.stride_length_m) and r["stride_length_m"] not in ("", None):
                L = float(r["stride_length_m"])
                len_rel.append((s_.stride_length_m - L) / L)
        t_ref_ic = np.array([r["ic_time_s"] for r in rows])
        extra += int(sum(not np.any(np.abs(t_ref_ic - x) <= 0.05) for x in det_ic))
    ic_all, to_all, len_rel = np.concatenate(ic_err), np.concatenate(to_err), np.array(len_rel)
    return dict(
        n_truth_strides=n_ref, n_matched=n_strides, missed_strides=missed, extra_strides=extra,
        ic_missed=int(np.isnan(ic_all).sum()), to_missed=int(np.isnan(to_all).sum()),
        ic_med_abs_ms=float(np.nanmedian(np.abs(ic_all)) * 1000), ic_bias_ms=float(np.nanmedian(ic_all) * 1000),
        to_med_abs_ms=float(np.nanmedian(np.abs(to_all)) * 1000), to_bias_ms=float(np.nanmedian(to_all) * 1000),
        stride_length_med_abs_pct=float(np.median(np.abs(len_rel)) * 100) if len_rel.size else float("nan"),
        stride_length_bias_pct=float(np.median(len_rel) * 100) if len_rel.size else float("nan"),
        stride_length_max_abs_pct=float(np.max(np.abs(len_rel)) * 100) if len_rel.size else float("nan"),
        n_known_mounting=n_known,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--only", choices=("gaitmap", "pyshoe", "hugadb", "dorschky", "sim"))
    ap.add_argument("--calibration", choices=("offline", "core", "both"), default="offline",
                    help="sensor-to-foot alignment of the real recordings: the bench's align_offline, "
                         "the product's runform.core.calibration, or both side by side")
    ap.add_argument("--strides", action="store_true",
                    help="pyshoe: also one line per stride (IC rules, stride-time errors against every Vicon "
                         "reference, where each lies after our IC, strike angle, slap, shock)")
    args = ap.parse_args(argv)
    cals = ("offline", "core") if args.calibration == "both" else (args.calibration,)
    fmt = lambda r, nd: ", ".join(f"{k}={v:.{nd}f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items())  # noqa: E731
    if not args.data.is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    if args.only in (None, "gaitmap"):
        print("== gaitmap_walking (mocap IC/TO and foot orientation), 204.8 Hz")
        res = {c: bench_gaitmap(args.data, calibration=c) for c in cals}
        for foot in ("left", "right"):
            for c in cals:
                print(f"  {foot} [{c}]: " + fmt(res[c][foot], 2))
    if args.only in (None, "pyshoe"):
        print("== pyshoe_dev (Vicon stances and foot position), ~200 Hz")
        for name in PYSHOE_RUNNING + PYSHOE_WALKING:
            for c in cals:
                rows: list = []
                r = bench_pyshoe(name, args.data, calibration=c, strides_out=rows)
                print(f"  {name} ({'running' if name in PYSHOE_RUNNING else 'walking'}) [{c}]: " + fmt(r, 3))
                if args.strides:
                    for row in rows:
                        print("      " + fmt(row, 1))
    if args.only in (None, "hugadb"):
        print("== hugadb_running (no reference; robustness), 58.8 Hz")
        for path in sorted((args.data / "hugadb_running").glob("HuGaDB_v1_*.txt")):
            res = {c: bench_hugadb(path, calibration=c) for c in cals}
            for foot in ("right_foot", "left_foot"):
                for c in cals:
                    print(f"  {path.name} {foot} [{c}]: " + fmt(res[c][foot], 3))
    if args.only in (None, "dorschky"):
        print("== dorschky_mean_stride (force-plate IC/TO of a mean stride, repeated 12 times)")
        try:
            import matio  # noqa: F401
        except ImportError:
            print("  skipped: reading the MATLAB tables needs mat-io (pip install mat-io)")
        else:
            for kind in ("running", "walking"):
                for feature in ("push_off_end", "pitch_peak"):
                    r = bench_dorschky(kind, args.data, FootParams(to_feature=feature))
                    print(f"  {kind} [to_feature={feature}]: " + fmt(r, 1))
    if args.only in (None, "sim"):
        from runform.sim import PROFILES

        print(f"== virtual runner (runform.sim), random mounting, noise on, {SIM_RATE_HZ:.0f} Hz, {SIM_DURATION_S:.0f} s, both feet")
        for name in PROFILES:
            r = bench_sim(name)
            print(f"  {name}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
