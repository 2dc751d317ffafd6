"""The kinematic gait model of the virtual runner: both legs, stride by stride, lazily.

Per leg, six anatomical channels (deg at the knots, rad inside) are piecewise quintic Hermite
curves through eight knots per stride (IC, foot flat, peak eversion, heel off, toe-off, early,
mid and late swing) -- see docs/virtual-runner.md for the values and their sources (the
sagittal curves and event timing follow the mean strides of Dorschky et al. 2019, J Biomech 95,
doi:10.1016/j.jbiomech.2019.07.022):

0. foot sagittal angle (toes up +)        3. tibial inclination (ankle ahead of knee +)
1. foot frontal angle (eversion +)        4. shank frontal angle (knee medial +)
2. foot toe-out (external rotation +)     5. shank internal rotation (+)

The foot frontal channel is the rearfoot-eversion curve plus the shank frontal curve, so the
foot-relative-to-shank eversion follows the configured curve to first order; the shank's
internal rotation is the rearfoot eversion excursion divided by the EV/TIR ratio. Truth metrics
are always recomputed from the resulting rotations (runform.sim.truth), never from the knots.

Position: in stance the foot rotates about a contact point fixed on the ground -- the heel (or
the metatarsal heads for a forefoot strike) until heel-off, then the metatarsal heads (the
heel, ankle and forefoot rockers of Perry's gait phases). At heel-off the foot is flat and its
only rotation is about its long axis, so switching the pivot keeps position, velocity and
acceleration continuous. In the last part of stance the toes roll onto their tips
(``toe_roll_start_frac``, ``toe_roll_angle_at_to_deg``): the toe segment (``TOE_LENGTH_M``)
turns about its tip, lifting the metatarsal heads, which carry the pivot; the foot's rotation
is unchanged, its position gains the lift (a toe rocker; docs/virtual-runner.md). In swing the ankle follows a quintic Hermite path from the toe-off
state to the touchdown state (matching position, velocity and acceleration) plus a smooth
lift. In swing the foot can also turn about the horizontal direction of its standing toes
(``swing_foot_external_rotation_deg``: toes out, heel in; zero at TO and before IC), which the
real foot shows after toe-off. The impact (runform.sim.kinematics.impact_terms) brings the touchdown speed to zero.
The shank's origin is the ankle joint centre, the foot's too, so the shank feels the impact.

All times are true session time in s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..placements import mirror_sign
from ..units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from . import hermite
from .kinematics import (
    body_point_accel,
    body_point_velocity,
    cross,
    rotate,
    rotate_t,
    euler_zyx_kinematics,
    impact_area,
    impact_mean_time,
    impact_shape,
    impact_terms,
    impact_width,
)
from .profiles import RunnerParams

LEGS = ("left", "right")
N_CH = 6
KNOTS_PER_STRIDE = 8
SWING_KNOT_FRACS = (0.35, 0.65, 0.90)
BATCH_STRIDES = 64
N_DRAWS = 12

#: foot geometry in the foot frame (origin: ankle joint centre), m
FOOT_HEEL_M = np.array([-0.06, 0.0, -0.10])
FOOT_MTP_M = np.array([0.14, 0.0, -0.10])
ANKLE_HEIGHT_M = 0.10
#: toe segment, metatarsophalangeal joint to toe tip (m): the last contact of push-off
TOE_LENGTH_M = 0.06
#: the point of the foot (foot frame, m) whose acceleration stays continuous when the pitch
#: acceleration jumps at toe-off (the release)
RELEASE_POINT_M = np.array([0.055, 0.0, -0.05])


def foot_sensor_site(leg: str) -> np.ndarray:
    """Foot sensor position (m) in the foot frame: on the laces, over the midfoot."""
    return np.array([0.08, 0.0, -0.02])


def shank_sensor_site(leg: str) -> np.ndarray:
    """Shank sensor position (m) in the shank frame: distal anteromedial tibia, 12 cm above
    the ankle (medial is -y on the left leg, +y on the right)."""
    return np.array([0.035, -mirror_sign(leg) * 0.015, 0.12])


def _first_local_max(x: np.ndarray) -> np.ndarray:
    """Column index of the first interior local maximum of each row of ``x`` (m, n), or of the
    row's maximum where there is none."""
    is_pk = (x[:, 1:-1] >= x[:, :-2]) & (x[:, 1:-1] > x[:, 2:])
    has = is_pk.any(axis=1)
    return np.where(has, np.argmax(is_pk, axis=1) + 1, np.argmax(x, axis=1))


def _three_point(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Slope at the middle of three knots (columns of (n,3) arrays), as hermite.fill_slopes."""
    h0, h1 = t[:, 1] - t[:, 0], t[:, 2] - t[:, 1]
    return (h1 * (v[:, 1] - v[:, 0]) / h0 + h0 * (v[:, 2] - v[:, 1]) / h1) / (h0 + h1)


@dataclass
class Kinematics:
    """Both segments of one leg at times ``t`` (n,): rotations (n,3,3) segment->world, body
    angular velocity (rad/s) and acceleration (rad/s^2), ankle position (m), velocity (m/s) and
    acceleration (m/s^2) in the world frame."""

    t: np.ndarray
    r_foot: np.ndarray
    w_foot: np.ndarray
    dw_foot: np.ndarray
    r_shank: np.ndarray
    w_shank: np.ndarray
    dw_shank: np.ndarray
    ankle_pos: np.ndarray
    ankle_vel: np.ndarray
    ankle_acc: np.ndarray

    def specific_force(self, segment: str, site: np.ndarray) -> np.ndarray:
        """Specific force (m/s^2, (n,3)) at ``site`` on the segment, in the segment frame:
        ``R^T (a - g)`` with g = (0, 0, -9.80665)."""
        r, w, dw = (self.r_foot, self.w_foot, self.dw_foot) if segment == "foot" else (
            self.r_shank, self.w_shank, self.dw_shank)
        a = self.ankle_acc.copy()
        a[:, 2] += STANDARD_GRAVITY_MPS2
        rel = cross(dw, site) + cross(w, cross(w, site))
        return rotate_t(r, a) + rel

    def angular_velocity(self, segment: str) -> np.ndarray:
        return self.w_foot if segment == "foot" else self.w_shank


class _Leg:
    """Growing tables of one leg: knots, stances (with pivots and impacts), swings."""

    def __init__(self, leg: str):
        self.leg = leg
        self.s = mirror_sign(leg)
        self.kt = np.zeros(0)  # knot times
        self.kv = np.zeros((0, N_CH))  # values (rad)
        self.kd = np.zeros((0, N_CH))  # slopes (rad/s), NaN = not yet known
        self.kd_explicit = np.zeros((0, N_CH))
        self.ka = np.zeros((0, N_CH))  # curvature (rad/s^2) at the start of the interval after each knot
        self.n_final = 0  # knots whose slopes are final
        self.curve = hermite.PiecewiseQuintic()
        # stance table (row 0: the standing "stance" before the first push-off)
        self.st_start = np.zeros(0)
        self.st_ho = np.zeros(0)
        self.st_to = np.zeros(0)
        self.st_g1 = np.zeros((0, 3))
        self.st_r1 = np.zeros((0, 3))
        self.st_gm = np.zeros((0, 3))
        self.st_amp = np.zeros(0)
        self.st_rise = np.ones(0)
        self.st_w = np.ones(0)
        self.st_tr = np.zeros(0)  # the toes start to roll onto their tips (s)
        self.st_tra = np.zeros(0)  # toe angle to the ground at toe-off (rad)
        self.st_hd = np.zeros((0, 2))  # forward direction of the toes on the ground (unit, world xy)
        # swing table (row i: from st_to[i] to st_start[i+1])
        self.sw_h = np.zeros(0)
        self.sw_state0 = np.zeros((0, 3, 3))  # (pos, vel, acc) at toe-off
        self.sw_state1 = np.zeros((0, 3, 3))  # at the next IC
        # the foot's turn in swing (GaitModel._swing_rotation): (angle (rad, toes out +), out,
        # back, end (fractions of swing)); zero angle = none
        self.sw_rot = np.zeros((0, 4))
        self.n_swings_done = 0
        # per-stride design (stride k = stance row k+1)
        self.stride = {}  # name -> array
        self.n_strides = 0
        # strides forgotten for bounded memory: stride k (absolute) is row k - off of the stride
        # arrays and stance row k + 1 - off; knots and curve intervals are dropped alongside
        self.off = 0
        self.first_toe_off = np.nan
        self.t_valid_from = 0.0

    def euler_sign(self) -> tuple[np.ndarray, np.ndarray]:
        """Maps from the anatomical channels to (yaw, pitch, roll) of foot and of shank."""
        s = self.s
        foot = np.array([[0, 0, s], [-1, 0, 0], [0, s, 0]], dtype=float)  # rows yaw,pitch,roll
        shank = np.array([[0, 0, -s], [-1, 0, 0], [0, s, 0]], dtype=float)
        m_foot = np.zeros((3, N_CH))
        m_foot[:, :3] = foot
        m_shank = np.zeros((3, N_CH))
        m_shank[:, 3:] = shank
        return m_foot, m_shank


class GaitModel:
    """Both legs of the virtual runner, generated lazily in batches of strides.

    ``params``: the profile (with per-leg overrides and drifts); ``seed``: the gait's random
    stream. Everything here is deterministic given (params, seed), whatever order and chunk
    sizes the caller evaluates in.
    """

    def __init__(self, params: RunnerParams, seed: int | np.random.SeedSequence = 0):
        self.params = params
        self.leg_params = {leg: params.for_leg(leg) for leg in LEGS}
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        step_ss, left_ss, right_ss = ss.spawn(3)
        self._step_rng = np.random.default_rng(step_ss)
        self._leg_rng = {"left": np.random.default_rng(left_ss), "right": np.random.default_rng(right_ss)}
        self.t_go = float(params.standing_s)
        self.stride_time0 = 120.0 / params.cadence_spm
        self.ramp_time = max(params.ramp_strides, 0) * self.stride_time0
        # step schedule: alternating ICs, left first
        self.step_times = np.zeros(0)
        self._pre: dict[str, tuple[float, float]] = {}  # per leg: (heel-off, toe-off) of the first push-off
        self._legs = {leg: _Leg(leg) for leg in LEGS}
        self._m_euler = {leg: self._legs[leg].euler_sign() for leg in LEGS}
        for leg in LEGS:
            self._extend(leg)

    # ------------------------------------------------------------ parameters over time
    def value(self, leg: str, name: str, t: np.ndarray) -> np.ndarray:
        """Parameter ``name`` of ``leg`` at times ``t`` with its fatigue drift applied."""
        base = getattr(self.leg_params[leg], name)
        d = self.params.drift.get(name, 0.0)
        t = np.asarray(t, dtype=float)
        if not d:
            return np.full(t.shape, float(base))
        frac = np.clip((t - self.t_go - self.ramp_time) / max(self.params.drift_time_s, 1e-9), 0.0, 1.0)
        return base + d * frac

    def ramp(self, t: np.ndarray) -> np.ndarray:
        """0 while standing, rising linearly to 1 over the ramp-up."""
        if self.ramp_time <= 0:
            return (np.asarray(t) >= self.t_go).astype(float)
        return np.clip((np.asarray(t, dtype=float) - self.t_go) / self.ramp_time, 0.0, 1.0)

    def body_progress(self, t: np.ndarray) -> np.ndarray:
        """Forward distance (m) covered by the body at ``t`` with the ramped speed."""
        tau = np.maximum(np.asarray(t, dtype=float) - self.t_go, 0.0)
        v = self.params.speed_mps
        r = self.ramp_time
        if r <= 0:
            return v * tau
        return np.where(tau < r, v * tau * tau / (2 * r), v * (tau - 0.5 * r))

    # ------------------------------------------------------------ schedule
    def _ensure_steps(self, n: int) -> None:
        while self.step_times.size < n:
            draws = self._step_rng.standard_normal(64)
            cv = self.params.stride_time_cv * math.sqrt(2.0)
            out = list(self.step_times)
            for z in draws:
                if not out:
                    # first IC of the left foot: its heel rises at t_go, then push-off and one swing
                    lp = self.leg_params["left"]
                    out.append(self.t_go + ((1.0 - lp.heel_off_frac) * lp.duty_factor + 1.0 - lp.duty_factor)
                               * self.stride_time0 + 0.02)
                    continue
                t_prev = out[-1]
                cad = float(self.value("left", "cadence_spm", t_prev))
                half = 60.0 / cad
                out.append(t_prev + half * (1.0 + cv * float(np.clip(z, -3, 3))))
            self.step_times = np.array(out)

    def ic_times(self, leg: str, n: int) -> np.ndarray:
        """The first ``n`` initial-contact times (s) of ``leg`` (left steps are even)."""
        off = 0 if leg == "left" else 1
        self._ensure_steps(2 * n + off + 1)
        return self.step_times[off: off + 2 * n: 2]

    # ------------------------------------------------------------ generation
    def _knots_for(self, leg: str, d: dict, k0: int, k1: int):
        """Knot times, values (rad), explicit slopes (rad/s, NaN=free) and curvatures (rad/s^2,
        at the start of the interval after each knot) of strides k0..k1-1."""
        n = k1 - k0
        sl = slice(k0, k1)
        ic, to, tnext = d["ic"][sl], d["to"][sl], d["ic_next"][sl]
        tc = to - ic
        ts = tnext - to
        times = np.stack([
            ic, ic + d["ff_frac"][sl] * tc, ic + d["pk_frac"][sl] * tc, ic + d["ho_frac"][sl] * tc, to,
            to + SWING_KNOT_FRACS[0] * ts, to + SWING_KNOT_FRACS[1] * ts, to + SWING_KNOT_FRACS[2] * ts,
        ], axis=1)
        amp = d["amp"][sl]
        sag = np.stack([
            d["strike"][sl], 0 * ic, 0 * ic, 0 * ic, d["to_angle"][sl], d["es_angle"][sl], d["ms_angle"][sl],
            d["strike"][sl] + d["ls_extra"][sl],
        ], axis=1) * amp[:, None]
        ev_ic, pk, ev_to, ev_sw = d["ev_ic"][sl], d["ev_pk"][sl], d["ev_to"][sl], d["ev_sw"][sl]
        ff, pkf, ho = d["ff_frac"][sl], d["pk_frac"][sl], d["ho_frac"][sl]
        ev_ff = ev_ic + (pk - ev_ic) * np.sin(0.5 * np.pi * ff / pkf) ** 2
        # after the peak the rearfoot stays everted through mid-stance and returns towards
        # inversion late, mostly in push-off: pk - (pk - ev_to) x^p, x = 0 at the peak, 1 at TO
        p_ret = np.maximum(d["ev_power"][sl], 1.0)
        x_ho = (ho - pkf) / (1 - pkf)
        ev_ho = pk - (pk - ev_to) * x_ho ** p_ret
        ev_rate = -(pk - ev_to)[:, None] * p_ret[:, None] * np.stack([x_ho ** (p_ret - 1), np.ones(n)], 1) \
            / ((1 - pkf) * tc)[:, None]  # deg/s at heel-off and at toe-off
        ev = np.stack([ev_ic, ev_ff, pk, ev_ho, ev_to, ev_sw, ev_sw, ev_ic - 1.0], axis=1)
        fr_ic, fr_pk = d["fr_ic"][sl], d["fr_pk"][sl]
        fr = np.stack([fr_ic, fr_ic + 0.6 * (fr_pk - fr_ic), fr_pk, 0.8 * fr_pk, 0.5 * fr_ic,
                       0 * ic, 0 * ic, 0.5 * fr_ic], axis=1)
        tir = (ev - ev_ic[:, None]) / d["ratio"][sl][:, None]
        toe = np.stack([d["toe"][sl]] * 5 + [d["toe"][sl] - 1.5, d["toe"][sl] - 3.0, d["toe"][sl] - 1.0], axis=1)
        inc_ic, inc_to = d["inc_ic"][sl], d["inc_to"][sl]
        frac = (times[:, :5] - ic[:, None]) / tc[:, None]
        progress = 1.0 - (1.0 - frac) ** d["shank_power"][sl][:, None]
        inc_st = inc_ic[:, None] + (inc_to - inc_ic)[:, None] * progress
        inc = np.concatenate([inc_st, np.stack([
            d["inc_es"][sl], d["inc_ms"][sl], d["inc_ls"][sl]], axis=1)], axis=1)
        inc = inc * amp[:, None]
        vals = np.stack([sag, ev + fr, toe, inc, fr, tir], axis=2) * RAD_PER_DEG  # (n, 8, 6)
        vals[:, :, 1] = self._exact_foot_frontal(leg, vals, ev * RAD_PER_DEG)
        slopes = np.full((n, KNOTS_PER_STRIDE, N_CH), np.nan)
        slopes[:, 1:4, 0] = 0.0  # foot flat from foot-flat to heel-off
        # a heel strike lands at the foot's maximum dorsiflexion: the pitch rate crosses zero at
        # IC (Dorschky et al. 2019 mean running stride: foot gyro vs force plate; docs)
        slopes[d["strike"][sl] >= 0.0, 0, 0] = 0.0
        # push-off: the plantarflexion rate is still high when the toes leave the ground
        slopes[:, 4, 0] = (d["rate_factor"][sl] * sag[:, 4] / (times[:, 4] - times[:, 3])) * RAD_PER_DEG
        # the push-off's release: once the toes leave the ground the foot's plantarflexion
        # decelerates at once (Dorschky et al. 2019 mean running stride: the pitch rate is on its
        # plateau until force-plate TO, then falls ~20 % per 7 ms; docs/virtual-runner.md). The
        # swing interval starts with that deceleration, the push-off ends with none: a C1 join.
        curv = np.zeros((n, KNOTS_PER_STRIDE, N_CH))
        curv[:, 4, 0] = -d["release"][sl] * slopes[:, 4, 0]
        slopes[:, 0:5, 2] = 0.0  # no foot rotation about the vertical in stance
        slopes[:, 2, 1] = 0.0  # peak eversion
        slopes[:, 2, 4] = 0.0  # peak shank frontal angle
        slopes[:, 2, 5] = 0.0  # peak internal rotation (coupled)
        # the late return of eversion: explicit rates at heel-off and toe-off (foot frontal =
        # eversion + shank frontal to first order; the shank frontal rate is its free estimate)
        fr_rate = np.stack([_three_point(times[:, 2:5], fr[:, 2:5]), _three_point(times[:, 3:6], fr[:, 3:6])], 1)
        slopes[:, 3:5, 1] = (ev_rate + fr_rate) * RAD_PER_DEG
        slopes[:, 3:5, 5] = ev_rate / d["ratio"][sl][:, None] * RAD_PER_DEG
        return times.reshape(-1), vals.reshape(-1, N_CH), slopes.reshape(-1, N_CH), curv.reshape(-1, N_CH)

    def _exact_foot_frontal(self, leg: str, vals: np.ndarray, ev: np.ndarray) -> np.ndarray:
        """Foot frontal channel (rad) at the knots such that the truth rearfoot eversion (ISB,
        foot relative to shank, with the foot's heading taken from the shank in standing:
        :meth:`foot_heading_reference`) equals ``ev`` exactly, so the eversion parameters are
        what the truth reports (solving for the physical toed-out foot instead would add the
        toe-out's flexion crosstalk: about -1.5 deg at IC and +5 deg at TO when running).

        With the foot's yaw and pitch fixed, ``sin(ev_raw) = A sin(roll) - B cos(roll)`` where
        A, B are the shank's y axis projected on the foot's rolled y and z axes; solved in
        closed form. Between knots the Hermite interpolation keeps it within a fraction of a
        degree (the truth is recomputed from the rotations anyway)."""
        s = mirror_sign(leg)
        m_foot, m_shank = self._m_euler[leg]
        flat = vals.reshape(-1, N_CH)
        e_f = flat @ m_foot.T  # yaw, pitch, roll
        e_f[:, 0] -= s * self._legs[leg].standing_toe  # the standing toe-out is not eversion
        e_s = flat @ m_shank.T
        z = np.zeros(flat.shape[0])
        r_s, _, _ = euler_zyx_kinematics(e_s, np.zeros_like(e_s), np.zeros_like(e_s))
        rz_ry, _, _ = euler_zyx_kinematics(np.stack([e_f[:, 0], e_f[:, 1], z], 1), np.zeros_like(e_f), np.zeros_like(e_f))
        y_s = r_s[:, :, 1]
        a = np.sum(y_s * rz_ry[:, :, 1], axis=1)
        b = np.sum(y_s * rz_ry[:, :, 2], axis=1)
        c = np.sin(s * ev.reshape(-1))
        amp = np.hypot(a, b)
        roll = np.arctan2(b, a) + np.arcsin(np.clip(c / amp, -1.0, 1.0))
        return (s * roll).reshape(vals.shape[:2])

    def _design_strides(self, leg: str, k0: int, k1: int) -> dict:
        """Per-stride parameters (with variability, drift and ramp) of strides k0..k1-1."""
        p = self.params
        ics = self.ic_times(leg, k1 + 1)
        ic = ics[k0:k1]
        ic_next = ics[k0 + 1:k1 + 1]
        z = np.clip(self._leg_rng[leg].standard_normal((k1 - k0, N_DRAWS)), -3, 3)
        v = lambda name: self.value(leg, name, ic)  # noqa: E731
        sd = p.angle_sd_deg
        duty = np.clip(v("duty_factor") + p.duty_factor_sd * z[:, 0], 0.1, 0.9)
        stride_t = ic_next - ic
        to = ic + duty * stride_t
        r = self.ramp(ic)
        amp = 0.5 + 0.5 * r
        strike = v("foot_strike_angle_deg") + sd * z[:, 1]
        d = {
            "ic": ic, "ic_next": ic_next, "to": to, "duty": duty,
            "ff_frac": v("foot_flat_frac"), "pk_frac": v("peak_eversion_frac"), "ho_frac": v("heel_off_frac"),
            "amp": amp, "strike": strike,
            "to_angle": v("toe_off_foot_angle_deg") + sd * z[:, 2],
            "es_angle": v("early_swing_foot_angle_deg") + sd * z[:, 11],
            "ms_angle": v("mid_swing_foot_angle_deg"),
            "rate_factor": v("toe_off_foot_rate_factor"),
            "release": np.maximum(v("toe_off_foot_release_per_s"), 0.0),
            "inc_ms": v("mid_swing_tibial_inclination_deg"),
            "shank_power": np.maximum(v("shank_stance_power"), 0.1),
            "ls_extra": v("late_swing_extra_foot_angle_deg"),
            "ev_ic": v("eversion_at_ic_deg") + sd * z[:, 3],
            "ev_pk": v("peak_eversion_deg") + sd * z[:, 4],
            "ev_to": v("eversion_at_to_deg") + sd * z[:, 5],
            "ev_sw": v("swing_eversion_deg"),
            "ev_power": v("eversion_return_power"),
            "fr_ic": v("shank_frontal_at_ic_deg"),
            "fr_pk": v("peak_shank_frontal_angle_deg") + 0.5 * sd * z[:, 7],
            "ratio": np.maximum(v("ev_tir_ratio"), 0.05),
            "toe": v("toe_out_deg") + sd * z[:, 8],
            "inc_ic": v("tibial_inclination_at_ic_deg") + sd * z[:, 6],
            "inc_to": v("tibial_inclination_at_to_deg"),
            "inc_es": v("early_swing_tibial_inclination_deg"),
            "inc_ls": v("late_swing_tibial_inclination_deg"),
            "pta_g": np.maximum(v("peak_tibial_accel_g") * (0.5 + 0.5 * r) * (1 + p.peak_tibial_accel_cv * z[:, 9]), 1.2),
            "rise_s": v("impact_rise_ms") / 1000.0,
            "decay_s": v("impact_decay_ms") / 1000.0,
            "vtd_min": np.maximum(v("min_touchdown_speed_mps"), 0.0),
            "tr_frac": np.clip(v("toe_roll_start_frac"), 0.0, 0.99),
            "tr_angle": np.maximum(v("toe_roll_angle_at_to_deg"), 0.0) * amp,
            "swing_h": v("swing_height_m") * amp,
            "sw_rot": v("swing_foot_external_rotation_deg") * amp * RAD_PER_DEG,
            "sw_rot_out": np.clip(v("swing_foot_rotation_out_frac"), 0.01, 1.0),
            "sw_rot_back": np.clip(v("swing_foot_rotation_back_frac"), 0.0, 0.99),
            "sw_rot_end": np.clip(v("swing_foot_rotation_end_frac"), 0.01, 1.0),
        }
        mid = ic + 0.5 * duty * stride_t
        length_sd = p.speed_cv * p.speed_mps * stride_t / math.sqrt(2.0)
        d["x"] = self.body_progress(mid) + length_sd * z[:, 10] * r
        return d

    def _extend(self, leg: str) -> None:
        """Add one batch of strides to ``leg`` and complete what became computable."""
        L = self._legs[leg]
        k0, k1 = L.n_strides, L.n_strides + BATCH_STRIDES
        d = self._design_strides(leg, k0, k1)
        if k0 == 0:
            # the standing toe-out (rad): the foot's heading reference (foot_heading_reference)
            L.standing_toe = float(d["toe"][0]) * RAD_PER_DEG
        for key, arr in d.items():
            L.stride[key] = np.concatenate([L.stride.get(key, np.zeros(0)), arr])
        L.n_strides = k1
        k0, k1 = k0 - L.off, k1 - L.off  # relative to the retained arrays from here on
        kt, kv, kd, ka = self._knots_for(leg, L.stride, k0, k1)
        if k0 == 0 and L.off == 0:
            # standing, then the first push-off (a stride -1 whose stance is the standing pose)
            pre = self._design_prestride(leg, d)
            kt = np.concatenate([pre[0], kt])
            kv = np.concatenate([pre[1], kv])
            kd = np.concatenate([pre[2], kd])
            ka = np.concatenate([pre[3], ka])
        L.kt = np.concatenate([L.kt, kt])
        L.kv = np.concatenate([L.kv, kv])
        L.kd_explicit = np.concatenate([L.kd_explicit, kd])
        L.ka = np.concatenate([L.ka, ka])
        # slopes are final for every knot that has a successor
        # slopes depend on the neighbours only: recompute from the last final knot on
        lo = max(L.n_final - 1, 0)
        est = hermite.fill_slopes(L.kt[lo:], L.kv[lo:], L.kd_explicit[lo:])
        L.kd = np.concatenate([L.kd[: L.n_final], est[L.n_final - lo:]])
        L.n_final = L.kt.size - 1
        # the last interval's end slope is provisional: rebuild it on the next extension
        L.curve.t = L.curve.t[: max(L.curve.t.size - 1, 0)]
        L.curve.coef = L.curve.coef[:, : max(L.curve.t.size - 1, 0)]
        L.curve.set_knots(L.kt, L.kv, L.kd, L.ka, np.zeros_like(L.ka))
        self._add_stances(leg, k0, k1)
        self._add_swings(leg)

    def _design_prestride(self, leg: str, d: dict):
        """Knots of standing (t=0 .. heel-off) and of the first push-off and swing."""
        ic0 = d["ic"][0]
        tc0 = self.leg_params[leg].duty_factor * self.stride_time0
        ts0 = (1.0 - self.leg_params[leg].duty_factor) * self.stride_time0
        to0 = ic0 - ts0
        ho0 = to0 - (1.0 - d["ho_frac"][0]) * tc0
        pre = {key: arr[:1].copy() for key, arr in d.items()}
        pre.update({"ic": np.array([to0 - tc0]), "to": np.array([to0]), "ic_next": np.array([ic0]),
                    "ev_ic": np.zeros(1), "amp": np.array([0.5])})
        kt, kv, kd, ka = self._knots_for(leg, pre, 0, 1)
        toe = d["toe"][0] * RAD_PER_DEG
        stand_v = np.zeros((2, N_CH))
        stand_v[:, 2] = toe
        kv[4:, 2] = toe  # keep the toe-out of standing through the first push-off
        stand_d = np.zeros((2, N_CH))
        self._pre[leg] = (ho0, to0)
        return (np.concatenate([[0.0, ho0], kt[4:]]), np.concatenate([stand_v, kv[4:]]),
                np.concatenate([stand_d, kd[4:]]), np.concatenate([np.zeros((2, N_CH)), ka[4:]]))

    # ------------------------------------------------------------ angles
    def standing_toe_out(self, leg: str) -> float:
        """The foot's toe-out in the standing pose (rad, positive = toes out): its heading
        relative to the shank, whose heading is 0 in standing."""
        return float(self._legs[leg].standing_toe)

    def foot_heading_reference(self, leg: str, r_foot: np.ndarray) -> np.ndarray:
        """Foot orientations (n,3,3) with the standing toe-out removed about the world
        vertical, ``Rz(-s toe0) @ R_foot``: the foot as the joint angles see it, its heading
        taken from the shank in the calibrated standing pose, so that
        ``R_shank.T @ R_foot_ref = I`` in standing (all ankle angles zero by definition; the
        gait core's common standing heading of foot and shank). The physical toe-out stays in
        the motion and the signals."""
        g = -mirror_sign(leg) * self.standing_toe_out(leg)
        c, sn = math.cos(g), math.sin(g)
        rz = np.array([[c, -sn, 0.0], [sn, c, 0.0], [0.0, 0.0, 1.0]])
        return rz @ np.asarray(r_foot, dtype=float)

    def angles(self, leg: str, t: np.ndarray, before: bool = False):
        """Anatomical channel values, rates and accelerations (n, 6) in rad(/s, /s^2); a time
        exactly at a knot (toe-off, where the foot's pitch acceleration jumps) is the start of
        the interval after it, or with ``before`` the end of the one before it."""
        return self._legs[leg].curve(np.asarray(t, dtype=float), before)

    def _segment_kin(self, leg: str, t: np.ndarray, shank: bool = True, before: bool = False):
        """(R, w, w') of the foot and (if ``shank``) of the shank at times ``t`` (``before``: as
        :meth:`angles`)."""
        vals = self.angles(leg, t, before)
        s = self._legs[leg].s
        # anatomical channels -> (yaw, pitch, roll); see the module docstring
        foot = euler_zyx_kinematics(*(np.stack([s * x[:, 2], -x[:, 0], s * x[:, 1]], axis=1) for x in vals))
        foot = self._swing_rotation(leg, t, foot)
        if not shank:
            return foot, None
        sh = euler_zyx_kinematics(*(np.stack([-s * x[:, 5], -x[:, 3], s * x[:, 4]], axis=1) for x in vals))
        return foot, sh

    def _swing_rotation(self, leg: str, t: np.ndarray, foot):
        """The foot's turn in swing about the horizontal direction its toes point in standing (a:
        the direction of travel turned by the standing toe-out, so that the truth's removal of the
        toe-out, :meth:`foot_heading_reference`, commutes with it), on top of the anatomical
        channels: ``R = Rot(a, psi) R_c`` with ``psi = s A (S(u/out) - S((u - back)/(end -
        back)))`` (u: fraction of swing, S: the quintic smoothstep, zero rate and acceleration at
        both ends; s: +1 left, -1 right, so that A > 0 turns the toes out and the raised heel in on
        both legs). psi and its first two derivatives are 0 at TO and from ``end`` to IC: stance is
        untouched. Body rates: ``w = w_c + psi' R_c^T a``, ``w' = w_c' + psi'' R_c^T a - psi'
        w_c x (R_c^T a)``; the channels' own rates (the pitch about the foot's y) are unchanged."""
        L = self._legs[leg]
        t = np.asarray(t, dtype=float).reshape(-1)
        if not L.sw_rot.size or not np.any(L.sw_rot[:, 0]):
            return foot
        row = np.searchsorted(L.st_start, t, side="right") - 1
        ok = (row >= 0) & (row < L.n_swings_done)
        rc = np.clip(row, 0, max(L.n_swings_done - 1, 0))
        ok &= t > L.st_to[rc]
        idx = np.nonzero(ok)[0]
        if not idx.size:
            return foot
        i = rc[idx]
        amp = L.sw_rot[i, 0]
        sel = amp != 0.0
        idx, i, amp = idx[sel], i[sel], amp[sel]
        if not idx.size:
            return foot
        t0 = L.st_to[i]
        ts = L.st_start[i + 1] - t0
        u = (t[idx] - t0) / ts
        psi, dpsi, ddpsi = np.zeros(u.size), np.zeros(u.size), np.zeros(u.size)
        for sign, a, b in ((1.0, np.zeros(u.size), L.sw_rot[i, 1]), (-1.0, L.sw_rot[i, 2], L.sw_rot[i, 3])):
            w = np.maximum(b - a, 1e-9)
            x = np.clip((u - a) / w, 0.0, 1.0)
            inside = (u > a) & (u < b)
            psi += sign * x**3 * (10.0 - 15.0 * x + 6.0 * x * x)
            dpsi += np.where(inside, sign * 30.0 * x * x * (1.0 - x) ** 2 / (w * ts), 0.0)
            ddpsi += np.where(inside, sign * 60.0 * x * (1.0 - x) * (1.0 - 2.0 * x) / (w * ts) ** 2, 0.0)
        k = L.s * amp
        psi, dpsi, ddpsi = k * psi, k * dpsi, k * ddpsi
        r, w, dw = (x.copy() for x in foot)
        h = L.s * L.standing_toe  # the standing foot's yaw
        a = np.array([math.cos(h), math.sin(h), 0.0])
        ka = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
        rot = (np.eye(3) + np.sin(psi)[:, None, None] * ka
               + (1.0 - np.cos(psi))[:, None, None] * (ka @ ka))  # Rodrigues
        rc_ = r[idx]
        ax = rotate_t(rc_, np.broadcast_to(a, (idx.size, 3)))  # R_c^T a: the axis in the foot frame
        r[idx] = rot @ rc_
        w_c = w[idx]
        w[idx] = w_c + dpsi[:, None] * ax
        dw[idx] = dw[idx] + ddpsi[:, None] * ax - dpsi[:, None] * cross(w_c, ax)
        return r, w, dw

    # ------------------------------------------------------------ stances and swings
    def _stance_state(self, leg: str, t: np.ndarray, row: np.ndarray, foot=None, with_impact=True,
                      need_pos=True):
        """Ankle (pos, vel, acc) in stance row ``row`` at times ``t`` (pivot + impact);
        pos and vel are None unless ``need_pos``."""
        L = self._legs[leg]
        if foot is None:
            foot, _ = self._segment_kin(leg, t, shank=False)
        r, w, dw = foot
        pre = t < L.st_ho[row]
        rp = np.where(pre[:, None], L.st_r1[row], FOOT_MTP_M)
        acc = -body_point_accel(r, w, dw, rp)
        pos = vel = None
        if need_pos:
            g = np.where(pre[:, None], L.st_g1[row], L.st_gm[row])
            pos = g - rotate(r, rp)
            vel = -body_point_velocity(r, w, rp)
        if with_impact:
            tau = t - L.st_start[row]
            # the pulse and its displacement are below 1e-12 after 8 widths past the peak
            near = np.nonzero((L.st_amp[row] > 0) & (tau < L.st_rise[row] * np.exp(8.0 * L.st_w[row])))[0]
            if near.size:
                rn = row[near]
                e, de, dde = impact_terms(tau[near], L.st_amp[rn], L.st_rise[rn], L.st_w[rn])
                acc[near, 2] += dde
                if need_pos:
                    pos[near, 2] += e
                    vel[near, 2] += de
        # push-off: the toes roll onto their tips, lifting the metatarsal heads (the pivot)
        roll = np.nonzero((L.st_tra[row] > 0) & (t > L.st_tr[row]))[0]
        if roll.size:
            rr = row[roll]
            dur = L.st_to[rr] - L.st_tr[rr]
            u = (t[roll] - L.st_tr[rr]) / dur
            a3 = L.st_tra[rr]
            th, dth, ddth = a3 * u**3, 3.0 * a3 * u**2 / dur, 6.0 * a3 * u / dur**2
            c, sn = np.cos(th), np.sin(th)
            hd = L.st_hd[rr]
            a_fwd = TOE_LENGTH_M * (ddth * sn + dth**2 * c)
            acc[roll, 0] += a_fwd * hd[:, 0]
            acc[roll, 1] += a_fwd * hd[:, 1]
            acc[roll, 2] += TOE_LENGTH_M * (ddth * c - dth**2 * sn)
            if need_pos:
                p_fwd, v_fwd = TOE_LENGTH_M * (1.0 - c), TOE_LENGTH_M * dth * sn
                pos[roll, 0] += p_fwd * hd[:, 0]
                pos[roll, 1] += p_fwd * hd[:, 1]
                pos[roll, 2] += TOE_LENGTH_M * sn
                vel[roll, 0] += v_fwd * hd[:, 0]
                vel[roll, 1] += v_fwd * hd[:, 1]
                vel[roll, 2] += TOE_LENGTH_M * dth * c
        return pos, vel, acc

    def _add_stances(self, leg: str, k0: int, k1: int) -> None:
        L = self._legs[leg]
        d = L.stride
        sl = slice(k0, k1)
        s = L.s
        y = s * 0.5 * self.params.step_width_m
        rows_start = L.st_start.size
        if k0 == 0 and L.off == 0:
            ho0, to0 = self._pre[leg]
            L.first_toe_off = float(to0)
            toe = L.standing_toe
            rz = np.array([[math.cos(toe), -math.sin(toe), 0], [math.sin(toe), math.cos(toe), 0], [0, 0, 1]])
            ankle0 = np.array([0.0, y, ANKLE_HEIGHT_M])
            g1 = ankle0 + rz @ FOOT_HEEL_M
            L.st_start = np.array([-np.inf])
            L.st_ho = np.array([ho0])
            L.st_to = np.array([to0])
            L.st_g1 = g1[None]
            L.st_r1 = FOOT_HEEL_M[None].copy()
            L.st_gm = (ankle0 + rz @ FOOT_MTP_M)[None]
            L.st_amp = np.zeros(1)
            L.st_rise = np.array([0.01])
            L.st_w = np.array([0.5])
            L.st_tr = np.array([to0])
            L.st_tra = np.zeros(1)
            L.st_hd = np.array([[1.0, 0.0]])
            rows_start = 1
        n = k1 - k0
        ic, to = d["ic"][sl], d["to"][sl]
        ho = ic + d["ho_frac"][sl] * (to - ic)
        heel = d["strike"][sl] >= 0.0
        r1 = np.where(heel[:, None], FOOT_HEEL_M, FOOT_MTP_M)
        toe = d["toe"][sl] * RAD_PER_DEG * s
        c, sn = np.cos(toe), np.sin(toe)
        rr1 = np.stack([c * r1[:, 0] - sn * r1[:, 1], sn * r1[:, 0] + c * r1[:, 1]], axis=1)
        g1 = np.stack([d["x"][sl] + rr1[:, 0], y + rr1[:, 1], np.zeros(n)], axis=1)
        rise = d["rise_s"][sl]
        w = impact_width(rise, d["decay_s"][sl])
        L.st_start = np.concatenate([L.st_start, ic])
        L.st_ho = np.concatenate([L.st_ho, ho])
        L.st_to = np.concatenate([L.st_to, to])
        L.st_g1 = np.concatenate([L.st_g1, g1])
        L.st_r1 = np.concatenate([L.st_r1, r1])
        L.st_gm = np.concatenate([L.st_gm, np.zeros((n, 3))])
        L.st_amp = np.concatenate([L.st_amp, np.zeros(n)])
        L.st_rise = np.concatenate([L.st_rise, rise])
        L.st_w = np.concatenate([L.st_w, w])
        L.st_tr = np.concatenate([L.st_tr, ic + d["tr_frac"][sl] * (to - ic)])
        L.st_tra = np.concatenate([L.st_tra, d["tr_angle"][sl] * RAD_PER_DEG])
        L.st_hd = np.concatenate([L.st_hd, np.stack([c, sn], axis=1)])
        rows = np.arange(rows_start, rows_start + n)
        # metatarsal contact point once the heel rises (the foot is flat there)
        (r_ho, _, _), _ = self._segment_kin(leg, ho)
        ankle_ho = g1 - np.einsum("nij,nj->ni", r_ho, r1)
        L.st_gm[rows] = ankle_ho + np.einsum("nij,j->ni", r_ho, FOOT_MTP_M)
        # impact amplitude so that the shank's axial specific force peaks at the target
        self._fit_impacts(leg, rows, d["pta_g"][sl], d["vtd_min"][sl])

    def _fit_impacts(self, leg: str, rows: np.ndarray, pta_g: np.ndarray, vtd_min_mps: np.ndarray) -> None:
        """Impact amplitude (m/s^2) of stance ``rows``: the transient's own peak of the axial
        specific force at the shank sensor (the first local maximum after contact, near the
        pulse's peak) meets ``pta_g``. Later maxima of the leg's own motion (the heel drop
        after a forefoot landing, push-off) are not the impact and are left as they are: the
        truth reads the stance maximum from the signal. The contact point lands at least at
        ``vtd_min_mps``: the ground always stops the foot."""
        L = self._legs[leg]
        n_grid = 64
        rise, w = L.st_rise[rows], L.st_w[rows]
        # log-spaced around the pulse peak: from 2.5 widths before it to 3 after
        tau = rise[:, None] * np.exp(np.linspace(-2.5, 3.0, n_grid)[None, :] * w[:, None])
        t = (L.st_start[rows][:, None] + tau).reshape(-1)
        rowr = np.repeat(rows, n_grid)
        foot, shank = self._segment_kin(leg, t)
        _, _, acc = self._stance_state(leg, t, rowr, foot=foot, with_impact=False, need_pos=False)
        r_s, w_s, dw_s = shank
        site = shank_sensor_site(leg)
        a = acc + body_point_accel(r_s, w_s, dw_s, site)
        a[:, 2] += STANDARD_GRAVITY_MPS2
        axis = r_s[:, :, 2]  # shank z in the world
        base = np.sum(a * axis, axis=1).reshape(-1, n_grid)
        kern = (impact_shape(tau.reshape(-1), np.repeat(rise, n_grid), np.repeat(w, n_grid))
                * axis[:, 2]).reshape(-1, n_grid)
        target = pta_g * STANDARD_GRAVITY_MPS2
        idx = np.arange(rows.size)
        j_pk = int(np.argmin(np.abs(np.linspace(-2.5, 3.0, n_grid))))  # the pulse's own peak
        amp = np.maximum(target - base[:, j_pk], 0.0)
        for _ in range(6):
            tot = base + amp[:, None] * kern
            j = _first_local_max(tot)
            kj = kern[idx, j]
            amp = np.maximum(amp + (target - tot[idx, j]) / np.maximum(kj, 1e-3), 0.0)
        L.st_amp[rows] = np.maximum(amp, vtd_min_mps / impact_area(rise, w))

    def _add_swings(self, leg: str) -> None:
        """Complete every swing whose both ends are now known (from stance row i to row i+1)."""
        L = self._legs[leg]
        first = L.n_swings_done
        last = L.st_start.size - 2  # swing i needs stance i+1
        if last < first:
            return
        rows = np.arange(first, last + 1)
        t0 = L.st_to[rows]
        t1 = L.st_start[rows + 1]
        foot1 = self._segment_kin(leg, t0, shank=False)[0]
        s0 = list(self._stance_state(leg, t0, rows, foot=foot1))
        # the release: at TO the pitch acceleration jumps (foot1 holds the swing's, which the
        # pivot state above assumes for the metatarsal heads); the swing starts with the
        # acceleration of RELEASE_POINT_M continuous instead. Only where the curvature jumps
        # (the two sides of a C2 knot agree to rounding, and are left exactly as they were).
        r1, _, dw1 = foot1
        jump = dw1 - self._segment_kin(leg, t0, shank=False, before=True)[0][2]
        jump[np.abs(jump) < 1e-6] = 0.0
        s0[2] = s0[2] + rotate(r1, cross(jump, np.broadcast_to(FOOT_MTP_M - RELEASE_POINT_M, jump.shape)))
        s1 = self._stance_state(leg, t1, rows + 1)
        st0 = np.stack(s0, axis=1)
        st1 = np.stack(s1, axis=1)
        h = np.concatenate([[L.stride["swing_h"][0]], L.stride["swing_h"][rows[rows >= 1] - 1]]) \
            if first == 0 and L.off == 0 else L.stride["swing_h"][rows - 1]
        L.sw_state0 = np.concatenate([L.sw_state0, st0])
        L.sw_state1 = np.concatenate([L.sw_state1, st1])
        L.sw_h = np.concatenate([L.sw_h, h[: rows.size]])
        src = np.concatenate([[0], rows[rows >= 1] - 1]) if first == 0 and L.off == 0 else rows - 1
        rot = np.stack([L.stride[k][src] for k in ("sw_rot", "sw_rot_out", "sw_rot_back", "sw_rot_end")], axis=1)
        L.sw_rot = np.concatenate([L.sw_rot, rot[: rows.size]])
        L.n_swings_done = last + 1

    # ------------------------------------------------------------ evaluation
    def valid_until(self, leg: str) -> float:
        """Kinematics are complete before this time (s)."""
        L = self._legs[leg]
        return float(L.st_start[L.n_swings_done]) if L.n_swings_done < L.st_start.size else -np.inf

    def ensure(self, t_max: float) -> None:
        for leg in LEGS:
            while self.valid_until(leg) <= t_max + 0.5:
                self._extend(leg)

    def kinematics(self, leg: str, t: np.ndarray, shank: bool = True, need_pos: bool = True) -> Kinematics:
        """Both segments of ``leg`` at true times ``t`` (s, any order, t >= 0); with
        ``shank=False`` the shank fields are None and with ``need_pos=False`` the ankle position
        and velocity are None (faster, for IMU signals)."""
        t = np.asarray(t, dtype=float).reshape(-1)
        L = self._legs[leg]
        if t.size:
            self.ensure(float(np.max(t)))
            if float(np.min(t)) < L.t_valid_from:
                raise ValueError(f"{leg}: t = {float(np.min(t)):.3f} s was forgotten to bound memory "
                                 f"(kept from {L.t_valid_from:.3f} s); see VirtualRunner(bounded_memory=...)")
        foot, shank = self._segment_kin(leg, t, shank)
        if shank is None:
            shank = (None, None, None)
        row = np.searchsorted(L.st_start, t, side="right") - 1
        swing = t >= L.st_to[row]
        pos = np.empty((t.size, 3)) if need_pos else None
        vel = np.empty((t.size, 3)) if need_pos else None
        acc = np.empty((t.size, 3))
        st = ~swing
        n_st = int(np.count_nonzero(st))
        if n_st:
            idx = slice(None) if n_st == t.size else np.nonzero(st)[0]
            sub = foot if n_st == t.size else tuple(x[idx] for x in foot)
            p, v, a = self._stance_state(leg, t[idx], row[idx], foot=sub, need_pos=need_pos)
            acc[idx] = a
            if need_pos:
                pos[idx], vel[idx] = p, v
        if n_st < t.size:
            idx = np.nonzero(swing)[0]
            i = row[idx]
            t0 = L.st_to[i]
            h1 = L.st_start[i + 1] - t0
            u = (t[idx] - t0) / h1
            s0, s1 = L.sw_state0[i], L.sw_state1[i]
            u2 = u * u
            u3 = u2 * u
            hh = (h1 * h1)[:, None]
            # second derivative of the quintic Hermite basis (see hermite.quintic_basis)
            w_ = [(-60 * u + 180 * u2 - 120 * u3), (-36 * u + 96 * u2 - 60 * u3), 1 - 9 * u + 18 * u2 - 10 * u3,
                  3 * u - 12 * u2 + 10 * u3, (-24 * u + 84 * u2 - 60 * u3), (60 * u - 180 * u2 + 120 * u3)]
            a = ((w_[0][:, None] * s0[:, 0] + w_[5][:, None] * s1[:, 0]) / hh
                 + (w_[1][:, None] * s0[:, 1] + w_[4][:, None] * s1[:, 1]) / h1[:, None]
                 + w_[2][:, None] * s0[:, 2] + w_[3][:, None] * s1[:, 2])
            # smooth lift 64 u^3 (1-u)^3, zero with its first two derivatives at both ends
            hgt = L.sw_h[i]
            um = 1.0 - u
            a[:, 2] += hgt * 64.0 * (6 * u * um**3 - 18 * u2 * um**2 + 6 * u3 * um) / h1**2
            acc[idx] = a
            if need_pos:
                b, db, _ = hermite.quintic_basis(u, h1)
                coef = np.stack([s0[:, 0], s0[:, 1], s0[:, 2], s1[:, 2], s1[:, 1], s1[:, 0]], axis=1)
                p = np.einsum("nk,nkc->nc", b, coef)
                v = np.einsum("nk,nkc->nc", db, coef)
                p[:, 2] += hgt * 64.0 * u3 * um**3
                v[:, 2] += hgt * 64.0 * (3 * u2 * um**3 - 3 * u3 * um**2) / h1
                pos[idx], vel[idx] = p, v
        return Kinematics(t, *foot, *shank, pos, vel, acc)

    # ------------------------------------------------------------ bounded memory
    def forget_before(self, t: float) -> None:
        """Drop every stride whose swing ended (next IC) before ``t`` (s); later times stay
        exactly as they were. Evaluating a forgotten time raises ValueError."""
        for leg in LEGS:
            L = self._legs[leg]
            # stance row r can go once the swing after it ends before t; keep >= 2 complete rows
            m = int(np.searchsorted(L.st_start[1:], t, side="right"))
            m = min(m, L.n_swings_done - 2, L.stride["ic"].size - 2)
            if m <= 0:
                continue
            t_keep = float(L.st_start[m])  # start of the first retained stance row
            j = max(int(np.searchsorted(L.kt, t_keep, side="right")) - 3, 0)
            if j <= 0:
                continue
            for name in ("st_start", "st_ho", "st_to", "st_g1", "st_r1", "st_gm", "st_amp", "st_rise", "st_w",
                         "st_tr", "st_tra", "st_hd",
                         "sw_h", "sw_state0", "sw_state1", "sw_rot"):
                setattr(L, name, getattr(L, name)[m:])
            L.n_swings_done -= m
            L.stride = {k: v[m:] for k, v in L.stride.items()}
            L.off += m
            L.kt, L.kv, L.kd, L.kd_explicit, L.ka = L.kt[j:], L.kv[j:], L.kd[j:], L.kd_explicit[j:], L.ka[j:]
            L.n_final -= j
            L.curve.t = L.curve.t[j:]
            L.curve.coef = L.curve.coef[:, j:]
            L.t_valid_from = max(float(L.kt[1]), t_keep)

    def memory_rows(self) -> dict[str, int]:
        """Retained strides per leg (for tests and monitoring of the bounded memory)."""
        return {leg: int(self._legs[leg].stride["ic"].size) for leg in LEGS}

    # ------------------------------------------------------------ events
    def strides(self, leg: str, t_max: float) -> dict:
        """Per-stride design and events of ``leg`` for strides whose next IC is <= ``t_max``:
        ``ic``, ``to``, ``ic_next`` (s), and the targets used (e.g. ``pta_g``)."""
        self.ensure(t_max)
        L = self._legs[leg]
        n = int(np.searchsorted(L.stride["ic_next"], t_max, side="right"))
        out = {k: v[:n] for k, v in L.stride.items()}
        out["index"] = np.arange(L.off, L.off + n)  # absolute stride index
        out["impact_amp_mps2"] = L.st_amp[1: n + 1]
        out["touchdown_speed_mps"] = L.st_amp[1: n + 1] * impact_area(L.st_rise[1: n + 1], L.st_w[1: n + 1])
        out["sole_compression_m"] = out["touchdown_speed_mps"] * impact_mean_time(L.st_rise[1: n + 1], L.st_w[1: n + 1])
        return out
