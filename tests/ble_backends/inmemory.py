"""An in-memory bleak backend: virtual sensor firmwares behind bleak's public backend interface.

Fast and deterministic. A :class:`SimWorld` owns a simulated clock (``clock()``, to give to
``LiveSession(clock=...)``) and runs the firmwares on it; ``client_backend()`` and
``scanner_backend()`` return ``BaseBleakClient`` / ``BaseBleakScanner`` subclasses bound to the
world, which production code receives through ``BleakClient(..., backend=...)``.

The link model: a notification leaves the sensor when its last sample is taken, waits for the
next connection event of its link (interval ``conn_interval_s``, a random phase per link and
connection), then a host latency ``latency_s`` plus exponential jitter of mean ``jitter_s``.
Links can drop (``drop``) and malformed payloads can be injected (``inject``). Time runs as fast
as the CPU allows (``realtime=False``) or at wall-clock pace (``realtime=True``, benchmarks).
"""

from __future__ import annotations

import asyncio
import heapq
import time
import uuid as _uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from runform.protocol import constants as c
from runform.protocol.errors import ControlRejected
from runform.protocol.messages import ControlCommand, encode_control
from runform.sensors.firmware import VirtualSensorFirmware

CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"
_CHARS = [  # (uuid, properties)
    (c.DEVICE_INFO_UUID, ["read"]),
    (c.CONTROL_UUID, ["write"]),
    (c.DATA_UUID, ["notify"]),
    (c.STATUS_UUID, ["read", "notify"]),
]


class BleakATTError(BleakError):
    """An ATT error response (``code``), as a real backend raises it."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class SimPeripheral:
    fw: VirtualSensorFirmware
    max_mtu: int = 247
    rssi_dbm: int = -60
    available: bool = True  # in range and advertising
    client: "InMemoryClientBase | None" = None
    phase_s: float = 0.0
    subscribed: set[str] = field(default_factory=set)
    last_arrival_s: float = 0.0
    extra_latency_s: float = 0.0  # a constant extra delay on this link only

    @property
    def address(self) -> str:
        return self.fw.config.address


class SimWorld:
    def __init__(
        self,
        firmwares: list[VirtualSensorFirmware],
        *,
        max_mtu: int = 247,
        conn_interval_s: float = 0.015,
        latency_s: float = 0.002,
        jitter_s: float = 0.002,
        tick_s: float = 0.005,
        connect_time_s: float = 0.05,
        connect_fail_s: float = 0.3,
        realtime: bool = False,
        seed: int = 0,
    ):
        self.peripherals = {fw.config.address: SimPeripheral(fw, max_mtu=max_mtu) for fw in firmwares}
        self.conn_interval_s = conn_interval_s
        self.latency_s = latency_s
        self.jitter_s = jitter_s
        self.tick_s = tick_s
        self.connect_time_s = connect_time_s
        self.connect_fail_s = connect_fail_s  # a connect to an absent device fails after this (s)
        self.realtime = realtime
        self.rng = np.random.default_rng(seed)
        self.now_s = 0.0
        self._heap: list[tuple[float, int, str, str, bytes]] = []
        self._n = 0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self.sensor_cpu_s = 0.0  # thread CPU spent simulating the sensors (benchmarks subtract it)
        self.delivered = 0

    # ------------------------------------------------------------ time
    def clock(self) -> float:
        """Simulated seconds (give to ``LiveSession(clock=...)``)."""
        return self.now_s

    async def sleep(self, dt: float) -> None:
        """Sleep ``dt`` seconds of simulated time."""
        fut = asyncio.get_running_loop().create_future()
        self._n += 1
        heapq.heappush(self._sleepers, (self.now_s + dt, self._n, fut))
        await fut

    def at(self, t_s: float, action: Callable[[], None]) -> None:
        self._n += 1
        heapq.heappush(self._events, (t_s, self._n, action))

    # ------------------------------------------------------------ scenario controls
    def drop(self, address: str, at_s: float, for_s: float | None) -> None:
        """The link of ``address`` breaks at ``at_s`` and the sensor is out of range for
        ``for_s`` seconds (None: it never returns)."""
        p = self.peripherals[address]

        def down() -> None:
            p.available = False
            self._link_lost(p)

        def up() -> None:
            p.available = True

        self.at(at_s, down)
        if for_s is not None:
            self.at(at_s + for_s, up)

    def inject(self, address: str, at_s: float, characteristic: str, payload: bytes) -> None:
        """Deliver arbitrary bytes as a notification (malformed or oversized frames)."""
        p = self.peripherals[address]

        def send() -> None:
            if p.client is not None and characteristic in p.subscribed:
                self._push(self.now_s + self.latency_s, address, characteristic, payload)

        self.at(at_s, send)

    def _link_lost(self, p: SimPeripheral) -> None:
        client = p.client
        if client is None:
            return
        self._disconnect(p)
        client._unsolicited_disconnect()

    def _disconnect(self, p: SimPeripheral) -> None:
        # a sensor stops streaming when its connection ends; notifications in flight are lost
        p.fw.write_control(encode_control(ControlCommand(c.OP_STOP_STREAMING)), now_true_s=self.now_s)
        p.fw.advance(self.now_s)
        p.client = None
        p.subscribed.clear()
        self._heap = [h for h in self._heap if h[2] != p.address]
        heapq.heapify(self._heap)

    def _push(self, arrival_s: float, address: str, characteristic: str, payload: bytes) -> None:
        self._n += 1
        heapq.heappush(self._heap, (arrival_s, self._n, address, characteristic, payload))

    # ------------------------------------------------------------ the loop
    async def run(self, until_s: float | None = None) -> None:
        """Advance simulated time (forever, or to ``until_s``)."""
        wall0 = time.perf_counter() - self.now_s
        while until_s is None or self.now_s < until_s:
            t_next = self.now_s + self.tick_s
            while self._events and self._events[0][0] <= t_next:
                t_ev, _, action = heapq.heappop(self._events)
                self.now_s = max(self.now_s, t_ev)
                action()
            cpu0 = time.thread_time()
            for p in self.peripherals.values():
                if p.client is None:
                    continue
                for n in p.fw.advance(t_next):
                    if n.characteristic not in p.subscribed:
                        continue
                    # the next connection event of this link, then host latency and jitter
                    k = np.ceil((n.sent_true_s - p.phase_s) / self.conn_interval_s)
                    event_s = p.phase_s + k * self.conn_interval_s
                    jitter = self.rng.exponential(self.jitter_s) if self.jitter_s > 0 else 0.0
                    # one link delivers in order (L2CAP): never before the previous notification
                    arrival = max(max(event_s, n.sent_true_s) + self.latency_s + p.extra_latency_s + jitter, p.last_arrival_s)
                    p.last_arrival_s = arrival
                    self._push(arrival, p.address, n.characteristic, n.payload)
            self.sensor_cpu_s += time.thread_time() - cpu0
            while self._heap and self._heap[0][0] <= t_next:
                arrival, _, address, char, payload = heapq.heappop(self._heap)
                self.now_s = max(self.now_s, arrival)
                p = self.peripherals[address]
                if p.client is not None:
                    self.delivered += 1
                    p.client._deliver(char, payload)
            self.now_s = t_next
            while self._sleepers and self._sleepers[0][0] <= self.now_s:
                _, _, fut = heapq.heappop(self._sleepers)
                if not fut.done():
                    fut.set_result(None)
            if self.realtime:
                lag = (wall0 + self.now_s) - time.perf_counter()
                await asyncio.sleep(max(0.0, lag))
            else:
                await asyncio.sleep(0)

    # ------------------------------------------------------------ bleak backends
    def client_backend(self) -> type[BaseBleakClient]:
        return type("InMemoryBleakClient", (InMemoryClientBase,), {"world": self})

    def scanner_backend(self) -> type[BaseBleakScanner]:
        return type("InMemoryBleakScanner", (InMemoryScannerBase,), {"world": self})


def _services(mtu: Callable[[], int]) -> BleakGATTServiceCollection:
    coll = BleakGATTServiceCollection()
    svc = BleakGATTService(None, 1, c.SERVICE_UUID)
    coll.add_service(svc)
    handle = 2
    for u, props in _CHARS:
        ch = BleakGATTCharacteristic(None, handle, u, props, lambda: mtu() - 3, svc)
        coll.add_characteristic(ch)
        if "notify" in props:
            d = BleakGATTDescriptor(None, handle + 1, CCCD_UUID, ch)
            coll.add_descriptor(d)
            handle += 1
        handle += 1
    return coll


class InMemoryClientBase(BaseBleakClient):
    world: SimWorld

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=kwargs.get("disconnected_callback"),
                         timeout=kwargs.get("timeout", 10.0))
        self._p: SimPeripheral | None = None
        self._mtu = c.DEFAULT_ATT_MTU
        self._callbacks: dict[str, Callable[[bytearray], None]] = {}

    @property
    def name(self) -> str:
        return self.world.peripherals[self.address].fw.config.name if self.address in self.world.peripherals else self.address

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._p is not None and self._p.client is self

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        p = self.world.peripherals.get(self.address)
        await self.world.sleep(self.world.connect_time_s)
        if p is None or not p.available:
            await self.world.sleep(max(0.0, min(self._timeout, self.world.connect_fail_s) - self.world.connect_time_s))
            raise BleakError(f"Device with address {self.address} was not found")
        if p.client is not None:
            raise BleakError("device is busy: already connected")
        p.client = self
        p.phase_s = float(self.world.rng.uniform(0, self.world.conn_interval_s))
        self._p = p
        self._mtu = min(p.max_mtu, 517)  # our side asks for the most, the peripheral answers its own
        p.fw.set_att_mtu(self._mtu)
        self.services = _services(lambda: self._mtu)

    async def disconnect(self) -> None:
        if self.is_connected:
            self.world._disconnect(self._p)  # type: ignore[arg-type]
        self._p = None

    def _unsolicited_disconnect(self) -> None:
        self._p = None
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    def _check(self) -> SimPeripheral:
        if not self.is_connected:
            raise BleakError("Not connected")
        return self._p  # type: ignore[return-value]

    def _deliver(self, char: str, payload: bytes) -> None:
        cb = self._callbacks.get(char)
        if cb is not None:
            cb(bytearray(payload[: self._mtu - 3]))  # ATT truncates a value to MTU - 3

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        p = self._check()
        await self.world.sleep(0.0)
        if characteristic.uuid == c.DEVICE_INFO_UUID:
            return bytearray(p.fw.read_device_info())
        if characteristic.uuid == c.STATUS_UUID:
            return bytearray(p.fw.read_status())
        raise BleakATTError(0x02, "read not permitted")

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        p = self._check()
        name = "data" if descriptor.characteristic_uuid == c.DATA_UUID else "status"
        return bytearray((1 if name in p.subscribed else 0).to_bytes(2, "little"))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        p = self._check()
        await self.world.sleep(0.0)
        if characteristic.uuid != c.CONTROL_UUID:
            raise BleakATTError(0x03, "write not permitted")
        try:
            p.fw.write_control(bytes(data), now_true_s=self.world.now_s)
        except ControlRejected as exc:
            raise BleakATTError(exc.code, str(exc)) from None

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakATTError(0x03, "use start_notify")

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any) -> None:
        p = self._check()
        name = {c.DATA_UUID: "data", c.STATUS_UUID: "status"}.get(characteristic.uuid)
        if name is None:
            raise BleakError(f"{characteristic.uuid} does not notify")
        self._callbacks[name] = callback
        p.subscribed.add(name)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        p = self._check()
        name = {c.DATA_UUID: "data", c.STATUS_UUID: "status"}.get(characteristic.uuid)
        p.subscribed.discard(name)  # type: ignore[arg-type]
        self._callbacks.pop(name, None)  # type: ignore[arg-type]


class InMemoryScannerBase(BaseBleakScanner):
    world: SimWorld

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None, scanning_mode: str = "active", **kwargs: Any):
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        self.seen_devices = {}
        for p in self.world.peripherals.values():
            if not p.available or p.client is not None:  # a connected sensor stops advertising
                continue
            name, payload = p.fw.advertisement()
            adv = AdvertisementData(
                local_name=name, manufacturer_data={c.MANUFACTURER_ID: payload}, service_data={},
                service_uuids=[c.SERVICE_UUID], tx_power=None, rssi=p.rssi_dbm, platform_data=(),
            )
            if not self.is_allowed_uuid(adv.service_uuids):
                continue
            device = self.create_or_update_device(p.address, p.address, name, None, adv)
            self.call_detection_callbacks(device, adv)

    async def stop(self) -> None:
        return None


def new_address() -> str:
    b = _uuid.uuid4().bytes[:6]
    return ":".join(f"{x:02X}" for x in b)
