"""Virtual sensors streaming in real time into a live session, through a simulated link.

Each virtual sensor firmware runs on its own clock; every tick the source advances true time
to the wall clock, collects the notifications each sensor sent, and delivers them to the
session after a link latency with jitter. Frames can be lost and links can drop for a while
(:class:`runform.sim.link.LinkEffects`, set by the runner profile's ``link_*`` parameters), so
the live path sees what a real BLE link does to our protocol: every notification arrives after
``base_latency_s`` plus a half-normal jitter, in the order the sensor sent it (a connection's
link layer delivers its notifications in order: jitter delays them, it never reorders them; a
reordered frame would be counted lost and then dropped as a duplicate by the host, as the demo
did at 100 Hz: ~2 % of its 10-ms frames under 4 ms of jitter), frames are lost independently, and links drop for
a while (the sensor keeps sampling; nothing arrives; then the link comes back and streaming
restarts with sequence 0, as after a real reconnect).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import numpy as np

from ..protocol.messages import decode_device_info
from ..protocol.sizing import host_frame_samples
from ..sensors.firmware import VirtualSensorFirmware
from ..sim.link import LinkEffects
from ..protocol import constants as c
from ..protocol.messages import ControlCommand, encode_control
from .session import LiveSession

log = logging.getLogger(__name__)


#: how far ahead (s) the disconnect schedule of each sensor is drawn
SCHEDULE_HORIZON_S = 24 * 3600.0


def in_order_arrival(previous_arrival_s: float, jittered_arrival_s: float) -> float:
    """When a notification arrives: its jittered time, but never before the one the same
    sensor sent before it (a BLE connection delivers in order; a late packet holds up the next)."""
    return max(previous_arrival_s, jittered_arrival_s)


class VirtualSource:
    def __init__(
        self,
        session: LiveSession,
        firmwares: list[VirtualSensorFirmware],
        *,
        link: LinkEffects | None = None,
        base_latency_s: float = 0.008,
        tick_s: float = 0.01,
        att_mtu: int = 247,
        seed: int | None = None,
    ):
        self.session = session
        self.firmwares = firmwares
        self.link = link or LinkEffects()
        self.base_latency_s = base_latency_s
        self.tick_s = tick_s
        self.att_mtu = att_mtu
        self.rng = np.random.default_rng(seed)
        self._heap: list[tuple[float, int, str, str, bytes]] = []
        self._n = 0
        self._last_arrival: dict[str, float] = {}  # per sensor: notifications arrive in order
        self.frames_dropped_by_link = 0
        self._schedules: dict[str, list[tuple[float, float]]] = {}
        self.connected = False

    def connect_all(self) -> None:
        """Read each sensor's device info, register it, configure and start streaming."""
        if self.connected:
            return
        self.connected = True
        for fw in self.firmwares:
            fw.set_att_mtu(self.att_mtu)
            # as `runform run` does: frames of at most 25 ms, to bound the latency in the sensor
            fw.write_control(encode_control(ControlCommand(c.OP_SET_FRAME_SAMPLES, (host_frame_samples(fw.sample_rate_hz),))))
            info = decode_device_info(fw.read_device_info())
            placement = info.placement or fw.motion_placement
            self.session.add_sensor(fw.config.address, placement, info, fw.config.name)
        now = self.session.now()
        for fw in self.firmwares:
            fw.write_control(encode_control(ControlCommand(c.OP_START_STREAMING)), now_true_s=now)
            self.session.set_connection(fw.config.address, "streaming")
            self._schedules[fw.config.address] = [
                (now + a, now + b) for a, b in self.link.disconnect_schedule(SCHEDULE_HORIZON_S, self.rng)
            ]

    def _link_down(self, key: str, t: float) -> bool:
        return any(start <= t < end for start, end in self._schedules.get(key, ()))

    async def run(self, duration_s: float | None = None) -> None:
        """Stream until cancelled (or for ``duration_s`` of session time)."""
        self.connect_all()
        start = self.session.now()
        down: dict[str, bool] = {}
        while duration_s is None or self.session.now() - start < duration_s:
            now = self.session.now()
            for fw in self.firmwares:
                key = fw.config.address
                is_down = self._link_down(key, now)
                if is_down != down.get(key, False):
                    down[key] = is_down
                    if is_down:
                        self.session.set_connection(key, "disconnected")
                    else:  # reconnected: the host starts streaming again (sequence restarts)
                        fw.write_control(encode_control(ControlCommand(c.OP_STOP_STREAMING)), now_true_s=now)
                        self.session.expect_restart(key)
                        fw.write_control(encode_control(ControlCommand(c.OP_START_STREAMING)), now_true_s=now)
                        self.session.set_connection(key, "streaming")
                notes = [n for n in fw.advance(now) if not (is_down or self._link_down(key, n.sent_true_s))]
                if not notes:
                    continue
                lost = self.link.lost(len(notes), self.rng)
                delays = self.link.delays_s(len(notes), self.rng)
                for n, is_lost, delay in zip(notes, lost, delays):
                    if is_lost and n.characteristic == "data":
                        self.frames_dropped_by_link += 1
                        continue
                    arrival = in_order_arrival(self._last_arrival.get(key, -np.inf), n.sent_true_s + self.base_latency_s + delay)
                    self._last_arrival[key] = arrival
                    heapq.heappush(self._heap, (arrival, self._n, key, n.characteristic, n.payload))
                    self._n += 1
            while self._heap and self._heap[0][0] <= now:
                arrival, _, key, char, payload = heapq.heappop(self._heap)
                # the simulated arrival time: what a host that is never late would stamp
                self.session.submit(key, char, payload, arrival)
            await asyncio.sleep(self.tick_s)
