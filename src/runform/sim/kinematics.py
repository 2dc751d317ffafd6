"""Rigid-body kinematics helpers of the virtual runner (SI units, rad, rad/s, m, m/s^2).

* Euler angles ``R = Rz(yaw) Ry(pitch) Rx(roll)`` (docs/conventions.md) with their first and
  second time derivatives give the orientation, the body angular velocity and the body angular
  acceleration in closed form (the ZYX kinematic equations, e.g. Diebel 2006, "Representing
  attitude", eq. 289 ff.).
* A point ``r`` fixed on a body whose origin moves with ``p(t)`` has the world acceleration
  ``p'' + R (w' x r + w x (w x r))`` (body-frame w, w'), the lever-arm terms of a real IMU.
* The impact transient at initial contact: a log-normal shaped deceleration pulse of the foot
  (see :func:`impact_terms`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr


def euler_zyx_kinematics(ang: np.ndarray, rate: np.ndarray, acc: np.ndarray):
    """Orientation (n,3,3), body angular velocity (n,3) and body angular acceleration (n,3).

    ``ang``/``rate``/``acc``: (n, 3) columns (yaw, pitch, roll) in rad, rad/s, rad/s^2.
    """
    psi, th, ph = ang[:, 0], ang[:, 1], ang[:, 2]
    dpsi, dth, dph = rate[:, 0], rate[:, 1], rate[:, 2]
    ddpsi, ddth, ddph = acc[:, 0], acc[:, 1], acc[:, 2]
    cps, sps = np.cos(psi), np.sin(psi)
    ct, st = np.cos(th), np.sin(th)
    cph, sph = np.cos(ph), np.sin(ph)
    r = np.empty((ang.shape[0], 3, 3))
    r[:, 0, 0] = cps * ct
    r[:, 0, 1] = cps * st * sph - sps * cph
    r[:, 0, 2] = cps * st * cph + sps * sph
    r[:, 1, 0] = sps * ct
    r[:, 1, 1] = sps * st * sph + cps * cph
    r[:, 1, 2] = sps * st * cph - cps * sph
    r[:, 2, 0] = -st
    r[:, 2, 1] = ct * sph
    r[:, 2, 2] = ct * cph
    w = np.empty((ang.shape[0], 3))
    w[:, 0] = dph - dpsi * st
    w[:, 1] = dth * cph + dpsi * ct * sph
    w[:, 2] = -dth * sph + dpsi * ct * cph
    dw = np.empty_like(w)
    dw[:, 0] = ddph - ddpsi * st - dpsi * dth * ct
    dw[:, 1] = (ddth * cph - dth * dph * sph + ddpsi * ct * sph - dpsi * dth * st * sph
                + dpsi * dph * ct * cph)
    dw[:, 2] = (-ddth * sph - dth * dph * cph + ddpsi * ct * cph - dpsi * dth * st * cph
                - dpsi * dph * ct * sph)
    return r, w, dw


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (n,3) (or (3,)) arrays; faster than np.cross for small rows."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx], axis=-1)


def rotate(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``R @ v`` row-wise for (n,3,3) and (n,3) or (3,)."""
    v = np.broadcast_to(v, (r.shape[0], 3))
    return r[:, :, 0] * v[:, 0:1] + r[:, :, 1] * v[:, 1:2] + r[:, :, 2] * v[:, 2:3]


def rotate_t(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``R^T @ v`` row-wise for (n,3,3) and (n,3)."""
    return r[:, 0, :] * v[:, 0:1] + r[:, 1, :] * v[:, 1:2] + r[:, 2, :] * v[:, 2:3]


def body_point_accel(r: np.ndarray, w: np.ndarray, dw: np.ndarray, point: np.ndarray) -> np.ndarray:
    """World acceleration of a body-fixed point relative to the body origin:
    ``R (w' x p + w x (w x p))`` (n, 3); ``point`` (3,) or (n, 3) in the body frame."""
    rel = cross(dw, point) + cross(w, cross(w, point))
    return rotate(r, rel)


def body_point_velocity(r: np.ndarray, w: np.ndarray, point: np.ndarray) -> np.ndarray:
    """World velocity of a body-fixed point relative to the body origin, ``R (w x p)``."""
    return rotate(r, cross(w, point))


# ------------------------------------------------------------------ impact transient
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_HALF_WIDTH = math.sqrt(2.0 * math.log(2.0))


def impact_width(rise_s: float | np.ndarray, decay_s: float | np.ndarray):
    """Log-normal width ``w`` such that the pulse falls to half its peak ``decay_s`` after the peak."""
    return np.log1p(np.asarray(decay_s) / np.asarray(rise_s)) / _HALF_WIDTH


def impact_area(rise_s, w):
    """Integral (s) of the unit-peak pulse: the touchdown speed per unit peak acceleration."""
    return rise_s * np.exp(0.5 * w * w) * w * _SQRT_2PI


def impact_mean_time(rise_s, w):
    """Mean time (s) of the pulse after IC: the sole compression per unit touchdown speed."""
    return rise_s * np.exp(1.5 * w * w)


def impact_shape(tau: np.ndarray, rise_s, w) -> np.ndarray:
    """Unit-peak pulse ``exp(-ln(tau/rise)^2 / (2 w^2))`` for ``tau`` >= 0 (0 before IC)."""
    tau = np.asarray(tau, dtype=float)
    pos = tau > 0
    x = np.log(np.where(pos, tau, 1.0) / rise_s)
    return np.where(pos, np.exp(-0.5 * (x / w) ** 2), 0.0)


def impact_terms(tau: np.ndarray, amp_mps2, rise_s, w):
    """Vertical displacement (m), velocity (m/s) and acceleration (m/s^2) that the impact adds
    to the foot at ``tau`` s after IC.

    The foot touches down ``delta`` above its loaded position with a downward speed
    ``v_td = amp * area`` and is brought to rest by the pulse ``amp * shape(tau)``; displacement
    and velocity return to exactly zero, so the pulse is consistent with the positions (a
    strapdown integration of the accelerometer sees no spurious velocity). The log-normal
    pulse is smooth at contact, rises to its peak at ``rise_s`` and decays with a longer tail,
    like skin-mounted tibial accelerometry (a modelling choice; docs/virtual-runner.md).
    """
    tau = np.asarray(tau, dtype=float)
    pos = np.isfinite(tau) & (tau > 0)
    tau = np.where(pos, tau, 0.0)
    x = np.log(np.where(pos, tau, 1.0) / rise_s)
    area = impact_area(rise_s, w)
    m1_inf = rise_s * rise_s * np.exp(2.0 * w * w) * w * _SQRT_2PI  # integral of tau*shape
    s1 = np.where(pos, area * ndtr((x - w * w) / w), 0.0)
    m1 = np.where(pos, m1_inf * ndtr((x - 2.0 * w * w) / w), 0.0)
    v_td = amp_mps2 * area
    delta = amp_mps2 * m1_inf
    tt = np.where(pos, tau, 0.0)
    disp = delta - v_td * tt + amp_mps2 * (tt * s1 - m1)
    vel = -v_td + amp_mps2 * s1
    acc = amp_mps2 * np.where(pos, np.exp(-0.5 * (x / w) ** 2), 0.0)
    return disp, vel, acc
