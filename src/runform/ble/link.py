"""One BLE connection to one sensor, through bleak (firmware_protocol.md section 7).

:class:`SensorLink` connects, reads device info (refusing another protocol major version),
configures rate and ranges while stopped, subscribes to status and data, and starts streaming.
Its notification callbacks only count and hand the bytes to ``on_notify`` (which enqueues into
:meth:`runform.live.session.LiveSession.submit`): nothing is decoded on the BLE event loop.

``backend`` is a bleak ``BaseBleakClient`` class; None selects the platform's (BlueZ, WinRT,
CoreBluetooth). The tests pass an in-memory and a Bumble backend through the same code path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from ..placements import PLACEMENT_CODES, segment_of
from ..protocol import constants as c
from ..protocol.errors import ProtocolError
from ..protocol.messages import ControlCommand, DeviceInfo, decode_device_info, encode_control
from .errors import IncompatibleSensorError, SensorSetupError

log = logging.getLogger(__name__)

#: MTU asked for (244-byte notifications: 19 samples per frame)
REQUESTED_ATT_MTU = 247
#: recommended full-scale ranges per segment (firmware_protocol.md section 7 step 4)
RECOMMENDED_RANGES = {"foot": (16, 2000), "shank": (32, 2000)}


@dataclass
class LinkStats:
    """Counted on the BLE event loop, by the callback (cheap: two integer additions)."""

    notifications: int = 0
    notification_bytes: int = 0
    connects: int = 0
    att_mtu: int = c.DEFAULT_ATT_MTU

    def as_dict(self) -> dict:
        return {"notifications": self.notifications, "notification_bytes": self.notification_bytes,
                "connects": self.connects, "att_mtu": self.att_mtu}


def choose_range(wanted: int, supported: tuple[int, ...]) -> int:
    """The smallest supported range >= ``wanted``, else the largest supported one."""
    if not supported:
        return wanted
    above = [r for r in supported if r >= wanted]
    return min(above) if above else max(supported)


def ranges_for(placement: str, info: DeviceInfo) -> tuple[int, int]:
    """(accel range g, gyro range deg/s) for a placement, limited to what the sensor supports."""
    acc, gyr = RECOMMENDED_RANGES[segment_of(placement)]
    return choose_range(acc, info.accel_ranges_g), choose_range(gyr, info.gyro_ranges_dps)


class SensorLink:
    """A bleak client for one sensor. Not thread-safe: use it from the asyncio loop only."""

    def __init__(
        self,
        address: str,
        *,
        on_notify: Callable[[str, bytes], None],
        on_disconnect: Callable[[], None] | None = None,
        backend: type | None = None,
        timeout_s: float = 10.0,
        name: str = "",
    ):
        self.address = address
        self.name = name or address
        self._on_notify = on_notify
        self._on_disconnect = on_disconnect
        self._backend = backend
        self._timeout_s = timeout_s
        self._client: Any = None
        self.stats = LinkStats()
        self.info: DeviceInfo | None = None

    # ------------------------------------------------------------ connection
    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def connect(self) -> int:
        """Connect and return the ATT MTU of the connection."""
        from bleak import BleakClient

        self._client = BleakClient(
            self.address, disconnected_callback=self._disconnected, timeout=self._timeout_s, backend=self._backend
        )
        await self._client.connect()
        self.stats.connects += 1
        self.stats.att_mtu = self._att_mtu()
        return self.stats.att_mtu

    def _att_mtu(self) -> int:
        # BlueZ reports mtu_size 23 until its MTU property is read; the characteristic's
        # max write-without-response size (MTU - 3) is the reliable figure there
        mtu = int(self._client.mtu_size)
        try:
            char = self._client.services.get_characteristic(c.DATA_UUID)
            if char is not None:
                mtu = max(mtu, int(char.max_write_without_response_size) + c.ATT_NOTIFY_OVERHEAD_BYTES)
        except Exception:  # noqa: BLE001 - a backend without this property: keep mtu_size
            pass
        return max(mtu, c.DEFAULT_ATT_MTU)

    def _disconnected(self, _client: Any) -> None:
        if self._on_disconnect is not None:
            self._on_disconnect()

    async def disconnect(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.disconnect()
            except Exception as exc:  # noqa: BLE001 - already gone
                log.debug("disconnect from %s: %s", self.name, exc)

    # ------------------------------------------------------------ GATT
    async def read_device_info(self) -> DeviceInfo:
        """Read and decode device info; refuse another protocol major version."""
        raw = bytes(await self._client.read_gatt_char(c.DEVICE_INFO_UUID))
        if raw and raw[0] != c.PROTOCOL_VERSION:
            raise IncompatibleSensorError(
                f"sensor {self.name} ({self.address}) speaks runform protocol version {raw[0]}, but this runform "
                f"speaks version {c.PROTOCOL_VERSION}: update {'runform' if raw[0] > c.PROTOCOL_VERSION else 'the sensor firmware'} "
                f"so that both speak the same major version; the sensor was not started"
            )
        try:
            self.info = decode_device_info(raw)
        except ProtocolError as exc:
            raise SensorSetupError(f"sensor {self.name} ({self.address}) sent unreadable device info: {exc}") from exc
        return self.info

    async def control(self, opcode: int, *args: int) -> None:
        """One control write with response (raises bleak's error when the sensor rejects it)."""
        await self._client.write_gatt_char(c.CONTROL_UUID, encode_control(ControlCommand(opcode, tuple(args))), response=True)

    async def configure(self, placement: str, rate_hz: int, frame_samples: int = 0) -> DeviceInfo:
        """Stop, set rate, ranges and frame size, re-read device info (what the sensor now uses)."""
        info = self.info or await self.read_device_info()
        if rate_hz not in info.sample_rates_hz:
            raise SensorSetupError(f"sensor {self.name} does not support {rate_hz} Hz (it supports {list(info.sample_rates_hz)})")
        acc, gyr = ranges_for(placement, info)
        try:
            await self.control(c.OP_STOP_STREAMING)
            await self.control(c.OP_SET_SAMPLE_RATE, rate_hz)
            await self.control(c.OP_SET_RANGES, acc, gyr)
            await self.control(c.OP_SET_FRAME_SAMPLES, frame_samples)
        except Exception as exc:
            raise SensorSetupError(f"sensor {self.name} ({self.address}) refused its configuration: {exc}") from exc
        return await self.read_device_info()

    async def store_placement(self, placement: str) -> None:
        await self.control(c.OP_SET_PLACEMENT, PLACEMENT_CODES[placement])

    async def subscribe_and_start(self) -> None:
        """Enable status and data notifications, then START_STREAMING."""
        await self._client.start_notify(c.STATUS_UUID, self._status_cb)
        await self._client.start_notify(c.DATA_UUID, self._data_cb)
        await self.control(c.OP_START_STREAMING)

    async def stop_streaming(self) -> None:
        if self.is_connected:
            try:
                await self.control(c.OP_STOP_STREAMING)
            except Exception as exc:  # noqa: BLE001 - the link may be going away
                log.debug("stop %s: %s", self.name, exc)

    # ------------------------------------------------------------ callbacks: count and enqueue only
    def _data_cb(self, _char: Any, data: bytearray) -> None:
        self.stats.notifications += 1
        self.stats.notification_bytes += len(data)
        self._on_notify("data", bytes(data))

    def _status_cb(self, _char: Any, data: bytearray) -> None:
        self._on_notify("status", bytes(data))
