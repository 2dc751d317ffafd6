"""Encode and decode every message of the protocol (firmware_protocol.md, little-endian).

Decoders check lengths before reading, so they never read past the buffer, and raise
:class:`ProtocolError` for anything malformed. Encoders validate their inputs the same way a
sensor would, so a round trip is exact.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from . import constants as c
from .errors import ProtocolError

_HEADER = struct.Struct("<BBHI")  # version|type, count, sequence/token, timestamp_us
_DEVICE_INFO = struct.Struct("<BBBBBBBBHBBHHH16s")
_STATUS = struct.Struct("<BBBBII")
_MANUFACTURER = struct.Struct("<BBBBBB")

assert _HEADER.size == c.DATA_HEADER_BYTES
assert _DEVICE_INFO.size == c.DEVICE_INFO_BYTES
assert _STATUS.size == c.STATUS_BYTES
assert _MANUFACTURER.size == c.MANUFACTURER_PAYLOAD_BYTES


def _as_bytes(data: bytes | bytearray | memoryview) -> bytes:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProtocolError("bad_type", f"expected bytes, got {type(data).__name__}")
    return bytes(data)


def _bitmask(values: tuple[int, ...], table: tuple[int, ...], what: str) -> int:
    mask = 0
    for v in values:
        if v not in table:
            raise ValueError(f"{what} {v} is not one of {table}")
        mask |= 1 << table.index(v)
    return mask


def _from_bitmask(mask: int, table: tuple[int, ...]) -> tuple[int, ...]:
    # bits beyond the table are values defined by later minor versions: ignored
    return tuple(v for i, v in enumerate(table) if mask & (1 << i))


# --------------------------------------------------------------------------- data frames


@dataclass(frozen=True)
class ImuFrame:
    """A frame of samples. ``samples`` is int16 (n, 6): ax ay az gx gy gz in sensor LSB."""

    sequence: int
    timestamp_us: int
    samples: np.ndarray = field(repr=False)

    @property
    def sample_count(self) -> int:
        return int(self.samples.shape[0])

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ImuFrame)
            and self.sequence == other.sequence
            and self.timestamp_us == other.timestamp_us
            and np.array_equal(self.samples, other.samples)
        )


@dataclass(frozen=True)
class SyncFrame:
    """Answer to a TIME_SYNC command: the token and the sensor time (us) when it arrived."""

    token: int
    timestamp_us: int


@dataclass(frozen=True)
class UnknownFrame:
    """A frame of this protocol version with a frame type this host does not know (ignored)."""

    frame_type: int
    payload: bytes


def encode_data(frame: ImuFrame | SyncFrame) -> bytes:
    """Bytes of a data notification."""
    if isinstance(frame, ImuFrame):
        samples = np.asarray(frame.samples)
        n = samples.shape[0]
        if samples.ndim != 2 or samples.shape[1] != 6 or not 1 <= n <= c.MAX_SAMPLES_PER_FRAME:
            raise ValueError(f"an IMU frame holds 1..255 samples of 6 channels, got shape {samples.shape}")
        _check_u16(frame.sequence, "sequence")
        _check_u32(frame.timestamp_us, "timestamp_us")
        head = _HEADER.pack((c.PROTOCOL_VERSION << 4) | c.FRAME_IMU, n, frame.sequence, frame.timestamp_us)
        return head + samples.astype("<i2", copy=False).tobytes()
    if isinstance(frame, SyncFrame):
        _check_u16(frame.token, "token")
        _check_u32(frame.timestamp_us, "timestamp_us")
        return _HEADER.pack((c.PROTOCOL_VERSION << 4) | c.FRAME_SYNC, 0, frame.token, frame.timestamp_us)
    raise TypeError(f"cannot encode {type(frame).__name__}")


def decode_data(data: bytes | bytearray | memoryview) -> ImuFrame | SyncFrame | UnknownFrame:
    """Decode a data notification; raises :class:`ProtocolError` if it is malformed."""
    data = _as_bytes(data)
    if len(data) < c.DATA_HEADER_BYTES:
        raise ProtocolError("too_short", f"data frame of {len(data)} bytes is shorter than the {c.DATA_HEADER_BYTES}-byte header")
    first, count, seq, ts = _HEADER.unpack_from(data, 0)
    version, ftype = first >> 4, first & 0x0F
    if version != c.PROTOCOL_VERSION:
        raise ProtocolError("unsupported_version", f"data frame of protocol version {version}, this host speaks {c.PROTOCOL_VERSION}")
    if ftype == c.FRAME_IMU:
        if count == 0:
            raise ProtocolError("bad_value", "IMU frame with zero samples")
        expected = c.DATA_HEADER_BYTES + c.BYTES_PER_SAMPLE * count
        if len(data) != expected:
            raise ProtocolError("length_mismatch", f"IMU frame says {count} samples ({expected} bytes) but has {len(data)} bytes")
        samples = np.frombuffer(data, dtype="<i2", count=6 * count, offset=c.DATA_HEADER_BYTES).reshape(count, 6)
        return ImuFrame(sequence=seq, timestamp_us=ts, samples=samples.astype(np.int16))
    if ftype == c.FRAME_SYNC:
        if count != 0 or len(data) != c.DATA_HEADER_BYTES:
            raise ProtocolError("length_mismatch", f"sync frame must be {c.DATA_HEADER_BYTES} bytes with count 0, got {len(data)} bytes, count {count}")
        return SyncFrame(token=seq, timestamp_us=ts)
    return UnknownFrame(frame_type=ftype, payload=data)


# --------------------------------------------------------------------------- device info


@dataclass(frozen=True)
class DeviceInfo:
    """The device-info characteristic (read)."""

    protocol_version: int
    protocol_minor: int
    firmware_version: tuple[int, int, int]
    placement_code: int
    accel_range_g: int
    accel_ranges_g: tuple[int, ...]
    gyro_range_dps: int
    gyro_ranges_dps: tuple[int, ...]
    sample_rate_hz: int
    sample_rates_hz: tuple[int, ...]
    clock_resolution_ns: int
    clock_accuracy_ppm: int
    model: str

    @property
    def firmware(self) -> str:
        return ".".join(str(v) for v in self.firmware_version)

    @property
    def placement(self) -> str | None:
        from ..placements import PLACEMENT_BY_CODE

        return PLACEMENT_BY_CODE.get(self.placement_code)


def encode_device_info(info: DeviceInfo) -> bytes:
    model = info.model.encode("ascii")
    if len(model) > c.MODEL_BYTES:
        raise ValueError(f"model name longer than {c.MODEL_BYTES} bytes")
    return _DEVICE_INFO.pack(
        info.protocol_version,
        info.protocol_minor,
        *info.firmware_version,
        info.placement_code,
        info.accel_range_g,
        _bitmask(info.accel_ranges_g, c.ACCEL_RANGES_G, "accelerometer range"),
        info.gyro_range_dps,
        _bitmask(info.gyro_ranges_dps, c.GYRO_RANGES_DPS, "gyroscope range"),
        _bitmask(info.sample_rates_hz, c.SAMPLE_RATES_HZ, "sample rate"),
        info.sample_rate_hz,
        info.clock_resolution_ns,
        info.clock_accuracy_ppm,
        model.ljust(c.MODEL_BYTES, b"\0"),
    )


def decode_device_info(data: bytes | bytearray | memoryview) -> DeviceInfo:
    """Decode device info; longer buffers (later minor versions) are accepted, extra bytes ignored."""
    data = _as_bytes(data)
    if len(data) < c.DEVICE_INFO_BYTES:
        raise ProtocolError("too_short", f"device info of {len(data)} bytes, expected at least {c.DEVICE_INFO_BYTES}")
    (ver, minor, fw_major, fw_minor, fw_patch, placement, acc_range, acc_mask, gyr_range, gyr_mask,
     rate_mask, rate, clock_ns, clock_ppm, model) = _DEVICE_INFO.unpack_from(data, 0)
    if ver != c.PROTOCOL_VERSION:
        raise ProtocolError("unsupported_version", f"sensor speaks protocol version {ver}, this host speaks {c.PROTOCOL_VERSION}")
    try:
        model_text = model.split(b"\0", 1)[0].decode("ascii")
    except UnicodeDecodeError as exc:
        raise ProtocolError("bad_value", "model name is not ASCII") from exc
    return DeviceInfo(
        protocol_version=ver,
        protocol_minor=minor,
        firmware_version=(fw_major, fw_minor, fw_patch),
        placement_code=placement,
        accel_range_g=acc_range,
        accel_ranges_g=_from_bitmask(acc_mask, c.ACCEL_RANGES_G),
        gyro_range_dps=gyr_range,
        gyro_ranges_dps=_from_bitmask(gyr_mask, c.GYRO_RANGES_DPS),
        sample_rate_hz=rate,
        sample_rates_hz=_from_bitmask(rate_mask, c.SAMPLE_RATES_HZ),
        clock_resolution_ns=clock_ns,
        clock_accuracy_ppm=clock_ppm,
        model=model_text,
    )


# --------------------------------------------------------------------------- status


@dataclass(frozen=True)
class Status:
    """The status characteristic (read and notify)."""

    battery_percent: int | None  # None = unknown (255 on the wire)
    state: int
    flags: int
    samples_dropped: int
    clipped_samples: int

    @property
    def accel_clipped(self) -> bool:
        return bool(self.flags & c.STATUS_ACCEL_CLIPPED)

    @property
    def gyro_clipped(self) -> bool:
        return bool(self.flags & c.STATUS_GYRO_CLIPPED)

    @property
    def streaming(self) -> bool:
        return self.state == c.STATE_STREAMING


def encode_status(status: Status) -> bytes:
    battery = c.BATTERY_UNKNOWN if status.battery_percent is None else status.battery_percent
    if not (0 <= battery <= 100 or battery == c.BATTERY_UNKNOWN):
        raise ValueError("battery_percent must be 0..100 or None")
    return _STATUS.pack(battery, status.state, status.flags, 0, status.samples_dropped, status.clipped_samples)


def decode_status(data: bytes | bytearray | memoryview) -> Status:
    data = _as_bytes(data)
    if len(data) < c.STATUS_BYTES:
        raise ProtocolError("too_short", f"status of {len(data)} bytes, expected at least {c.STATUS_BYTES}")
    battery, state, flags, _reserved, dropped, clipped = _STATUS.unpack_from(data, 0)
    if battery > 100 and battery != c.BATTERY_UNKNOWN:
        raise ProtocolError("bad_value", f"battery {battery} % is out of range")
    return Status(
        battery_percent=None if battery == c.BATTERY_UNKNOWN else battery,
        state=state,
        flags=flags,
        samples_dropped=dropped,
        clipped_samples=clipped,
    )


# --------------------------------------------------------------------------- control


@dataclass(frozen=True)
class ControlCommand:
    """A control write. ``opcode`` is one of ``OP_*``; ``args`` its parameters in order."""

    opcode: int
    args: tuple[int, ...] = ()


_CONTROL_LAYOUTS: dict[int, struct.Struct] = {
    c.OP_START_STREAMING: struct.Struct("<B"),
    c.OP_STOP_STREAMING: struct.Struct("<B"),
    c.OP_SET_SAMPLE_RATE: struct.Struct("<BH"),
    c.OP_SET_RANGES: struct.Struct("<BBH"),
    c.OP_TIME_SYNC: struct.Struct("<BH"),
    c.OP_IDENTIFY: struct.Struct("<BB"),
    c.OP_SET_PLACEMENT: struct.Struct("<BB"),
    c.OP_SET_FRAME_SAMPLES: struct.Struct("<BB"),
}

CONTROL_NAMES = {
    c.OP_START_STREAMING: "START_STREAMING",
    c.OP_STOP_STREAMING: "STOP_STREAMING",
    c.OP_SET_SAMPLE_RATE: "SET_SAMPLE_RATE",
    c.OP_SET_RANGES: "SET_RANGES",
    c.OP_TIME_SYNC: "TIME_SYNC",
    c.OP_IDENTIFY: "IDENTIFY",
    c.OP_SET_PLACEMENT: "SET_PLACEMENT",
    c.OP_SET_FRAME_SAMPLES: "SET_FRAME_SAMPLES",
}


def encode_control(cmd: ControlCommand) -> bytes:
    layout = _CONTROL_LAYOUTS.get(cmd.opcode)
    if layout is None:
        raise ValueError(f"unknown control opcode 0x{cmd.opcode:02X}")
    return layout.pack(cmd.opcode, *cmd.args)


def decode_control(data: bytes | bytearray | memoryview) -> ControlCommand:
    """Decode a control write as a sensor does. Unknown opcodes and wrong lengths raise
    :class:`ProtocolError` (``unknown_opcode`` / ``length_mismatch``)."""
    data = _as_bytes(data)
    if not data:
        raise ProtocolError("too_short", "empty control write")
    layout = _CONTROL_LAYOUTS.get(data[0])
    if layout is None:
        raise ProtocolError("unknown_opcode", f"unknown control opcode 0x{data[0]:02X}")
    if len(data) != layout.size:
        raise ProtocolError("length_mismatch", f"{CONTROL_NAMES[data[0]]} takes {layout.size} bytes, got {len(data)}")
    opcode, *args = layout.unpack(data)
    return ControlCommand(opcode=opcode, args=tuple(args))


# --------------------------------------------------------------------------- advertising


@dataclass(frozen=True)
class Advertisement:
    """Manufacturer-specific data of a sensor's advertisement (company ``MANUFACTURER_ID``)."""

    protocol_version: int
    placement_code: int
    battery_percent: int | None
    firmware_version: tuple[int, int, int]


def encode_advertisement(adv: Advertisement) -> bytes:
    """The manufacturer-data payload (after the 2-byte company identifier)."""
    battery = c.BATTERY_UNKNOWN if adv.battery_percent is None else adv.battery_percent
    return _MANUFACTURER.pack(adv.protocol_version, adv.placement_code, battery, *adv.firmware_version)


def decode_advertisement(data: bytes | bytearray | memoryview) -> Advertisement:
    data = _as_bytes(data)
    if len(data) < c.MANUFACTURER_PAYLOAD_BYTES:
        raise ProtocolError("too_short", f"manufacturer data of {len(data)} bytes, expected at least {c.MANUFACTURER_PAYLOAD_BYTES}")
    ver, placement, battery, a, b, p = _MANUFACTURER.unpack_from(data, 0)
    return Advertisement(
        protocol_version=ver,
        placement_code=placement,
        battery_percent=None if battery == c.BATTERY_UNKNOWN else battery,
        firmware_version=(a, b, p),
    )


def _check_u16(v: int, name: str) -> None:
    if not 0 <= v < c.SEQUENCE_MODULUS:
        raise ValueError(f"{name} {v} does not fit in 16 bits")


def _check_u32(v: int, name: str) -> None:
    if not 0 <= v < c.TIMESTAMP_MODULUS_US:
        raise ValueError(f"{name} {v} does not fit in 32 bits")
