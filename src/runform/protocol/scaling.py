"""int16 sample scaling: the configured full-scale range maps to 32768 LSB."""

from __future__ import annotations

import numpy as np

from ..units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

INT16_FULL_SCALE = 32768.0


def accel_lsb_mps2(accel_range_g: float) -> float:
    """m/s^2 per LSB: ``range_g * 9.80665 / 32768``."""
    return accel_range_g * STANDARD_GRAVITY_MPS2 / INT16_FULL_SCALE


def gyro_lsb_rps(gyro_range_dps: float) -> float:
    """rad/s per LSB: ``range_dps / 32768`` deg/s in rad/s."""
    return gyro_range_dps * RAD_PER_DEG / INT16_FULL_SCALE


def raw_to_si(raw: np.ndarray, accel_range_g: float, gyro_range_dps: float) -> tuple[np.ndarray, np.ndarray]:
    """int16 samples (n, 6: ax ay az gx gy gz) -> (acc m/s^2 (n, 3), gyr rad/s (n, 3))."""
    raw = np.asarray(raw)
    acc = raw[:, 0:3].astype(np.float64) * accel_lsb_mps2(accel_range_g)
    gyr = raw[:, 3:6].astype(np.float64) * gyro_lsb_rps(gyro_range_dps)
    return acc, gyr


def to_int16_codes(lsb_units: np.ndarray) -> np.ndarray:
    """Values in LSB -> int16 codes: rounded to nearest, saturated at [-32768, 32767] as a MEMS
    sensor saturates; NaN (which a real sensor never outputs) becomes 0."""
    x = np.nan_to_num(np.asarray(lsb_units, dtype=np.float64), nan=0.0, posinf=32767.0, neginf=-32768.0)
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def si_to_raw(acc_mps2: np.ndarray, gyr_rps: np.ndarray, accel_range_g: float, gyro_range_dps: float) -> np.ndarray:
    """(acc m/s^2, gyr rad/s) -> int16 samples (n, 6): rounded to nearest, saturated at the range."""
    out = np.empty((len(acc_mps2), 6), dtype=np.int16)
    out[:, 0:3] = to_int16_codes(np.asarray(acc_mps2, dtype=np.float64) / accel_lsb_mps2(accel_range_g))
    out[:, 3:6] = to_int16_codes(np.asarray(gyr_rps, dtype=np.float64) / gyro_lsb_rps(gyro_range_dps))
    return out


def clipped_mask(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(accelerometer clipped, gyroscope clipped) per sample: any channel at -32768 or 32767."""
    raw = np.asarray(raw)
    sat = (raw == -32768) | (raw == 32767)
    return sat[:, 0:3].any(axis=1), sat[:, 3:6].any(axis=1)
