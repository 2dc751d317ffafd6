"""Shank orientation per stride that survives impacts, with stride-by-stride drift correction.

Method (docs/metrics.md, "Shank orientation"):

* The shank's angular velocity (segment frame, bias removed) is integrated over one stride of
  its leg (IC to next IC of the foot, plus one sample on each side) from an arbitrary start
  (:func:`runform.core.orientation.integrate_gyro`).
* Tilt: over a whole stride of steady running the shank ends with the velocity it started
  with, so the mean acceleration is ~0 and the mean *world* specific force is gravity (+z).
  A constant world-frame orientation error ``E`` turns that mean into ``E z``; the rotation
  taking the measured mean onto +z removes it exactly. This is the integral form of the
  accelerometer correction of complementary filters (Mahony et al. 2008, IEEE TAC 53:1203;
  Madgwick et al. 2011): it uses *no single* accelerometer sample, so impact peaks (5-15 g)
  do not tilt the estimate; the stride window resets the drift every stride.
* When a stride has clipped accelerometer samples the mean is biased, so the tilt comes from
  the quasi-static samples only (|f| near 1 g and slow rotation), the acceleration-rejection
  rule of Fusion (Madgwick et al. 2020, xioTechnologies/Fusion), and the stride is flagged.
* Heading is arbitrary here; the metrics align it to the foot per stride.

Memory: a ring of the last ``buffer_s`` seconds of samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..units import STANDARD_GRAVITY_MPS2
from .orientation import integrate_gyro, qmul, tilt_correction
from .params import ShankParams

CLIP_ACC = 1
CLIP_GYR = 2
GAP = 4


class RingBuffer:
    """Recent samples: time (s), acc (m/s^2), gyr (rad/s), flags (CLIP_ACC | CLIP_GYR | GAP,
    GAP marks a sample that follows missing samples). Amortised O(n) appends, bounded size."""

    def __init__(self, keep_s: float, rate_hz: float):
        self.keep_s = keep_s
        cap = int(2 * keep_s * rate_hz) + 1024
        self._t = np.empty(cap)
        self._a = np.empty((cap, 3))
        self._g = np.empty((cap, 3))
        self._f = np.zeros(cap, np.uint8)
        self.n = 0

    def append(self, t: np.ndarray, a: np.ndarray, g: np.ndarray, f: np.ndarray) -> None:
        m = t.shape[0]
        if m == 0:
            return
        if self.n + m > self._t.shape[0]:
            # drop what is older than keep_s before the newest sample
            newest = t[-1]
            k = int(np.searchsorted(self._t[: self.n], newest - self.keep_s))
            rest = self.n - k
            if rest + m > self._t.shape[0]:
                cap = 2 * (rest + m)
                for name in ("_t", "_a", "_g", "_f"):
                    old = getattr(self, name)
                    new = np.empty((cap,) + old.shape[1:], old.dtype)
                    new[:rest] = old[k : self.n]
                    setattr(self, name, new)
            else:
                for name in ("_t", "_a", "_g", "_f"):
                    arr = getattr(self, name)
                    arr[:rest] = arr[k : self.n]
            self.n = rest
        self._t[self.n : self.n + m] = t
        self._a[self.n : self.n + m] = a
        self._g[self.n : self.n + m] = g
        self._f[self.n : self.n + m] = f
        self.n += m

    @property
    def last_time(self) -> float:
        return float(self._t[self.n - 1]) if self.n else -np.inf

    @property
    def first_time(self) -> float:
        return float(self._t[0]) if self.n else np.inf

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Samples from the last one at or before ``t0`` to the first at or after ``t1``."""
        t = self._t[: self.n]
        i0 = max(int(np.searchsorted(t, t0, side="right")) - 1, 0)
        i1 = min(int(np.searchsorted(t, t1, side="left")) + 1, self.n)
        return t[i0:i1].copy(), self._a[i0:i1].copy(), self._g[i0:i1].copy(), self._f[i0:i1].copy()


@dataclass(frozen=True)
class ShankStride:
    """Shank orientation over one stride: time_s (n,), quat_wxyz (n, 4) world-from-shank
    (tilt corrected, heading arbitrary), axial_acc_mps2 (n,) specific force along the tibia
    (segment +z, towards the knee; +g at rest), flags (``gap``, ``clipped_acc``, ``clipped_gyr``)."""

    time_s: np.ndarray
    quat_wxyz: np.ndarray
    axial_acc_mps2: np.ndarray
    flags: tuple[str, ...]


def shank_stride(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, flags: np.ndarray, params: ShankParams | None = None) -> ShankStride | None:
    """Orientation of the shank over samples of one stride (segment frame, bias removed)."""
    p = params or ShankParams()
    if t.shape[0] < 4:
        return None
    out_flags = []
    if np.any(flags[1:] & GAP):
        out_flags.append("gap")
    clipped = (flags & CLIP_ACC) != 0
    if np.any(clipped):
        out_flags.append("clipped_acc")
    if np.any(flags & CLIP_GYR):
        out_flags.append("clipped_gyr")
    q = integrate_gyro(np.array([1.0, 0.0, 0.0, 0.0]), t, gyr)
    mask = None
    if np.mean(clipped) > p.max_clipped_fraction:
        mask = (np.abs(np.linalg.norm(acc, axis=1) - STANDARD_GRAVITY_MPS2) < p.static_acc_tol_mps2) & (
            np.linalg.norm(gyr, axis=1) < p.static_gyr_rps
        ) & ~clipped
        if np.count_nonzero(mask) < 3:
            mask = ~clipped
    c = tilt_correction(q, acc, mask)
    return ShankStride(t, qmul(c, q), acc[:, 2].copy(), tuple(out_flags))


def tibial_shock_peaks(time_s: np.ndarray, axial_acc_mps2: np.ndarray, threshold_g: float = 3.0, window_s: float = 0.375) -> np.ndarray:
    """Indices of tibial-shock peaks by the rule of the gait-retraining feedback studies
    (Crowell et al. 2010, Am J Sports Med 38:1931; Crowell & Davis 2011, Clin Biomech 26:78):
    axial acceleration above ``threshold_g`` with no larger value in the following
    ``window_s`` (375 ms). The samples after a peak (its falling edge) also have no larger value
    ahead, so a peak must moreover be the largest value of the preceding ``window_s``; ties go
    to the first sample. Needs ``window_s`` of look-ahead (live: the cue comes 375 ms late, or
    use the threshold crossing itself). time_s (n,) s, axial_acc_mps2 (n,) m/s^2 (+1 g at rest).
    Vectorised: window bounds by searchsorted, window maxima by ``maximum.reduceat``."""
    t = np.asarray(time_s, float)
    a = np.asarray(axial_acc_mps2, float)
    if a.size == 0:
        return np.zeros(0, int)
    cand = np.flatnonzero(a > threshold_g * STANDARD_GRAVITY_MPS2)
    if cand.size == 0:
        return cand
    hi = np.searchsorted(t, t[cand] + window_s, side="right")
    lo = np.searchsorted(t, t[cand] - window_s, side="left")
    # window maxima by reduceat over (start, stop) pairs (exact; a -inf pad makes stop = n valid)
    ap = np.append(a, -np.inf)
    win_max = np.maximum.reduceat(ap, np.ravel(np.column_stack([lo, hi])))[::2]
    before = np.maximum.reduceat(ap, np.ravel(np.column_stack([lo, cand])))[::2]
    before = np.where(lo < cand, before, -np.inf)  # empty [lo, i): nothing before the candidate
    va = a[cand]
    return cand[(va >= win_max) & (before < va)].astype(int)
