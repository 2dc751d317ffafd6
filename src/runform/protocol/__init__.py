"""The runform BLE firmware protocol (firmware_protocol.md): constants, encode and decode.

Every decode function takes ``bytes`` and either returns a message object or raises
:class:`ProtocolError` (the one typed error a caller counts). Nothing here reads past the
buffer it is given, and nothing here does I/O.
"""

from .constants import (
    ADVERTISED_NAME_PREFIX,
    CONTROL_UUID,
    DATA_UUID,
    DEVICE_INFO_UUID,
    MANUFACTURER_ID,
    PROTOCOL_VERSION,
    SERVICE_UUID,
    STATUS_UUID,
)
from .errors import ControlRejected, ProtocolError
from .messages import (
    Advertisement,
    ControlCommand,
    DeviceInfo,
    ImuFrame,
    Status,
    SyncFrame,
    UnknownFrame,
    decode_advertisement,
    decode_control,
    decode_data,
    decode_device_info,
    decode_status,
    encode_advertisement,
    encode_control,
    encode_data,
    encode_device_info,
    encode_status,
)
from .scaling import raw_to_si, si_to_raw
from .sizing import max_samples_per_frame

__all__ = [
    "ADVERTISED_NAME_PREFIX",
    "CONTROL_UUID",
    "DATA_UUID",
    "DEVICE_INFO_UUID",
    "MANUFACTURER_ID",
    "PROTOCOL_VERSION",
    "SERVICE_UUID",
    "STATUS_UUID",
    "Advertisement",
    "ControlCommand",
    "ControlRejected",
    "DeviceInfo",
    "ImuFrame",
    "ProtocolError",
    "Status",
    "SyncFrame",
    "UnknownFrame",
    "decode_advertisement",
    "decode_control",
    "decode_data",
    "decode_device_info",
    "decode_status",
    "encode_advertisement",
    "encode_control",
    "encode_data",
    "encode_device_info",
    "encode_status",
    "max_samples_per_frame",
    "raw_to_si",
    "si_to_raw",
]
