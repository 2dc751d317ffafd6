"""The protocol's typed errors."""

from __future__ import annotations


class ProtocolError(ValueError):
    """Bytes that are not a valid message of this protocol.

    ``reason`` is a short machine-readable code (``too_short``, ``length_mismatch``,
    ``unsupported_version``, ``bad_value``, ...) that callers count per sensor.
    """

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class ControlRejected(Exception):
    """A sensor rejected a control write with an ATT application error code (0x80-0x83)."""

    def __init__(self, code: int, message: str = ""):
        from .constants import CONTROL_ERROR_NAMES

        name = CONTROL_ERROR_NAMES.get(code, "unknown error")
        super().__init__(f"control write rejected: 0x{code:02X} {name}{': ' + message if message else ''}")
        self.code = code
