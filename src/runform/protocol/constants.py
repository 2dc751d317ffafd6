"""Numbers of the protocol (firmware_protocol.md is the normative text)."""

from __future__ import annotations

#: major protocol version carried in every data frame and in device info
PROTOCOL_VERSION = 1
#: minor version of this implementation: additions that older hosts can ignore
PROTOCOL_MINOR = 0

_BASE = "5e2a{:04x}-7c1b-4d1e-9f3a-52756e466f72"
SERVICE_UUID = _BASE.format(0x0001)
DEVICE_INFO_UUID = _BASE.format(0x0002)
CONTROL_UUID = _BASE.format(0x0003)
DATA_UUID = _BASE.format(0x0004)
STATUS_UUID = _BASE.format(0x0005)

#: complete local name starts with this, e.g. "RunForm-3A7F"
ADVERTISED_NAME_PREFIX = "RunForm-"
#: Bluetooth SIG company identifier used in manufacturer data (0xFFFF: not assigned)
MANUFACTURER_ID = 0xFFFF

# data frame types (low nibble of byte 0)
FRAME_IMU = 0x1
FRAME_SYNC = 0x2

DATA_HEADER_BYTES = 8
BYTES_PER_SAMPLE = 12  # 6 x int16: ax ay az gx gy gz
ATT_NOTIFY_OVERHEAD_BYTES = 3
DEFAULT_ATT_MTU = 23
MAX_SAMPLES_PER_FRAME = 255

# control opcodes
OP_START_STREAMING = 0x01
OP_STOP_STREAMING = 0x02
OP_SET_SAMPLE_RATE = 0x03
OP_SET_RANGES = 0x04
OP_TIME_SYNC = 0x05
OP_IDENTIFY = 0x06
OP_SET_PLACEMENT = 0x07
OP_SET_FRAME_SAMPLES = 0x08

# ATT application error codes returned to a rejected control write
ERR_UNKNOWN_OPCODE = 0x80
ERR_INVALID_PARAMETER = 0x81
ERR_BUSY_STREAMING = 0x82
ERR_INVALID_LENGTH = 0x83
CONTROL_ERROR_NAMES = {
    ERR_UNKNOWN_OPCODE: "unknown opcode",
    ERR_INVALID_PARAMETER: "invalid parameter",
    ERR_BUSY_STREAMING: "not allowed while streaming",
    ERR_INVALID_LENGTH: "invalid length",
}

# bit i of a "supported" bitmask means the i-th value is supported
ACCEL_RANGES_G: tuple[int, ...] = (2, 4, 8, 16, 32)
GYRO_RANGES_DPS: tuple[int, ...] = (125, 250, 500, 1000, 2000, 4000)
SAMPLE_RATES_HZ: tuple[int, ...] = (100, 200, 400, 800, 1600)

DEVICE_INFO_BYTES = 34
STATUS_BYTES = 12
MANUFACTURER_PAYLOAD_BYTES = 6
MODEL_BYTES = 16

BATTERY_UNKNOWN = 255

# sensor states in the status characteristic
STATE_IDLE = 0
STATE_STREAMING = 1
STATE_ERROR = 2

# status flag bits
STATUS_ACCEL_CLIPPED = 0x01
STATUS_GYRO_CLIPPED = 0x02
STATUS_CHARGING = 0x04
STATUS_BATTERY_LOW = 0x08
STATUS_BUFFER_OVERFLOW = 0x10

TIMESTAMP_MODULUS_US = 1 << 32
SEQUENCE_MODULUS = 1 << 16
