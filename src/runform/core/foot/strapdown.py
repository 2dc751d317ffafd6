"""Foot orientation and displacement over one stride (pure, vectorised).

Method: zero-velocity-aided strapdown integration between two mid-stance instants.

* Tilt: the first guess is gravity at the first mid-stance (mean specific force over a short
  window gives pitch and roll; heading is set to zero, no magnetometer).
* Orientation: the body-frame rotation increments ``exp(w dt / 2)`` (trapezoidal rate) are
  chained with a parallel prefix product (log2(n) vectorised quaternion products) forwards
  from this mid-stance to the next one and backwards to this stride's IC. The remaining tilt
  error is then estimated from the velocity that is left at the next mid-stance (gravity
  leaking through a tilt error makes it grow linearly) and removed (``tilt="velocity"``, the
  default; see :func:`integrate_stride` for the alternatives).
* Velocity: world-frame acceleration minus gravity, integrated (trapezoid) from zero; the
  velocity still left at the next mid-stance (which must be zero) is removed linearly in time,
  and the corrected velocity is integrated to the displacement.

Sources: Foxlin 2005 (IEEE CG&A 25:38, zero-velocity updates for foot-mounted INS); Skog et al.
2010 (IEEE TBME 57:2657, zero-velocity detection); Zrenner et al. 2018 (Sensors 18:4194, stride
length/velocity in running with linear de-drift between stance phases); Rampp et al. 2015
(IEEE TBME 62:1089, per-stride integration with linear drift removal).
"""

from __future__ import annotations

import numpy as np

from ...rotations import (
    matrix_to_quat,
    quat_conj,
    quat_from_rotvec,
    quat_from_two_vectors,
    quat_mul,
    quat_normalize,
    quat_rotate,
    quat_to_rotvec,
    rot_x,
    rot_y,
)
from ...units import STANDARD_GRAVITY_MPS2

_Z = np.array([0.0, 0.0, 1.0])


def prefix_product(dq: np.ndarray) -> np.ndarray:
    """Cumulative Hamilton products ``P[i] = dq[0] * dq[1] * ... * dq[i]`` of (n, 4) quaternions
    (Hillis-Steele scan: O(n log n) work in log2(n) vectorised steps)."""
    p = np.array(dq, dtype=float, copy=True)
    n = p.shape[0]
    shift = 1
    while shift < n:
        p[shift:] = quat_mul(p[:-shift], p[shift:])
        shift *= 2
    return quat_normalize(p)


def tilt_quat(f_body: np.ndarray) -> np.ndarray:
    """Orientation (w, x, y, z) with yaw 0 whose tilt puts specific force ``f_body`` (3,) (m/s^2,
    body frame, at rest = gravity reaction, pointing up) on the world z axis."""
    fx, fy, fz = np.asarray(f_body, dtype=float)
    roll = np.arctan2(fy, fz)
    pitch = np.arctan2(-fx, np.hypot(fy, fz))
    return matrix_to_quat(rot_y(pitch) @ rot_x(roll))


def increments(t_s: np.ndarray, gyr_rps: np.ndarray) -> np.ndarray:
    """Body-frame rotation increments (n-1, 4) between consecutive samples (trapezoidal rate)."""
    dt = np.diff(t_s)[:, None]
    w_mid = 0.5 * (gyr_rps[1:] + gyr_rps[:-1])
    return quat_from_rotvec(w_mid * dt)


def integrate_stride(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_rps: np.ndarray,
    i_ms0: int,
    i_ms1: int,
    f_ms0: np.ndarray,
    f_ms1: np.ndarray,
    tilt: str = "velocity",
) -> tuple[np.ndarray, np.ndarray, float]:
    """Orientation over all samples and displacement between two mid-stances.

    ``t_s`` (n,), ``acc_mps2``/``gyr_rps`` (n, 3) cover the stride from its first needed sample
    (index 0, e.g. the IC) to at least ``i_ms1`` (the next mid-stance); ``i_ms0 < i_ms1`` are
    local indices; ``f_ms0``/``f_ms1`` the mean specific force at the two mid-stances.

    ``tilt`` chooses how the tilt (pitch, roll) is fixed:

    * ``"velocity"`` (default): the first guess is the gravity direction at the first
      mid-stance; the gyroscope alone carries it through the stride, and the remaining tilt
      error is estimated from the velocity left at the next mid-stance: a tilt error
      ``d`` (small rotation vector, world frame) leaks gravity into the horizontal acceleration
      (``g * (d_y, -d_x)``), so after ``T`` seconds the velocity that must be zero is
      ``g T (d_y, -d_x)``; the orientation is corrected by ``-d`` (two passes). This is the
      tilt observability of zero-velocity updates (Foxlin 2005; Skog et al. 2010) used once
      per stride. It does not trust the accelerometer as a gravity sensor at mid-stance, which
      matters in running, where the foot is never still (|f| - g of 1-2 m/s^2 at the
      stillest sample tilts a gravity reset by 5-10 deg and, spread over the stride, shortens
      it by 5-8 %; measured on pyshoe_dev, docs/validation-foot.md).
    * ``"gravity"``: tilt reset from gravity at the first mid-stance, the tilt error found at
      the next mid-stance spread linearly in time (the first FOOT version).
    * ``"none"``: gravity at the first mid-stance, then the gyroscope only (used when there is
      no next mid-stance, e.g. at a gap).

    Returns ``quat`` (i_ms1 + 1, 4) for samples 0..i_ms1, the displacement (3,) in m from the
    first to the second mid-stance (world frame, yaw 0 at the first), and the heading change
    (rad) at the second mid-stance.
    """
    dq = increments(t_s[: i_ms1 + 1], gyr_rps[: i_ms1 + 1])
    q0 = tilt_quat(f_ms0)
    rel = np.empty((i_ms1 + 1, 4))  # orientation relative to q0 (body rotation since i_ms0)
    rel[i_ms0] = (1.0, 0.0, 0.0, 0.0)
    if i_ms1 > i_ms0:
        rel[i_ms0 + 1 : i_ms1 + 1] = prefix_product(dq[i_ms0:i_ms1])
    if i_ms0 > 0:
        rel[:i_ms0] = prefix_product(quat_conj(dq[:i_ms0][::-1]))[::-1]
    quat = quat_mul(q0, rel)
    seg = slice(i_ms0, i_ms1 + 1)
    ts = t_s[seg]
    if i_ms1 > i_ms0 and tilt == "gravity":
        up_int = quat_rotate(quat[i_ms1], f_ms1)
        if np.linalg.norm(up_int) > 1e-6:
            corr = quat_to_rotvec(quat_from_two_vectors(up_int, _Z))
        else:  # no usable gravity at the next mid-stance (e.g. a dead accelerometer)
            corr = np.zeros(3)
        alpha = ((ts[1:] - ts[0]) / (ts[-1] - ts[0]))[:, None]
        quat[i_ms0 + 1 : i_ms1 + 1] = quat_normalize(
            quat_mul(quat_from_rotvec(alpha * corr), quat[i_ms0 + 1 : i_ms1 + 1])
        )
    if i_ms1 > i_ms0 and tilt == "velocity" and ts[-1] > ts[0]:
        span = ts[-1] - ts[0]
        for _ in range(2):
            v_end = _velocity(ts, quat[seg], acc_mps2[seg])[-1]
            d = np.array([-v_end[1], v_end[0], 0.0]) / (STANDARD_GRAVITY_MPS2 * span)
            if not np.all(np.isfinite(d)):
                break
            quat = quat_normalize(quat_mul(quat_from_rotvec(-d), quat))
    # velocity and displacement between the mid-stances (linear removal of what is left)
    v = _velocity(ts, quat[seg], acc_mps2[seg])
    dt = np.diff(ts)[:, None]
    frac = ((ts - ts[0]) / (ts[-1] - ts[0]))[:, None] if ts.size > 1 and ts[-1] > ts[0] else np.zeros((ts.size, 1))
    v = v - frac * v[-1]
    disp = np.sum(0.5 * (v[1:] + v[:-1]) * dt, axis=0) if ts.size > 1 else np.zeros(3)
    r_end = quat[i_ms1]
    x_end = quat_rotate(r_end, np.array([1.0, 0.0, 0.0]))
    heading = float(np.arctan2(x_end[1], x_end[0]))
    return quat, disp, heading


def _velocity(ts: np.ndarray, quat: np.ndarray, acc_mps2: np.ndarray) -> np.ndarray:
    """World-frame velocity (n, 3) in m/s from zero at ``ts[0]`` (trapezoid), gravity removed."""
    a_w = quat_rotate(quat, acc_mps2)
    a_w[:, 2] -= STANDARD_GRAVITY_MPS2
    v = np.zeros_like(a_w)
    if ts.size > 1:
        v[1:] = np.cumsum(0.5 * (a_w[1:] + a_w[:-1]) * np.diff(ts)[:, None], axis=0)
    return v
