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
    quat_conj,
    quat_from_rotvec,
    quat_from_two_vectors,
    quat_mul,
    quat_normalize,
    quat_rotate,
    quat_to_rotvec,
)
from ...units import STANDARD_GRAVITY_MPS2
from ..orientation import prefix_products, qmatrix, qmul, qnormalize, qrotate

_Z = np.array([0.0, 0.0, 1.0])


def prefix_product(dq: np.ndarray) -> np.ndarray:
    """Cumulative Hamilton products ``P[i] = dq[0] * dq[1] * ... * dq[i]`` of (n, 4) quaternions
    (Hillis-Steele scan: O(n log n) work in log2(n) vectorised steps), normalised."""
    return qnormalize(prefix_products([dq])[0])


def tilt_quat(f_body: np.ndarray) -> np.ndarray:
    """Orientation (w, x, y, z) with yaw 0 whose tilt puts specific force ``f_body`` (3,) (m/s^2,
    body frame, at rest = gravity reaction, pointing up) on the world z axis: ``Ry(pitch) Rx(roll)``
    in closed form (``w >= 0``; same rotation as ``matrix_to_quat(rot_y(pitch) @ rot_x(roll))``)."""
    fx, fy, fz = (float(v) for v in f_body)
    roll = np.arctan2(fy, fz)
    pitch = np.arctan2(-fx, np.hypot(fy, fz))
    cp, sp, cr, sr = np.cos(0.5 * pitch), np.sin(0.5 * pitch), np.cos(0.5 * roll), np.sin(0.5 * roll)
    return np.array([cp * cr, cp * sr, sp * cr, -sp * sr])


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
    # forwards from this mid-stance and backwards to the IC, in one batched scan
    fwd, bwd = prefix_products([dq[i_ms0:i_ms1], quat_conj(dq[:i_ms0][::-1])])
    rel[i_ms0 + 1 : i_ms1 + 1] = qnormalize(fwd)
    rel[:i_ms0] = qnormalize(bwd)[::-1]
    quat = qmul(q0, rel)
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
    # Everything below is linear in the world-frame specific force, so it is integrated once
    # (``vel``: velocity without gravity from zero at ts[0]) and a constant world rotation C of
    # the orientations (the tilt corrections) acts on the integrals as a 3x3 matrix: velocity
    # C v - g t z, displacement C d - (gravity part, which the linear de-drift removes).
    a_w = qrotate(quat[seg], acc_mps2[seg])
    dt = np.diff(ts)
    n = ts.size
    vel = np.zeros((n, 3))
    if n > 1:
        np.cumsum(0.5 * (a_w[1:] + a_w[:-1]) * dt[:, None], axis=0, out=vel[1:])
    tau = np.zeros(n)  # the gravity term's time, integrated the same way (trapezoid of a constant)
    if n > 1:
        np.cumsum(dt, out=tau[1:])
    corr_q = np.array([1.0, 0.0, 0.0, 0.0])
    c_mat = np.eye(3)
    if i_ms1 > i_ms0 and tilt == "velocity" and ts[-1] > ts[0]:
        span = ts[-1] - ts[0]
        for _ in range(2):
            v_end = c_mat @ vel[-1]
            v_end[2] -= STANDARD_GRAVITY_MPS2 * tau[-1]
            d = np.array([-v_end[1], v_end[0], 0.0]) / (STANDARD_GRAVITY_MPS2 * span)
            if not np.all(np.isfinite(d)):
                break
            corr_q = qnormalize(qmul(quat_from_rotvec(-d), corr_q))
            c_mat = qmatrix(corr_q)
        quat = qnormalize(qmul(corr_q, quat))
    # velocity and displacement between the mid-stances (linear removal of what is left)
    if n > 1:
        frac = (ts - ts[0]) / (ts[-1] - ts[0]) if ts[-1] > ts[0] else np.zeros(n)
        trap = np.concatenate([[0.5 * dt[0]], 0.5 * (dt[1:] + dt[:-1]), [0.5 * dt[-1]]])  # sum_trap(x) = trap @ x
        v_end = vel[-1]
        disp = c_mat @ (trap @ vel - (trap @ frac) * v_end)
        disp[2] -= STANDARD_GRAVITY_MPS2 * (trap @ tau - (trap @ frac) * tau[-1])
    else:
        disp = np.zeros(3)
    x_end = qrotate(quat[i_ms1], np.array([1.0, 0.0, 0.0]))
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
