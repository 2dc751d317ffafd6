"""Principal axis of rotation of a segment during motion."""

from __future__ import annotations

import numpy as np


def principal_rotation_axis(gyr_rps: np.ndarray, min_rate_rps: float = 1.0) -> np.ndarray:
    """Unit vector (sensor frame) of the dominant rotation axis of angular velocities
    ``gyr_rps`` (n, 3) in rad/s, using samples faster than ``min_rate_rps``.

    It is the first right singular vector of the moving samples (principal component analysis
    of the angular velocity, as used for functional sensor-to-segment alignment, e.g. Favre et
    al. 2008, Med Biol Eng Comput 46:1195). Its sign is ambiguous: it is returned with a
    non-negative component along its largest coordinate; resolving left/right is the caller's
    job. Raises ValueError with fewer than 10 moving samples.
    """
    gyr = np.asarray(gyr_rps, dtype=float)
    moving = gyr[np.linalg.norm(gyr, axis=1) > min_rate_rps]
    if moving.shape[0] < 10:
        raise ValueError(f"too little rotation: {moving.shape[0]} samples faster than {min_rate_rps} rad/s")
    _, _, vt = np.linalg.svd(moving, full_matrices=False)
    axis = vt[0]
    if axis[np.argmax(np.abs(axis))] < 0:
        axis = -axis
    return axis / np.linalg.norm(axis)
