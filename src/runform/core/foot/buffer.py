"""A growable window of recent samples with global sample indices (no per-sample Python)."""

from __future__ import annotations

import numpy as np


def _drop_front(arrays: tuple[np.ndarray, ...], n: int, k: int) -> int:
    """Move rows ``[k, n)`` of each array to the front; returns how many rows are left (the
    rows set before, minus the ``k`` dropped; never below 0)."""
    rest = n - k
    if rest > 0:
        for arr in arrays:
            arr[:rest] = arr[k:n]
    return max(rest, 0)


class SampleBuffer:
    """Samples ``[base, base + n)`` (global indices) of time (s), specific force (m/s^2),
    angular velocity (rad/s) and per-sample flags (bit 0 acc clipped, bit 1 gyro clipped).

    Appending is amortised O(m); :meth:`drop_before` forgets old samples so memory stays bounded.

    :meth:`derived` keeps per-sample values the event detector searches (|specific force|,
    |angular velocity|, the rise rate of |specific force|), each computed once per sample, in
    the same arithmetic whatever the block sizes (element-wise; a row's norm sums its three
    squares in order).
    """

    CLIP_ACC = 1
    CLIP_GYR = 2

    def __init__(self, capacity: int = 4096):
        self.base = 0
        self.n = 0
        self._t = np.empty(capacity)
        self._acc = np.empty((capacity, 3))
        self._gyr = np.empty((capacity, 3))
        self._flags = np.zeros(capacity, dtype=np.uint8)
        self._fn = np.empty(capacity)  # |acc| (m/s^2)
        self._gn = np.empty(capacity)  # |gyr| (rad/s)
        self._jk = np.empty(capacity)  # (|acc|[i] - |acc|[i-1]) / (t[i] - t[i-1]) (m/s^3); not at 0
        self._nd = 0  # derived values are set for local rows [0, _nd)
        self._w = np.empty(capacity)  # gyr[:, 1], contiguous (rad/s)
        self._ge0 = np.empty(capacity, dtype=bool)  # w >= 0
        self._neg = np.empty(capacity, dtype=bool)  # w < level (the detector's swing entry)
        self._level = np.nan
        self._nw = 0  # pitch values are set for local rows [0, _nw)

    @property
    def end(self) -> int:
        """Global index one past the newest sample."""
        return self.base + self.n

    def append(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, flags: np.ndarray) -> None:
        m = t.shape[0]
        need = self.n + m
        if need > self._t.shape[0]:
            cap = max(need, 2 * self._t.shape[0])
            for name in ("_t", "_acc", "_gyr", "_flags", "_fn", "_gn", "_jk", "_w", "_ge0", "_neg"):
                old = getattr(self, name)
                new = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self._t[self.n : need] = t
        self._acc[self.n : need] = acc
        self._gyr[self.n : need] = gyr
        self._flags[self.n : need] = flags
        self.n = need

    def drop_before(self, index: int) -> None:
        """Forget samples with global index < ``index``."""
        k = min(max(index - self.base, 0), self.n)
        if k == 0:
            return
        self.n = _drop_front((self._t, self._acc, self._gyr, self._flags), self.n, k)
        self._nd = _drop_front((self._fn, self._gn, self._jk), self._nd, k)
        self._nw = _drop_front((self._w, self._ge0, self._neg), self._nw, k)
        self.base += k

    def derived(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(|acc| (n,), |gyr| (n,), jerk (n,)) of the buffered samples, computed for the samples
        not seen before; ``jerk[i]`` is |acc|'s rise from local sample i-1 to i per second
        (``jerk[0]`` is not defined). Views: valid until the next append or drop."""
        nd, n = self._nd, self.n
        if nd < n:
            a = self._acc[nd:n]
            g = self._gyr[nd:n]
            fn = self._fn
            # (x^2 + y^2) + z^2: numpy.add.reduce's order along a row of three, ~5x faster here
            a = a * a
            np.sqrt(a[:, 0] + a[:, 1] + a[:, 2], out=fn[nd:n])
            g = g * g
            np.sqrt(g[:, 0] + g[:, 1] + g[:, 2], out=self._gn[nd:n])
            j0 = nd if nd > 0 else 1
            if j0 < n:
                t = self._t
                self._jk[j0:n] = (fn[j0:n] - fn[j0 - 1 : n - 1]) / (t[j0:n] - t[j0 - 1 : n - 1])
            self._nd = n
        return self._fn[:n], self._gn[:n], self._jk[:n]

    def pitch(self, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(w (n,), w >= 0 (n,), w < ``level`` (n,)) with w = ``gyr[:, 1]`` as a contiguous
        array (rad/s), computed for the samples not seen before (all of them when ``level``
        changes). Views: valid until the next append or drop."""
        if not level == self._level:
            self._level = level
            self._nw = 0
        nw, n = self._nw, self.n
        if nw < n:
            w = self._w[nw:n]
            w[:] = self._gyr[nw:n, 1]
            np.greater_equal(w, 0.0, out=self._ge0[nw:n])
            np.less(w, level, out=self._neg[nw:n])
            self._nw = n
        return self._w[:n], self._ge0[:n], self._neg[:n]

    def sl(self, start: int, stop: int) -> slice:
        """Local slice of global indices ``[start, stop)``."""
        return slice(start - self.base, stop - self.base)

    @property
    def t(self) -> np.ndarray:
        return self._t[: self.n]

    @property
    def acc(self) -> np.ndarray:
        return self._acc[: self.n]

    @property
    def gyr(self) -> np.ndarray:
        return self._gyr[: self.n]

    @property
    def flags(self) -> np.ndarray:
        return self._flags[: self.n]
