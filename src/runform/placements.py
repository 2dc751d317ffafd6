"""Sensor placements: the names used everywhere (CLI, CSV file names, HTTP, protocol codes).

The names are a contract: ``left_foot``, ``right_foot``, ``left_shank``, ``right_shank``.
The protocol stores a placement in the sensor as a one-byte code (see firmware_protocol.md).
"""

from __future__ import annotations

from typing import Literal

Placement = Literal["left_foot", "right_foot", "left_shank", "right_shank"]
Leg = Literal["left", "right"]
Segment = Literal["foot", "shank"]

PLACEMENTS: tuple[Placement, ...] = ("left_foot", "right_foot", "left_shank", "right_shank")

#: protocol code of each placement; 0 means "not assigned" in the sensor.
PLACEMENT_CODES: dict[str, int] = {"left_foot": 1, "right_foot": 2, "left_shank": 3, "right_shank": 4}
PLACEMENT_BY_CODE: dict[int, str] = {v: k for k, v in PLACEMENT_CODES.items()}
UNASSIGNED_CODE = 0


class PlacementError(ValueError):
    """A placement name that runform does not know."""


def check_placement(name: str) -> Placement:
    """Return ``name`` if it is a known placement, else raise :class:`PlacementError`."""
    if name not in PLACEMENT_CODES:
        raise PlacementError(
            f"unknown placement {name!r}; expected one of {', '.join(PLACEMENTS)}"
        )
    return name  # type: ignore[return-value]


def leg_of(placement: str) -> Leg:
    """``left`` or ``right`` for a placement name."""
    return check_placement(placement).split("_")[0]  # type: ignore[return-value]


def segment_of(placement: str) -> Segment:
    """``foot`` or ``shank`` for a placement name."""
    return check_placement(placement).split("_")[1]  # type: ignore[return-value]


def placement_for(leg: str, segment: str) -> Placement:
    """The placement name of a leg's segment, e.g. ``("left", "foot") -> "left_foot"``."""
    return check_placement(f"{leg}_{segment}")


def mirror_sign(leg: str) -> int:
    """+1 for the left leg, -1 for the right leg.

    Eversion (and the shank's frontal angle) is ``mirror_sign * roll`` and internal rotation
    is ``-mirror_sign * yaw`` in the common segment frame (x anterior, y left, z up), so that
    a positive value means the same anatomical motion on both legs. See docs/conventions.md.
    """
    if leg == "left":
        return 1
    if leg == "right":
        return -1
    raise PlacementError(f"unknown leg {leg!r}; expected 'left' or 'right'")
