"""A set of virtual sensors (firmware objects) strapped to a motion source, as for the demo."""

from __future__ import annotations

import numpy as np

from ..placements import PLACEMENTS
from ..sensors.firmware import FirmwareConfig, VirtualSensorFirmware
from ..sensors.motion import MotionSource


def make_virtual_sensors(
    motion: MotionSource,
    *,
    placements: tuple[str, ...] | None = None,
    rate_hz: int = 400,
    seed: int | None = None,
    clock_offset_max_s: float = 30.0,
    clock_drift_max_ppm: float = 30.0,
) -> list[VirtualSensorFirmware]:
    """One virtual sensor per placement, each with its own clock offset and drift, stored
    placement, and the ranges our protocol recommends (feet +-16 g, shanks +-32 g, 2000 dps)."""
    placements = tuple(placements or getattr(motion, "placements", None) or PLACEMENTS)
    rng = np.random.default_rng(seed)
    out = []
    for i, placement in enumerate(placements):
        shank = placement.endswith("shank")
        cfg = FirmwareConfig(
            placement=placement,
            address=f"F0:0D:00:00:{i:02X}:{int(rng.integers(0, 256)):02X}",
            sample_rate_hz=rate_hz,
            accel_range_g=32 if shank else 16,
            gyro_range_dps=2000,
            clock_offset_us=int(rng.uniform(0, clock_offset_max_s) * 1e6),
            clock_drift_ppm=float(rng.uniform(-clock_drift_max_ppm, clock_drift_max_ppm)),
            battery_percent=int(rng.integers(60, 100)),
        )
        info = getattr(motion, "sensor_info", None)
        if info is not None:  # the virtual runner knows its sensors: use its ranges and clocks
            si = info(placement)
            cfg.accel_range_g, cfg.gyro_range_dps = int(si.accel_range_g), int(si.gyro_range_dps)
            cfg.clock_offset_us, cfg.clock_drift_ppm = int(si.clock_offset_us), float(si.clock_drift_ppm)
        out.append(VirtualSensorFirmware(cfg, motion, motion_placement=placement))
    return out
