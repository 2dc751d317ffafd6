"""Foot orientation and displacement over one stride (pure, vectorised).

Method: zero-velocity-aided strapdown integration between two mid-stance instants.

* Tilt reset: at mid-stance the foot is (nearly) still, so the mean specific force over a short
  window is gravity; it gives pitch and roll, heading is set to zero (no magnetometer).
* Orientation: the body-frame rotation increments ``exp(w dt / 2)`` (trapezoidal rate) are
  chained with a parallel prefix product (log2(n) vectorised quaternion products) forwards
  from this mid-stance to the next one and backwards to this stride's IC. The tilt error found
  at the next mid-stance (integrated vs measured gravity direction) is spread linearly in time
  over the forward part.
* Velocity: world-frame acceleration minus gravity, integrated (trapezoid) from zero; the
  velocity left at the next mid-stance (which must be zero) is removed linearly in time, and
  the corrected velocity is integrated to the displacement.

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
) -> tuple[np.ndarray, np.ndarray, float]:
    """Orientation over all samples and displacement between two mid-stances.

    ``t_s`` (n,), ``acc_mps2``/``gyr_rps`` (n, 3) cover the stride from its first needed sample
    (index 0, e.g. the IC) to at least ``i_ms1`` (the next mid-stance); ``i_ms0 < i_ms1`` are
    local indices; ``f_ms0``/``f_ms1`` the mean specific force at the two mid-stances.

    Returns ``quat`` (i_ms1 + 1, 4) for samples 0..i_ms1, the displacement (3,) in m from the
    first to the second mid-stance (world frame, yaw 0 at the first), and the heading change
    (rad) at the second mid-stance.
    """
    dq = increments(t_s[: i_ms1 + 1], gyr_rps[: i_ms1 + 1])
    q0 = tilt_quat(f_ms0)
    quat = np.empty((i_ms1 + 1, 4))
    quat[i_ms0] = q0
    # forwards: q[i_ms0 + k] = q0 * dq[i_ms0] * ... * dq[i_ms0 + k - 1]
    if i_ms1 > i_ms0:
        fwd = quat_mul(q0, prefix_product(dq[i_ms0:i_ms1]))
        # tilt drift correction: measured vs integrated gravity direction at the next mid-stance
        up_int = quat_rotate(fwd[-1], f_ms1)
        if np.linalg.norm(up_int) > 1e-6:
            corr = quat_to_rotvec(quat_from_two_vectors(up_int, _Z))
        else:  # no usable gravity at the next mid-stance (e.g. a dead accelerometer)
            corr = np.zeros(3)
        t_f = t_s[i_ms0 + 1 : i_ms1 + 1]
        alpha = ((t_f - t_s[i_ms0]) / (t_s[i_ms1] - t_s[i_ms0]))[:, None]
        quat[i_ms0 + 1 : i_ms1 + 1] = quat_normalize(quat_mul(quat_from_rotvec(alpha * corr), fwd))
    # backwards: q[i_ms0 - k] = q0 * conj(dq[i_ms0 - 1]) * ... * conj(dq[i_ms0 - k])
    if i_ms0 > 0:
        bwd = quat_mul(q0, prefix_product(quat_conj(dq[:i_ms0][::-1])))
        quat[:i_ms0] = bwd[::-1]
    # velocity and displacement between the mid-stances
    seg = slice(i_ms0, i_ms1 + 1)
    ts = t_s[seg]
    a_w = quat_rotate(quat[seg], acc_mps2[seg])
    a_w[:, 2] -= STANDARD_GRAVITY_MPS2
    dt = np.diff(ts)[:, None]
    v = np.zeros_like(a_w)
    v[1:] = np.cumsum(0.5 * (a_w[1:] + a_w[:-1]) * dt, axis=0)
    frac = ((ts - ts[0]) / (ts[-1] - ts[0]))[:, None] if ts.size > 1 else np.zeros((1, 1))
    v = v - frac * v[-1]
    disp = np.sum(0.5 * (v[1:] + v[:-1]) * dt, axis=0) if ts.size > 1 else np.zeros(3)
    r_end = quat[i_ms1]
    x_end = quat_rotate(r_end, np.array([1.0, 0.0, 0.0]))
    heading = float(np.arctan2(x_end[1], x_end[0]))
    return quat, disp, heading
