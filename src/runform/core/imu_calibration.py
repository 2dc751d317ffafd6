"""Table calibration of one IMU chip: scale, cross-axis and offset of its accelerometer and
gyroscope from one recording of the calibration procedure, as an :class:`ImuCorrection`.

Procedure (``runform imu-calibrate``): lay the sensor still in many different orientations (at
least ``MIN_POSES`` = 12, better ~18: its six faces, then tilted on corners and edges), 2-3 s
each, and turn it by hand between them. Method: Tedaldi, Pretto & Menegatti, "A robust and easy
to implement method for IMU calibration without external equipments", IEEE ICRA 2014,
pp. 3042-3049:

a. Still intervals: a centred moving window (``STILL_WINDOW_S``) of the accelerometer and the
   gyroscope; a sample is still when, on every axis, the window's standard deviation is below a
   threshold (``STILL_NOISE_FACTOR`` times the recording's noise floor, the
   ``NOISE_FLOOR_PERCENTILE``-th percentile of the window deviations, kept between the
   ``*_STILL_STD_MIN_*`` and ``*_STILL_STD_MAX_*`` constants) and the window's mean angular rate
   is within ``GYR_STILL_RATE_RPS`` of the gyroscope offset (so that a slow steady turn is not
   still). Runs of still samples of at least ``MIN_POSE_S`` (after trimming ``POSE_TRIM_S`` at
   each end) are poses; shorter ones (a hand that pauses) belong to the move around them.
b. Gyroscope offset: the mean rate of the poses; during a move it is interpolated linearly in
   time between the two poses' means (this follows the offset's random walk, Tedaldi use one
   constant). The returned ``gyr_bias_rps`` is the mean over all pose samples.
c. Accelerometer: ``corrected = T K (a - b)``, T upper-triangular with unit diagonal (3
   misalignments), K diagonal (3 scales), b the offset (3): 9 parameters minimising
   ``sum_poses (g^2 - |T K (a_mean - b)|^2)^2`` (scipy.optimize.least_squares, Levenberg-
   Marquardt), g = 9.80665 m/s^2. The upper-triangular form is general: any (I + S)^-1 is a
   rotation times an upper-triangular matrix (QR), so ``T K (I + S) = Q``, a rotation; the
   calibrated frame is that orthonormal frame, close to the chip's axes.
d. Gyroscope: a full 3x3 matrix (scale, cross-axis and its rotation relative to the
   accelerometer's calibrated frame), by integrating the corrected rate over each move between
   consecutive poses (exact per-sample rotation exponentials of the midpoint rate, composed by a
   vectorised parallel prefix product) and minimising the chord between the calibrated gravity
   direction after the move and the one before carried by the integrated rotation
   (Levenberg-Marquardt with the analytic first-order Jacobian of the composed rotation).
   Both matrices then map into the SAME orthonormal frame: the core may treat the corrected
   accelerometer and gyroscope as sharing axes.

Units: s, m/s^2, rad/s inside; degrees only in ``quality`` keys ending in ``_deg``.

Bad input, decided per case:

* ValueError (a caller's mistake, nothing to calibrate): shapes other than (n,), (n, 3),
  (n, 3); fewer than 2 samples; non-finite values; time not strictly increasing; a range that
  is not a positive number.
* ``state == "bad"`` with machine-readable ``reasons`` (a procedure that went wrong, to redo):
  ``no_static_interval`` (never still for ``MIN_POSE_S``), ``too_few_poses`` (< ``MIN_POSES``
  orientations: poses whose gravity directions are within ``MIN_POSE_SEPARATION_DEG`` count once),
  ``poses_not_spread`` (gravity directions too close to a cone or a plane), ``too_few_moves``
  (< ``MIN_MOVES`` usable moves), ``too_little_rotation`` (some axis never turned by
  ``MIN_ROTATION_PER_AXIS_DEG``), ``clipped`` (a pose has a sample at the accelerometer's or
  gyroscope's range; only checked when the range is given), ``acc_residual_high``,
  ``gyro_residual_high``, ``correction_out_of_range`` (the estimate is not a plausible
  :class:`ImuCorrection`). A bad result keeps its best estimate: ``correction`` when it is a
  valid ImuCorrection, and ``quality["estimate"]`` (plain lists) whenever a fit ran; the CLI
  must refuse a bad state.

Samples whose six channels are all exactly 0 are dropouts, as in the core (a sensor on Earth
always reads gravity): they are left out (counted in ``quality["n_dropout_samples"]``), so that a
move integrates across them like across a lost packet rather than reading a rate of 0.
Moves whose gyroscope clips or that contain a gap in time longer than ``MAX_SAMPLE_GAP_S`` are
left out of the gyroscope fit (counted in ``quality``). Time is the sensor's own timestamps: the
gyroscope's scale absorbs that clock's rate error (ppm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from ..rotations import quat_conj, quat_from_rotvec, quat_mul, quat_normalize, quat_rotate, quat_to_matrix, quat_to_rotvec
from ..units import DEG_PER_RAD, RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from .imu_correction import ImuCorrection

# ---------------------------------------------------------------- still detection
#: centred moving window of the still test (s)
STILL_WINDOW_S = 0.2
#: the still thresholds are this many times the noise floor ...
STILL_NOISE_FACTOR = 4.0
#: ... the noise floor being this percentile of the window standard deviations (per axis)
NOISE_FLOOR_PERCENTILE = 10.0
#: bounds of the accelerometer's still threshold (window standard deviation per axis, m/s^2)
ACC_STILL_STD_MIN_MPS2 = 0.01
ACC_STILL_STD_MAX_MPS2 = 0.15
#: bounds of the gyroscope's still threshold (window standard deviation per axis, rad/s)
GYR_STILL_STD_MIN_RPS = 0.1 * RAD_PER_DEG
GYR_STILL_STD_MAX_RPS = 2.0 * RAD_PER_DEG
#: a still window's mean rate is within this of the gyroscope offset (rad/s, vector norm)
GYR_STILL_RATE_RPS = 0.5 * RAD_PER_DEG
#: a still run shorter than this (after trimming) is not a pose (s)
MIN_POSE_S = 1.0
#: trimmed from each end of a still run before it is averaged (s)
POSE_TRIM_S = 0.05

# ---------------------------------------------------------------- acceptance
#: fewest poses: the accelerometer model has 9 parameters, and with 9-10 poses its fit is (nearly)
#: exactly determined: on the simulated sensors it then missed by up to 2e-2 (9) and 3e-3 (10)
#: in scale/cross-axis, against 3e-4 with 12 and 2e-4 with 18 (the recommended number)
MIN_POSES = 12
#: poses whose gravity directions (in the sensor) are closer than this count as one orientation
#: towards MIN_POSES (deg): a face laid down again adds no direction to the accelerometer's fit.
#: The procedure's faces, corners and edges are >= 35 deg apart; a hand repeats one within a few
MIN_POSE_SEPARATION_DEG = 10.0
#: smallest eigenvalue of the mean outer product of the poses' unit gravity directions (their
#: three eigenvalues sum to 1; 1/3 each for directions spread over the sphere, ~0 in a cone or plane)
MIN_POSE_SPREAD = 0.1
#: fewest usable moves for the gyroscope's 9 parameters (each move constrains 2)
MIN_MOVES = 6
#: every calibrated axis must be turned by at least this much in one move (deg)
MIN_ROTATION_PER_AXIS_DEG = 45.0
#: largest accepted RMS over poses of |corrected acc| - g (m/s^2; ~0.003 for consumer parts)
ACC_RESIDUAL_MAX_MPS2 = 0.03
#: largest accepted RMS over moves of the gravity direction's angle error (deg; ~0.02 expected)
GYR_RESIDUAL_MAX_DEG = 0.3
#: a move with a gap between samples longer than this is not integrated (s)
MAX_SAMPLE_GAP_S = 0.05

_INT16_FULL_SCALE = 32768.0

REASONS = ("no_static_interval", "too_few_poses", "poses_not_spread", "too_few_moves", "too_little_rotation",
           "clipped", "acc_residual_high", "gyro_residual_high", "correction_out_of_range")


@dataclass(frozen=True, eq=False)
class ImuCalibrationResult:
    """The estimator's answer. ``state`` is ``"ready"`` (use ``correction``) or ``"bad"``
    (``reasons`` says why; ``correction`` may still hold the best estimate, not to be used)."""

    correction: ImuCorrection | None
    state: str
    reasons: tuple[str, ...]
    quality: dict[str, Any] = field(default_factory=dict)


def thresholds() -> dict[str, float]:
    """The named constants of this module, SI (JSON-able), as recorded in ``quality``."""
    return {"still_window_s": STILL_WINDOW_S, "still_noise_factor": STILL_NOISE_FACTOR,
            "noise_floor_percentile": NOISE_FLOOR_PERCENTILE,
            "acc_still_std_min_mps2": ACC_STILL_STD_MIN_MPS2, "acc_still_std_max_mps2": ACC_STILL_STD_MAX_MPS2,
            "gyr_still_std_min_rps": GYR_STILL_STD_MIN_RPS, "gyr_still_std_max_rps": GYR_STILL_STD_MAX_RPS,
            "gyr_still_rate_rps": GYR_STILL_RATE_RPS, "min_pose_s": MIN_POSE_S, "pose_trim_s": POSE_TRIM_S,
            "min_poses": MIN_POSES, "min_pose_separation_deg": MIN_POSE_SEPARATION_DEG, "min_pose_spread": MIN_POSE_SPREAD, "min_moves": MIN_MOVES,
            "min_rotation_per_axis_deg": MIN_ROTATION_PER_AXIS_DEG,
            "acc_residual_max_mps2": ACC_RESIDUAL_MAX_MPS2, "gyr_residual_max_deg": GYR_RESIDUAL_MAX_DEG,
            "max_sample_gap_s": MAX_SAMPLE_GAP_S, "gravity_mps2": STANDARD_GRAVITY_MPS2}


# ---------------------------------------------------------------- input
def _check_inputs(time_s, acc_mps2, gyr_rps, accel_range_g, gyro_range_dps):
    t = np.asarray(time_s, dtype=float)
    a = np.asarray(acc_mps2, dtype=float)
    w = np.asarray(gyr_rps, dtype=float)
    if t.ndim != 1:
        raise ValueError(f"time_s must be one-dimensional (n,), got shape {t.shape}")
    n = t.size
    for name, x in (("acc_mps2", a), ("gyr_rps", w)):
        if x.shape != (n, 3):
            raise ValueError(f"{name} must have shape (n, 3) = ({n}, 3) like time_s, got {x.shape}")
    if n < 2:
        raise ValueError(f"an IMU calibration needs a recording, got {n} sample(s)")
    for name, x in (("time_s", t), ("acc_mps2", a), ("gyr_rps", w)):
        bad = ~np.isfinite(x)
        if bad.any():
            first = int(np.argwhere(bad)[0][0])
            raise ValueError(f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf), the first at sample {first}")
    dt = np.diff(t)
    if np.any(dt <= 0):
        i = int(np.argmax(dt <= 0))
        raise ValueError(f"time_s must be strictly increasing; it goes from {t[i]!r} to {t[i + 1]!r} s at sample {i + 1}")
    for name, r in (("accel_range_g", accel_range_g), ("gyro_range_dps", gyro_range_dps)):
        if r is not None and not (isinstance(r, (int, float, np.floating, np.integer)) and math.isfinite(r) and r > 0):
            raise ValueError(f"{name} must be a positive number or None, got {r!r}")
    return t, a, w


# ---------------------------------------------------------------- still intervals
def _moving_mean_std(x: np.ndarray, win: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred moving mean and standard deviation (n, 3) over ``win`` samples (the window is
    shifted inwards at the ends)."""
    n = len(x)
    win = min(win, n)
    xc = x - x.mean(axis=0)
    c1 = np.concatenate([np.zeros((1, 3)), np.cumsum(xc, axis=0)])
    c2 = np.concatenate([np.zeros((1, 3)), np.cumsum(xc * xc, axis=0)])
    start = np.clip(np.arange(n) - win // 2, 0, n - win)
    s1 = c1[start + win] - c1[start]
    s2 = c2[start + win] - c2[start]
    mean = s1 / win
    var = np.maximum(s2 / win - mean * mean, 0.0)
    return mean + x.mean(axis=0), np.sqrt(var)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of the runs of True."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _still(t: np.ndarray, a: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    rate_hz = 1.0 / float(np.median(np.diff(t)))
    win = max(3, int(round(STILL_WINDOW_S * rate_hz)))
    _, sa = _moving_mean_std(a, win)
    mw, sw = _moving_mean_std(w, win)
    sa_max = sa.max(axis=1)
    sw_max = sw.max(axis=1)
    thr_a = float(np.clip(STILL_NOISE_FACTOR * np.percentile(sa_max, NOISE_FLOOR_PERCENTILE),
                          ACC_STILL_STD_MIN_MPS2, ACC_STILL_STD_MAX_MPS2))
    thr_w = float(np.clip(STILL_NOISE_FACTOR * np.percentile(sw_max, NOISE_FLOOR_PERCENTILE),
                          GYR_STILL_STD_MIN_RPS, GYR_STILL_STD_MAX_RPS))
    quiet = (sa_max < thr_a) & (sw_max < thr_w)
    offset = np.median(w[quiet], axis=0) if quiet.any() else np.zeros(3)
    still = quiet & (np.linalg.norm(mw - offset, axis=1) < GYR_STILL_RATE_RPS)
    return still, {"rate_hz": rate_hz, "acc_still_std_mps2": thr_a, "gyr_still_std_rps": thr_w}


def _count_distinct(acc_means: np.ndarray) -> int:
    """How many of the poses' gravity directions are at least MIN_POSE_SEPARATION_DEG from every
    one counted before them (in pose order)."""
    if len(acc_means) == 0:
        return 0
    u = acc_means / np.linalg.norm(acc_means, axis=1, keepdims=True)
    close = u @ u.T > math.cos(MIN_POSE_SEPARATION_DEG * RAD_PER_DEG)
    kept: list[int] = []
    for i in range(len(u)):  # a few dozen poses at most
        if not close[i, kept].any():
            kept.append(i)
    return len(kept)


# ---------------------------------------------------------------- accelerometer
def _acc_matrix(x: np.ndarray) -> np.ndarray:
    tk = np.array([[1.0, x[3], x[4]], [0.0, 1.0, x[5]], [0.0, 0.0, 1.0]])
    return tk * x[:3]  # T @ diag(K): column j scaled by K_j


def _fit_acc(acc_means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g2 = STANDARD_GRAVITY_MPS2**2

    def residual(x):
        v = (acc_means - x[6:9]) @ _acc_matrix(x).T
        return g2 - np.sum(v * v, axis=1)

    x0 = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    sol = least_squares(residual, x0, method="lm", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    return _acc_matrix(sol.x), sol.x[6:9].copy()


# ---------------------------------------------------------------- gyroscope
def _prefix_products(q: np.ndarray) -> np.ndarray:
    """Inclusive prefix quaternion products along axis 1 (Hillis-Steele scan, log2(L) steps):
    ``out[:, i] = q[:, 0] * q[:, 1] * ... * q[:, i]``."""
    out = q.copy()
    d = 1
    while d < out.shape[1]:
        out[:, d:] = quat_mul(out[:, :-d], out[:, d:])
        d *= 2
    return quat_normalize(out)


class _GyroFit:
    """Residuals and Jacobian of the gyroscope matrix over the moves (padded to one length;
    padding has zero angle)."""

    def __init__(self, ydt: np.ndarray, u_start: np.ndarray, u_end: np.ndarray):
        self.ydt = ydt  # (m, L, 3) bias-free midpoint rates times dt (rad)
        self.u_start = u_start
        self.u_end = u_end
        self._key: bytes | None = None

    def _integrate(self, x: np.ndarray):
        key = x.tobytes()
        if key != self._key:
            m = x.reshape(3, 3)
            c = _prefix_products(quat_from_rotvec(self.ydt @ m.T))
            c_end = c[:, -1]
            p = quat_rotate(quat_conj(c_end), self.u_start)
            self._key, self._state = key, (c, c_end, p)
        return self._state

    def residual(self, x: np.ndarray) -> np.ndarray:
        _, _, p = self._integrate(x)
        return (p - self.u_end).reshape(-1)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        # perturbing sample i's increment by d_i (its own frame) turns the move's end by
        # C_end^T C_i d_i (end frame), and the predicted direction p by p x (that)
        c, c_end, p = self._integrate(x)
        b = quat_to_matrix(quat_mul(quat_conj(c_end)[:, None, :], c))  # (m, L, 3, 3)
        j_theta = np.einsum("mlaj,mlk->majk", b, self.ydt).reshape(len(p), 3, 9)
        px = np.zeros((len(p), 3, 3))
        px[:, 0, 1], px[:, 0, 2], px[:, 1, 2] = -p[:, 2], p[:, 1], -p[:, 0]
        px[:, 1, 0], px[:, 2, 0], px[:, 2, 1] = p[:, 2], -p[:, 1], p[:, 0]
        return np.einsum("mab,mbk->mak", px, j_theta).reshape(-1, 9)

    def rotations(self, x: np.ndarray) -> np.ndarray:
        """Rotation vector (rad) of each move, in the frame at its start."""
        return quat_to_rotvec(self._integrate(x)[1])


# ---------------------------------------------------------------- estimator
def estimate_imu_correction(time_s, acc_mps2, gyr_rps, accel_range_g: float | None = None,
                            gyro_range_dps: float | None = None) -> ImuCalibrationResult:
    """Estimate one IMU chip's :class:`ImuCorrection` from one recording of the calibration
    procedure (module docstring): ``time_s`` (n,) strictly increasing sensor time (s),
    ``acc_mps2`` (n, 3) and ``gyr_rps`` (n, 3) raw sensor-frame samples in SI;
    ``accel_range_g`` / ``gyro_range_dps`` the full-scale ranges, for the clipping check
    (None: not checked). Raises ValueError for malformed input; a procedure that cannot give a
    trustworthy calibration returns ``state="bad"`` with reasons. Deterministic."""
    t, a, w = _check_inputs(time_s, acc_mps2, gyr_rps, accel_range_g, gyro_range_dps)
    quality: dict[str, Any] = {"duration_s": float(t[-1] - t[0]), "n_samples": int(t.size)}
    data = a.any(axis=1) | w.any(axis=1)
    quality["n_dropout_samples"] = int(t.size - np.count_nonzero(data))
    if not data.all():
        t, a, w = t[data], a[data], w[data]
        if t.size < 2:
            raise ValueError(f"an IMU calibration needs a recording, got {t.size} sample(s) that are not dropouts "
                             "(all six channels exactly 0)")
    reasons: list[str] = []

    still, still_thr = _still(t, a, w)
    quality["still_thresholds"] = still_thr
    trim = POSE_TRIM_S
    poses = []
    short = 0
    for i0, i1 in _runs(still):
        j0 = int(np.searchsorted(t, t[i0] + trim))
        j1 = int(np.searchsorted(t, t[i1 - 1] - trim, side="right"))
        if j1 - j0 >= 2 and t[j1 - 1] - t[j0] >= MIN_POSE_S:
            poses.append((j0, j1))
        else:
            short += 1
    quality.update(n_poses=len(poses), n_short_still_intervals=short, thresholds=thresholds())
    if not poses:
        return ImuCalibrationResult(None, "bad", ("no_static_interval",), quality)

    # clipping in a pose (the LSB-rounded full scale: codes 32767 / -32768)
    clip = np.zeros(len(t), bool)
    if accel_range_g is not None:
        a_fs = accel_range_g * STANDARD_GRAVITY_MPS2
        clip |= np.any(np.abs(a) >= a_fs * (1.0 - 1.5 / _INT16_FULL_SCALE), axis=1)
    gclip = np.zeros(len(t), bool)
    if gyro_range_dps is not None:
        g_fs = gyro_range_dps * RAD_PER_DEG
        gclip = np.any(np.abs(w) >= g_fs * (1.0 - 1.5 / _INT16_FULL_SCALE), axis=1)
    pose_clipped = np.array([bool(clip[j0:j1].any() or gclip[j0:j1].any()) for j0, j1 in poses])
    quality["n_poses_clipped"] = int(pose_clipped.sum())
    if pose_clipped.any():
        reasons.append("clipped")

    acc_means = np.array([a[j0:j1].mean(axis=0) for j0, j1 in poses])
    gyr_means = np.array([w[j0:j1].mean(axis=0) for j0, j1 in poses])
    pose_t = np.array([0.5 * (t[j0] + t[j1 - 1]) for j0, j1 in poses])
    n_pose_samples = np.array([j1 - j0 for j0, j1 in poses])
    good = ~pose_clipped
    n_good = int(good.sum())
    quality["n_poses_used"] = n_good
    n_distinct = _count_distinct(acc_means[good])
    quality["n_distinct_poses"] = n_distinct
    if n_distinct < MIN_POSES:
        reasons.append("too_few_poses")

    u_raw = acc_means[good] / np.linalg.norm(acc_means[good], axis=1, keepdims=True)
    spread = max(0.0, float(np.linalg.eigvalsh(u_raw.T @ u_raw / max(n_good, 1))[0])) if n_good else 0.0
    quality["pose_spread"] = spread
    if spread < MIN_POSE_SPREAD:
        reasons.append("poses_not_spread")
    gyr_bias = (gyr_means * n_pose_samples[:, None]).sum(axis=0) / n_pose_samples.sum()

    if n_good < 9:  # the accelerometer model's parameter count: nothing to fit
        return ImuCalibrationResult(None, "bad", tuple(dict.fromkeys(reasons)), quality)

    acc_matrix, acc_bias = _fit_acc(acc_means[good])
    acc_cal = (acc_means - acc_bias) @ acc_matrix.T
    acc_norm = np.linalg.norm(acc_cal, axis=1)
    acc_rms = float(np.sqrt(np.mean((acc_norm[good] - STANDARD_GRAVITY_MPS2) ** 2)))
    quality["acc_residual_rms_mps2"] = acc_rms
    if acc_rms > ACC_RESIDUAL_MAX_MPS2:
        reasons.append("acc_residual_high")
    u_cal = acc_cal / acc_norm[:, None]

    # moves between consecutive poses, from the last still sample of one to the first of the next
    bias_t = np.stack([np.interp(t, pose_t, gyr_means[:, k]) for k in range(3)], axis=1)
    y = w - bias_t
    y_mid = 0.5 * (y[:-1] + y[1:])
    dt = np.diff(t)
    moves, n_gap, n_clip = [], 0, 0
    for k in range(len(poses) - 1):
        if not (good[k] and good[k + 1]):
            continue
        i0, i1 = poses[k][1] - 1, poses[k + 1][0]
        if np.any(dt[i0:i1] > MAX_SAMPLE_GAP_S):
            n_gap += 1
            continue
        if gclip[i0:i1 + 1].any():
            n_clip += 1
            continue
        moves.append((k, i0, i1))
    quality.update(n_moves=len(moves), n_moves_with_gap=n_gap, n_moves_clipped=n_clip)
    gyr_matrix = np.eye(3)
    if len(moves) < MIN_MOVES:
        reasons.append("too_few_moves")
    if len(moves) >= 3:  # at least as many residuals as parameters (each move gives 3, 2 independent)
        length = max(i1 - i0 for _, i0, i1 in moves)
        steps = np.arange(length)
        idx = np.array([i0 for _, i0, _ in moves])[:, None] + steps
        n_steps = np.array([i1 - i0 for _, i0, i1 in moves])
        mask = steps[None, :] < n_steps[:, None]
        idx = np.where(mask, idx, 0)
        ydt = np.where(mask[..., None], y_mid[idx] * dt[idx][..., None], 0.0)
        ks = np.array([k for k, _, _ in moves])
        fit = _GyroFit(ydt, u_cal[ks], u_cal[ks + 1])
        sol = least_squares(fit.residual, np.eye(3).reshape(-1), jac=fit.jacobian, method="lm",
                            xtol=1e-12, ftol=1e-12, gtol=1e-12)
        gyr_matrix = sol.x.reshape(3, 3)
        p = quat_rotate(quat_conj(fit._integrate(sol.x)[1]), u_cal[ks])
        ang = np.arctan2(np.linalg.norm(np.cross(p, u_cal[ks + 1]), axis=1), np.sum(p * u_cal[ks + 1], axis=1))
        gyr_rms = float(np.sqrt(np.mean(ang**2)) * DEG_PER_RAD)
        rot_deg = np.max(np.abs(fit.rotations(sol.x)), axis=0) * DEG_PER_RAD
        quality["gyro_residual_rms_deg"] = gyr_rms
        quality["max_rotation_per_axis_deg"] = rot_deg.tolist()
        if gyr_rms > GYR_RESIDUAL_MAX_DEG:
            reasons.append("gyro_residual_high")
        if float(rot_deg.min()) < MIN_ROTATION_PER_AXIS_DEG:
            reasons.append("too_little_rotation")
    else:
        reasons.append("too_little_rotation")

    quality["estimate"] = {"acc_matrix": acc_matrix.tolist(), "acc_bias_mps2": acc_bias.tolist(),
                           "gyr_matrix": gyr_matrix.tolist(), "gyr_bias_rps": gyr_bias.tolist()}
    try:
        correction = ImuCorrection(acc_matrix, acc_bias, gyr_matrix, gyr_bias)
    except ValueError as e:
        correction = None
        reasons.append("correction_out_of_range")
        quality["correction_error"] = str(e)
    reasons_t = tuple(dict.fromkeys(reasons))
    return ImuCalibrationResult(correction, "bad" if reasons_t else "ready", reasons_t, quality)
