"""Range saturation and int16 quantisation of IMU samples, shared by the virtual sensor
firmware and the offline simulator (``runform simulate``) so that both produce the same codes.

Scale (one LSB): accelerometer ``range_g * 9.80665 / 32768`` m/s^2, gyroscope
``range_dps / 32768`` deg/s. Values are rounded to the nearest code and clipped to
[-32768, 32767], which is also how a real MEMS IMU saturates.
"""

from __future__ import annotations

import numpy as np

from ..protocol.scaling import INT16_FULL_SCALE, accel_lsb_mps2, to_int16_codes
from ..units import DEG_PER_RAD

INT16_MIN = -32768
INT16_MAX = 32767


def acc_lsb_mps2(accel_range_g: float) -> float:
    """One accelerometer LSB in m/s^2 for a full-scale range of ``accel_range_g`` (g)."""
    return accel_lsb_mps2(accel_range_g)


def gyr_lsb_dps(gyro_range_dps: float) -> float:
    """One gyroscope LSB in deg/s for a full-scale range of ``gyro_range_dps`` (deg/s)."""
    return gyro_range_dps / INT16_FULL_SCALE


def quantize_imu(
    acc_mps2: np.ndarray, gyr_rps: np.ndarray, accel_range_g: float, gyro_range_dps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Int16 codes of specific force (m/s^2, (n, 3)) and angular velocity (rad/s, (n, 3)).

    Returns ``(acc_codes, gyr_codes)``, both int16 of the input shapes. Saturates at the range.
    The scaling is the protocol's (:mod:`runform.protocol.scaling`), so firmware frames and
    simulated CSVs carry the same codes.
    """
    acc = np.asarray(acc_mps2, dtype=float) / acc_lsb_mps2(accel_range_g)
    gyr = np.asarray(gyr_rps, dtype=float) * DEG_PER_RAD / gyr_lsb_dps(gyro_range_dps)
    return to_int16_codes(acc), to_int16_codes(gyr)
def dequantize_imu(
    acc_codes: np.ndarray, gyr_codes: np.ndarray, accel_range_g: float, gyro_range_dps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse scaling of :func:`quantize_imu`: (acc m/s^2, gyr deg/s) as float arrays."""
    return (
        np.asarray(acc_codes, dtype=float) * acc_lsb_mps2(accel_range_g),
        np.asarray(gyr_codes, dtype=float) * gyr_lsb_dps(gyro_range_dps),
    )
