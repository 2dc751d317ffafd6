"""What the foot processor publishes: events as soon as they are decided, then strides.

Times are session time (s); sample indices count the samples pushed into the tracker since its
creation (0-based, including samples after gaps). Orientations are unit quaternions ``(w, x, y, z)``
mapping foot-segment vectors to a heading-free world frame (z up; at this stride's mid-stance the
foot's heading is zero, i.e. yaw = 0), see docs/conventions.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

import numpy as np

EventKind = Literal["ic", "to", "midstance"]


@dataclass(frozen=True)
class FootEvent:
    """A gait event of one foot.

    ``time_s`` is the event instant (interpolated between samples for ``ic``); ``sample_index``
    the sample at or just after it. ``decided_time_s``/``decided_sample_index`` is the newest
    sample that was needed to decide it: ``lookahead_s = decided_time_s - time_s`` is the
    algorithmic look-ahead (IC: under one sample; TO and mid-stance: until the swing starts,
    typically 30-80 ms after TO).
    """

    kind: EventKind
    time_s: float
    sample_index: int
    decided_time_s: float
    decided_sample_index: int
    stance_index: int

    @property
    def lookahead_s(self) -> float:
        return self.decided_time_s - self.time_s


@dataclass(frozen=True)
class FootStride:
    """One stride of one foot: from its IC to the next IC of the same foot.

    * ``ic_time_s``, ``to_time_s``, ``midstance_time_s``: this stride's stance (IC, toe-off,
      mid-stance = the stillest instant of the stance, where velocity is taken as zero and
      gravity gives the first guess of the tilt).
    * ``next_ic_time_s``, ``next_midstance_time_s``: the following stance of the same foot.
    * ``stride_length_m``: horizontal displacement of the foot between the two mid-stances,
      from strapdown integration with the sensor's velocity at both mid-stances that of a
      point ``FootParams.sensor_height_m`` above a still ground contact (``w x (0, 0, h)``;
      zero for ``h = 0``, the classic zero-velocity update) and linear removal of the velocity
      drift in between (Skog et al. 2010, IEEE TBME 57:2657; Zrenner et al. 2018,
      Sensors 18:4194). NaN when not available (e.g. a gap).
    * ``speed_mps``: ``stride_length_m / stride_time_s``.
    * ``heading_change_rad``: yaw of the foot at the next mid-stance relative to this one.
    * ``time_s`` (n,), ``quat_wxyz`` (n, 4): foot orientation from this IC to the next IC
      (both included): tilt from gravity at mid-stance, gyroscope integration backwards to the
      IC and forwards to the next mid-stance, then the tilt corrected by the error that the
      velocity left at the next mid-stance reveals (``FootParams.tilt_method``, see
      :func:`runform.core.foot.strapdown.integrate_stride`; without a next mid-stance, e.g. at a
      gap, gyroscope only). Heading-free world frame, yaw = 0 at this stride's mid-stance.
    * ``flags``: subset of ``gap``, ``clipped_acc``, ``clipped_gyr``, ``turn``; ``valid`` is
      False when any of gap / clipped_acc / clipped_gyr is set.
    """

    stride_index: int
    ic_time_s: float
    ic_sample_index: int
    to_time_s: float
    to_sample_index: int
    midstance_time_s: float
    midstance_sample_index: int
    next_ic_time_s: float
    next_ic_sample_index: int
    next_midstance_time_s: float
    stride_time_s: float
    contact_time_s: float
    stride_length_m: float
    speed_mps: float
    heading_change_rad: float
    displacement_m: np.ndarray
    time_s: np.ndarray = field(repr=False)
    quat_wxyz: np.ndarray = field(repr=False)
    flags: tuple[str, ...] = ()
    valid: bool = True

    def orientation_at(self, t_s: float | np.ndarray) -> np.ndarray:
        """Orientation (w, x, y, z) at time(s) ``t_s`` inside the stride (nearest-neighbour
        quaternion interpolation is avoided: component-wise linear interpolation + renormalise,
        fine at sample spacing)."""
        t = np.asarray(t_s, dtype=float)
        q = np.stack([np.interp(t, self.time_s, self.quat_wxyz[:, k]) for k in range(4)], -1)
        return q / np.linalg.norm(q, axis=-1, keepdims=True)


FootOutput = Union[FootEvent, FootStride]
