"""A bleak backend on Google's Bumble stack: every virtual sensor is a real Bumble GATT server on
an in-process ``bumble.link.LocalLink``, and the bleak client talks to it through a Bumble central
on the same link, so real ATT PDUs, MTU exchange, ATT error responses and truncation of a value to
MTU - 3 happen. Time is the event loop's (real time).
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError
from bumble import att, gatt
from bumble.controller import Controller
from bumble.device import Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from runform.protocol import constants as c
from runform.protocol.errors import ControlRejected
from runform.protocol.messages import ControlCommand, encode_control
from runform.sensors.firmware import VirtualSensorFirmware

P = gatt.Characteristic.Properties


class BumbleSensor:
    """A virtual sensor firmware behind a Bumble GATT server."""

    def __init__(self, world: "BumbleWorld", fw: VirtualSensorFirmware, index: int, max_mtu: int):
        self.world, self.fw = world, fw
        ctl = Controller(f"S{index}", link=world.link, public_address=fw.config.address)
        self.device = Device(address=Address(fw.config.address), host=Host(ctl, AsyncPipeSink(ctl)))
        self.device.gatt_server.max_mtu = max_mtu
        self.connection = None
        rw = gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE
        self.info_char = gatt.Characteristic(c.DEVICE_INFO_UUID, P.READ, gatt.Characteristic.READABLE,
                                             gatt.CharacteristicValue(read=lambda _conn: fw.read_device_info()))
        self.control_char = gatt.Characteristic(c.CONTROL_UUID, P.WRITE, rw, gatt.CharacteristicValue(write=self._on_control))
        self.data_char = gatt.Characteristic(c.DATA_UUID, P.NOTIFY, gatt.Characteristic.READABLE, b"")
        self.status_char = gatt.Characteristic(c.STATUS_UUID, P.READ | P.NOTIFY, gatt.Characteristic.READABLE,
                                               gatt.CharacteristicValue(read=lambda _conn: fw.read_status()))
        self.device.add_service(gatt.Service(c.SERVICE_UUID, [self.info_char, self.control_char, self.data_char, self.status_char]))
        self.device.on("connection", self._on_connection)

    def _on_control(self, _conn: Any, value: bytes) -> None:
        try:
            self.fw.write_control(bytes(value), now_true_s=self.world.now())
        except ControlRejected as exc:
            raise att.ATT_Error(exc.code) from None

    def _on_connection(self, connection: Any) -> None:
        self.connection = connection
        connection.on("att_mtu_update", lambda: self.fw.set_att_mtu(connection.att_mtu))
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, *_: Any) -> None:
        self.connection = None
        self.fw.write_control(encode_control(ControlCommand(c.OP_STOP_STREAMING)), now_true_s=self.world.now())
        self.fw.set_att_mtu(c.DEFAULT_ATT_MTU)
        asyncio.get_running_loop().create_task(self.device.start_advertising(auto_restart=False))


class BumbleWorld:
    def __init__(self, firmwares: list[VirtualSensorFirmware], *, max_mtu: int = 247, tick_s: float = 0.01):
        self.link = LocalLink()
        self.sensors = {fw.config.address: BumbleSensor(self, fw, i, max_mtu) for i, fw in enumerate(firmwares)}
        ctl = Controller("H", link=self.link, public_address="C0:00:00:00:00:01")
        self.central = Device(address=Address("C0:00:00:00:00:01"), host=Host(ctl, AsyncPipeSink(ctl)))
        self.tick_s = tick_s
        self._t0 = 0.0
        self.injections: list[tuple[str, bytes]] = []

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self._t0

    async def start(self) -> None:
        self._t0 = asyncio.get_running_loop().time()
        await self.central.power_on()
        for s in self.sensors.values():
            await s.device.power_on()
            await s.device.start_advertising(auto_restart=False)

    async def run(self) -> None:
        """Pump the firmwares: every tick, notify what each sensor sent (through real ATT)."""
        while True:
            now = self.now()
            for s in self.sensors.values():
                notes = s.fw.advance(now)
                if s.connection is None:
                    continue
                for n in notes:
                    char = s.data_char if n.characteristic == "data" else s.status_char
                    await s.device.notify_subscribers(char, n.payload)
            while self.injections:
                address, payload = self.injections.pop(0)
                s = self.sensors[address]
                if s.connection is not None:
                    await s.device.notify_subscribers(s.data_char, payload)
            await asyncio.sleep(self.tick_s)

    async def drop(self, address: str) -> None:
        s = self.sensors[address]
        if s.connection is not None:
            await s.connection.disconnect()

    def client_backend(self) -> type[BaseBleakClient]:
        return type("BumbleBleakClient", (BumbleClientBase,), {"world": self})


class BumbleClientBase(BaseBleakClient):
    world: BumbleWorld

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any):
        super().__init__(address_or_ble_device, disconnected_callback=kwargs.get("disconnected_callback"),
                         timeout=kwargs.get("timeout", 10.0))
        self._conn: Any = None
        self._peer: Peer | None = None
        self._chars: dict[int, Any] = {}
        self._closing = False

    @property
    def mtu_size(self) -> int:
        return self._conn.att_mtu if self._conn is not None else c.DEFAULT_ATT_MTU

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        try:
            self._conn = await asyncio.wait_for(self.world.central.connect(Address(self.address)), self._timeout)
        except Exception as exc:
            raise BleakError(f"could not connect to {self.address}: {exc}") from exc
        self._conn.on("disconnection", self._on_disconnection)
        self._peer = Peer(self._conn)
        await self._peer.request_mtu(517)
        await self._peer.discover_services()
        coll = BleakGATTServiceCollection()
        for s in self._peer.services:
            await s.discover_characteristics()
            svc = BleakGATTService(s, s.handle, str(s.uuid).lower())
            coll.add_service(svc)
            for ch in s.characteristics:
                await ch.discover_descriptors()
                props = [name for flag, name in ((P.READ, "read"), (P.WRITE, "write"), (P.NOTIFY, "notify")) if ch.properties & flag]
                bch = BleakGATTCharacteristic(ch, ch.handle, str(ch.uuid).lower(), props, lambda: self.mtu_size - 3, svc)
                coll.add_characteristic(bch)
                self._chars[ch.handle] = ch
        self.services = coll

    def _on_disconnection(self, *_: Any) -> None:
        self._conn = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        if self._conn is not None:
            self._closing = True
            await self._conn.disconnect()
            self._conn = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        return bytearray(await self._chars[characteristic.handle].read_value())

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        raise BleakError("not used by runform")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any, response: bool) -> None:
        try:
            await self._chars[characteristic.handle].write_value(bytes(data), with_response=response)
        except att.ATT_Error as exc:
            raise BleakError(f"ATT error 0x{exc.error_code:02X}") from exc

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakError("not used by runform")

    async def start_notify(self, characteristic: BleakGATTCharacteristic, callback: Callable[[bytearray], None], **kwargs: Any) -> None:
        await self._chars[characteristic.handle].subscribe(lambda v: callback(bytearray(v)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        await self._chars[characteristic.handle].unsubscribe()
