"""What an IMU strapped on a segment reports, before range clipping and int16 quantisation.

``reading = (I + S) M^T x + b(t) + n``, for the specific force (m/s^2) and the angular velocity
(rad/s) ``x`` in the segment frame, where

* ``M`` is the mounting rotation (sensor frame -> segment frame, ``v_seg = M v_sensor``):
  uniformly random over all rotations (Shoemake 1992, "Uniform random rotations", Graphics
  Gems III) or identity (``mounting="aligned"``);
* ``S`` holds scale-factor errors on its diagonal and cross-axis (misalignment) errors off it;
* ``b(t)`` is a constant turn-on bias plus a random walk (bias instability);
* ``n`` is white noise of the given density over the Nyquist band of the sample spacing.

The error model is the usual one for MEMS IMUs (IEEE Std 952-1997 / 1293-1998 terms); default
magnitudes are those of consumer 6-axis parts (e.g. Bosch BMI270, TDK ICM-42688 datasheets).
The virtual firmware (lead's ``runform.sensors.firmware``) then clips and quantises with
:func:`runform.sensors.quantize.quantize_imu` and applies the clock; the offline simulator
does the same here (:func:`sample_times_true`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..placements import segment_of
from ..rotations import matrix_to_quat, quat_normalize, quat_to_matrix
from ..units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from .profiles import RunnerParams


@dataclass
class SensorInfo:
    """Fixed properties of one virtual sensor (what session.json records)."""

    placement: str
    accel_range_g: float
    gyro_range_dps: float
    mounting_quat_wxyz: tuple[float, float, float, float]
    clock_offset_us: int  # sensor clock reading (us) at true time 0
    clock_drift_ppm: float  # the sensor clock runs fast by this much
    acc_bias_mps2: tuple[float, float, float]
    gyr_bias_dps: tuple[float, float, float]
    acc_error_matrix: list = field(default_factory=list)  # S of the accelerometer (3x3)
    gyr_error_matrix: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "placement": self.placement,
            "accel_range_g": self.accel_range_g,
            "gyro_range_dps": self.gyro_range_dps,
            "mounting_quat_wxyz": [round(float(x), 12) for x in self.mounting_quat_wxyz],
            "clock_offset_us": int(self.clock_offset_us),
            "clock_drift_ppm": round(float(self.clock_drift_ppm), 9),
            "acc_bias_mps2": [round(float(x), 9) for x in self.acc_bias_mps2],
            "gyr_bias_dps": [round(float(x), 9) for x in self.gyr_bias_dps],
            "acc_error_matrix": [[round(float(x), 9) for x in row] for row in self.acc_error_matrix],
            "gyr_error_matrix": [[round(float(x), 9) for x in row] for row in self.gyr_error_matrix],
        }


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix uniformly distributed over SO(3) (normalised Gaussian quaternion)."""
    return quat_to_matrix(quat_normalize(rng.standard_normal(4)))


class SensorModel:
    """The error model of one sensor, with the streaming state of its bias random walk and
    noise. Deterministic for a given seed and sequence of calls."""

    def __init__(self, placement: str, params: RunnerParams, const_ss: np.random.SeedSequence,
                 noise_ss: np.random.SeedSequence):
        rng = np.random.default_rng(const_ss)
        self._noise = np.random.default_rng(noise_ss)
        self.placement = placement
        k = float(params.sensor_error_scale)
        self.scale = k
        seg = segment_of(placement)
        mount = random_rotation(rng)
        if params.mounting == "aligned":
            mount = np.eye(3)
        self.mount = mount
        acc_bias = rng.standard_normal(3) * params.acc_bias_sd_mps2 * k
        gyr_bias = rng.standard_normal(3) * params.gyr_bias_sd_dps * RAD_PER_DEG * k

        def err_matrix() -> np.ndarray:
            e = rng.standard_normal((3, 3)) * params.cross_axis_sd
            e[np.diag_indices(3)] = rng.standard_normal(3) * params.scale_error_sd
            return e * k

        self.acc_err = err_matrix()
        self.gyr_err = err_matrix()
        offset_us = int(rng.uniform(0.0, params.clock_offset_max_s) * 1e6)
        drift_ppm = float(rng.standard_normal() * params.clock_drift_sd_ppm)
        # the sensing chain in one matrix per quantity: sensor reading = A @ segment vector
        self._acc_map = (np.eye(3) + self.acc_err) @ mount.T
        self._gyr_map = (np.eye(3) + self.gyr_err) @ mount.T
        self._acc_bias = acc_bias.copy()
        self._gyr_bias = gyr_bias.copy()
        self._acc_noise = params.acc_noise_ug_per_rthz * 1e-6 * STANDARD_GRAVITY_MPS2 * k
        self._gyr_noise = params.gyr_noise_mdps_per_rthz * 1e-3 * RAD_PER_DEG * k
        self._acc_walk = params.acc_bias_walk_mps2_per_rts * k
        self._gyr_walk = params.gyr_bias_walk_dps_per_rts * RAD_PER_DEG * k
        self._last_t: float | None = None
        #: standard deviations of the turn-on bias draw (m/s^2, rad/s), for a new draw on another
        #: day (runform.sim.imu_procedure); not used by the streams
        self.acc_bias_sd_mps2 = float(params.acc_bias_sd_mps2 * k)
        self.gyr_bias_sd_rps = float(params.gyr_bias_sd_dps * RAD_PER_DEG * k)
        self.info = SensorInfo(
            placement=placement,
            accel_range_g=params.foot_accel_range_g if seg == "foot" else params.shank_accel_range_g,
            gyro_range_dps=params.gyro_range_dps,
            mounting_quat_wxyz=tuple(matrix_to_quat(mount)),
            clock_offset_us=offset_us,
            clock_drift_ppm=drift_ppm,
            acc_bias_mps2=tuple(acc_bias),
            gyr_bias_dps=tuple(gyr_bias / RAD_PER_DEG),
            acc_error_matrix=self.acc_err.tolist(),
            gyr_error_matrix=self.gyr_err.tolist(),
        )

    def noise_parameters(self) -> dict[str, float]:
        """The white-noise densities and bias random walks the streams use now (after any
        experiment that stripped them): ``acc_noise_mps2_per_rthz``, ``gyr_noise_rps_per_rthz``,
        ``acc_walk_mps2_per_rts``, ``gyr_walk_rps_per_rts``."""
        return {"acc_noise_mps2_per_rthz": float(self._acc_noise), "gyr_noise_rps_per_rthz": float(self._gyr_noise),
                "acc_walk_mps2_per_rts": float(self._acc_walk), "gyr_walk_rps_per_rts": float(self._gyr_walk)}

    def apply(self, t: np.ndarray, f_seg: np.ndarray, w_seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sensor-frame readings (m/s^2, rad/s) of segment-frame specific force and angular
        velocity at true times ``t`` (increasing across calls)."""
        acc = f_seg @ self._acc_map.T
        gyr = w_seg @ self._gyr_map.T
        n = t.size
        if n == 0:
            return acc, gyr
        if self.scale == 0.0:
            return acc, gyr
        prev = t[0] - (np.median(np.diff(t)) if n > 1 else 0.0025) if self._last_t is None else self._last_t
        dt = np.clip(np.diff(np.concatenate([[prev], t])), 1e-6, 1.0)
        z = self._noise.standard_normal((n, 12), dtype=np.float32)
        root = np.sqrt(dt)[:, None]
        acc_b = self._acc_bias + np.cumsum(self._acc_walk * root * z[:, 0:3], axis=0)
        gyr_b = self._gyr_bias + np.cumsum(self._gyr_walk * root * z[:, 3:6], axis=0)
        self._acc_bias = acc_b[-1].copy()
        self._gyr_bias = gyr_b[-1].copy()
        # white noise of density d over the Nyquist band 1/(2 dt): sigma = d * sqrt(1 / (2 dt))
        band = np.sqrt(0.5 / dt)[:, None]
        acc = acc + acc_b + self._acc_noise * band * z[:, 6:9]
        gyr = gyr + gyr_b + self._gyr_noise * band * z[:, 9:12]
        self._last_t = float(t[-1])
        return acc, gyr


def sample_times_true(info: SensorInfo, rate_hz: float, t_start_s: float, t_end_s: float) -> np.ndarray:
    """True times (s) of the samples a sensor takes in [t_start, t_end): it samples at
    ``rate_hz`` on its own clock ``sensor_us = offset_us + t_true * 1e6 * (1 + drift_ppm 1e-6)``
    (the model of runform.sensors.firmware), at the ticks that are multiples of the period."""
    k = 1.0 + info.clock_drift_ppm * 1e-6
    period_us = 1e6 / rate_hz
    s0 = info.clock_offset_us + t_start_s * 1e6 * k
    s1 = info.clock_offset_us + t_end_s * 1e6 * k
    n0 = int(np.ceil(s0 / period_us))
    n1 = int(np.ceil(s1 / period_us))
    ticks = np.arange(n0, n1, dtype=np.int64)
    return (ticks * period_us - info.clock_offset_us) / (1e6 * k)
