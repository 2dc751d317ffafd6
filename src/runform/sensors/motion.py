"""Motion sources: what a virtual sensor physically measures.

A motion source gives, for a placement and an array of *true* times (seconds since the start
of the simulated session, increasing from call to call), the specific force (m/s^2) and the
angular velocity (rad/s) in that sensor's own frame, before the sensor's range clipping and
int16 quantisation (which the virtual firmware applies).

The virtual runner (``runform.sim``) is the realistic source; :class:`SwingMotion` is a
minimal periodic one for tests of the protocol and live path.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..units import STANDARD_GRAVITY_MPS2


class MotionSource(Protocol):
    def imu(self, placement: str, t_true_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(specific force m/s^2 (n, 3), angular velocity rad/s (n, 3)) in the sensor frame."""
        ...


class SwingMotion:
    """A leg swinging like a pendulum at ``cadence_spm`` / 2 strides per minute: rotation about
    the sensor's y axis, gravity along +z at rest, an impact pulse once per stride.

    Not a runner: it only makes the signals move and periodic. Left and right are in anti-phase.
    """

    def __init__(self, cadence_spm: float = 170.0, amplitude_rad: float = 0.6, impact_g: float = 6.0):
        self.stride_hz = cadence_spm / 120.0
        self.amplitude_rad = amplitude_rad
        self.impact_g = impact_g

    def imu(self, placement: str, t_true_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(t_true_s, dtype=float)
        phase0 = 0.0 if placement.startswith("left") else 0.5
        w = 2 * np.pi * self.stride_hz
        phase = w * t + 2 * np.pi * phase0
        angle = self.amplitude_rad * np.sin(phase)
        rate = self.amplitude_rad * w * np.cos(phase)
        gyr = np.zeros((t.size, 3))
        gyr[:, 1] = rate
        acc = np.zeros((t.size, 3))
        acc[:, 0] = -STANDARD_GRAVITY_MPS2 * np.sin(angle)
        acc[:, 2] = STANDARD_GRAVITY_MPS2 * np.cos(angle)
        # an impact pulse of ~20 ms at the start of each stride cycle
        cycle = np.mod(phase / (2 * np.pi), 1.0) / self.stride_hz
        pulse = np.exp(-0.5 * ((cycle - 0.03) / 0.006) ** 2)
        acc[:, 2] += (self.impact_g - 1.0) * STANDARD_GRAVITY_MPS2 * pulse
        return acc, gyr
