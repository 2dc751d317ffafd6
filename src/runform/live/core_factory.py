"""Build the gait core for the sensors of a live session."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def make_core(sensors: dict, imu: dict | None = None) -> object | None:
    """A :class:`runform.core.processor.SessionProcessor` for the registered sensors, or None
    while the gait core is not part of this build. ``imu``: placement ->
    :class:`runform.imu_file.ImuEntry`, each sensor's own correction (``--imu-calibration``;
    checked against the sensors' addresses by the command before streaming)."""
    try:
        from ..core.processor import SensorSpec, SessionProcessor
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("runform.core"):
            log.warning("the gait core is not available in this build: no strides")
            return None
        raise
    specs = {
        st.placement: SensorSpec(
            rate_hz=float(st.stream.sample_rate_hz),
            accel_range_g=float(st.stream.accel_range_g),
            gyro_range_dps=float(st.stream.gyro_range_dps),
            imu=None if not imu or st.placement not in imu else imu[st.placement].correction,
        )
        for st in sensors.values()
    }
    return SessionProcessor(sensors=specs)
