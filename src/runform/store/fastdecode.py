"""Vectorised decode of clean runs of data frames, bit-identical to the per-frame path.

The per-frame path (:meth:`runform.protocol.stream.SensorStream.feed`, then
:meth:`runform.clock.SensorClock.observe` and ``to_session`` for each frame) costs ~50-70 us a
frame in Python; an hour of four sensors at 400 Hz is ~300 000 frames. Most frames are
regular: an IMU frame of the same length as the one before, the next sequence number, its
timestamp where the stream expects it. For such a run this module does with whole arrays what
the per-frame path does frame by frame, with the same floating-point operations in the same
order per element, so the results are bit-identical:

* stream: ``t0 = float(base + timestamp)``, ``times = t0 + arange(n) * period``,
  ``raw_to_si`` on the int16 codes, the same plausibility test and counters;
* clock: the lower-envelope fit changes only when a one-second bucket of sensor time closes
  (:class:`SensorClock`); between closes its offset is the running minimum of the lag (first
  bucket) or constant, so each frame's ``(offset, drift)`` is found per bucket, not per frame,
  and ``_fit`` runs on the same minima at the same frames.

Anything irregular (a malformed, duplicated, lost, sync or unknown frame, a time jump or wrap
that is not a plain 32-bit wrap, a different frame length, a restart, a clock resync, a hole
in the timestamps) is left to the per-frame path: the caller feeds that frame to the
:class:`SensorStream` and continues with the next clean run. Equality with the per-frame path
is checked by tests/test_store_fastdecode.py on sessions with all of these.

This module reads and sets private state of :class:`SensorStream` and :class:`SensorClock`
(their fields are the state the per-frame path carries from one frame to the next).
"""

from __future__ import annotations

import numpy as np

from ..clock import SensorClock
from ..protocol import constants as c
from ..protocol.scaling import clipped_mask, raw_to_si
from ..protocol.stream import MAX_TIME_HOLE_S, SensorStream

IMU_FIRST_BYTE = (c.PROTOCOL_VERSION << 4) | c.FRAME_IMU
_HDR = c.DATA_HEADER_BYTES
_HALF_TS = c.TIMESTAMP_MODULUS_US // 2


class FrameBatch:
    """Headers of a sensor's data payloads (in arrival order), read with arrays."""

    def __init__(self, payloads: list[bytes], arrivals: list[float]):
        self.payloads = payloads
        self.arrival_s = np.asarray(arrivals, dtype=np.float64)
        self.length = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
        self.offset = np.zeros(len(payloads) + 1, dtype=np.int64)
        np.cumsum(self.length, out=self.offset[1:])
        self.buf = b"".join(payloads)
        u8 = np.frombuffer(self.buf, dtype=np.uint8)
        has_header = self.length >= _HDR
        at = np.where(has_header, self.offset[:-1], 0)
        if u8.size < _HDR:  # no frame with a header at all
            u8 = np.zeros(_HDR, dtype=np.uint8)
        first = u8[at].astype(np.int64)
        self.count = u8[at + 1].astype(np.int64)
        self.seq = u8[at + 2].astype(np.int64) | (u8[at + 3].astype(np.int64) << 8)
        self.ts = (u8[at + 4].astype(np.int64) | (u8[at + 5].astype(np.int64) << 8)
                   | (u8[at + 6].astype(np.int64) << 16) | (u8[at + 7].astype(np.int64) << 24))
        self.valid = has_header & (first == IMU_FIRST_BYTE) & (self.count > 0) & (self.length == _HDR + c.BYTES_PER_SAMPLE * self.count)
        # frame i continues frame i-1 structurally (its timing is checked per run, with the real base)
        ok = np.zeros(len(payloads), dtype=bool)
        if len(payloads) > 1:
            ok[1:] = (self.valid[1:] & self.valid[:-1] & (self.length[1:] == self.length[:-1])
                      & ((self.seq[1:] - self.seq[:-1]) % c.SEQUENCE_MODULUS == 1)
                      & ((self.ts[1:] - self.ts[:-1]) % c.TIMESTAMP_MODULUS_US < _HALF_TS))
        self.continues = ok
        self._breaks = np.flatnonzero(~ok)

    def __len__(self) -> int:
        return len(self.payloads)

    def run_end(self, start: int) -> int:
        """End (exclusive) of the structurally regular run that continues frame ``start - 1``."""
        k = int(np.searchsorted(self._breaks, start, side="left"))
        return int(self._breaks[k]) if k < self._breaks.size else len(self.payloads)

    def samples(self, a: int, b: int) -> np.ndarray:
        """int16 codes of frames a..b-1 (all of one length), shape (b - a, n, 6)."""
        n = int(self.count[a])
        dt = np.dtype({"names": ["s"], "formats": [("<i2", (n, 6))], "offsets": [_HDR], "itemsize": int(self.length[a])})
        return np.frombuffer(self.buf, dtype=dt, count=b - a, offset=int(self.offset[a]))["s"]


def stream_run(stream: SensorStream, batch: FrameBatch, a: int, b: int):
    """Accept frames a..b-1 of ``batch`` with array operations, exactly as ``stream.feed`` would
    one by one, as far as they are regular. ``stream`` must have just accepted frame ``a - 1``.

    Returns ``(k, times_us (k, n), acc_mps2 (k*n, 3), gyr_rps (k*n, 3))`` for the first ``k``
    frames that are regular (possibly 0); the stream's state and counters are advanced past them.
    """
    if b <= a or stream._last_ts_raw is None or stream._next_expected_us is None or stream._after_restart:
        return 0, None, None, None
    n = int(batch.count[a])
    period = stream.sample_period_us
    ts = batch.ts[a:b]
    prev = np.empty_like(ts)
    prev[0] = stream._last_ts_raw
    prev[1:] = ts[:-1]
    base = stream._ts_unwrapped_base + c.TIMESTAMP_MODULUS_US * np.cumsum(ts < prev)
    t0 = (base + ts).astype(np.float64)
    expected = np.empty_like(t0)
    expected[0] = stream._next_expected_us
    expected[1:] = t0[:-1] + n * period
    d = t0 - expected
    slack_us = max(MAX_TIME_HOLE_S * 1e6, (0 + 1) * n * period * 2)  # as SensorStream with lost = 0
    missing = np.rint(d / period)
    good = (d > -0.5 * period) & (d < slack_us) & (missing <= 0)  # a hole in time: per-frame path
    bad = np.flatnonzero(~good)
    k = int(bad[0]) if bad.size else b - a
    if k == 0:
        return 0, None, None, None
    t0 = t0[:k]
    raw = batch.samples(a, a + k).reshape(k * n, 6)
    acc, gyr = raw_to_si(raw, stream.accel_range_g, stream.gyro_range_dps)
    acc_clip, gyr_clip = clipped_mask(raw)
    times = t0[:, None] + np.arange(n) * period
    cnt = stream.counters
    cnt.frames_received += k
    cnt.samples_received += k * n
    cnt.samples_clipped += int(np.count_nonzero(acc_clip | gyr_clip))
    stream._suspect = None
    stream._started = True
    stream._ts_unwrapped_base = int(base[k - 1])
    stream._last_seq = int(batch.seq[a + k - 1])
    stream._last_ts_raw = int(ts[k - 1])
    stream._next_expected_us = float(t0[k - 1]) + n * period
    return k, times, acc, gyr


def clock_run(clock: SensorClock, times_us: np.ndarray, arrival_s: np.ndarray) -> np.ndarray:
    """Session times (k, n) of ``k`` frames, as ``clock.observe(times[-1], arrival)`` then
    ``clock.to_session(times)`` frame by frame would give; ``clock`` is advanced past them.

    ``times_us`` (k, n) unwrapped sensor times (us) of each frame's samples, increasing."""
    k = times_us.shape[0]
    out = np.empty_like(times_us)
    j = 0
    if not clock.ready:  # the first observation sets the reference: per frame
        clock.observe(times_us[0, -1], float(arrival_s[0]))
        out[0] = clock.to_session(times_us[0])
        j = 1
    if j >= k:
        return out
    sensor_s = times_us[:, -1] * 1e-6
    if np.any(np.diff(sensor_s[j:]) < 0):  # not monotone: no bucket search, per frame
        for i in range(j, k):
            clock.observe(times_us[i, -1], float(arrival_s[i]))
            out[i] = clock.to_session(times_us[i])
        return out
    first = j
    ref = clock._ref_sensor_s
    rel = sensor_s - ref
    lag = arrival_s - sensor_s
    offset = np.empty(k)
    drift = np.empty(k)
    bucket_s = clock.bucket_s
    while j < k:
        bs = clock._bucket_start
        # first frame c >= j with sensor_s[c] - bs >= bucket_s (monotone in c): it closes the bucket
        cidx = j + int(np.searchsorted(sensor_s[j:], bs + bucket_s, side="left"))
        while cidx > j and sensor_s[cidx - 1] - bs >= bucket_s:
            cidx -= 1
        while cidx < k and not (sensor_s[cidx] - bs >= bucket_s):
            cidx += 1
        stop = min(cidx + 1, k)  # frames j..stop-1 update this bucket's minimum
        seg = lag[j:stop]
        carried = clock._bucket_min
        run_min = np.minimum.accumulate(seg)
        if carried is not None:
            run_min = np.minimum(run_min, carried[1])
        m = int(np.argmin(seg))
        if carried is None or seg[m] < carried[1]:
            bucket_min = (rel[j + m], seg[m])
        else:
            bucket_min = carried
        open_end = min(cidx, k)  # frames j..open_end-1 do not close the bucket
        if open_end > j:
            if not clock._minima:
                offset[j:open_end] = run_min[: open_end - j] + ref
                drift[j:open_end] = 0.0
            else:
                offset[j:open_end] = clock.offset_s
                drift[j:open_end] = clock.drift
        if cidx < k:
            clock._minima.append(bucket_min)
            clock._bucket_min = None
            clock._bucket_start = sensor_s[cidx]
            clock._fit()
            offset[cidx] = clock.offset_s
            drift[cidx] = clock.drift
            j = cidx + 1
        else:
            clock._bucket_min = bucket_min
            if not clock._minima:
                clock.offset_s = bucket_min[1] + ref
                clock.drift = 0.0
            j = k
    ss = times_us[first:] * 1e-6
    out[first:] = ss + (offset[first:] - ref)[:, None] + drift[first:, None] * (ss - ref)
    return out
