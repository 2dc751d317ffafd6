"""Find runform sensors by their advertisement (firmware_protocol.md section 2).

A device is listed only if it advertises the runform service UUID **and** its name starts with
``RunForm-``. The manufacturer data (company 0xFFFF) gives protocol version, stored placement,
battery and firmware version without connecting.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from ..placements import PLACEMENT_BY_CODE, UNASSIGNED_CODE
from ..protocol import constants as c
from ..protocol.errors import ProtocolError
from ..protocol.messages import decode_advertisement


@dataclass(frozen=True)
class FoundSensor:
    """One advertising sensor. ``rssi_dbm`` in dBm; ``battery_percent`` None = unknown."""

    address: str
    name: str
    rssi_dbm: int | None
    placement: str | None
    placement_note: str  # "" or why the placement is not usable
    battery_percent: int | None
    firmware: str | None
    protocol_version: int | None
    compatible: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_runform_advertisement(name: str | None, service_uuids: list[str] | None) -> bool:
    """The protocol's filter: our service UUID and the ``RunForm-`` name prefix."""
    uuids = {u.lower() for u in (service_uuids or [])}
    return c.SERVICE_UUID in uuids and bool(name) and name.startswith(c.ADVERTISED_NAME_PREFIX)  # type: ignore[union-attr]


def parse_advertisement(address: str, name: str | None, rssi_dbm: int | None, service_uuids: list[str] | None,
                        manufacturer_data: dict[int, bytes]) -> FoundSensor | None:
    """A :class:`FoundSensor` for a runform advertisement, None for anything else."""
    if not is_runform_advertisement(name, service_uuids):
        return None
    payload = manufacturer_data.get(c.MANUFACTURER_ID)
    if payload is None and len(manufacturer_data) == 1:  # a vendor with its own company identifier
        payload = next(iter(manufacturer_data.values()))
    placement, note, battery, firmware, version = None, "", None, None, None
    if payload is None:
        note = "no manufacturer data in the advertisement"
    else:
        try:
            adv = decode_advertisement(payload)
        except ProtocolError as exc:
            note = f"unreadable manufacturer data: {exc}"
        else:
            version, battery = adv.protocol_version, adv.battery_percent
            firmware = ".".join(map(str, adv.firmware_version))
            placement = PLACEMENT_BY_CODE.get(adv.placement_code)
            if placement is None:
                note = "not assigned" if adv.placement_code == UNASSIGNED_CODE else f"reserved placement code {adv.placement_code} (treated as not assigned)"
    return FoundSensor(
        address=address, name=name or "", rssi_dbm=rssi_dbm, placement=placement, placement_note=note,
        battery_percent=battery, firmware=firmware, protocol_version=version,
        compatible=version == c.PROTOCOL_VERSION,
    )


async def scan(timeout_s: float = 5.0, *, backend: type | None = None) -> list[FoundSensor]:
    """Scan for ``timeout_s`` seconds; the runform sensors seen, strongest signal first.

    ``backend`` is a bleak ``BaseBleakScanner`` class (None = the platform's)."""
    from bleak import BleakScanner

    async with BleakScanner(service_uuids=[c.SERVICE_UUID], backend=backend) as scanner:
        await asyncio.sleep(timeout_s)
        seen = scanner.discovered_devices_and_advertisement_data
    found = []
    for address, (device, adv) in seen.items():
        f = parse_advertisement(address, adv.local_name or device.name, adv.rssi, adv.service_uuids, adv.manufacturer_data)
        if f is not None:
            found.append(f)
    found.sort(key=lambda f: (-(f.rssi_dbm if f.rssi_dbm is not None else -999), f.address))
    return found
