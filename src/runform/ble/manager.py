"""Connect a set of sensors one at a time, check them, plan the rate, and supervise them.

``connect_all`` does everything that can fail before streaming starts (firmware_protocol.md
section 7): serial connects, device info (another protocol major version is refused with a
clear message), placements (command line overrides the stored one; a conflict or a missing
placement is an error naming the sensors), and the sample-rate plan for the negotiated MTUs
(:func:`runform.protocol.sizing.plan_sample_rate`: at MTU 23 the rate is lowered, with a
warning, instead of letting sensors overflow). Then it registers every sensor with the
:class:`LiveSession`, so the core sees all placements from the first block.

``run`` starts streaming (serially), then keeps one :class:`SensorSupervisor` task per sensor.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Callable

from ..live.session import LiveSession
from ..placements import check_placement
from ..protocol.sizing import NOTIFICATION_BUDGET_PER_S, host_frame_samples, notifications_per_s, plan_sample_rate
from .errors import BleError, PlacementError, SensorSetupError
from .link import SensorLink
from .supervisor import Backoff, SensorSupervisor, Sleep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SensorRequest:
    """A sensor to use: its address and, optionally, the placement given on the command line."""

    address: str
    placement: str | None = None
    name: str = ""


def parse_sensor_arg(text: str) -> SensorRequest:
    """``PLACEMENT=ADDRESS`` (``--sensor left_foot=F0:0D:00:00:00:1A``)."""
    if "=" not in text:
        raise PlacementError(f"--sensor expects PLACEMENT=ADDRESS, got {text!r}")
    placement, address = (p.strip() for p in text.split("=", 1))
    try:
        check_placement(placement)
    except ValueError as exc:
        raise PlacementError(str(exc)) from None
    if not address:
        raise PlacementError(f"--sensor {text!r} has no address")
    return SensorRequest(address=address, placement=placement)


def resolve_placements(requested: dict[str, str | None], stored: dict[str, str | None], names: dict[str, str]) -> dict[str, str]:
    """{address: placement}: the command line's placement, else the sensor's stored one.

    Raises :class:`PlacementError` listing every sensor without a placement and every
    placement claimed twice."""
    out: dict[str, str] = {}
    missing = []
    for address in requested:
        p = requested[address] or stored.get(address)
        if p is None:
            missing.append(f"{names.get(address, address)} ({address})")
        else:
            out[address] = p
    problems = []
    if missing:
        problems.append("no placement for " + ", ".join(missing) + " (give one with --sensor PLACEMENT=ADDRESS)")
    by_placement: dict[str, list[str]] = {}
    for address, p in out.items():
        by_placement.setdefault(p, []).append(f"{names.get(address, address)} ({address})")
    for p, who in by_placement.items():
        if len(who) > 1:
            problems.append(f"placement {p} claimed by {' and '.join(who)}")
    if problems:
        raise PlacementError("cannot start streaming: " + "; ".join(problems))
    return out


class ConnectionManager:
    """All sensors of one session. Use from one asyncio loop."""

    def __init__(
        self,
        session: LiveSession,
        requests: list[SensorRequest],
        *,
        rate_hz: int = 400,
        backend: type | None = None,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff = Backoff(),
        frame_samples: int | None = None,
        store_placements: bool = False,
        timeout_s: float = 10.0,
        on_warning: Callable[[str], None] | None = None,
    ):
        if not requests:
            raise SensorSetupError("no sensors to connect")
        addresses = [r.address for r in requests]
        if len(set(addresses)) != len(addresses):
            raise SensorSetupError("the same sensor address is given twice")
        self.session = session
        self.requests = requests
        self.requested_rate_hz = rate_hz
        self.rate_hz = rate_hz
        self.backend = backend
        self.sleep = sleep
        self.backoff = backoff
        #: samples per frame to request; None = the host's latency target for the planned rate
        self.frame_samples_requested = frame_samples
        self.frame_samples = frame_samples or 0
        self.store_placements = store_placements
        self.timeout_s = timeout_s
        self.warnings: list[str] = []
        self._on_warning = on_warning
        self.connect_lock = asyncio.Lock()
        self.links: dict[str, SensorLink] = {}
        self.supervisors: dict[str, SensorSupervisor] = {}
        self.placements: dict[str, str] = {}
        self.mtus: dict[str, int] = {}

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("%s", message)
        if self._on_warning is not None:
            self._on_warning(message)

    def _make_link(self, req: SensorRequest) -> SensorLink:
        sup_ref: dict[str, SensorSupervisor] = self.supervisors
        address = req.address

        def on_notify(characteristic: str, payload: bytes, _submit=self.session.submit) -> None:
            _submit(address, characteristic, payload)

        def on_disconnect() -> None:
            sup = sup_ref.get(address)
            if sup is not None:
                sup.notify_disconnected()

        return SensorLink(address, on_notify=on_notify, on_disconnect=on_disconnect, backend=self.backend,
                          timeout_s=self.timeout_s, name=req.name or address)

    async def connect_all(self) -> None:
        """Connect and configure every sensor, one at a time. Raises a :class:`BleError` with a
        clear message (and leaves nothing connected) if anything is wrong."""
        try:
            await self._connect_all()
        except BaseException:
            await self.close()
            raise

    async def _connect_all(self) -> None:
        infos = {}
        for req in self.requests:
            link = self._make_link(req)
            self.links[req.address] = link
            async with self.connect_lock:
                try:
                    self.mtus[req.address] = await link.connect()
                except Exception as exc:  # noqa: BLE001
                    raise SensorSetupError(f"could not connect to {link.name} ({req.address}): {type(exc).__name__}: {exc}") from exc
                infos[req.address] = await link.read_device_info()
        names = {r.address: self.links[r.address].name for r in self.requests}
        self.placements = resolve_placements(
            {r.address: r.placement for r in self.requests}, {a: i.placement for a, i in infos.items()}, names
        )
        # sample rate: the highest that all sensors support and that fits the notification budget
        supported = set.intersection(*(set(i.sample_rates_hz) for i in infos.values()))
        try:
            self.rate_hz = plan_sample_rate(self.requested_rate_hz, list(self.mtus.values()), tuple(sorted(supported)))
        except ValueError as exc:
            raise SensorSetupError(f"no common sample rate at or below {self.requested_rate_hz} Hz: {exc}") from exc
        if self.rate_hz != self.requested_rate_hz:
            need = sum(notifications_per_s(self.requested_rate_hz, m) for m in self.mtus.values())
            small = ", ".join(f"{names[a]} MTU {m}" for a, m in self.mtus.items() if m < 247) or "none"
            self.warn(
                f"{len(self.mtus)} sensors at {self.requested_rate_hz} Hz need {need:.0f} notifications/s at the "
                f"negotiated ATT MTUs ({small}), more than the {NOTIFICATION_BUDGET_PER_S:.0f}/s budget: "
                f"the sample rate is lowered to {self.rate_hz} Hz for all sensors so that no samples are lost"
            )
        self.frame_samples = self.frame_samples_requested or host_frame_samples(self.rate_hz)
        for req in self.requests:
            link, placement = self.links[req.address], self.placements[req.address]
            if self.store_placements and req.placement and infos[req.address].placement != req.placement:
                await link.store_placement(req.placement)
            info = await link.configure(placement, self.rate_hz, self.frame_samples)
            self.session.add_sensor(req.address, placement, info, link.name)
            sup = SensorSupervisor(self.session, link, placement, self.rate_hz, connect_lock=self.connect_lock,
                                   sleep=self.sleep, backoff=self.backoff, frame_samples=self.frame_samples,
                                   on_warning=self.warn)
            sup.planned_mtu = self.mtus[req.address]
            self.supervisors[req.address] = sup

    async def run(self) -> None:
        """Start streaming on every sensor (one at a time), then supervise until cancelled."""
        for address, sup in self.supervisors.items():
            try:
                async with self.connect_lock:
                    await sup.setup()
            except Exception as exc:  # noqa: BLE001 - treat as a drop: the supervisor retries
                sup.last_error = f"{type(exc).__name__}: {exc}"
                self.session.set_connection(address, "disconnected")
                sup.notify_disconnected()
                continue
            self.session.set_connection(address, "streaming")
        tasks = [asyncio.create_task(s.run(), name=f"supervise-{a}") for a, s in self.supervisors.items()]
        try:
            await asyncio.gather(*tasks)
            # all supervisors gave up: keep the session (and the dashboard) alive until cancelled
            await asyncio.Event().wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        for link in self.links.values():
            await link.stop_streaming()
            await link.disconnect()

    def status(self) -> dict:
        return {
            "requested_rate_hz": self.requested_rate_hz,
            "rate_hz": self.rate_hz,
            "warnings": list(self.warnings),
            "sensors": {a: {"placement": self.placements.get(a), **(s.as_status())} for a, s in self.supervisors.items()},
        }


__all__ = ["BleError", "ConnectionManager", "SensorRequest", "parse_sensor_arg", "resolve_placements"]
