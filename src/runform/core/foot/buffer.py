"""A growable window of recent samples with global sample indices (no per-sample Python)."""

from __future__ import annotations

import numpy as np


class SampleBuffer:
    """Samples ``[base, base + n)`` (global indices) of time (s), specific force (m/s^2),
    angular velocity (rad/s) and per-sample flags (bit 0 acc clipped, bit 1 gyro clipped).

    Appending is amortised O(m); :meth:`drop_before` forgets old samples so memory stays bounded.
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

    @property
    def end(self) -> int:
        """Global index one past the newest sample."""
        return self.base + self.n

    def append(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray, flags: np.ndarray) -> None:
        m = t.shape[0]
        need = self.n + m
        if need > self._t.shape[0]:
            cap = max(need, 2 * self._t.shape[0])
            for name in ("_t", "_acc", "_gyr", "_flags"):
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
        rest = self.n - k
        for name in ("_t", "_acc", "_gyr", "_flags"):
            arr = getattr(self, name)
            arr[:rest] = arr[k : self.n]
        self.base += k
        self.n = rest

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
