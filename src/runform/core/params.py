"""Settings of the gait core: one dataclass per part, all SI, all recorded with a session.

``SensorSpec`` describes one sensor stream (rate and ranges, used to detect clipping);
``CoreParams`` gathers every tunable of calibration, shank orientation and metrics.
``CoreParams().to_dict()`` is JSON-able and goes into the session's metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .imu_correction import ImuCorrection


@dataclass(frozen=True)
class SensorSpec:
    """One sensor stream.

    rate_hz: nominal sample rate (Hz). accel_range_g / gyro_range_dps: full-scale range of the
    chip as configured (g, deg/s); samples within ``clip_fraction`` of it count as clipped.
    imu: the physical sensor's own scale/cross-axis/offset correction
    (:class:`runform.core.imu_correction.ImuCorrection`, from ``runform imu-calibrate``), applied
    to every sample at the core's entry after the clip test (saturation is a property of the raw
    readings); None: the readings are used as they come.
    """

    rate_hz: float = 400.0
    accel_range_g: float = 16.0
    gyro_range_dps: float = 2000.0
    clip_fraction: float = 0.98
    imu: ImuCorrection | None = None


@dataclass(frozen=True)
class CalibrationParams:
    """Calibration from standing then moving (docs/metrics.md, "Calibration").

    A standing window is ``standing_s`` of consecutive still chunks of ``chunk_s``; a chunk is
    still when the gyro's per-axis standard deviation is below ``still_gyr_std_rps`` and the
    accelerometer's below ``still_acc_std_mps2`` and its mean norm within ``still_acc_norm_tol_mps2``
    of 1 g. Moving samples are those with |gyro - bias| above ``moving_gyr_rps``; after
    ``moving_s`` of them (and at most ``max_wait_moving_s`` after standing) the mediolateral
    axis is the principal axis of their angular velocity. The calibration is ``ok`` when the
    planarity (largest eigenvalue share) is at least ``min_planarity`` and the sign test's margin
    (``sign_margin``, see calibration.py) is at least ``min_sign_margin``. Without any standing
    window, after ``fallback_after_s`` the calibration is decided from the last ``window_s`` of
    motion (quasi-static foot-flat samples for the foot, whole-stride means for the shank).
    """

    chunk_s: float = 0.25
    standing_s: float = 1.5
    max_standing_s: float = 5.0
    still_gyr_std_rps: float = 0.03
    still_acc_std_mps2: float = 0.15
    still_acc_norm_tol_mps2: float = 0.6
    still_gyr_max_rps: float = 0.35
    moving_gyr_rps: float = 1.0
    moving_s: float = 4.0
    max_wait_moving_s: float = 60.0
    min_planarity: float = 0.6
    min_sign_margin: float = 0.2
    max_buffer_s: float = 90.0
    #: without a standing window: decide from motion alone after this long (s) of data with
    #: ``moving_s`` of motion in the last ``window_s`` (calibration.py, "Without standing")
    fallback_after_s: float = 6.0
    window_s: float = 10.0
    #: foot: share of the window's samples taken as quasi-static (foot-flat)
    quasi_static_fraction: float = 0.1
    #: foot: the mediolateral axis from part of each swing of the strides found during
    #: calibration (calibration.swing_axis), when at least ``swing_axis_min_strides`` swings were
    #: found; else from all motion. The part: ``[TO + swing_axis_from x swing duration, TO +
    #: swing_axis_to_straight x swing duration)`` of the strides that turn by at most
    #: ``swing_axis_straight_rad`` about the vertical (mid-stance to mid-stance; 0.35 rad is the
    #: foot tracker's ``turn`` flag) when there are ``swing_axis_min_strides`` of them, else
    #: ``[..., TO + swing_axis_to x swing duration)`` (1.0: the next IC) of all strides
    #: (docs/validation.md, "Foot heading", the 2026-11-24 looks)
    swing_axis: bool = True
    swing_axis_from: float = 0.25
    swing_axis_to: float = 1.0
    swing_axis_to_straight: float = 0.67
    swing_axis_straight_rad: float = 0.35
    swing_axis_min_strides: int = 3


@dataclass(frozen=True)
class ShankParams:
    """Shank orientation (shank.py): gyro strapdown per stride, tilt from the stride's mean
    specific force. When more than ``max_clipped_fraction`` of a stride's accelerometer samples
    are clipped, the tilt comes from quasi-static samples only (|f| within ``static_acc_tol_mps2``
    of 1 g and |gyro| below ``static_gyr_rps``), the Fusion-style acceleration rejection."""

    max_clipped_fraction: float = 0.0
    static_acc_tol_mps2: float = 1.0
    static_gyr_rps: float = 1.0
    buffer_s: float = 8.0
    #: foot-to-shank heading offset learned over [end of standing + delay, + learn] (heading.py)
    heading_learn_delay_s: float = 0.5
    heading_learn_s: float = 6.0


@dataclass(frozen=True)
class MetricsParams:
    """Per-stride metrics (metrics.py)."""

    min_tibial_rotation_for_ratio_deg: float = 0.5
    #: at most this long a stride waits for the other leg's / the shank's data (s of that leg's time)
    max_wait_s: float = 3.0
    #: strides whose heading changes more than this between consecutive mid-stances are turns
    turn_heading_deg: float = 30.0
    #: a shank sampled slower than this cannot resolve the 10-20 ms impact peak: its strides are
    #: flagged ``pta_undersampled`` (peak_tibial_accel_g low; valid unchanged). Virtual runner,
    #: median (p95) |error| of peak tibial acceleration: 400 Hz 0.3-0.7 % (<= 2.9 %), 200 Hz
    #: 1.8-2.4 % (11 %), 100 Hz 17-20 % (46-48 %) on heel strikes (bench_core_sim --rate)
    min_shock_rate_hz: float = 300.0


@dataclass(frozen=True)
class CoreParams:
    calibration: CalibrationParams = field(default_factory=CalibrationParams)
    shank: ShankParams = field(default_factory=ShankParams)
    metrics: MetricsParams = field(default_factory=MetricsParams)
    #: keyword arguments for runform.core.foot.FootParams (empty = its defaults)
    foot: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings, recorded with each session: every setting in effect, the foot
        tracker's too (``foot`` itself holds only the overrides, while FootParams' defaults
        change between versions, e.g. ``sensor_height_m`` 0 -> 0.08 m)."""
        from .foot.params import FootParams

        d = asdict(self)
        d["foot"] = FootParams(**self.foot).to_dict()
        return d
