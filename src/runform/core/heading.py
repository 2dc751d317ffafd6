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
from .orientation import integrate_gyro, interp_quat, yaw_of


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
    d = yaw_of(qf[sel]) - yaw_of(interp_quat(tf[sel], ts, qs))
    v = hann_mean(np.stack([np.cos(d), np.sin(d)], -1))
    return float(np.arctan2(v[1], v[0]))
