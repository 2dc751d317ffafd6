"""Virtual sensor firmware: a Python object that behaves like one of our sensors.

It implements the sensor side of firmware_protocol.md byte for byte: device info, status,
control writes (with the same ATT application errors), data frames sized to the negotiated
MTU, its own clock (offset and drift) and int16 samples scaled by the configured ranges.
The motion it measures comes from a :class:`~runform.sensors.motion.MotionSource`.

Time: the caller advances *true* time (seconds since the simulated session started); the
firmware turns it into its own clock and returns the notifications it would have sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..placements import PLACEMENT_CODES, UNASSIGNED_CODE
from ..protocol import constants as c
from ..protocol.errors import ControlRejected, ProtocolError
from ..protocol.messages import (
    Advertisement,
    DeviceInfo,
    ImuFrame,
    Status,
    SyncFrame,
    decode_control,
    encode_advertisement,
    encode_data,
    encode_device_info,
    encode_status,
)
from ..protocol.scaling import clipped_mask, si_to_raw
from ..protocol.sizing import max_samples_per_frame
from .motion import MotionSource

#: a sensor flushes a frame before its oldest sample is older than this (s)
MAX_SAMPLE_AGE_S = 0.05
#: status notifications while streaming, every this many seconds
STATUS_PERIOD_S = 1.0


@dataclass
class FirmwareConfig:
    """Everything that makes one virtual sensor different from another."""

    placement: str | None  # stored placement, None = not assigned
    address: str = "00:00:00:00:00:00"
    model: str = "runform-virtual"
    firmware_version: tuple[int, int, int] = (1, 0, 0)
    protocol_version: int = c.PROTOCOL_VERSION
    accel_range_g: int = 16
    gyro_range_dps: int = 2000
    sample_rate_hz: int = 400
    accel_ranges_g: tuple[int, ...] = c.ACCEL_RANGES_G
    gyro_ranges_dps: tuple[int, ...] = c.GYRO_RANGES_DPS
    sample_rates_hz: tuple[int, ...] = (100, 200, 400, 800)
    clock_offset_us: int = 0  # sensor clock reading at true time 0
    clock_drift_ppm: float = 0.0  # sensor clock runs fast by this much
    clock_resolution_ns: int = 1000
    clock_accuracy_ppm: int = 20
    battery_percent: int = 87

    @property
    def name(self) -> str:
        return c.ADVERTISED_NAME_PREFIX + self.address.replace(":", "")[-4:].upper()


@dataclass
class Notification:
    """A notification as the sensor sends it: which characteristic, the bytes, and the true
    time (s) at which it left the sensor."""

    characteristic: str  # "data" or "status"
    payload: bytes
    sent_true_s: float


@dataclass
class _Counters:
    samples_sent: int = 0
    clipped_samples: int = 0
    samples_dropped: int = 0
    accel_clipped_since_status: bool = False
    gyro_clipped_since_status: bool = False


class VirtualSensorFirmware:
    def __init__(self, config: FirmwareConfig, motion: MotionSource, *, motion_placement: str | None = None):
        self.config = config
        self.motion = motion
        #: the placement whose motion this sensor measures (where it is physically strapped)
        self.motion_placement = motion_placement or config.placement
        if self.motion_placement is None:
            raise ValueError("a virtual sensor needs to know where it is strapped (motion_placement)")
        self.placement_code = PLACEMENT_CODES[config.placement] if config.placement else UNASSIGNED_CODE
        self.accel_range_g = config.accel_range_g
        self.gyro_range_dps = config.gyro_range_dps
        self.sample_rate_hz = config.sample_rate_hz
        self.att_mtu = c.DEFAULT_ATT_MTU
        self.frame_samples_requested = 0  # 0 = automatic
        self.streaming = False
        self.identify_until_true_s = 0.0
        self._now_true_s = 0.0
        self._next_sample_index = 0  # index of the next sample since streaming started
        self._stream_start_us = 0  # sensor clock (unwrapped) of sample 0
        self._sequence = 0
        self._pending: list[Notification] = []
        self._next_status_true_s = 0.0
        self.counters = _Counters()

    # ---------------------------------------------------------------- clock
    def sensor_time_us(self, t_true_s: float | np.ndarray) -> np.ndarray | float:
        """The sensor's clock (unwrapped us) at true time ``t_true_s``."""
        return self.config.clock_offset_us + np.asarray(t_true_s) * 1e6 * (1.0 + self.config.clock_drift_ppm * 1e-6)

    def true_time_s(self, sensor_us: float | np.ndarray) -> np.ndarray | float:
        """Inverse of :meth:`sensor_time_us`."""
        return (np.asarray(sensor_us, dtype=float) - self.config.clock_offset_us) / (1e6 * (1.0 + self.config.clock_drift_ppm * 1e-6))

    # ---------------------------------------------------------------- GATT
    def device_info(self) -> DeviceInfo:
        cfg = self.config
        return DeviceInfo(
            protocol_version=cfg.protocol_version,
            protocol_minor=c.PROTOCOL_MINOR,
            firmware_version=cfg.firmware_version,
            placement_code=self.placement_code,
            accel_range_g=self.accel_range_g,
            accel_ranges_g=cfg.accel_ranges_g,
            gyro_range_dps=self.gyro_range_dps,
            gyro_ranges_dps=cfg.gyro_ranges_dps,
            sample_rate_hz=self.sample_rate_hz,
            sample_rates_hz=cfg.sample_rates_hz,
            clock_resolution_ns=cfg.clock_resolution_ns,
            clock_accuracy_ppm=cfg.clock_accuracy_ppm,
            model=cfg.model,
        )

    def read_device_info(self) -> bytes:
        info = encode_device_info(self.device_info())
        if self.config.protocol_version != c.PROTOCOL_VERSION:
            info = bytes([self.config.protocol_version]) + info[1:]
        return info

    def status(self) -> Status:
        k = self.counters
        flags = (c.STATUS_ACCEL_CLIPPED if k.accel_clipped_since_status else 0) | (
            c.STATUS_GYRO_CLIPPED if k.gyro_clipped_since_status else 0
        )
        if self.config.battery_percent < 15:
            flags |= c.STATUS_BATTERY_LOW
        return Status(
            battery_percent=self.config.battery_percent,
            state=c.STATE_STREAMING if self.streaming else c.STATE_IDLE,
            flags=flags,
            samples_dropped=k.samples_dropped,
            clipped_samples=k.clipped_samples,
        )

    def read_status(self) -> bytes:
        return encode_status(self.status())

    def advertisement(self) -> tuple[str, bytes]:
        """(complete local name, manufacturer-data payload after the company id)."""
        cfg = self.config
        adv = Advertisement(cfg.protocol_version, self.placement_code, cfg.battery_percent, cfg.firmware_version)
        return cfg.name, encode_advertisement(adv)

    def set_att_mtu(self, mtu: int) -> None:
        """The ATT MTU negotiated for the current connection."""
        max_samples_per_frame(mtu)  # validates
        self.att_mtu = mtu

    @property
    def frame_samples(self) -> int:
        """Samples per data frame now: fits the MTU and no sample waits more than 50 ms."""
        n = min(max_samples_per_frame(self.att_mtu), max(1, int(self.sample_rate_hz * MAX_SAMPLE_AGE_S)))
        if self.frame_samples_requested:
            n = min(n, self.frame_samples_requested)
        return n

    def write_control(self, data: bytes, now_true_s: float | None = None) -> None:
        """Handle a control write; raises :class:`ControlRejected` with the ATT error code."""
        if now_true_s is not None:
            self._now_true_s = max(self._now_true_s, now_true_s)
        try:
            cmd = decode_control(data)
        except ProtocolError as exc:
            code = c.ERR_UNKNOWN_OPCODE if exc.reason == "unknown_opcode" else c.ERR_INVALID_LENGTH
            raise ControlRejected(code, str(exc)) from None
        op, args = cmd.opcode, cmd.args
        if op == c.OP_START_STREAMING:
            if not self.streaming:
                self._start_streaming()
        elif op == c.OP_STOP_STREAMING:
            self.streaming = False
        elif op == c.OP_SET_SAMPLE_RATE:
            self._require_idle()
            if args[0] not in self.config.sample_rates_hz:
                raise ControlRejected(c.ERR_INVALID_PARAMETER, f"sample rate {args[0]} Hz not supported")
            self.sample_rate_hz = args[0]
        elif op == c.OP_SET_RANGES:
            self._require_idle()
            acc, gyr = args
            if acc not in self.config.accel_ranges_g or gyr not in self.config.gyro_ranges_dps:
                raise ControlRejected(c.ERR_INVALID_PARAMETER, f"ranges +-{acc} g / +-{gyr} dps not supported")
            self.accel_range_g, self.gyro_range_dps = acc, gyr
        elif op == c.OP_TIME_SYNC:
            ts = int(self.sensor_time_us(self._now_true_s)) % c.TIMESTAMP_MODULUS_US
            self._pending.append(Notification("data", encode_data(SyncFrame(args[0], ts)), self._now_true_s))
        elif op == c.OP_IDENTIFY:
            self.identify_until_true_s = self._now_true_s + args[0]
        elif op == c.OP_SET_PLACEMENT:
            if args[0] != UNASSIGNED_CODE and args[0] not in PLACEMENT_CODES.values():
                raise ControlRejected(c.ERR_INVALID_PARAMETER, f"placement code {args[0]} unknown")
            self.placement_code = args[0]
        elif op == c.OP_SET_FRAME_SAMPLES:
            self.frame_samples_requested = args[0]

    def _require_idle(self) -> None:
        if self.streaming:
            raise ControlRejected(c.ERR_BUSY_STREAMING)

    def _start_streaming(self) -> None:
        self.streaming = True
        self._next_sample_index = 0
        # the first sample is taken at the next clock tick after the command
        self._stream_start_us = int(np.ceil(self.sensor_time_us(self._now_true_s)))
        self.counters = _Counters()
        self._next_status_true_s = self._now_true_s

    # ---------------------------------------------------------------- streaming
    def advance(self, now_true_s: float) -> list[Notification]:
        """Run the sensor up to true time ``now_true_s``; return the notifications sent since
        the last call (data frames with every sample taken so far, status once a second)."""
        self._now_true_s = max(self._now_true_s, now_true_s)
        out, self._pending = self._pending, []
        if not self.streaming:
            return out
        period_us = 1e6 / self.sample_rate_hz
        n_frame = self.frame_samples
        # samples whose sensor time has passed
        sensor_now = float(self.sensor_time_us(self._now_true_s))
        taken = int(np.floor((sensor_now - self._stream_start_us) / period_us)) + 1
        n_ready = (taken - self._next_sample_index) // n_frame * n_frame
        if n_ready > 0:
            k = self._next_sample_index + np.arange(n_ready)
            sensor_us = self._stream_start_us + k * period_us
            t_true = self.true_time_s(sensor_us)
            acc, gyr = self.motion.imu(self.motion_placement, t_true)
            raw = si_to_raw(acc, gyr, self.accel_range_g, self.gyro_range_dps)
            acc_clip, gyr_clip = clipped_mask(raw)
            self.counters.clipped_samples += int(np.count_nonzero(acc_clip | gyr_clip))
            self.counters.accel_clipped_since_status |= bool(acc_clip.any())
            self.counters.gyro_clipped_since_status |= bool(gyr_clip.any())
            for start in range(0, n_ready, n_frame):
                ts = int(round(sensor_us[start])) % c.TIMESTAMP_MODULUS_US
                frame = ImuFrame(self._sequence, ts, raw[start : start + n_frame])
                out.append(Notification("data", encode_data(frame), float(t_true[start + n_frame - 1])))
                self._sequence = (self._sequence + 1) % c.SEQUENCE_MODULUS
            self._next_sample_index += n_ready
            self.counters.samples_sent += n_ready
        while self._next_status_true_s <= self._now_true_s:
            out.append(Notification("status", self.read_status(), self._next_status_true_s))
            self.counters.accel_clipped_since_status = False
            self.counters.gyro_clipped_since_status = False
            self._next_status_true_s += STATUS_PERIOD_S
        return out
