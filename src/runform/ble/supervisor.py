"""A supervisor task per sensor: notices the disconnect, reconnects with back-off, resumes.

The session goes on meanwhile: :meth:`LiveSession.set_connection` records the gap (visible in
``/api/status`` and on the dashboard), and the other sensors are untouched because each sensor
has its own task. Reconnects take the shared connect lock, since BlueZ and several controllers
fail on concurrent connects. A sensor that stays away longer than ``lost_after_s`` is marked
``lost`` but is still retried at the longest back-off, so it can come back at any time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

from ..live.session import LiveSession
from ..protocol.sizing import max_samples_per_frame
from .errors import IncompatibleSensorError
from .link import SensorLink

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


#: longest wait (s) for stopping and disconnecting one sensor at the end of a session
SHUTDOWN_STEP_S = 2.0


@dataclass(frozen=True)
class Backoff:
    """Reconnect delays (s): ``initial_s``, times ``factor`` after each failure, at most ``max_s``."""

    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 8.0
    lost_after_s: float = 30.0  # session seconds without a link before the sensor shows as lost

    def delays(self):
        d = self.initial_s
        while True:
            yield d
            d = min(d * self.factor, self.max_s)


class SensorSupervisor:
    """Keeps one sensor streaming into ``session`` for as long as the task runs."""

    def __init__(
        self,
        session: LiveSession,
        link: SensorLink,
        placement: str,
        rate_hz: int,
        *,
        connect_lock: asyncio.Lock,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff = Backoff(),
        frame_samples: int = 0,
        on_warning: Callable[[str], None] | None = None,
    ):
        self.session = session
        self.link = link
        self.placement = placement
        self.rate_hz = rate_hz
        self.connect_lock = connect_lock
        self.sleep = sleep
        self.backoff = backoff
        self.frame_samples = frame_samples
        self.on_warning = on_warning or (lambda m: log.warning("%s", m))
        self.reconnects = 0
        self.attempts = 0
        self.last_error: str | None = None
        self.gave_up: str | None = None
        #: ATT MTU the rate was planned for (a lower MTU on reconnect is warned about)
        self.planned_mtu: int | None = None
        self._down = asyncio.Event()

    # called by bleak (on the event loop) when the link drops
    def notify_disconnected(self) -> None:
        self._down.set()

    async def setup(self) -> None:
        """Connect (if needed), check, configure, subscribe and start streaming."""
        self._down.clear()
        link = self.link
        if not link.is_connected:
            mtu = await link.connect()
            await link.read_device_info()
            await link.configure(self.placement, self.rate_hz, self.frame_samples)
            if self.planned_mtu is not None and mtu < self.planned_mtu:
                self.on_warning(f"{link.name} ({self.placement}) reconnected with ATT MTU {mtu} (was {self.planned_mtu}): "
                                f"{max_samples_per_frame(mtu)} sample(s) per notification at {self.rate_hz} Hz")
        # the sequence restarts at 0 with START_STREAMING: mark the stream before any new frame
        self.session.expect_restart(link.address)
        await link.subscribe_and_start()

    async def run(self) -> None:
        """Supervise until cancelled. The first setup must have been done by the caller."""
        key = self.link.address
        try:
            while True:
                await self._down.wait()
                self._down.clear()
                self.session.set_connection(key, "disconnected")
                log.warning("%s (%s) disconnected; reconnecting", self.link.name, self.placement)
                if not await self._reconnect():
                    return
        finally:
            # a dead link may hold a write with response until the supervision timeout: bound it
            for step in (self.link.stop_streaming, self.link.disconnect):
                try:
                    await asyncio.wait_for(step(), SHUTDOWN_STEP_S)
                except (asyncio.TimeoutError, Exception) as exc:  # noqa: BLE001 - leaving anyway
                    log.warning("%s (%s): %s did not finish: %s", self.link.name, self.placement, step.__name__, exc)
            if self.session.sensors[key].connection == "streaming":
                self.session.set_connection(key, "stopped")

    async def _reconnect(self) -> bool:
        key = self.link.address
        down_since = self.session.now()
        marked_lost = False
        for delay in self.backoff.delays():
            await self.sleep(delay)
            self.attempts += 1
            try:
                async with self.connect_lock:
                    await self.link.disconnect()
                    await self.setup()
            except IncompatibleSensorError as exc:
                self.gave_up = str(exc)
                self.session.set_connection(key, "lost")
                self.on_warning(str(exc))
                return False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: back off and try again
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.info("reconnect to %s failed: %s", self.link.name, self.last_error)
                await self.link.disconnect()
                if not marked_lost and self.session.now() - down_since >= self.backoff.lost_after_s:
                    marked_lost = True
                    self.session.set_connection(key, "lost")
                    self.on_warning(f"{self.link.name} ({self.placement}) lost for {self.backoff.lost_after_s:.0f} s; still retrying")
                continue
            self.reconnects += 1
            self.session.set_connection(key, "streaming")
            log.warning("%s (%s) streaming again after %.1f s", self.link.name, self.placement, self.session.now() - down_since)
            return True
        return False  # pragma: no cover - delays() is endless

    def as_status(self) -> dict:
        return {"reconnects": self.reconnects, "reconnect_attempts": self.attempts, "last_error": self.last_error,
                "gave_up": self.gave_up, **self.link.stats.as_dict()}
