"""Virtual sensors streaming in real time into a live session, through a simulated link.

Each virtual sensor firmware runs on its own clock; every tick the source advances true time
to the wall clock, collects the notifications each sensor sent, and delivers them to the
session after a link latency with jitter. Frames can be lost and links can drop for a while
(:class:`LinkEffects`), so the live path sees what a real BLE link does to our protocol.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from dataclasses import dataclass, field

import numpy as np

from ..protocol.messages import decode_device_info
from ..sensors.firmware import VirtualSensorFirmware
from ..protocol import constants as c
from ..protocol.messages import ControlCommand, encode_control
from .session import LiveSession

log = logging.getLogger(__name__)


@dataclass
class LinkEffects:
    """What the radio link does to notifications (all off by default)."""

    latency_s: float = 0.008  # minimum latency sensor -> host
    jitter_s: float = 0.0  # extra latency, exponential with this mean
    frame_loss_probability: float = 0.0
    #: (placement, start_s, duration_s) of link drops: the sensor keeps sampling, nothing arrives
    disconnects: list[tuple[str, float, float]] = field(default_factory=list)


class VirtualSource:
    def __init__(
        self,
        session: LiveSession,
        firmwares: list[VirtualSensorFirmware],
        *,
        link: LinkEffects | None = None,
        tick_s: float = 0.01,
        att_mtu: int = 247,
        seed: int | None = None,
    ):
        self.session = session
        self.firmwares = firmwares
        self.link = link or LinkEffects()
        self.tick_s = tick_s
        self.att_mtu = att_mtu
        self.rng = np.random.default_rng(seed)
        self._heap: list[tuple[float, int, str, str, bytes]] = []
        self._n = 0
        self.frames_dropped_by_link = 0
        self.connected = False

    def connect_all(self) -> None:
        """Read each sensor's device info, register it, configure and start streaming."""
        if self.connected:
            return
        self.connected = True
        for fw in self.firmwares:
            fw.set_att_mtu(self.att_mtu)
            info = decode_device_info(fw.read_device_info())
            placement = info.placement or fw.motion_placement
            self.session.add_sensor(fw.config.address, placement, info, fw.config.name)
        now = self.session.now()
        for fw in self.firmwares:
            fw.write_control(encode_control(ControlCommand(c.OP_START_STREAMING)), now_true_s=now)
            self.session.set_connection(fw.config.address, "streaming")

    def _link_down(self, placement: str, t: float) -> bool:
        return any(p == placement and start <= t < start + dur for p, start, dur in self.link.disconnects)

    async def run(self, duration_s: float | None = None) -> None:
        """Stream until cancelled (or for ``duration_s`` of session time)."""
        self.connect_all()
        start = self.session.now()
        down: dict[str, bool] = {}
        while duration_s is None or self.session.now() - start < duration_s:
            now = self.session.now()
            for fw in self.firmwares:
                placement = self.session.sensors[fw.config.address].placement
                is_down = self._link_down(placement, now)
                if is_down != down.get(placement, False):
                    down[placement] = is_down
                    self.session.set_connection(fw.config.address, "disconnected" if is_down else "streaming")
                for n in fw.advance(now):
                    if is_down or self._link_down(placement, n.sent_true_s):
                        continue
                    if n.characteristic == "data" and self.link.frame_loss_probability > 0 and self.rng.random() < self.link.frame_loss_probability:
                        self.frames_dropped_by_link += 1
                        continue
                    latency = self.link.latency_s + (self.rng.exponential(self.link.jitter_s) if self.link.jitter_s > 0 else 0.0)
                    heapq.heappush(self._heap, (n.sent_true_s + latency, self._n, fw.config.address, n.characteristic, n.payload))
                    self._n += 1
            while self._heap and self._heap[0][0] <= now:
                arrival, _, key, char, payload = heapq.heappop(self._heap)
                # the simulated arrival time: what a host that is never late would stamp
                self.session.submit(key, char, payload, arrival)
            await asyncio.sleep(self.tick_s)
