"""Link effects of the live path: what Bluetooth does to the frames of our protocol.

The virtual runner only *describes* them (parameters ``link_*`` of
:class:`runform.sim.profiles.RunnerParams`, recorded in session.json); the virtual sensor
firmware and the live source apply them to protocol frames. Deterministic helpers here give
every consumer the same schedule for a seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .profiles import RunnerParams


@dataclass(frozen=True)
class LinkEffects:
    """Per-sensor link impairments.

    * ``jitter_ms``: standard deviation (ms) of the extra delay of each notification
      (half-normal, so notifications are never early; order is preserved by the receiver).
    * ``frame_loss_probability``: probability that a protocol frame is lost, independently.
    * ``disconnect_every_s``: mean time (s) between disconnections, exponential; 0 = never.
    * ``disconnect_duration_s``: mean duration (s) of a disconnection, exponential.
    """

    jitter_ms: float = 0.0
    frame_loss_probability: float = 0.0
    disconnect_every_s: float = 0.0
    disconnect_duration_s: float = 2.0

    @classmethod
    def from_params(cls, params: RunnerParams) -> "LinkEffects":
        return cls(
            jitter_ms=params.link_jitter_ms,
            frame_loss_probability=params.link_frame_loss_probability,
            disconnect_every_s=params.link_disconnect_every_s,
            disconnect_duration_s=params.link_disconnect_duration_s,
        )

    @property
    def active(self) -> bool:
        return self.jitter_ms > 0 or self.frame_loss_probability > 0 or self.disconnect_every_s > 0

    def to_dict(self) -> dict:
        return asdict(self)

    def disconnect_schedule(self, duration_s: float, rng: np.random.Generator) -> list[tuple[float, float]]:
        """(start_s, end_s) intervals of disconnection within ``duration_s`` (true time)."""
        out: list[tuple[float, float]] = []
        if self.disconnect_every_s <= 0:
            return out
        t = 0.0
        while True:
            t += rng.exponential(self.disconnect_every_s)
            if t >= duration_s:
                return out
            length = rng.exponential(self.disconnect_duration_s)
            out.append((t, min(t + length, duration_s)))
            t += length

    def delays_s(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Extra delivery delay (s) of ``n`` notifications: |N(0, jitter)|."""
        if self.jitter_ms <= 0:
            return np.zeros(n)
        return np.abs(rng.standard_normal(n)) * self.jitter_ms / 1000.0

    def lost(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Boolean mask of lost frames among ``n``."""
        if self.frame_loss_probability <= 0:
            return np.zeros(n, dtype=bool)
        return rng.random(n) < self.frame_loss_probability
