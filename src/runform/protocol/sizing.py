"""Frame sizing rule: how many samples a data notification carries at a given ATT MTU."""

from __future__ import annotations

from .constants import (
    ATT_NOTIFY_OVERHEAD_BYTES,
    BYTES_PER_SAMPLE,
    DATA_HEADER_BYTES,
    DEFAULT_ATT_MTU,
    MAX_SAMPLES_PER_FRAME,
)


def max_samples_per_frame(att_mtu: int) -> int:
    """``min(255, floor((att_mtu - 3 - 8) / 12))``: 1 at the default MTU 23, 19 at MTU 247."""
    if att_mtu < DEFAULT_ATT_MTU:
        raise ValueError(f"ATT MTU {att_mtu} is below the Bluetooth minimum of {DEFAULT_ATT_MTU}")
    n = (att_mtu - ATT_NOTIFY_OVERHEAD_BYTES - DATA_HEADER_BYTES) // BYTES_PER_SAMPLE
    return min(MAX_SAMPLES_PER_FRAME, n)


def frame_bytes(samples: int) -> int:
    """Size of a data frame with ``samples`` samples."""
    return DATA_HEADER_BYTES + BYTES_PER_SAMPLE * samples
