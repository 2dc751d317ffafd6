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
* Velocity: world-frame acceleration minus gravity, integrated (trapezoid) from the sensor's
  velocity at the first mid-stance; the difference still left at the next mid-stance from the
  sensor's velocity there is removed linearly in time, and the corrected velocity is integrated
  to the displacement. The still point at mid-stance is the ground contact under the sensor,
  not the sensor (``sensor_height_m``, see :func:`integrate_stride`): in running the foot is
  never still, it rolls and pivots on the ground, so a sensor ``h`` above the ground moves at
  ``w x (0, 0, h)`` (foot frame) there.

Sources: Foxlin 2005 (IEEE CG&A 25:38, zero-velocity updates for foot-mounted INS); Skog et al.
2010 (IEEE TBME 57:2657, zero-velocity detection); Peruzzi, Della Croce & Cereatti 2011 (J Biomech
44:1991, the foot's velocity during stance is not zero: stride length errors of the zero-velocity
assumption); Zrenner et al. 2018 (Sensors 18:4194, stride
length/velocity in running with linear de-drift between stance phases); Rampp et al. 2015
(IEEE TBME 62:1089, per-stride integration with linear drift removal).
"""

from __future__ import annotations

import math
from typing import Any, Generator

import numpy as np

from ...rotations import (
    quat_from_rotvec,
    quat_from_two_vectors,
    quat_mul,
    quat_normalize,
    quat_rotate,
    quat_to_rotvec,
)
from ...units import STANDARD_GRAVITY_MPS2
from ..orientation import positions_in_runs, prefix_products_into, qmatrix_planes, qmul, qnormalize, qrotate, rotvec_quats, take_rows

_Z = np.array([0.0, 0.0, 1.0])

#: default height (m) of a foot sensor on the laces above the ground contact (the tracker's
#: ``sensor_height_m``): the sole point under the sensor, not the sensor, is still at
#: mid-stance. 0.08 m: measured from the IMU alone on pyshoe_dev (a pivot below the sensor fits
#: the push-off's accelerations: per-trial medians 0.086-0.090 m on all four trials, walking and
#: running; benchmarks/bench_events.py sensor_height_from_push_off, docs/validation-foot.md);
#: the virtual runner's sensor sits 0.08 m above the ground too.
SENSOR_HEIGHT_M = 0.08


def increments(t_s: np.ndarray, gyr_rps: np.ndarray) -> np.ndarray:
    """Body-frame rotation increments (n-1, 4) between consecutive samples (trapezoidal rate)."""
    dt = np.diff(t_s)[:, None]
    w_mid = 0.5 * (gyr_rps[1:] + gyr_rps[:-1])
    return rotvec_quats(w_mid * dt)  # component-major (runform.core.orientation.planes)


def integrate_stride(
    t_s: np.ndarray,
    acc_mps2: np.ndarray,
    gyr_rps: np.ndarray,
    i_ms0: int,
    i_ms1: int,
    f_ms0: np.ndarray,
    f_ms1: np.ndarray,
    tilt: str = "velocity",
    sensor_height_m: float = 0.0,
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

    ``sensor_height_m`` ``h``: height of the sensor above the foot's ground contact (m, along
    the foot frame's z). At mid-stance the contact point under the sensor is taken as still,
    not the sensor: the sensor's velocity there is ``w x (0, 0, h)`` (body frame, ``w`` the
    gyroscope sample at the mid-stance) and is the boundary condition of the velocity at both
    mid-stances (and of the velocity-aided tilt). ``h = 0`` is the classic zero-velocity
    update of the sensor itself. In running the foot rolls and pivots through mid-stance
    (|w| 29-45 deg/s median at the stillest sample on pyshoe_dev, up to 77); with ``h = 0`` the
    sensor's forward motion there (``h |w|``, ~0.04-0.06 m/s) was missing from the stride:
    pyshoe_dev running -1.5..-2.0 % stride length bias (docs/validation-foot.md).

    Returns ``quat`` (i_ms1 + 1, 4) for samples 0..i_ms1, the displacement (3,) in m from the
    first to the second mid-stance (world frame, yaw 0 at the first), and the heading change
    (rad) at the second mid-stance. :func:`integrate_strides` of one stride.
    """
    return integrate_strides([(t_s, acc_mps2, gyr_rps, i_ms0, i_ms1, f_ms0, f_ms1, tilt, sensor_height_m)])[0]


def _cumsum_rows(x: np.ndarray) -> np.ndarray:
    """Cumulative sums along axis 1 (strictly sequential, so zero padding after a row's end
    leaves its values alone: the same numbers for any batch)."""
    return np.cumsum(x, axis=1)


def integrate_strides(strides: list[tuple]) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """:func:`integrate_stride` of many strides at once, each given as the tuple of its
    arguments ``(t_s, acc_mps2, gyr_rps, i_ms0, i_ms1, f_ms0, f_ms1, tilt[, sensor_height_m])``.

    Offline batches the strides of a long block, live passes one: the per-sample steps run once
    over the strides concatenated, the scans as one padded batch (bit-identical per row), the
    running sums (velocity, time, the trapezoid sums of the de-drift) as sequential cumulative
    sums of zero-padded (k, L) rows and the 3x3 corrections written out per component, so each
    stride's result is the same whatever else is in the batch."""
    return run_steps(integrate_strides_steps(strides))


def run_steps(steps: Generator[None, None, Any]) -> Any:
    """Run a step generator (``*_steps`` functions) to the end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def integrate_strides_steps(strides: list[tuple]) -> Generator[None, None, list[tuple[np.ndarray, np.ndarray, float]]]:
    """:func:`integrate_strides` in two steps (a generator: each ``next`` runs one, the return
    value is the result): the orientations, then velocity, tilt correction and displacement.
    Live work runs one step per push, so no push pays for a whole stride."""
    k = len(strides)
    if k == 0:
        return []
    i0 = np.array([int(s[3]) for s in strides], dtype=np.intp)
    i1 = np.array([int(s[4]) for s in strides], dtype=np.intp)
    n_all = i1 + 1  # samples 0..i_ms1 of each stride
    st = np.zeros(k, dtype=np.intp)
    np.cumsum(n_all[:-1], out=st[1:])
    t = np.concatenate([np.asarray(s[0], float)[: n + 1] for s, n in zip(strides, i1.tolist())])
    acc = np.concatenate([np.asarray(s[1], float)[: n + 1] for s, n in zip(strides, i1.tolist())])
    gyr = np.concatenate([np.asarray(s[2], float)[: n + 1] for s, n in zip(strides, i1.tolist())])
    seg = np.repeat(np.arange(k), n_all)
    f0 = np.array([np.asarray(s[5], float) for s in strides])
    q0 = tilt_quats(f0)
    dq_all = increments(t, gyr)  # dq_all[g]: from sample g to g + 1 (across strides: unused)
    # forwards from each mid-stance and backwards to its IC: two batched scans (rows of similar
    # length pad less than one batch of both), written straight into the relative orientations
    # (component-major (4, n): numpy's arithmetic on contiguous planes, orientation.planes)
    dq_c = dq_all.T  # (4, n - 1) planes
    rel_c = np.empty((4, t.shape[0]))
    ms0 = st + i0
    rel_c[:, ms0] = _IDENTITY_COL
    n_f, n_b = i1 - i0, i0
    el_f = positions_in_runs(n_f)
    prefix_products_into(dq_c, ms0, n_f, rel_c, np.repeat(ms0 + 1, n_f) + el_f)
    # backwards: the conjugate increments from the mid-stance down to the IC (quat_conj's product)
    dq_conj = dq_c * _CONJ
    el_b = positions_in_runs(n_b)
    prefix_products_into(dq_conj, st, n_b, rel_c, np.repeat(ms0 - 1, n_b) - el_b, reverse=True)
    rel = qnormalize(rel_c.T)  # the identity rows at the mid-stances stay exactly (1, 0, 0, 0)
    quat = qmul(take_rows(q0, seg), rel)
    for r, s in enumerate(strides):
        if s[7] == "gravity" and i1[r] > i0[r]:
            a, m0, m1 = int(st[r]), int(i0[r]), int(i1[r])
            ts = t[a + m0 : a + m1 + 1]
            up_int = quat_rotate(quat[a + m1], np.asarray(s[6], float))
            if np.linalg.norm(up_int) > 1e-6:
                corr = quat_to_rotvec(quat_from_two_vectors(up_int, _Z))
            else:  # no usable gravity at the next mid-stance (e.g. a dead accelerometer)
                corr = np.zeros(3)
            alpha = ((ts[1:] - ts[0]) / (ts[-1] - ts[0]))[:, None]
            quat[a + m0 + 1 : a + m1 + 1] = quat_normalize(quat_mul(quat_from_rotvec(alpha * corr), quat[a + m0 + 1 : a + m1 + 1]))
    yield
    # Everything below is linear in the world-frame specific force, so it is integrated once
    # (``vel``: velocity without gravity from zero at the first mid-stance) and a constant world
    # rotation C of the orientations (the tilt corrections) acts on the integrals as a 3x3
    # matrix: velocity C v - g t z, displacement C d - (gravity part, which the linear de-drift
    # removes). Rows of (k, L): the samples from mid-stance to mid-stance of each stride.
    n = i1 - i0 + 1
    L = int(n.max())
    col = positions_in_runs(n)
    src = np.repeat(st + i0, n) + col
    a_src = qrotate(take_rows(quat, src), take_rows(acc, src)).T  # (3, m) planes
    ts = np.zeros((k, L))
    a_w = np.zeros((3, k, L))  # component-major rows: each plane's rows contiguous
    dt = np.zeros((k, L))
    dt_rows = np.zeros((k, L))  # 0 beyond each row's end
    # each row from its contiguous run of samples (slices: ~6x faster than a fancy scatter)
    for r, a, b, m in zip(range(k), (st + i0).tolist(), (np.cumsum(n) - n).tolist(), n.tolist()):
        ts[r, :m] = t[a : a + m]
        a_w[:, r, :m] = a_src[:, b : b + m]
    dt[:, 1:] = ts[:, 1:] - ts[:, :-1]
    for r, m in enumerate(n.tolist()):
        dt_rows[r, 1:m] = dt[r, 1:m]
    inc = np.zeros((3, k, L))
    inc[:, :, 1:] = 0.5 * (a_w[:, :, 1:] + a_w[:, :, :-1]) * dt_rows[:, 1:]
    vel = np.cumsum(inc, axis=2)  # sequential along each row, as _cumsum_rows
    tau = _cumsum_rows(dt_rows)
    last = n - 1
    rows_k = np.arange(k)
    v_last = vel[:, rows_k, last].T
    tau_last = tau[rows_k, last]
    span = ts[rows_k, last] - ts[:, 0]
    # the sensor's velocity at the two mid-stances (world frame before the tilt correction):
    # R (w x (0, 0, h)) = R (h w_y, -h w_x, 0), the contact point under the sensor still
    height = np.array([float(s[8]) if len(s) > 8 else 0.0 for s in strides])
    moving = height != 0.0
    if moving.any():
        ends = np.concatenate([st + i0, st + i1])  # both mid-stances in one call (row-wise maths)
        u = _sensor_velocity(take_rows(quat, ends), take_rows(gyr, ends), np.concatenate([height, height]))
        u0, u1 = u[:k], u[k:]
        v_end = v_last + u0 - u1  # the velocity error left at the next mid-stance
    else:
        v_end = v_last
    corr_c = np.zeros((4, k))  # component-major (k, 4) corrections
    corr_c[0] = 1.0
    corr_q = corr_c.T
    c_mat = np.broadcast_to(np.eye(3), (k, 3, 3)).copy()
    vel_tilt = np.array([s[7] == "velocity" for s in strides]) & (i1 > i0) & (span > 0)
    if np.any(vel_tilt):
        # the two velocity-aided tilt passes: a few scalars per stride, for all strides at once
        cq, cm = _tilt_passes_batch(v_end[vel_tilt], span[vel_tilt])
        corr_c[:, vel_tilt] = cq
        c_mat[vel_tilt] = cm
        if vel_tilt.all():
            quat = qnormalize(qmul(take_rows(corr_q, seg), quat))
        else:
            sel = vel_tilt[seg]
            quat[sel] = qnormalize(qmul(corr_q[seg[sel]], quat[sel]))
    # velocity and displacement between the mid-stances (linear removal of what is left)
    frac = np.zeros((k, L))
    np.divide(ts - ts[:, :1], span[:, None], out=frac, where=(span > 0)[:, None])
    trap = np.zeros((k, L))
    trap[:, :-1] += 0.5 * dt_rows[:, 1:]
    trap[:, 1:] += 0.5 * dt_rows[:, 1:]
    s_vel = np.cumsum(trap * vel, axis=2)[:, rows_k, last].T
    s_frac = _cumsum_rows(trap * frac)[rows_k, last]
    s_tau = _cumsum_rows(trap * tau)[rows_k, last]
    inner = s_vel - s_frac[:, None] * v_last
    if moving.any():  # + span u0 - s_frac (u0 - u1): the boundary velocities' share
        inner = inner + (span - s_frac)[:, None] * u0 + s_frac[:, None] * u1
    disp = _mat_vec(c_mat, inner)
    disp[:, 2] -= STANDARD_GRAVITY_MPS2 * (s_tau - s_frac * tau_last)
    disp[n <= 1] = 0.0
    x_end = qrotate(quat[st + i1], _X)
    heading = np.arctan2(x_end[:, 1], x_end[:, 0])
    return [(quat[a : a + m + 1], disp[r].copy(), float(heading[r])) for r, (a, m) in enumerate(zip(st.tolist(), i1.tolist()))]


def _tilt_passes(v_last: list[float], span: float) -> tuple[tuple, tuple]:
    """The world rotation (quaternion, matrix) that removes the tilt error revealed by the
    velocity left at the next mid-stance (:func:`integrate_stride`, ``tilt="velocity"``), two
    passes: ``v_last`` the velocity integral without gravity at the next mid-stance, ``span``
    the time between the mid-stances (only the horizontal velocity matters: gravity is
    vertical). Python floats, the formulas of ``quat_from_rotvec``, ``qmul``, ``qnormalize``
    and ``qmatrix``."""
    g = STANDARD_GRAVITY_MPS2
    vx, vy, vz = v_last
    qw, qx, qy, qz = 1.0, 0.0, 0.0, 0.0
    m = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    g_span = g * span
    for _ in range(2):
        ex = m[0][0] * vx + m[0][1] * vy + m[0][2] * vz
        ey = m[1][0] * vx + m[1][1] * vy + m[1][2] * vz
        dx, dy = -ey / g_span, ex / g_span
        if not (math.isfinite(dx) and math.isfinite(dy)):
            break
        rx, ry = -dx, -dy  # rotation vector -d (d_z = 0)
        angle = math.sqrt(rx * rx + ry * ry)
        scale = 0.5 - angle**2 / 48.0 if angle < 1e-8 else math.sin(0.5 * angle) / angle
        pw, px, py = math.cos(0.5 * angle), rx * scale, ry * scale
        # (pw, px, py, 0) * (qw, qx, qy, qz)
        w = pw * qw - px * qx - py * qy
        x = pw * qx + px * qw + py * qz
        y = pw * qy - px * qz + py * qw
        z = pw * qz + px * qy - py * qx
        nrm = math.sqrt(w * w + x * x + y * y + z * z)
        qw, qx, qy, qz = w / nrm, x / nrm, y / nrm, z / nrm
        m = (
            (1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qw * qz), 2 * (qx * qz + qw * qy)),
            (2 * (qx * qy + qw * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qw * qx)),
            (2 * (qx * qz - qw * qy), 2 * (qy * qz + qw * qx), 1 - 2 * (qx * qx + qy * qy)),
        )
    return (qw, qx, qy, qz), m


#: up to this many strides :func:`_tilt_passes_batch` loops over :func:`_tilt_passes` (the same numbers)
_TILT_LOOP_MAX = 4


def _tilt_passes_batch(v_last: np.ndarray, span: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_tilt_passes` of many strides: ``v_last`` (k, 3), ``span`` (k,); returns the
    quaternions component-major (4, k) and the matrices (k, 3, 3). The same operations in the
    same order on (k,) arrays (IEEE arithmetic and sqrt are the same in numpy and Python floats),
    the sine and cosine by ``math`` per element as there; a stride whose pass is not finite
    keeps what it had (``_tilt_passes`` stops)."""
    k = v_last.shape[0]
    if k <= _TILT_LOOP_MAX:  # live (one stride): Python floats cost less than ~80 numpy calls
        q = np.empty((4, k))
        m = np.empty((k, 3, 3))
        for r, (vl, sp) in enumerate(zip(v_last.tolist(), span.tolist())):
            cq, cm = _tilt_passes(vl, sp)
            q[:, r] = cq
            m[r] = cm
        return q, m
    g = STANDARD_GRAVITY_MPS2
    vx, vy, vz = v_last[:, 0], v_last[:, 1], v_last[:, 2]
    q = np.zeros((4, k))
    q[0] = 1.0
    m = np.zeros((3, 3, k))
    m[0, 0] = m[1, 1] = m[2, 2] = 1.0
    g_span = g * span
    active = np.ones(k, bool)
    with np.errstate(all="ignore"):
        for _ in range(2):
            ex = m[0, 0] * vx + m[0, 1] * vy + m[0, 2] * vz
            ey = m[1, 0] * vx + m[1, 1] * vy + m[1, 2] * vz
            dx, dy = -ey / g_span, ex / g_span
            active &= np.isfinite(dx) & np.isfinite(dy)
            if not active.any():
                break
            rx, ry = -dx, -dy  # rotation vector -d (d_z = 0)
            if not active.all():
                rx[~active] = 0.0  # not used; keeps math.sin finite
                ry[~active] = 0.0
            angle = np.sqrt(rx * rx + ry * ry)
            half = (0.5 * angle).tolist()
            pw = np.array([math.cos(h) for h in half])
            scale = np.array([math.sin(h) for h in half])
            small = angle < 1e-8
            if small.any():
                scale[small] = 0.5 - angle[small] ** 2 / 48.0
                angle[small] = 1.0
            scale /= angle
            px, py = rx * scale, ry * scale
            qw, qx, qy, qz = q
            w = pw * qw - px * qx - py * qy
            x = pw * qx + px * qw + py * qz
            y = pw * qy - px * qz + py * qw
            z = pw * qz + px * qy - py * qx
            nrm = np.sqrt(w * w + x * x + y * y + z * z)
            qn = np.empty((4, k))
            qn[0], qn[1], qn[2], qn[3] = w / nrm, x / nrm, y / nrm, z / nrm
            mn = qmatrix_planes(*qn)
            if active.all():
                q, m = qn, mn
            else:
                q[:, active] = qn[:, active]
                m[:, :, active] = mn[:, :, active]
    return q, np.moveaxis(m, 2, 0)


def _sensor_velocity(q: np.ndarray, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    """World-frame velocity (k, 3) of sensors ``h`` (k,) m above a still contact point, from
    their orientations ``q`` (k, 4) and body rates ``w`` (k, 3): ``R (w x (0, 0, h))``."""
    b = np.zeros((q.shape[0], 3))
    b[:, 0] = h * w[:, 1]
    b[:, 1] = -h * w[:, 0]
    return qrotate(q, b)


def _mat_vec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``m @ v`` for (k, 3, 3) and (k, 3), written out (the same sums for any k)."""
    return m[:, :, 0] * v[:, None, 0] + m[:, :, 1] * v[:, None, 1] + m[:, :, 2] * v[:, None, 2]


_X = np.array([1.0, 0.0, 0.0])
_CONJ = np.array([[1.0], [-1.0], [-1.0], [-1.0]])  # runform.rotations.quat_conj's factors, per plane
_IDENTITY_COL = np.array([[1.0], [0.0], [0.0], [0.0]])


def tilt_quats(f_body: np.ndarray) -> np.ndarray:
    """Orientations (k, 4) (w, x, y, z) with yaw 0 whose tilt puts each specific force
    ``f_body`` (k, 3) (m/s^2, body frame, at rest = gravity reaction, pointing up) on the world z
    axis: ``Ry(pitch) Rx(roll)`` in closed form (``w >= 0``; the same rotation as
    ``matrix_to_quat(rot_y(pitch) @ rot_x(roll))``)."""
    fx, fy, fz = f_body[:, 0], f_body[:, 1], f_body[:, 2]
    roll = np.arctan2(fy, fz)
    pitch = np.arctan2(-fx, np.hypot(fy, fz))
    cp, sp, cr, sr = np.cos(0.5 * pitch), np.sin(0.5 * pitch), np.cos(0.5 * roll), np.sin(0.5 * roll)
    return np.stack([cp * cr, cp * sr, sp * cr, -sp * sr]).T  # component-major (k, 4)
