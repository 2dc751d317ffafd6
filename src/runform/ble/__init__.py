"""BLE acquisition: scan, connect one sensor at a time, supervise, feed the live session.

Only bleak's public API is used; every entry point takes an optional bleak backend class
(``BaseBleakClient`` / ``BaseBleakScanner``), None meaning the platform's. See docs/ble.md.
"""

from .errors import BleError, IncompatibleSensorError, PlacementError, SensorSetupError
from .link import SensorLink
from .manager import ConnectionManager, SensorRequest, parse_sensor_arg, resolve_placements
from .scanner import FoundSensor, parse_advertisement, scan
from .supervisor import Backoff, SensorSupervisor

__all__ = [
    "Backoff",
    "BleError",
    "ConnectionManager",
    "FoundSensor",
    "IncompatibleSensorError",
    "PlacementError",
    "SensorLink",
    "SensorRequest",
    "SensorSetupError",
    "SensorSupervisor",
    "parse_advertisement",
    "parse_sensor_arg",
    "resolve_placements",
    "scan",
]
