"""Clock synchronisation: each sensor's clock mapped to one session time base.

Method (lower-envelope fit): a frame leaves the sensor after its last sample was taken and
arrives after a non-negative, jittery latency, so ``arrival_s - sensor_s`` of the last sample
is ``offset + latency``. Over buckets of ``bucket_s`` we keep the minimum (the frame with the
least latency), and fit a line through the bucket minima of the last ``window_buckets``
buckets: its intercept is the offset, its slope the relative drift of the sensor clock. With at
least a few buckets the drift is estimated; before that the offset alone is used.

All times in seconds of the session clock (the host's monotonic clock minus the session start).
"""

from __future__ import annotations

from collections import deque

import numpy as np


class SensorClock:
    def __init__(self, bucket_s: float = 1.0, window_buckets: int = 120, min_buckets_for_drift: int = 10):
        self.bucket_s = bucket_s
        self.window_buckets = window_buckets
        self.min_buckets_for_drift = min_buckets_for_drift
        self._minima: deque[tuple[float, float]] = deque(maxlen=window_buckets)  # (sensor_s, arrival-sensor)
        self._bucket_start: float | None = None
        self._bucket_min: tuple[float, float] | None = None
        self._ref_sensor_s: float | None = None
        self.offset_s = 0.0  # session_s = ref-relative fit: offset + (1 + drift) * (sensor_s - ref)
        self.drift = 0.0
        self.updates = 0

    @property
    def ready(self) -> bool:
        return self._ref_sensor_s is not None

    def observe(self, sensor_time_us: float, arrival_s: float) -> None:
        """One frame: sensor time (unwrapped us) of its LAST sample, and its arrival time (s)."""
        sensor_s = sensor_time_us * 1e-6
        if self._ref_sensor_s is None:
            self._ref_sensor_s = sensor_s
            self._bucket_start = sensor_s
            self.offset_s = arrival_s
        rel = sensor_s - self._ref_sensor_s
        lag = arrival_s - sensor_s
        if self._bucket_min is None or lag < self._bucket_min[1]:
            self._bucket_min = (rel, lag)
        if sensor_s - self._bucket_start >= self.bucket_s:
            self._minima.append(self._bucket_min)
            self._bucket_min = None
            self._bucket_start = sensor_s
            self._fit()
        elif not self._minima:
            # before the first bucket closes: the smallest lag seen so far
            self.offset_s = self._bucket_min[1] + self._ref_sensor_s
            self.drift = 0.0

    def _fit(self) -> None:
        pts = np.array(self._minima)
        if len(pts) >= self.min_buckets_for_drift:
            slope, intercept = np.polyfit(pts[:, 0], pts[:, 1], 1)
            # lower envelope: shift the line down so no minimum lies below it
            intercept += min(0.0, float(np.min(pts[:, 1] - (intercept + slope * pts[:, 0]))))
        else:
            slope, intercept = 0.0, float(np.min(pts[:, 1]))
        self.drift = float(slope)
        self.offset_s = float(intercept) + self._ref_sensor_s
        self.updates += 1

    def to_session(self, sensor_time_us: np.ndarray) -> np.ndarray:
        """Session time (s) of sensor times (unwrapped us)."""
        if self._ref_sensor_s is None:
            raise RuntimeError("clock has no observation yet")
        sensor_s = np.asarray(sensor_time_us, dtype=float) * 1e-6
        rel = sensor_s - self._ref_sensor_s
        # session = sensor + lag(rel), lag(rel) = offset' + drift * rel
        return sensor_s + (self.offset_s - self._ref_sensor_s) + self.drift * rel

    def as_dict(self) -> dict:
        return {"offset_s": self.offset_s, "drift_ppm": self.drift * 1e6, "updates": self.updates}
