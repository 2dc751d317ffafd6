"""Sensor-to-segment calibration for any mounting: stand still, then walk or run.

Method (docs/metrics.md, "Calibration"):

1. **Standing** (>= ``standing_s`` of still chunks): the gyroscope bias is the mean angular
   velocity, the segment's vertical (+z, up) is the direction of the mean specific force.
   Standing defines the zero of every segment angle (foot flat, shank "vertical"), so the
   standing foot and shank angles are the zero references by construction.
2. **Moving** (``moving_s`` of samples rotating faster than ``moving_gyr_rps``): the segment's
   mediolateral axis is the principal axis of the angular velocity (largest eigenvector of
   sum(w w^T)), as in the functional calibration of Favre et al. 2009 (Med Biol Eng Comput
   47:169) and the swing-axis alignment of gaitmap / Ferraris et al. 1995; it is projected
   onto the horizontal plane of standing. Its *sign* (y to the LEFT) uses a fact of
   gait that does not depend on the mounting: rotating about +y (left) by a positive angle is
   "toes down" for the foot and "knee ahead of the ankle" for the shank, and in walking and
   running those excursions (push-off and swing: 40-100 deg) are much larger than the
   opposite ones (dorsiflexion at IC, ankle ahead of knee at IC: 10-25 deg). So the integral
   of w.y since standing must reach further positive than negative; if not, y is flipped.
3. x = y cross z. ``sensor_to_segment`` is the quaternion (w, x, y, z) of the matrix with
   rows x, y, z (segment-from-sensor: v_segment = R v_sensor).

Quality: stillness (gyro and accelerometer standard deviation while standing), planarity
(share of the largest eigenvalue) and tilt of the axis out of the horizontal, both of the
rotation the axis came from (the foot's later swings when the swing axis is used, else all the
motion: on pyshoe's tight circles 0.71-0.74 instead of 0.63-0.69), sign margin
``|p99 + p1| / (p99 - p1)`` of the integrated angle. A calibration that fails any check has
``ok = False`` and the reasons; the processor then flags its strides ``calibration_bad``.

**Without standing** (recordings that start running, users who forget to stand): when no
standing window was found after ``fallback_after_s`` and the last ``window_s`` hold ``moving_s``
of motion, the calibration is decided from that motion alone (``method = "moving_only"``):

* gyroscope bias: NOT estimated (zero). Measured on pyshoe_dev against the standing bias
  (0.001-0.005 rad/s): the mean rate over whole strides is off by up to 0.4 rad/s (the body
  rate of a periodic 3-D rotation does not integrate to zero: coning), and a running foot is
  never still (its stillest 2 % of samples still turn at 0.2-0.5 rad/s). A MEMS bias of
  ~0.01 rad/s is absorbed by the per-stride tilt resets of the foot tracker and of the shank
  (runform.core.shank), so zero is the better estimate.
* vertical, foot: the mean specific force of the quasi-static samples (the stillest
  ``quasi_static_fraction`` by |w| + 0.05 s^2/m * ||f| - g|: foot-flat phases), so the zero of
  the foot angles is the foot flat on the ground, as when standing (the quasi-static / ZUPT
  idea of Skog et al. 2010).
* vertical, shank: the shank is never still while running; the Hann-weighted mean specific
  force over whole strides (tangential accelerations integrate to zero over a period,
  centripetal ones point along the tibia) is the vertical of the shank's *mean posture over
  the stride*, not of standing: shank angles are then relative to that posture (typically
  10-25 deg forward of standing in running). ``reference`` says which zero was used and the
  processor flags every stride ``no_standing``.

Sign of the foot's mediolateral axis (with or without standing): two independent facts of
gait, :func:`foot_sign`. (a) The direction of travel: the foot tracker (runform.core.foot) runs
over the calibration's motion with +y and with -y; with the right sign its strides move forward
(+x; displacement between mid-stances), with the wrong one they move backwards or are not found
(as in the foot engineer's offline alignment, benchmarks/bench_events.py). The score is the
forward share of the 3-D displacement: at 100 Hz the wrong sign's events can put the
"mid-stances" in swing, where the zero-velocity integration drifts 0.6-1.5 m vertically per
stride but forward in x (the horizontal share made both signs "move forward"). (b) The rotation
asymmetry above (toes-down push-off and swing reach much further than toes-up at IC), from
standing or, without standing, from the foot-flat posture. (a) integrates the accelerometer
twice and fails when it saturates (hugadb's +-2 g: both signs then give "forward" strides);
(b) uses the gyroscope only, but is itself wrong when the gyroscope saturates in push-off and
swing (pyshoe's 520-560 deg/s: (b) contradicts the Vicon-confirmed travel sign on all four
trials, once with margin 0.34). So (a) decides when its margin reaches ``min_sign_margin``;
when it does not, (b) with a margin that reaches it and the same sign confirms (a) (rule
``travel+asymmetry``); otherwise the result is flagged ``ambiguous_direction`` as before.
Only when no stride is found either way does (b) decide alone. On hugadb this turns 8 of the
9 ambiguous feet ready, each with the y axis that the same foot has in the subject's other
files (docs/validation-foot.md). The shank keeps the asymmetry rule, relative to standing, or without
standing to its median posture (stance-like; the mean posture gives margins of only ~0.12 on
the synthetic runner, the median 0.25-0.31). Rules that use only one segment's signals and no
asymmetry cannot work: flipping y flips x too (a 180 deg turn about z), so every product of
x and y quantities is unchanged.

Streaming: decisions happen at the end of chunks of ``chunk_s`` aligned to sample indices
(counted from the start or from :meth:`SegmentCalibrator.reset`), so the result does not
depend on how samples are split into blocks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from ..placements import segment_of
from ..rotations import matrix_to_quat
from ..units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2
from .params import CalibrationParams


@dataclass(frozen=True)
class SegmentCalibration:
    """Result of calibrating one sensor on its segment.

    gyro_bias_rps: (3,) rad/s in the sensor frame, subtract from raw gyro.
    sensor_to_segment: (4,) quaternion (w, x, y, z), v_segment = R v_sensor.
    gravity_sensor: (3,) unit vector, segment +z (up) in the sensor frame while standing.
    ml_axis_sensor: (3,) unit vector, segment +y (left) in the sensor frame.
    Quality numbers: stillness_gyr_rps / stillness_acc_mps2 (std while standing),
    planarity (0..1), axis_tilt_deg (axis out of horizontal), sign_margin (0..1).
    ok: all checks passed; reasons: the failed checks.
    """

    placement: str
    gyro_bias_rps: np.ndarray
    sensor_to_segment: np.ndarray
    gravity_sensor: np.ndarray
    ml_axis_sensor: np.ndarray
    standing_start_s: float
    standing_end_s: float
    ready_time_s: float
    stillness_gyr_rps: float
    stillness_acc_mps2: float
    planarity: float
    axis_tilt_deg: float
    sign_margin: float
    ok: bool
    reasons: tuple[str, ...] = ()
    method: str = "standing+moving"
    #: the zero of the segment angles: ``standing``, ``foot_flat`` or ``mean_stride``
    reference: str = "standing"
    #: how the sign of y was decided: ``travel``, ``asymmetry``, ``travel+asymmetry``
    #: (calibration.foot_sign) or ``foot_correlation`` (processor, shank)
    sign_rule: str = "asymmetry"

    @cached_property
    def matrix(self) -> np.ndarray:
        """(3, 3) segment-from-sensor rotation matrix (computed once per calibration: it is
        applied to every block of samples)."""
        return np.stack([np.cross(self.ml_axis_sensor, self.gravity_sensor), self.ml_axis_sensor, self.gravity_sensor])

    def apply(self, acc_mps2: np.ndarray, gyr_rps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensor-frame samples (n, 3) -> segment frame, gyro bias removed."""
        m = self.matrix
        return np.asarray(acc_mps2, float) @ m.T, (np.asarray(gyr_rps, float) - self.gyro_bias_rps) @ m.T

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (quality numbers, quaternion, bias)."""
        return {
            "placement": self.placement,
            "ok": bool(self.ok),
            "reasons": list(self.reasons),
            "method": self.method,
            "reference": self.reference,
            "sign_rule": self.sign_rule,
            "gyro_bias_dps": [float(v) * DEG_PER_RAD for v in self.gyro_bias_rps],
            "sensor_to_segment_wxyz": [float(v) for v in self.sensor_to_segment],
            "standing_start_s": _finite(self.standing_start_s),
            "standing_end_s": _finite(self.standing_end_s),
            "ready_time_s": self.ready_time_s,
            "stillness_gyr_dps": _finite(self.stillness_gyr_rps * DEG_PER_RAD),
            "stillness_acc_mps2": _finite(self.stillness_acc_mps2),
            "planarity": self.planarity,
            "axis_tilt_deg": self.axis_tilt_deg,
            "sign_margin": self.sign_margin,
        }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def principal_axis(gyr_rps: np.ndarray) -> tuple[np.ndarray, float]:
    """(unit axis (3,), planarity) of angular velocities (n, 3) rad/s: the eigenvector of
    ``sum(w w^T)`` with the largest eigenvalue, and that eigenvalue's share of the sum."""
    g = np.asarray(gyr_rps, float)
    m = g.T @ g
    vals, vecs = np.linalg.eigh(m)
    total = float(np.sum(vals))
    return vecs[:, -1], (float(vals[-1]) / total if total > 0 else 0.0)


def hann_mean(x: np.ndarray) -> np.ndarray:
    """Mean of (n, ...) samples weighted with a Hann taper (ends weigh ~0): over a window of
    several periods of a periodic signal it is the period mean with negligible edge error."""
    n = x.shape[0]
    w = 0.5 - 0.5 * np.cos(2 * np.pi * (np.arange(n) + 0.5) / n)
    return np.tensordot(w, x, axes=(0, 0)) / np.sum(w)


def asymmetry_sign(theta: np.ndarray, ref: float) -> tuple[int, float]:
    """(+1 or -1, margin) of the gait asymmetry rule: the angle ``theta`` (rad, about the
    candidate +y) must reach further positive than negative from the reference ``ref``."""
    if theta.size == 0:
        return 1, 0.0
    # both percentiles from one call (one partition; the same interpolation per percentile)
    hi, lo = np.percentile(theta - ref, [99, 1])
    span = hi - lo
    margin = float(abs(hi + lo) / span) if span > 0 else 0.0
    return (1 if hi + lo >= 0 else -1), margin


def travel_sign(time_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, m: np.ndarray, rate_hz: float,
                strides_out: list | None = None) -> tuple[int, float] | None:
    """Foot: (+1 or -1, margin) for the y axis of the segment matrix ``m`` (rows x, y, z in
    sensor coordinates) from the direction of travel: the foot tracker runs with +y and with -y
    (x flips with y); the right sign makes strides move forward. ``gyr_rps`` bias removed.
    ``margin`` = half the difference of the mean forward share (displacement_x / |displacement|,
    3-D) of the two runs (1 = clear). None when neither run finds a stride. ``strides_out``: when
    given, the chosen sign's FootStride records are appended to it (for the swing axis)."""
    from .foot import FootParams, FootTracker  # the foot engineer's package
    from .foot.tracker import PendingStride, build_strides

    pending = []
    # the classic zero-velocity update (sensor_height_m=0): with the wrong sign the "mid-stances"
    # can fall where the foot turns fast (HuGaDB 09_00 right: |w| 190 deg/s), and the rolling
    # contact's sensor velocity (w x h z) would then add travel to the wrong run
    params = FootParams(sensor_height_m=0.0)
    for sgn in (1.0, -1.0):
        ms = m * np.array([[sgn], [sgn], [1.0]])
        tracker = FootTracker(rate_hz, params, defer_strides=True)
        outs = tracker.push(time_s, acc_mps2 @ ms.T, gyr_rps @ ms.T)
        # a push shorter than LIVE_PUSH returns no stride without defer_strides (the stride waits
        # for a next push that never comes here): the same here
        live = len(time_s) < FootTracker.LIVE_PUSH
        pending.append([] if live else [o for o in outs if isinstance(o, PendingStride)])
    # both runs' strides integrated in one batched call (each stride's numbers do not depend on
    # the batch it is in: the offline path batches them, the live path integrates them one by one)
    built = build_strides(pending[0] + pending[1]) if pending[0] or pending[1] else []
    found = [built[: len(pending[0])], built[len(pending[0]) :]]
    score = []
    for outs in found:
        # the forward share of the 3-D displacement: a stride integrated between two samples
        # that are not in stance (the wrong sign's events at 100 Hz put "mid-stances" in swing)
        # breaks the zero-velocity assumption and drifts vertically by tens of cm; that part of
        # its displacement is not travel (between two real mid-stances |dz| << length)
        fwd = [o.displacement_m[0] / float(np.linalg.norm(o.displacement_m)) for o in outs
               if np.isfinite(o.stride_length_m) and o.stride_length_m > 0.1]
        score.append(float(np.mean(fwd)) if fwd else np.nan)
    if not np.any(np.isfinite(score)):
        return None
    sp, sm = (-1.0 if not np.isfinite(v) else v for v in score)
    sign = 1 if sp >= sm else -1
    if strides_out is not None:
        strides_out.extend(found[0 if sign > 0 else 1])
    return sign, float(min(1.0, abs(sp - sm) / 2))


def foot_sign(travel: tuple[int, float] | None, asymmetry: tuple[int, float], min_margin: float) -> tuple[int, float, str]:
    """(sign, margin, rule) of the foot's y from the travel test (None: no stride found either
    way) and the asymmetry test, each (sign, margin); module docstring, "Sign of the foot's
    mediolateral axis". The travel test decides when it is clear (margin >= ``min_margin``);
    when it is not, a clear asymmetry test that agrees with it confirms its sign (rule
    ``travel+asymmetry``, the asymmetry's margin); otherwise the travel result stands (and is
    flagged ambiguous). Without any stride the asymmetry test alone decides."""
    if travel is None:
        return asymmetry[0], asymmetry[1], "asymmetry"
    if travel[1] < min_margin and asymmetry[1] >= min_margin and asymmetry[0] == travel[0]:
        return travel[0], asymmetry[1], "travel+asymmetry"
    return travel[0], travel[1], "travel"


def swing_axis(time_s: np.ndarray, gyr_rps: np.ndarray, strides: list, params: CalibrationParams) -> tuple[np.ndarray, float] | None:
    """Foot: (principal axis, planarity) of the angular velocity (n, 3) rad/s over part of each
    swing of the foot tracker's ``strides``: the middle of swing, ``[TO + swing_axis_from x
    swing, TO + swing_axis_to_straight x swing)``, of the strides that do not turn (heading
    change at most ``swing_axis_straight_rad``) when there are ``swing_axis_min_strides`` of
    them; else the later part of every swing, ``[TO + swing_axis_from x swing, TO +
    swing_axis_to x swing)`` (the next IC when ``swing_axis_to`` is 1). None with fewer than
    ``swing_axis_min_strides`` swings.

    Why the middle of swing when the runner goes straight: from there to the IC a real foot
    inverts and adducts while it dorsiflexes (gaitmap's walker: ~22 deg and 16-20 deg against
    its mocap marker frame), which turns the axis of the terminal swing furthest from the foot's
    long axis (gaitmap: 25 % -> IC -12.8 / +11.6 deg from the marker frame, 25-67 % -6.8 / +6.8;
    virtual runner 2.6 -> 1.7 deg mean); the heading error leaks roll rate into the pitch rate of
    the IC feature (gaitmap right IC 8.5 -> 7.3 ms) and the sagittal angle into the eversion.
    Why not when the runner turns: the foot's rotation about the vertical (pyshoe's Vicon-room
    circles, 62-70 deg per stride, much of it in swing) is then a large part of the middle of
    swing and moves its axis by 8-29 deg, while the terminal swing's dorsiflexion dominates any
    turning (docs/validation.md, "Foot heading", the 2026-11-24 looks).

    Why not the whole motion: the principal axis of all the foot's rotation is tilted towards
    the foot's long axis by every rotation that is correlated with the sagittal one - the
    supination that goes with plantarflexion at push-off (the subtalar coupling of the loaded
    foot, Inman 1976, The Joints of the Ankle) and, right after toe-off, the leg's rotation
    about the vertical, which the steeply plantarflexed foot (50-90 deg) sees about its own
    long axis (-psi' sin(pitch)). Both vanish in the rest of swing (foot unloaded and near
    horizontal, rotating about the talocrural axis). The resulting heading error of the foot
    frame mixes roll rate into the sagittal rate (IC feature) and sagittal angle into the
    eversion (docs/validation.md, "What changed in the core").
    """
    whole = [s for s in strides if np.isfinite(s.to_time_s) and np.isfinite(s.next_ic_time_s) and s.next_ic_time_s > s.to_time_s]
    straight = [s for s in whole if abs(s.heading_change_rad) <= params.swing_axis_straight_rad]  # NaN: not straight
    if len(straight) >= params.swing_axis_min_strides:
        found = _swing_part_axis(time_s, gyr_rps, straight, params.swing_axis_to_straight, params)
        if found is not None:  # else (their windows hold too few samples) as if they turned
            return found
    return _swing_part_axis(time_s, gyr_rps, whole, params.swing_axis_to, params)


def _swing_part_axis(time_s: np.ndarray, gyr_rps: np.ndarray, strides: list, frac_to: float,
                     params: CalibrationParams) -> tuple[np.ndarray, float] | None:
    """(principal axis, planarity) of the angular velocity over ``[TO + swing_axis_from x swing,
    TO + frac_to x swing)`` (the next IC when ``frac_to`` is 1) of each stride; None with fewer
    than ``swing_axis_min_strides`` non-empty windows or fewer than 3 moving samples."""
    t = np.asarray(time_s, float)
    sel = np.zeros(t.size, bool)
    n_sw = 0
    for s in strides:
        to, ic = s.to_time_s, s.next_ic_time_s
        t0 = to + params.swing_axis_from * (ic - to)
        t1 = ic if frac_to >= 1.0 else to + frac_to * (ic - to)
        i0, i1 = np.searchsorted(t, [t0, t1])
        if i1 > i0:
            sel[i0:i1] = True
            n_sw += 1
    g = np.asarray(gyr_rps, float)[sel]
    g = g[np.linalg.norm(g, axis=1) > params.moving_gyr_rps]
    if n_sw < params.swing_axis_min_strides or g.shape[0] < 3:
        return None
    return principal_axis(g)


def _refine_foot_axis(y: np.ndarray, z: np.ndarray, time_s: np.ndarray, gyr_rps: np.ndarray, strides: list,
                      params: CalibrationParams) -> tuple[np.ndarray, tuple[float, float] | None]:
    """The foot's y (unit, horizontal, sign kept) from :func:`swing_axis` when it is
    available, else ``y`` unchanged; and the (planarity, tilt out of the horizontal in deg) of
    the swing rotation it came from (None when not used), so that the quality checks describe
    the axis in use."""
    sw = swing_axis(time_s, gyr_rps, strides, params)
    if sw is None:
        return y, None
    ax, pl = sw
    tilt = float(np.degrees(np.arcsin(min(1.0, abs(float(np.dot(ax, z)))))))
    ax = ax - np.dot(ax, z) * z
    if np.linalg.norm(ax) < 1e-6:
        return y, None
    ax = ax / np.linalg.norm(ax)
    return (ax if np.dot(ax, y) >= 0 else -ax), (pl, tilt)


def segment_matrix(gravity_sensor: np.ndarray, ml_axis_sensor: np.ndarray) -> np.ndarray:
    """Rows x, y, z of the segment frame in sensor coordinates (y made orthogonal to z)."""
    z = np.asarray(gravity_sensor, float)
    z = z / np.linalg.norm(z)
    y = np.asarray(ml_axis_sensor, float)
    y = y - np.dot(y, z) * z
    y = y / np.linalg.norm(y)
    return np.stack([np.cross(y, z), y, z])


@dataclass
class _Standing:
    start_s: float
    end_s: float
    acc_mean: np.ndarray
    gyr_mean: np.ndarray
    gyr_std: float
    acc_std: float


@dataclass
class _Chunks:
    """Per-chunk statistics of the current still run."""

    t0: list = field(default_factory=list)
    t1: list = field(default_factory=list)
    acc: list = field(default_factory=list)
    gyr: list = field(default_factory=list)
    gstd: list = field(default_factory=list)
    astd: list = field(default_factory=list)

    def clear(self) -> None:
        for v in (self.t0, self.t1, self.acc, self.gyr, self.gstd, self.astd):
            v.clear()



def axis_quality_reasons(planarity: float, axis_tilt_deg: float, sign_margin: float, p: Any) -> list[str]:
    """Why a functional mediolateral axis is not trusted (empty: it is): the rotation was not
    planar enough, the axis is far from horizontal (> 45 deg), or its left/right sign is
    ambiguous. ``p``: the CalibrationParams with ``min_planarity`` and ``min_sign_margin``."""
    reasons = []
    if planarity < p.min_planarity:
        reasons.append("not_planar")
    if axis_tilt_deg > 45.0:
        reasons.append("axis_not_horizontal")
    if sign_margin < p.min_sign_margin:
        reasons.append("ambiguous_direction")
    return reasons

class SegmentCalibrator:
    """Streaming calibration of one sensor: ``push`` raw sensor-frame samples, get a
    :class:`SegmentCalibration` once (or ``None`` while undecided).

    ``state``: ``standing`` (waiting for a still window), ``moving`` (standing found, waiting
    for enough motion), ``ready`` or ``bad``. :meth:`reset` starts again (recalibration).
    """

    def __init__(self, placement: str, rate_hz: float, params: CalibrationParams | None = None):
        self.placement = placement
        self.rate_hz = float(rate_hz)
        self.params = params or CalibrationParams()
        p = self.params
        self.chunk_n = max(4, int(round(p.chunk_s * self.rate_hz)))
        self.standing_chunks = max(1, int(np.ceil(p.standing_s / p.chunk_s)))
        self.max_standing_chunks = max(self.standing_chunks, int(np.ceil(p.max_standing_s / p.chunk_s)))
        self.moving_n = int(round(p.moving_s * self.rate_hz))
        self.segment = segment_of(placement)
        self.window_chunks = max(1, int(np.ceil(p.window_s / p.chunk_s)))
        self.fallback_chunks = int(np.ceil(p.fallback_after_s / p.chunk_s))
        self.reset()

    def reset(self) -> None:
        """Forget everything and look for a new standing window."""
        self.state = "standing"
        self.result: SegmentCalibration | None = None
        self._part_t = np.zeros(0)
        self._part_a = np.zeros((0, 3))
        self._part_g = np.zeros((0, 3))
        self._run = _Chunks()
        self._standing: _Standing | None = None
        self._mov: deque = deque(maxlen=self.window_chunks)  # (t, acc, gyr - bias) since standing
        self._mov_count = 0
        self._mov_samples = 0
        # the last window_s of raw chunks (t, acc, gyr, moving count) for the no-standing fallback
        self._win: deque = deque(maxlen=self.window_chunks)
        self._chunks_seen = 0

    # ------------------------------------------------------------------ streaming
    def push(self, time_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, gap_before: bool = False) -> SegmentCalibration | None:
        """Feed raw sensor-frame samples; returns the calibration when it is decided
        (``ok`` True or False), else ``None``. After a decision further pushes return ``None``."""
        if self.state in ("ready", "bad"):
            return None
        t = np.asarray(time_s, float).reshape(-1)
        a = np.asarray(acc_mps2, float).reshape(-1, 3)
        g = np.asarray(gyr_rps, float).reshape(-1, 3)
        if gap_before:
            self._part_t, self._part_a, self._part_g = np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
            self._end_run()
            self._win.clear()
        t = np.concatenate([self._part_t, t])
        a = np.concatenate([self._part_a, a])
        g = np.concatenate([self._part_g, g])
        k = t.size // self.chunk_n
        cut = k * self.chunk_n
        self._part_t, self._part_a, self._part_g = t[cut:], a[cut:], g[cut:]
        if k == 0:
            return None
        n = self.chunk_n
        tc, ac, gc = t[:cut].reshape(k, n), a[:cut].reshape(k, n, 3), g[:cut].reshape(k, n, 3)
        a_mean, g_mean = ac.mean(axis=1), gc.mean(axis=1)
        a_std = np.sqrt(np.sum(ac.var(axis=1), axis=1))
        g_std = np.sqrt(np.sum(gc.var(axis=1), axis=1))
        g_max = np.max(np.linalg.norm(gc - g_mean[:, None, :], axis=2), axis=1)
        p = self.params
        still = (
            (g_std < p.still_gyr_std_rps * np.sqrt(3))
            & (a_std < p.still_acc_std_mps2 * np.sqrt(3))
            & (np.abs(np.linalg.norm(a_mean, axis=1) - STANDARD_GRAVITY_MPS2) < p.still_acc_norm_tol_mps2)
            & (g_max < p.still_gyr_max_rps)
        )
        for i in range(k):
            out = self._chunk(tc[i], ac[i], gc[i], bool(still[i]), a_mean[i], g_mean[i], float(g_std[i]), float(a_std[i]))
            if out is not None:
                return out
        return None

    def _end_run(self) -> None:
        if len(self._run.t0) >= self.standing_chunks:
            r = self._run
            self._standing = _Standing(
                start_s=float(r.t0[0]),
                end_s=float(r.t1[-1]),
                acc_mean=np.mean(r.acc, axis=0),
                gyr_mean=np.mean(r.gyr, axis=0),
                gyr_std=float(np.sqrt(np.mean(np.square(r.gstd)) / 3)),
                acc_std=float(np.sqrt(np.mean(np.square(r.astd)) / 3)),
            )
            self.state = "moving"
            self._mov.clear()
            self._mov_count, self._mov_samples = 0, 0
        self._run.clear()

    def _chunk(self, t, a, g, still, a_mean, g_mean, g_std, a_std) -> SegmentCalibration | None:
        self._chunks_seen += 1
        self._win.append((t, a, g, int(np.count_nonzero(np.linalg.norm(g, axis=1) > self.params.moving_gyr_rps))))
        if still:
            r = self._run
            r.t0.append(t[0]); r.t1.append(t[-1]); r.acc.append(a_mean); r.gyr.append(g_mean)
            r.gstd.append(g_std); r.astd.append(a_std)
            if len(r.t0) > self.max_standing_chunks:  # keep the most recent window
                for v in (r.t0, r.t1, r.acc, r.gyr, r.gstd, r.astd):
                    v.pop(0)
            if len(r.t0) >= self.standing_chunks and self.state == "moving":
                # stood still again before enough motion: that standing replaces the old one
                self.state = "standing"
                self._standing = None
            if self.state != "moving":
                return None
        else:
            self._end_run()
        if self.state == "standing":
            if (self._chunks_seen >= self.fallback_chunks and not self._run.t0
                    and sum(c[3] for c in self._win) >= self.moving_n):
                return self._decide_fallback(float(t[-1]))
            return None
        if self.state != "moving":
            return None
        st = self._standing
        assert st is not None
        gb = g - st.gyr_mean
        self._mov.append((t, a, gb))
        self._mov_samples += gb.shape[0]
        self._mov_count += int(np.count_nonzero(np.linalg.norm(gb, axis=1) > self.params.moving_gyr_rps))
        if self._mov_count >= self.moving_n:
            return self._decide(float(t[-1]))
        if self._mov_samples > self.params.max_wait_moving_s * self.rate_hz:
            return self._decide(float(t[-1]), timed_out=True)
        return None

    def decide_at_end(self, t_end: float) -> SegmentCalibration | None:
        """The recording ended before the calibration was decided (a recording shorter than
        the motion the calibration waits for): decide from what was seen -- after a standing
        window from the motion since it, without one from the motion of the last
        ``window_s`` -- with every quality check, and the reason ``not_enough_motion`` when that
        is less than ``moving_s`` of motion (so it is flagged bad, never silently used). None
        when there was no motion at all (nothing to calibrate the axis from) or when it was
        decided already."""
        if self.state in ("ready", "bad"):
            return None
        if self.state == "moving":
            if self._mov_count == 0:
                return None
            return self._decide(float(t_end), timed_out=True)  # it would have decided with moving_s
        moving = sum(c[3] for c in self._win)
        if moving == 0:
            return None
        return self._decide_fallback(float(t_end), short=moving < self.moving_n)

    # ------------------------------------------------------------------ decision
    def _decide(self, t_ready: float, timed_out: bool = False) -> SegmentCalibration:
        st = self._standing
        assert st is not None
        p = self.params
        gyr = np.concatenate([c[2] for c in self._mov]) if self._mov else np.zeros((0, 3))
        z = st.acc_mean / np.linalg.norm(st.acc_mean)
        reasons: list[str] = []
        moving = gyr[np.linalg.norm(gyr, axis=1) > p.moving_gyr_rps]
        if moving.shape[0] >= 3:
            axis, planarity = principal_axis(moving)
        else:
            axis, planarity = np.array([0.0, 1.0, 0.0]), 0.0
        tilt = float(np.degrees(np.arcsin(min(1.0, abs(float(np.dot(axis, z)))))))
        y = axis - np.dot(axis, z) * z
        if np.linalg.norm(y) < 1e-6:
            y = np.cross(z, [1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.cross(z, [0.0, 1.0, 0.0])
        y = y / np.linalg.norm(y)
        # gait asymmetry from standing (theta = 0 at the end of standing)
        sign, margin = asymmetry_sign(np.cumsum(gyr @ y) / self.rate_hz, 0.0)
        if self.segment == "foot" and self._mov:
            t_mov = np.concatenate([c[0] for c in self._mov])
            strides: list = []
            tv = travel_sign(t_mov, np.concatenate([c[1] for c in self._mov]), gyr, segment_matrix(z, y), self.rate_hz, strides)
            sign, margin, rule = foot_sign(tv, (sign, margin), p.min_sign_margin)  # travel's sign when it has one
            y = sign * y
            if p.swing_axis:
                y, used = _refine_foot_axis(y, z, t_mov, gyr, strides, p)
                if used is not None:  # the quality of the rotation the axis came from
                    planarity, tilt = used
        else:
            rule = "asymmetry"
            y = sign * y
        if timed_out:
            reasons.append("not_enough_motion")
        reasons += axis_quality_reasons(planarity, tilt, margin, p)
        m = segment_matrix(z, y)
        res = SegmentCalibration(
            placement=self.placement,
            gyro_bias_rps=st.gyr_mean.copy(),
            sensor_to_segment=matrix_to_quat(m),
            gravity_sensor=m[2].copy(),
            ml_axis_sensor=m[1].copy(),
            standing_start_s=st.start_s,
            standing_end_s=st.end_s,
            ready_time_s=t_ready,
            stillness_gyr_rps=st.gyr_std,
            stillness_acc_mps2=st.acc_std,
            planarity=planarity,
            axis_tilt_deg=tilt,
            sign_margin=margin,
            ok=not reasons,
            reasons=tuple(reasons),
            sign_rule=rule,
        )
        self.result = res
        self.state = "ready" if res.ok else "bad"
        self._mov.clear()
        self._win.clear()
        return res

    def _decide_fallback(self, t_ready: float, short: bool = False) -> SegmentCalibration:
        """No standing: decide from the last ``window_s`` of motion (module docstring)."""
        p = self.params
        t = np.concatenate([c[0] for c in self._win])
        a = np.concatenate([c[1] for c in self._win])
        g = np.concatenate([c[2] for c in self._win])
        bias = np.zeros(3)
        if self.segment == "foot":
            score = np.linalg.norm(g, axis=1) + 0.05 * np.abs(np.linalg.norm(a, axis=1) - STANDARD_GRAVITY_MPS2)
            # samples whose six channels are all exactly zero are dropouts, not a foot at rest
            # (|f| = 0 is free fall). hugadb subject 07's left foot has 28-97 of them per file;
            # with |w| = 0 they scored as the stillest samples: 07_01's vertical became the one
            # half-dropped sample beside them, (-2 g, 0, 0), 52-60 deg from the same foot's
            # frame in the subject's other two files (5-19 deg without them), and when only
            # dropouts are selected the vertical is 0 / 0 = NaN and the foot gives no stride
            live = np.any(a != 0.0, axis=1) | np.any(g != 0.0, axis=1)
            q = live & (score <= np.quantile(score[live], p.quasi_static_fraction))
            z = a[q].mean(axis=0)
            still_g = float(np.sqrt(np.mean(np.var(g[q], axis=0))))
            still_a = float(np.sqrt(np.mean(np.var(a[q], axis=0))))
            reference = "foot_flat"
        else:
            z = hann_mean(a)
            still_g = still_a = float("nan")
            reference = "mean_stride"
        reasons: list[str] = []
        if not np.linalg.norm(z) > 1e-6:  # no specific force at all (a dead accelerometer): no vertical
            z = np.array([0.0, 0.0, 1.0])
            reasons.append("no_gravity")
        z = z / np.linalg.norm(z)
        gb = g
        moving = gb[np.linalg.norm(gb, axis=1) > p.moving_gyr_rps]
        axis, planarity = principal_axis(moving) if moving.shape[0] >= 3 else (np.array([0.0, 1.0, 0.0]), 0.0)
        tilt = float(np.degrees(np.arcsin(min(1.0, abs(float(np.dot(axis, z)))))))
        y = axis - np.dot(axis, z) * z
        if np.linalg.norm(y) < 1e-6:
            y = np.cross(z, [1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.cross(z, [0.0, 1.0, 0.0])
        y = y / np.linalg.norm(y)
        strides: list = []
        theta = np.cumsum(gb @ y) / self.rate_hz
        # foot: relative to foot-flat; shank: to its most common (median) posture
        ref = float(np.median(theta[q])) if self.segment == "foot" else float(np.median(theta))
        asym = asymmetry_sign(theta, ref)
        if self.segment == "foot":
            tv = travel_sign(t, a, gb, segment_matrix(z, y), self.rate_hz, strides)
            sign, margin, rule = foot_sign(tv, asym, p.min_sign_margin)
        else:
            (sign, margin), rule = asym, "asymmetry"
        y = sign * y
        if self.segment == "foot" and p.swing_axis:
            y, used = _refine_foot_axis(y, z, t, gb, strides, p)
            if used is not None:
                planarity, tilt = used
        if short:
            reasons.append("not_enough_motion")
        reasons += axis_quality_reasons(planarity, tilt, margin, p)
        m = segment_matrix(z, y)
        res = SegmentCalibration(
            placement=self.placement,
            gyro_bias_rps=bias,
            sensor_to_segment=matrix_to_quat(m),
            gravity_sensor=m[2].copy(),
            ml_axis_sensor=m[1].copy(),
            standing_start_s=float("nan"),
            standing_end_s=float("nan"),
            ready_time_s=t_ready,
            stillness_gyr_rps=still_g,
            stillness_acc_mps2=still_a,
            planarity=planarity,
            axis_tilt_deg=tilt,
            sign_margin=margin,
            ok=not reasons,
            reasons=tuple(reasons),
            method="moving_only",
            reference=reference,
            sign_rule=rule,
        )
        self.result = res
        self.state = "ready" if res.ok else "bad"
        self._mov.clear()
        self._win.clear()
        return res

    def status(self) -> dict[str, Any]:
        """JSON-able state and quality numbers."""
        out: dict[str, Any] = {"placement": self.placement, "state": self.state}
        if self._standing is not None:
            out["standing"] = {
                "start_s": self._standing.start_s,
                "end_s": self._standing.end_s,
                "stillness_gyr_dps": self._standing.gyr_std * DEG_PER_RAD,
                "stillness_acc_mps2": self._standing.acc_std,
            }
            out["moving_s"] = self._mov_count / self.rate_hz
        if self.result is not None:
            out["quality"] = self.result.to_dict()
        return out


def calibrate(placement: str, time_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, rate_hz: float, params: CalibrationParams | None = None) -> SegmentCalibration | None:
    """Offline helper: the first calibration decided in a whole recording (or ``None``)."""
    cal = SegmentCalibrator(placement, rate_hz, params)
    return cal.push(time_s, acc_mps2, gyr_rps)
