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
#: the host asks for frames of at most this much time (SET_FRAME_SAMPLES), bounding the
#: latency a sample spends waiting in the sensor (the protocol's own cap is 50 ms)
HOST_FRAME_TARGET_S = 0.025


def host_frame_samples(rate_hz: float) -> int:
    """Samples per frame the host requests: the largest n <= 25 ms of samples that is odd and
    not a multiple of 3 (7 at 400 Hz, 5 at 200 Hz, 19 at 800 Hz, 1 at 100 Hz).

    Why not simply 25 ms: frames leave at connection events (intervals are multiples of
    1.25 ms), so the smallest latency a frame can see comes back at only a few phases, spaced
    gcd(frame period, interval) apart. Lower-envelope clock sync cannot see below that spacing:
    10-sample frames at 400 Hz (25 ms) against a 15 ms interval leave a 5 ms lattice and cost
    3-5 ms of foot/shank alignment; 7-sample frames (17.5 ms) leave 2.5 ms and measured <= 0.75 ms
    (tests/test_ble_sync.py, docs/ble.md)."""
    n = max(1, int(rate_hz * HOST_FRAME_TARGET_S))
    while n > 1 and (n % 2 == 0 or n % 3 == 0):
        n -= 1
    return n


def notifications_per_s(rate_hz: float, att_mtu: int, frame_samples: int | None = None) -> float:
    """Data notifications per second one sensor sends at ``rate_hz`` and ``att_mtu``: frames
    fit the MTU, hold at most 50 ms of samples, and at most ``frame_samples`` (default: what
    the host requests, :func:`host_frame_samples`)."""
    per_frame = min(max_samples_per_frame(att_mtu), max(1, int(rate_hz * 0.05)))
    per_frame = min(per_frame, frame_samples or host_frame_samples(rate_hz))
    return rate_hz / per_frame


def plan_sample_rate(requested_hz: int, att_mtus: list[int], supported_hz: tuple[int, ...]) -> int:
    """The highest supported rate <= ``requested_hz`` at which all sensors (one MTU each) fit
    the notification budget with the host's frame size. Returns ``requested_hz`` when it fits."""
    candidates = sorted((r for r in supported_hz if r <= requested_hz), reverse=True)
    for rate in candidates:
        if sum(notifications_per_s(rate, m) for m in att_mtus) <= NOTIFICATION_BUDGET_PER_S:
            return rate
    if not candidates:
        raise ValueError(f"no supported sample rate at or below {requested_hz} Hz")
    return candidates[-1]
