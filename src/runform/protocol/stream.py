"""Host side of one sensor's data stream: sequence accounting, timestamp unwrapping, SI units.

Pure and synchronous: feed it notification payloads in arrival order, get sample blocks.
Counters follow firmware_protocol.md ("Host rules"): lost = sequence gaps, duplicated =
a repeated sequence number, rejected = malformed frames (one :class:`ProtocolError` each),
unknown = frames of a type this host does not know (ignored).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import constants as c
from .errors import ProtocolError
from .messages import ImuFrame, SyncFrame, UnknownFrame, decode_data
from .scaling import clipped_mask, raw_to_si

#: a sequence jump this large (or larger) backwards is a restart or reordering, not a gap
_HALF_SEQ = c.SEQUENCE_MODULUS // 2
_HALF_TS = c.TIMESTAMP_MODULUS_US // 2
#: a forward time hole larger than this (and than the lost frames explain) is suspicious (s)
MAX_TIME_HOLE_S = 5.0


@dataclass
class StreamCounters:
    frames_received: int = 0  # valid IMU frames accepted
    frames_lost: int = 0  # missing sequence numbers
    frames_rejected: int = 0  # malformed (ProtocolError)
    frames_duplicated: int = 0  # same sequence number again, or older than the last
    frames_unknown: int = 0  # unknown frame type, ignored
    samples_received: int = 0
    samples_missing: int = 0  # holes in sensor time between consecutive frames (lost frames, sensor drops)
    time_resyncs: int = 0  # the sensor clock jumped and the stream started a new time epoch
    samples_clipped: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "frames_received": self.frames_received,
            "frames_lost": self.frames_lost,
            "frames_rejected": self.frames_rejected,
            "frames_duplicated": self.frames_duplicated,
            "frames_unknown": self.frames_unknown,
            "samples_received": self.samples_received,
            "samples_missing": self.samples_missing,
            "time_resyncs": self.time_resyncs,
            "samples_clipped": self.samples_clipped,
            "reject_reasons": dict(self.reject_reasons),
        }


@dataclass
class SampleBlock:
    """Samples of one frame in SI units with their unwrapped sensor times."""

    sensor_time_us: np.ndarray  # (n,) float64, unwrapped sensor clock
    acc_mps2: np.ndarray  # (n, 3) sensor frame
    gyr_rps: np.ndarray  # (n, 3) sensor frame
    acc_clipped: np.ndarray  # (n,) bool
    gyr_clipped: np.ndarray  # (n,) bool
    frames_lost_before: int  # frames missing just before this one (0 = contiguous)
    sequence: int
    raw: np.ndarray  # (n, 6) int16 as received
    samples_missing_before: int = 0  # samples missing just before this frame, from the timestamps
    new_epoch: bool = False  # first frame of a stream, or after a clock jump: not contiguous

    @property
    def gap_before(self) -> bool:
        """True when samples are missing before this block (the core must not bridge it)."""
        return self.frames_lost_before > 0 or self.samples_missing_before > 0 or self.new_epoch


class SensorStream:
    """Decoder state for one sensor's data characteristic."""

    def __init__(self, sample_rate_hz: float, accel_range_g: float, gyro_range_dps: float):
        self.configure(sample_rate_hz, accel_range_g, gyro_range_dps)
        self.counters = StreamCounters()
        self._last_seq: int | None = None
        self._last_ts_raw: int | None = None
        self._ts_unwrapped_base = 0  # multiples of 2^32 added so far
        self._next_expected_us: float | None = None  # unwrapped time of the sample after the last one
        self._suspect: ImuFrame | None = None  # a frame whose time disagreed with the stream
        self._started = False
        self._after_restart = False
        self.last_sync: SyncFrame | None = None
        self.last_error: str | None = None

    def configure(self, sample_rate_hz: float, accel_range_g: float, gyro_range_dps: float) -> None:
        self.sample_rate_hz = float(sample_rate_hz)
        self.sample_period_us = 1e6 / self.sample_rate_hz
        self.accel_range_g = accel_range_g
        self.gyro_range_dps = gyro_range_dps

    def restart(self) -> None:
        """Forget sequence history (after the sensor restarted streaming, e.g. a reconnect).
        The sensor's clock is free-running, so time continues; the next block is a new epoch."""
        self._last_seq = None
        self._suspect = None
        self._after_restart = True

    def feed(self, payload: bytes) -> SampleBlock | None:
        """Decode one data notification. Returns a block of samples, or None for frames that
        carry none (sync, unknown, rejected, duplicated). Never raises for bad bytes."""
        try:
            frame = decode_data(payload)
        except ProtocolError as exc:
            self.counters.frames_rejected += 1
            self.counters.reject_reasons[exc.reason] = self.counters.reject_reasons.get(exc.reason, 0) + 1
            self.last_error = str(exc)
            return None
        if isinstance(frame, SyncFrame):
            self.last_sync = frame
            return None
        if isinstance(frame, UnknownFrame):
            self.counters.frames_unknown += 1
            return None
        return self._accept(frame)

    def _reject(self, reason: str, message: str) -> None:
        self.counters.frames_rejected += 1
        self.counters.reject_reasons[reason] = self.counters.reject_reasons.get(reason, 0) + 1
        self.last_error = message

    def _confirms_suspect(self, frame: ImuFrame) -> bool:
        sus = self._suspect
        if sus is None or (frame.sequence - sus.sequence) % c.SEQUENCE_MODULUS != 1:
            return False
        step = (frame.timestamp_us - sus.timestamp_us) % c.TIMESTAMP_MODULUS_US
        want = sus.sample_count * self.sample_period_us
        return abs(step - want) <= 0.5 * self.sample_period_us + 0.01 * want

    def _accept(self, frame: ImuFrame, resync: bool = False) -> SampleBlock | None:
        lost = 0
        if self._last_seq is not None:
            step = (frame.sequence - self._last_seq) % c.SEQUENCE_MODULUS
            if step == 0 or step >= _HALF_SEQ:
                self.counters.frames_duplicated += 1
                return None
            lost = step - 1
        # unwrap the 32-bit microsecond timestamp against the previous frame
        new_epoch = not self._started
        base = self._ts_unwrapped_base
        if self._last_ts_raw is not None:
            delta = (frame.timestamp_us - self._last_ts_raw) % c.TIMESTAMP_MODULUS_US
            forward = delta < _HALF_TS
            if forward and frame.timestamp_us < self._last_ts_raw:
                base += c.TIMESTAMP_MODULUS_US
            t_first = float(base + frame.timestamp_us)
            expected = self._next_expected_us if self._next_expected_us is not None else t_first
            # frames lost by sequence explain a hole of about lost * n samples
            slack_us = max(MAX_TIME_HOLE_S * 1e6, (lost + 1) * frame.sample_count * self.sample_period_us * 2)
            plausible = forward and (t_first - expected) > -0.5 * self.sample_period_us and (
                (t_first - expected) < slack_us or self._after_restart
            )
            if not plausible:
                if self._confirms_suspect(frame):
                    # two consecutive frames agree on the new time: the sensor clock jumped
                    self.counters.time_resyncs += 1
                    self._suspect = None
                    self._last_ts_raw = None
                    self._next_expected_us = None
                    self._ts_unwrapped_base = 0  # a new epoch: the owner resets this sensor's clock fit
                    self._last_seq = None
                    return self._accept(frame, resync=True)
                self._suspect = frame
                self._reject("time_jump", "timestamp inconsistent with the stream (jump or corruption)")
                self._last_seq = frame.sequence  # counted as rejected, not again as lost
                return None
        self._suspect = None
        if self._after_restart:
            new_epoch = True
            self._after_restart = False
        self._started = True
        self._ts_unwrapped_base = base
        self._last_seq = frame.sequence
        self._last_ts_raw = frame.timestamp_us
        self.counters.frames_lost += lost
        self.counters.frames_received += 1
        n = frame.sample_count
        self.counters.samples_received += n
        t0 = float(self._ts_unwrapped_base + frame.timestamp_us)
        missing = 0
        if self._next_expected_us is not None:
            missing = max(0, int(round((t0 - self._next_expected_us) / self.sample_period_us)))
            self.counters.samples_missing += missing
        times = t0 + np.arange(n) * self.sample_period_us
        self._next_expected_us = t0 + n * self.sample_period_us
        acc, gyr = raw_to_si(frame.samples, self.accel_range_g, self.gyro_range_dps)
        acc_clip, gyr_clip = clipped_mask(frame.samples)
        self.counters.samples_clipped += int(np.count_nonzero(acc_clip | gyr_clip))
        return SampleBlock(times, acc, gyr, acc_clip, gyr_clip, lost, frame.sequence, frame.samples,
                           samples_missing_before=missing, new_epoch=new_epoch or resync)
