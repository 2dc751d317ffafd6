"""A physical sensor's own calibration, applied to its raw samples at the core's entry.

An accelerometer or gyroscope reads ``raw = (I + S) x + b``: S holds the scale-factor errors on
its diagonal and the cross-axis (misalignment) errors off it, b the offset. The standing
calibration (calibration.py) absorbs b and the part of S that acts on gravity at standing, but not
what S does to the stride's other forces and rotations (docs/validation.md, "Peak eversion on
seeds 4-5"). A sensor calibrated once on a table (``runform imu-calibrate``, the estimator in
imu_calibration.py) gives ``corrected = M (raw - b)`` with M ~ (I + S)^-1 up to a rotation, the
same rotation for both sensors of the chip (it is then part of the mounting, which the standing
calibration finds).

Units: accelerometer m/s^2, gyroscope rad/s, as everywhere in the core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: a correction whose matrix is further than this from a rotation-free identity (any entry of
#: M - I, after removing nothing) is not a calibration of a working MEMS part: scale errors of
#: consumer parts are <= 3 %, cross-axis <= 2 % (datasheets), plus the chip's own small rotation
MAX_MATRIX_DEVIATION = 0.25
#: largest plausible offsets (m/s^2, rad/s): 1 g and 20 deg/s
MAX_ACC_BIAS_MPS2 = 9.81
MAX_GYR_BIAS_RPS = math.radians(20.0)


def _matrix(value: Any, name: str) -> np.ndarray:
    m = np.asarray(value, dtype=float)
    if m.shape != (3, 3) or not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be a 3x3 matrix of finite numbers, got {value!r}")
    dev = float(np.max(np.abs(m - np.eye(3))))
    if dev > MAX_MATRIX_DEVIATION:
        raise ValueError(f"{name} is {dev:.3f} from the identity in one entry (at most {MAX_MATRIX_DEVIATION}): "
                         "not a sensor calibration (was the matrix written in another convention, or in degrees?)")
    return m


def _vector(value: Any, name: str, limit: float) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be 3 finite numbers, got {value!r}")
    if float(np.max(np.abs(v))) > limit:
        raise ValueError(f"{name} {v.tolist()} exceeds {limit:g} in one axis: not a sensor offset")
    return v


@dataclass(frozen=True, eq=False)
class ImuCorrection:
    """``corrected = matrix @ (raw - bias)`` for each of the two sensors of one IMU chip."""

    acc_matrix: np.ndarray  # (3, 3)
    acc_bias_mps2: np.ndarray  # (3,)
    gyr_matrix: np.ndarray  # (3, 3)
    gyr_bias_rps: np.ndarray  # (3,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "acc_matrix", _matrix(self.acc_matrix, "acc_matrix"))
        object.__setattr__(self, "gyr_matrix", _matrix(self.gyr_matrix, "gyr_matrix"))
        object.__setattr__(self, "acc_bias_mps2", _vector(self.acc_bias_mps2, "acc_bias_mps2", MAX_ACC_BIAS_MPS2))
        object.__setattr__(self, "gyr_bias_rps", _vector(self.gyr_bias_rps, "gyr_bias_rps", MAX_GYR_BIAS_RPS))

    @classmethod
    def identity(cls) -> "ImuCorrection":
        return cls(np.eye(3), np.zeros(3), np.eye(3), np.zeros(3))

    def apply(self, acc_mps2: np.ndarray, gyr_rps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Corrected (n, 3) blocks. ``einsum``, not a matrix product: BLAS rounds a one-row
        product (gemv) differently from a many-row one (gemm), and the core's strides must not
        depend on how the samples were split into pushes; einsum's own loop computes every row
        the same way whatever the block (checked row by row in tests/test_imu_correction_use.py)."""
        return _affine(self.acc_matrix, self.acc_bias_mps2, acc_mps2), _affine(self.gyr_matrix, self.gyr_bias_rps, gyr_rps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, SI units in the key names."""
        return {"acc_matrix": self.acc_matrix.tolist(), "acc_bias_mps2": self.acc_bias_mps2.tolist(),
                "gyr_matrix": self.gyr_matrix.tolist(), "gyr_bias_rps": self.gyr_bias_rps.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ImuCorrection":
        """The inverse of :meth:`to_dict`; ValueError naming the field that is missing or wrong."""
        missing = [k for k in ("acc_matrix", "acc_bias_mps2", "gyr_matrix", "gyr_bias_rps") if k not in d]
        if missing:
            raise ValueError(f"IMU correction without {', '.join(missing)}")
        return cls(d["acc_matrix"], d["acc_bias_mps2"], d["gyr_matrix"], d["gyr_bias_rps"])


def _affine(m: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,kj->ik", np.asarray(x, float) - b, m)
