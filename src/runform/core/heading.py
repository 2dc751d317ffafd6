"""The foot-to-shank heading offset of one leg, learned in the first seconds after standing.

Neither sensor sees the heading, so each stride's shank orientation is turned about the vertical
so that the mean heading difference (ZYX yaw) between foot and shank over the stride equals a
constant ``c`` (runform.core.metrics). ``c = 0`` assumes the ankle's mean transverse rotation over
a stride is that of standing; on the virtual runner that is wrong by 2-5 deg depending on the
gait, and the error lands in the eversion at IC (docs/validation.md).

Here ``c`` is measured instead: both segment frames are the identity while standing (that is
their definition), so integrating both gyroscopes from the end of standing gives their true
relative heading over the next seconds (gyro-only strapdown, drift ~ residual bias x time:
< 1 deg over 6 s after a standing bias estimate). ``c`` is the Hann-weighted circular mean of
yaw(foot) - yaw(shank) over ``[standing end + delay_s, + learn_s]``: the same quantity the
per-stride alignment sets, averaged over ~8 strides. It is then kept for the session (the
person's mean ankle rotation; it is re-learned after a recalibration with standing). Without
standing (``moving_only``) there is no common reference and ``c = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .calibration import SegmentCalibration, hann_mean
from .orientation import integrate_gyro, interp_quat


def ml_axis_heading(q: np.ndarray) -> np.ndarray:
    """Heading (rad) of orientations (..., 4) (w, x, y, z), world-from-segment: the direction of
    the segment's mediolateral axis (+y) in the horizontal plane, minus 90 deg, so that it equals
    the ZYX yaw when the segment is level: ``atan2(-R[0, 1], R[1, 1])``.

    Why not the ZYX yaw (:func:`runform.core.orientation.yaw_of`) to align the shank's heading
    to the foot's over a stride: the yaw is the heading of the segment's x axis, which is
    undefined when x is near vertical (gimbal lock at 90 deg pitch), and a foot plantarflexes by
    50-90 deg after toe-off. Near there a small rotation of the foot frame about its own z
    changes the yaw by ~1/cos(pitch) times as much, so the stride mean of yaw(foot) - yaw(shank)
    depends on the swing's pitch profile and on the calibrated frame's heading error: on the
    virtual runner the learned offset moved from 3.3 to 13.8 deg for a 3 deg foot-frame error
    (neutral L). Both segments' y axes stay near horizontal through the gait cycle (gait rotates
    them about y), so this heading is well conditioned everywhere; a frame error delta about the
    segment's z shifts it by about delta cos(pitch), never more (docs/validation.md, "Eversion
    and the heading alignment")."""
    q = np.asarray(q, float)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.arctan2(-2 * (x * y - w * z), 1 - 2 * (x * x + z * z))


@dataclass
class HeadingLearner:
    """Collects one channel's raw samples from ``t_start`` (end of standing) until ``t_end``."""

    t_start: float
    t_end: float
    blocks: list = field(default_factory=list)
    last_t: float = -np.inf

    @property
    def complete(self) -> bool:
        return self.last_t >= self.t_end

    def add(self, t: np.ndarray, gyr_rps: np.ndarray) -> None:
        """Raw sensor-frame samples (time s, gyro rad/s) in time order."""
        if self.complete or t.size == 0:
            return
        sel = (t >= self.t_start) & (t <= self.t_end + 0.05)
        if np.any(sel):
            self.blocks.append((t[sel], gyr_rps[sel]))
        self.last_t = max(self.last_t, float(t[-1]))

    def orientation(self, calibration: SegmentCalibration) -> tuple[np.ndarray, np.ndarray]:
        """(time_s, quat_wxyz) of the segment from the end of standing (identity there)."""
        t = np.concatenate([b[0] for b in self.blocks]) if self.blocks else np.zeros(0)
        g = np.concatenate([b[1] for b in self.blocks]) if self.blocks else np.zeros((0, 3))
        _, g_seg = calibration.apply(np.zeros_like(g), g)
        return t, integrate_gyro(np.array([1.0, 0.0, 0.0, 0.0]), t, g_seg)


def heading_offset(foot: HeadingLearner, foot_cal: SegmentCalibration, shank: HeadingLearner, shank_cal: SegmentCalibration,
                   t_lo: float, t_hi: float) -> float | None:
    """Learned ``c`` (rad) or None when the samples do not cover ``[t_lo, t_hi]`` (a gap)."""
    tf, qf = foot.orientation(foot_cal)
    ts, qs = shank.orientation(shank_cal)
    if tf.size < 8 or ts.size < 8 or tf[0] > t_lo or ts[0] > t_lo or tf[-1] < t_hi or ts[-1] < t_hi:
        return None
    sel = (tf >= t_lo) & (tf <= t_hi)
    if np.count_nonzero(sel) < 8 or np.max(np.diff(tf)) > 0.1 or np.max(np.diff(ts)) > 0.1:
        return None
    d = ml_axis_heading(qf[sel]) - ml_axis_heading(interp_quat(tf[sel], ts, qs))
    v = hann_mean(np.stack([np.cos(d), np.sin(d)], -1))
    return float(np.arctan2(v[1], v[0]))
