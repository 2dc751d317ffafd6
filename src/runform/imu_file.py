"""The IMU calibration file: each physical sensor's scale/cross-axis/offset correction, by placement.

Written by ``runform imu-calibrate`` (one sensor at a time; a new calibration of a placement
replaces the old one, the others are kept), read by ``runform analyze --imu-calibration``,
``runform run`` and ``runform demo``. JSON (docs/data-format.md, "IMU calibration file")::

    {"format": "runform-imu-calibration", "version": 1,
     "sensors": {"left_foot": {"address": "C0:...", "calibrated_at": "2026-...Z", "source": "...",
                               "correction": {"acc_matrix": [[...]], "acc_bias_mps2": [...],
                                              "gyr_matrix": [[...]], "gyr_bias_rps": [...]},
                               "quality": {...}}}}

Only calibrations whose state was ``ready`` are ever written. ``address`` (optional) is the
sensor's BLE address when known: a session whose sensor at that placement has another address
is refused rather than corrected with another sensor's numbers.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core.imu_correction import ImuCorrection
from .placements import PlacementError, check_placement

FORMAT = "runform-imu-calibration"
VERSION = 1
#: ``--imu-calibration none``: no correction, not even one a recorded session used
NO_CORRECTION = "none"


class ImuFileError(ValueError):
    """An IMU calibration file that cannot be used, or does not fit the session; the message says why."""


@dataclass(frozen=True)
class ImuEntry:
    placement: str
    correction: ImuCorrection
    address: str | None = None
    calibrated_at: str | None = None
    source: str | None = None
    quality: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "calibrated_at": self.calibrated_at, "source": self.source,
                "correction": self.correction.to_dict(), "quality": self.quality}

    def summary(self, origin: Path | str) -> dict[str, Any]:
        """What a session's summary records about the correction it used (``origin``: the
        file, or that the session recorded it)."""
        return {"file": str(origin), "address": self.address, "calibrated_at": self.calibrated_at, "source": self.source}


def load_imu_file(path: str | Path) -> dict[str, ImuEntry]:
    """placement -> entry; :class:`ImuFileError` naming the file and what is wrong."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError:
        raise ImuFileError(f"{p}: no such IMU calibration file (write one with runform imu-calibrate)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ImuFileError(f"{p}: cannot read: {e}") from None
    except ValueError as e:
        raise ImuFileError(f"{p}: not JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ImuFileError(f"{p}: not a runform IMU calibration file (no \"format\": \"{FORMAT}\")")
    if doc.get("version") != VERSION:
        raise ImuFileError(f"{p}: version {doc.get('version')!r}; this runform reads version {VERSION}")
    return entries_from_json(doc.get("sensors"), str(p))


def load_imu_option(value: str | Path | None) -> dict[str, ImuEntry] | None:
    """The ``--imu-calibration`` option's entries: None when it is not given or ``none``,
    else the file's (:class:`ImuFileError` when it cannot be used)."""
    if value is None or str(value) == NO_CORRECTION:
        return None
    return load_imu_file(value)


def entries_from_json(sensors: Any, where: str) -> dict[str, ImuEntry]:
    """placement -> entry from the ``sensors`` object of a calibration file (or of the
    ``imu_calibration`` a session recorded); :class:`ImuFileError` saying ``where``."""
    if not isinstance(sensors, dict):
        raise ImuFileError(f"{where}: \"sensors\" must be an object of placement -> calibration")
    out = {}
    for placement, e in sensors.items():
        try:
            check_placement(placement)
            if not isinstance(e, dict) or not isinstance(e.get("correction"), dict):
                raise ValueError("no \"correction\" object")
            corr = ImuCorrection.from_dict(e["correction"])
            if e.get("address") is not None and not isinstance(e["address"], str):
                raise ValueError(f"address must be the sensor's address as text or null, got {e['address']!r}")
        except (PlacementError, ValueError) as err:
            raise ImuFileError(f"{where}: sensor {placement!r}: {err}") from None
        out[placement] = ImuEntry(placement, corr, e.get("address"), e.get("calibrated_at"), e.get("source"), e.get("quality"))
    return out


def recorded_form(path: str | Path, entries: dict[str, ImuEntry]) -> dict[str, Any]:
    """What a recording keeps of the corrections it used (``session.json`` ``imu_calibration``):
    the file's name and every entry in full, so that re-analysis of the raw samples corrects
    them the same way without the file."""
    return {"file": str(path), "sensors": {p: e.to_dict() for p, e in sorted(entries.items())}}


def from_recorded(recorded: Any, where: str) -> tuple[str, dict[str, ImuEntry]]:
    """The inverse of :func:`recorded_form`: (where the corrections come from, as a session's
    summary says it; placement -> entry); :class:`ImuFileError` saying ``where``."""
    entries = entries_from_json(recorded.get("sensors") if isinstance(recorded, dict) else None, where)
    return f"recorded with the session ({recorded.get('file')})", entries


def save_imu_entries(path: str | Path, entries: dict[str, ImuEntry]) -> None:
    """Add ``entries`` to the file at ``path`` (created; an entry of the same placement is
    replaced), atomically: a crash leaves the old file or the new one, never half of one."""
    p = Path(path)
    old = load_imu_file(p) if p.exists() else {}
    merged = {**old, **entries}
    doc = {"format": FORMAT, "version": VERSION, "sensors": {k: merged[k].to_dict() for k in sorted(merged)}}
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def corrections_for(entries: dict[str, ImuEntry], placements_addresses: dict[str, str | None], path: str | Path) -> dict[str, ImuEntry]:
    """The entries of a session's placements (``placement -> sensor address or None``), each
    checked against the sensor's address when both are known. Placements without an entry
    are simply absent (their readings are used as they come)."""
    out = {}
    for placement, address in placements_addresses.items():
        e = entries.get(placement)
        if e is None:
            continue
        if e.address and address and e.address.upper() != str(address).upper():
            raise ImuFileError(f"{path}: the calibration of {placement} is of sensor {e.address}, but this session's "
                               f"{placement} is {address}: calibrate that sensor (runform imu-calibrate) or use its file")
        out[placement] = e
    return out
