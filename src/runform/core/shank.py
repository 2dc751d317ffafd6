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
from typing import Generator

import numpy as np

from ..units import STANDARD_GRAVITY_MPS2
from ..rotations import quat_from_two_vectors
from .foot.strapdown import run_steps
from .orientation import positions_in_runs, prefix_products_into, qmul, qnormalize, qrotate, rotvec_quats, take_rows
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
            # drop what is older than keep_s before the new block's first sample (not its last:
            # a block longer than keep_s would push out the samples just before it, which the
            # strides still waiting for this sensor need; offline blocks of 8 s lost the shank
            # windows of the strides around each block edge)
            k = int(np.searchsorted(self._t[: self.n], t[0] - self.keep_s))
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

    def window(self, t0: float, t1: float, copy_ag: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Samples from the last one at or before ``t0`` to the first at or after ``t1``.
        ``copy_ag=False``: acc and gyr as views (valid until the next append; for a caller that
        transforms them into new arrays at once)."""
        i0, i1 = self._bounds(t0, t1)
        if not copy_ag:
            return self._t[i0:i1].copy(), self._a[i0:i1], self._g[i0:i1], self._f[i0:i1].copy()
        return self._t[i0:i1].copy(), self._a[i0:i1].copy(), self._g[i0:i1].copy(), self._f[i0:i1].copy()

    def acc_window(self, t0: float, t1: float) -> np.ndarray:
        """The specific force of :meth:`window` only, as a view (valid until the next append)."""
        i0, i1 = self._bounds(t0, t1)
        return self._a[i0:i1]

    def _bounds(self, t0: float, t1: float) -> tuple[int, int]:
        t = self._t[: self.n]
        i0 = max(int(t.searchsorted(t0, side="right")) - 1, 0)
        i1 = min(int(t.searchsorted(t1, side="left")) + 1, self.n)
        return i0, i1


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
    """Orientation of the shank over samples of one stride (segment frame, bias removed):
    :func:`shank_strides` of one window."""
    return shank_strides([(t, acc, gyr, flags)], params)[0]


def shank_strides(windows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], params: ShankParams | None = None) -> list[ShankStride | None]:
    """:class:`ShankStride` (or None under 4 samples) of many stride windows ``(t, acc, gyr,
    flags)`` at once (offline batches the strides of a long block; live passes one). The
    increments, rotations and reductions run once over the windows concatenated and the
    gyroscope scans as one padded batch (:func:`runform.core.orientation.prefix_products`,
    bit-identical per row), so each result is the same whatever else is in the batch."""
    return run_steps(shank_strides_steps(windows, params))


def shank_strides_steps(windows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], params: ShankParams | None = None) -> Generator[None, None, list[ShankStride | None]]:
    """:func:`shank_strides` in two steps (a generator: each ``next`` runs one, the return value
    is the result): the gyroscope scan, then the tilt. Live work runs one step per push."""
    p = params or ShankParams()
    out: list[ShankStride | None] = [None] * len(windows)
    use = [i for i, w in enumerate(windows) if w[0].shape[0] >= 4]
    if not use:
        return out
    ts = [np.asarray(windows[i][0], float) for i in use]
    counts = np.array([x.shape[0] for x in ts], dtype=np.intp)
    starts = np.zeros(len(use), dtype=np.intp)
    np.cumsum(counts[:-1], out=starts[1:])
    t = np.concatenate(ts)
    acc = np.concatenate([np.asarray(windows[i][1], float) for i in use])
    gyr = np.concatenate([np.asarray(windows[i][2], float) for i in use])
    fl = np.concatenate([np.asarray(windows[i][3], np.uint8) for i in use])
    seg = np.repeat(np.arange(len(use)), counts)
    clipped = (fl & CLIP_ACC) != 0
    gap_after_first = fl & GAP
    gap_after_first[starts] = 0
    any_gap = np.bitwise_or.reduceat(gap_after_first, starts) != 0
    any_clip = np.bitwise_or.reduceat(fl & CLIP_ACC, starts) != 0
    any_gclip = np.bitwise_or.reduceat(fl & CLIP_GYR, starts) != 0
    clip_frac = np.add.reduceat(clipped.astype(float), starts) / counts
    # gyroscope integration from the identity at each window's first sample
    # (runform.core.orientation.integrate_gyro, per window)
    dt = np.diff(t)[:, None]
    dq_all = rotvec_quats(0.5 * (gyr[1:] + gyr[:-1]) * dt)
    # component-major (4, n): numpy's arithmetic on contiguous planes (orientation.planes);
    # each window: the identity at its first sample, then the scan of its increments
    q_c = np.empty((4, t.shape[0]))
    q_c[:, starts] = _IDENTITY[:, None]
    n_inc = counts - 1
    el = positions_in_runs(n_inc)
    prefix_products_into(dq_all.T, starts, n_inc, q_c, np.repeat(starts + 1, n_inc) + el)
    yield
    q = qnormalize(q_c.T)
    # tilt: the mean world specific force of each window onto +z (masked when clipped)
    f = qrotate(q, acc)
    mean_f = (np.add.reduceat(f.T, starts, axis=1) / counts).T  # sequential sums per window
    for r in np.flatnonzero(clip_frac > p.max_clipped_fraction).tolist():
        a, n = int(starts[r]), int(counts[r])
        ar, gr, cr = acc[a : a + n], gyr[a : a + n], clipped[a : a + n]
        mask = (np.abs(np.linalg.norm(ar, axis=1) - STANDARD_GRAVITY_MPS2) < p.static_acc_tol_mps2) & (
            np.linalg.norm(gr, axis=1) < p.static_gyr_rps
        ) & ~cr
        if np.count_nonzero(mask) < 3:
            mask = ~cr
        fm = f[a : a + n][mask]
        mean_f[r] = fm.mean(axis=0) if fm.shape[0] else (0.0, 0.0, 1.0)
    c = quat_from_two_vectors(mean_f, _UP)
    q = qmul(take_rows(c, seg), q)
    axial = acc[:, 2].copy()  # one copy; each stride's axial acceleration is a slice of it
    for r, (i, a, n) in enumerate(zip(use, starts.tolist(), counts.tolist())):
        flags = tuple(name for name, on in (("gap", any_gap[r]), ("clipped_acc", any_clip[r]), ("clipped_gyr", any_gclip[r])) if on)
        out[i] = ShankStride(ts[r], q[a : a + n], axial[a : a + n], flags)
    return out


_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])
_UP = np.array([0.0, 0.0, 1.0])


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
