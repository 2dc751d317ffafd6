"""The per-stride record: column names, order and units (a contract: strides.csv).

Definitions, signs and sources of each metric: docs/metrics.md.
"""

from __future__ import annotations

#: columns of strides.csv and truth_strides.csv, in this order
STRIDE_COLUMNS: tuple[str, ...] = (
    "leg",
    "stride_index",
    "ic_time_s",
    "to_time_s",
    "contact_time_ms",
    "flight_time_ms",
    "stride_time_ms",
    "cadence_spm",
    "foot_strike_angle_deg",
    "strike_pattern",
    "eversion_reference",
    "eversion_at_ic_deg",
    "peak_eversion_deg",
    "eversion_excursion_deg",
    "peak_eversion_velocity_dps",
    "time_to_peak_eversion_ms",
    "tibial_inclination_at_ic_deg",
    "peak_shank_frontal_angle_deg",
    "tibial_internal_rotation_deg",
    "ev_tir_ratio",
    "peak_tibial_accel_g",
    "stride_length_m",
    "speed_mps",
    "valid",
    "flags",
)

STRIKE_PATTERNS = ("rearfoot", "midfoot", "forefoot")
EVERSION_REFERENCES = ("shank", "standing")

#: Altman & Davis 2012 strike-angle classes, relative to the standing foot angle (deg)
REARFOOT_MIN_STRIKE_ANGLE_DEG = 8.0
FOREFOOT_MAX_STRIKE_ANGLE_DEG = -1.6


def strike_pattern_of(foot_strike_angle_deg: float) -> str:
    """``rearfoot`` (> 8 deg), ``forefoot`` (< -1.6 deg) or ``midfoot`` (Altman & Davis 2012)."""
    if foot_strike_angle_deg > REARFOOT_MIN_STRIKE_ANGLE_DEG:
        return "rearfoot"
    if foot_strike_angle_deg < FOREFOOT_MAX_STRIKE_ANGLE_DEG:
        return "forefoot"
    return "midfoot"


#: columns of raw_<placement>.csv (sensor frame)
RAW_COLUMNS: tuple[str, ...] = (
    "time_s",
    "acc_x_mps2",
    "acc_y_mps2",
    "acc_z_mps2",
    "gyr_x_dps",
    "gyr_y_dps",
    "gyr_z_dps",
)
