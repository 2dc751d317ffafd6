"""Errors of BLE acquisition that a user must read: each message says what to do."""

from __future__ import annotations


class BleError(Exception):
    """Base class of the errors ``runform run`` reports before or while streaming."""


class IncompatibleSensorError(BleError):
    """A sensor speaks a protocol major version this host does not (refused before streaming)."""


class PlacementError(BleError):
    """A placement conflict or a sensor without a placement (reported before streaming)."""


class SensorSetupError(BleError):
    """A sensor could not be connected or configured."""
