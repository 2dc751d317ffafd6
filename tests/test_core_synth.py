"""A small synthetic two-leg runner for the core's tests (not the virtual runner of runform.sim):
smooth periodic segment angles and foot paths, exact kinematics (gyro = body rate of the
orientation, accelerometer = R^T (a + g)), random sensor mounting, noise and bias.

The tests at the bottom check the generator itself against the anatomy definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from runform.anatomy import rearfoot_eversion, segment_frontal_angle, segment_internal_rotation, tibial_inclination
from runform.rotations import quat_from_rotvec, quat_to_matrix, rot_x, rot_y, rot_z
from runform.units import STANDARD_GRAVITY_MPS2

# phase knots (IC at 0, TO at STANCE) -> degrees
STANCE = 0.36
FOOT_PITCH = [(0, -14), (0.07, 0), (0.2, 0), (0.36, 38), (0.5, 75), (0.75, 25), (0.92, -22)]
FOOT_EVER = [(0, -3), (0.08, 2), (0.17, 8), (0.3, 3), (0.36, 0), (0.6, -3), (0.9, -4)]
SHANK_PITCH = [(0, -8), (0.1, 0), (0.36, 40), (0.55, 80), (0.8, 10), (0.93, -14)]
SHANK_FRONTAL = [(0, 2), (0.15, 6), (0.36, 3), (0.7, 0), (0.9, 1)]
SHANK_IR = [(0, 0), (0.17, 7), (0.36, 2), (0.7, -2), (0.9, -1)]


def _periodic(knots):
    """Shape-preserving (PCHIP: no overshoot, flat parts stay flat) periodic interpolant."""
    ph = np.array([k[0] for k in knots])
    v = np.radians([k[1] for k in knots])
    spl = PchipInterpolator(np.r_[ph - 1, ph, ph + 1], np.r_[v, v, v])
    return lambda x: spl(np.mod(x, 1.0))


_SPL = {n: _periodic(k) for n, k in dict(fp=FOOT_PITCH, fe=FOOT_EVER, sp=SHANK_PITCH, sf=SHANK_FRONTAL, si=SHANK_IR).items()}


def _smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10 - 15 * x + 6 * x**2)


@dataclass
class Leg:
    leg: str
    t_start: float  # running starts (phase 0.1, foot flat)
    period: float
    length: float

    def phase(self, t):
        return (t - self.t_start) / self.period + 0.1

    def weight(self, t):
        return _smoothstep((t - self.t_start) / 0.25)

    def rot(self, segment, t):
        s = 1 if self.leg == "left" else -1
        ph = np.mod(self.phase(t), 1.0)
        w = self.weight(t)
        if segment == "foot":
            pitch, roll, yaw = w * _SPL["fp"](ph), s * w * _SPL["fe"](ph), 0 * ph
        else:
            pitch, roll, yaw = w * _SPL["sp"](ph), s * w * _SPL["sf"](ph), -s * w * _SPL["si"](ph)
        return rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)

    def foot_pos(self, t):
        ph = self.phase(t)
        running = t >= self.t_start
        k = np.floor(ph)
        f = ph - k
        sx = _smoothstep((f - 0.22) / (0.97 - 0.22))
        x = np.where(running, self.length * (k + sx - 1), 0.0)  # phase 0.1 at start: k = 0
        z = np.where(running & (f > 0.22) & (f < 0.97), 0.12 * np.sin(np.pi * (f - 0.22) / 0.75) ** 2, 0.0)
        y = np.full_like(t, 0.1 if self.leg == "left" else -0.1)
        return np.stack([x, y, z], -1)

    def pos(self, segment, t):
        p = self.foot_pos(t)
        if segment == "shank":
            p = p + self.rot("shank", t) @ np.array([0.0, 0.0, 0.15])
            ph = self.phase(t)
            since = (ph - np.floor(ph)) * self.period
            imp = np.where((t >= self.t_start + 0.5 * self.period) & (since < 0.2), 0.0012 * np.exp(-since / 0.012) * np.sin(2 * np.pi * 35 * since), 0.0)
            p[:, 2] += imp
        return p


def imu(legobj: Leg, segment: str, t: np.ndarray, h: float = 2e-4):
    """(specific force, angular velocity) in the SEGMENT frame at times t."""
    r0, rp, rm = legobj.rot(segment, t), legobj.rot(segment, t + h), legobj.rot(segment, t - h)
    dr = (rp - rm) / (2 * h)
    om = np.swapaxes(r0, -1, -2) @ dr
    gyr = np.stack([om[:, 2, 1], om[:, 0, 2], om[:, 1, 0]], -1)
    hp = 1e-3
    acc_w = (legobj.pos(segment, t + hp) - 2 * legobj.pos(segment, t) + legobj.pos(segment, t - hp)) / hp**2
    acc_w[:, 2] += STANDARD_GRAVITY_MPS2
    acc = np.einsum("nji,nj->ni", r0, acc_w)
    return acc, gyr


@dataclass
class Recording:
    rate_hz: float
    time_s: np.ndarray
    raw: dict  # placement -> (acc sensor, gyr sensor)
    mounts: dict  # placement -> sensor_from_segment matrix
    legs: dict  # leg -> Leg


def make_recording(duration_s=20.0, rate_hz=400.0, seed=0, stand_s=3.0, noise=True, placements=("left_foot", "right_foot", "left_shank", "right_shank")) -> Recording:
    rng = np.random.default_rng(seed)
    period = 0.72
    legs = {"left": Leg("left", stand_s, period, 2.3), "right": Leg("right", stand_s + period / 2, period, 2.3)}
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    raw, mounts = {}, {}
    for p in placements:
        leg, seg = p.split("_")
        acc, gyr = imu(legs[leg], seg, t)
        m = quat_to_matrix(quat_from_rotvec(rng.normal(size=3) * 2.0))
        a_s, g_s = acc @ m.T, gyr @ m.T
        if noise:
            a_s = a_s + rng.normal(scale=0.05, size=a_s.shape)
            g_s = g_s + rng.normal(scale=0.005, size=g_s.shape) + rng.normal(scale=0.01, size=3)
        raw[p] = (a_s, g_s)
        mounts[p] = m
    return Recording(rate_hz, t, raw, mounts, legs)


def truth_ics(legobj: Leg, t_end: float) -> np.ndarray:
    """IC times: phase = k (integer >= 1)."""
    k = np.arange(1, 1000)
    ic = legobj.t_start + (k - 0.1) * legobj.period
    return ic[ic < t_end]


def truth_stride(legobj: Leg, ic: float, to: float | None = None) -> dict:
    """Truth metrics (rad) of a stance from ``ic`` to ``to`` (default: the generator's TO)."""
    to = ic + STANCE * legobj.period if to is None else to
    t = np.linspace(ic, to, 2000)
    rf, rs = legobj.rot("foot", t), legobj.rot("shank", t)
    ev = rearfoot_eversion(rs, rf, legobj.leg)
    tir = segment_internal_rotation(rs, legobj.leg)
    return {
        "ic": ic, "to": to,
        "eversion_at_ic": ev[0], "peak_eversion": ev.max(), "excursion": ev.max() - ev[0],
        "shoe_peak_eversion": segment_frontal_angle(rf, legobj.leg).max(),
        "tibial_inclination_at_ic": tibial_inclination(rs[:1])[0],
        "peak_shank_frontal": segment_frontal_angle(rs, legobj.leg).max(),
        "tir": tir.max() - tir[0],
    }


# ---------------------------------------------------------------- tests of the generator
def test_generator_gravity_when_standing():
    rec = make_recording(duration_s=4.0, noise=False)
    a, _ = rec.raw["left_foot"]
    assert np.allclose(np.linalg.norm(a[: int(2 * rec.rate_hz)], axis=1), STANDARD_GRAVITY_MPS2, atol=1e-6)


def test_generator_gyro_integrates_to_orientation():
    from runform.core.orientation import integrate_gyro
    from runform.rotations import quat_to_matrix as q2m

    legobj = Leg("left", 0.0, 0.72, 2.3)
    t = np.arange(0.3, 1.5, 1 / 2000)
    _, gyr = imu(legobj, "shank", t)
    r0 = legobj.rot("shank", t[:1])[0]
    from runform.rotations import matrix_to_quat

    q = integrate_gyro(matrix_to_quat(r0), t, gyr)
    err = np.linalg.norm(q2m(q[-1]) - legobj.rot("shank", t[-1:])[0])
    assert err < 1e-3
