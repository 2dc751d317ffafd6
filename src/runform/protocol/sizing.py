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


#: total notifications/s runform plans for one host radio at the default MTU (firmware_protocol.md §9)
NOTIFICATION_BUDGET_PER_S = 800.0


def notifications_per_s(rate_hz: float, att_mtu: int) -> float:
    """Data notifications per second one sensor sends at ``rate_hz`` and ``att_mtu``
    (frames are also capped at 50 ms of samples)."""
    per_frame = min(max_samples_per_frame(att_mtu), max(1, int(rate_hz * 0.05)))
    return rate_hz / per_frame


def plan_sample_rate(requested_hz: int, att_mtus: list[int], supported_hz: tuple[int, ...]) -> int:
    """The highest supported rate <= ``requested_hz`` at which all sensors (one MTU each) fit
    the notification budget. Returns ``requested_hz`` when it fits."""
    candidates = sorted((r for r in supported_hz if r <= requested_hz), reverse=True)
    for rate in candidates:
        if sum(notifications_per_s(rate, m) for m in att_mtus) <= NOTIFICATION_BUDGET_PER_S:
            return rate
    if not candidates:
        raise ValueError(f"no supported sample rate at or below {requested_hz} Hz")
    return candidates[-1]
