"""Streaming IC / toe-off / mid-stance detection from the foot's sagittal angular velocity.

Signal: ``w`` = foot-frame ``gyr_y`` (rad/s; y to the left, so positive = toes going down).
One gait cycle of ``w``: large negative during swing (the foot rotates toes-up while it swings
forward), a rise through zero when the foot lands (initial contact: the rotation stops and the
heel rocker / foot slap begins), small around foot-flat, a positive peak at push-off (toe-off),
then negative again in the next swing.

Rules (Falbriard et al. 2018, Front Physiol 9:610, pitch-rate features of a
mid-swing-to-mid-swing cycle; Mariani et al. 2013, Gait Posture 37:229 for the walking-and-running
state machine; thresholds in :class:`FootParams`):

* swing entry ``S``: first sample with ``w < -swing_rate_rps``, at least ``min_contact_s``
  after the last IC, whose negative run of ``w`` turns the foot toes-up by at least
  ``swing_angle_rad`` (a heel drop after a forefoot landing does not);
* IC: first upward zero crossing of ``w`` after ``S`` (and at least ``min_swing_s`` after the
  last TO), linearly interpolated between the two samples around it; decided at the sample
  after the crossing (look-ahead < 1 sample);
* mid-stance: the stillest sample between IC and the next swing entry (minimum of
  ``|gyr| + k * | |acc| - g |``);
* TO: the maximum of ``w`` between mid-stance and the next swing entry (the push-off peak, the
  minimum of the pitch rate in Falbriard's sign convention); TO and mid-stance are decided when
  the next swing is confirmed.

Every decision depends on the samples only, never on how they were split into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...units import STANDARD_GRAVITY_MPS2
from .buffer import SampleBuffer
from .params import FootParams


@dataclass
class Decision:
    """One decided event: kind, global sample index, time (s), global index when decided."""

    kind: str
    index: int
    time_s: float
    decided_index: int


class PitchRateEventDetector:
    """The state machine; call :meth:`advance` after each append, :meth:`reset` after a gap."""

    def __init__(self, params: FootParams):
        self.p = params
        self.reset()

    def reset(self) -> None:
        self.in_swing = False
        self.cursor: int | None = None  # next global index to examine
        self.ic_index: int | None = None  # open stance (IC seen, swing not yet)
        self.ic_time: float | None = None
        self.to_time: float | None = None

    def oldest_needed(self) -> int | None:
        """Global index of the oldest sample the detector may still read."""
        if self.ic_index is not None and not self.in_swing:
            return self.ic_index - 1
        return self.cursor - 1 if self.cursor is not None else None

    def advance(self, buf: SampleBuffer) -> list[Decision]:
        out: list[Decision] = []
        if self.cursor is None:
            self.cursor = buf.base
        p = self.p
        t = buf.t
        w = buf.gyr[:, 1]
        while self.cursor < buf.end:
            lo = self.cursor - buf.base
            if not self.in_swing:
                if self.ic_time is not None:
                    lo = max(lo, int(np.searchsorted(t, self.ic_time + p.min_contact_s)))
                    if lo >= buf.n:
                        self.cursor = buf.end
                        break
                hit = np.flatnonzero(w[lo:] < -p.swing_rate_rps)
                if hit.size == 0:
                    self.cursor = buf.end
                    if self.ic_index is not None and t[-1] - self.ic_time > p.max_stance_s:
                        self.ic_index = None  # standing still: abandon this stance
                        self.ic_time = None
                    break
                s = lo + int(hit[0])
                # confirm: the foot must turn toes-up by swing_angle_rad before w is back to >= 0
                conf = self._confirm_swing(t, w, s)
                if conf is None:  # not decidable yet: look again from s when more samples come
                    self.cursor = buf.base + s
                    break
                if conf < 0:  # a short toes-up rotation inside the stance (heel drop): skip it
                    self.cursor = buf.base - conf
                    continue
                if self.ic_index is not None and t[s] - self.ic_time <= p.max_stance_s:
                    out.extend(self._close_stance(buf, self.ic_index - buf.base, s, conf))
                self.ic_index = None
                self.ic_time = None
                self.in_swing = True
                self.cursor = buf.base + s + 1
            else:
                lo = max(lo, 1)
                if self.to_time is not None:
                    lo = max(lo, int(np.searchsorted(t, self.to_time + p.min_swing_s)))
                    if lo >= buf.n:
                        self.cursor = buf.end
                        break
                hit = np.flatnonzero(w[lo:] >= 0.0)
                if hit.size == 0:
                    self.cursor = buf.end
                    break
                i = lo + int(hit[0])
                w0, w1 = w[i - 1], w[i]
                frac = (-w0) / (w1 - w0) if w1 != w0 else 1.0
                frac = min(max(frac, 0.0), 1.0)
                t_ic = float(t[i - 1] + frac * (t[i] - t[i - 1]))
                out.append(Decision("ic", buf.base + i, t_ic, buf.base + i))
                self.ic_index = buf.base + i
                self.ic_time = t_ic
                self.in_swing = False
                self.to_time = None
                self.cursor = buf.base + i + 1
        return out

    def _confirm_swing(self, t: np.ndarray, w: np.ndarray, s: int) -> int | None:
        """Local index where the negative run of ``w`` starting at ``s`` has turned the foot by
        ``swing_angle_rad`` (a real swing); ``-(local index of the run's end)`` if the run ended
        before (a rotation within the stance); None if undecidable with the samples so far."""
        ws = w[s:]
        end = np.flatnonzero(ws >= 0.0)
        stop = int(end[0]) if end.size else ws.size
        ang = np.cumsum(ws[:stop] * np.diff(t[s - 1 : s + stop]) if s > 0 else ws[:stop] * 0.0)
        done = np.flatnonzero(ang <= -self.p.swing_angle_rad)
        if done.size:
            return s + int(done[0])
        if end.size:
            return -(s + stop)
        return None

    def _close_stance(self, buf: SampleBuffer, i_ic: int, s: int, decided: int) -> list[Decision]:
        """Mid-stance and TO of the stance from local index ``i_ic`` to swing entry ``s``."""
        gyr = buf.gyr[i_ic:s]
        acc = buf.acc[i_ic:s]
        still = np.linalg.norm(gyr, axis=1) + self.p.midstance_acc_weight_s2 * np.abs(
            np.linalg.norm(acc, axis=1) - STANDARD_GRAVITY_MPS2
        )
        i_ms = i_ic + int(np.argmin(still))
        i_to = i_ms + int(np.argmax(buf.gyr[i_ms:s, 1]))
        t = buf.t
        decided = buf.base + decided
        self.to_time = float(t[i_to])
        return [
            Decision("midstance", buf.base + i_ms, float(t[i_ms]), decided),
            Decision("to", buf.base + i_to, float(t[i_to]), decided),
        ]
