"""Reading ``raw_<placement>.csv`` files (sensor frame, SI acc, deg/s gyro) with checks that
name the file and line of the first problem. See runform.core.schema.RAW_COLUMNS."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.schema import RAW_COLUMNS
from ..placements import PLACEMENTS
from ..units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

_NAME = re.compile(r"raw_(" + "|".join(PLACEMENTS) + r")\.csv$")


class RawInputError(ValueError):
    """Bad raw input; the message names the file (and line when there is one)."""


@dataclass
class RawRecording:
    """One sensor's samples: time_s (n,), acc_mps2 (n, 3), gyr_rps (n, 3), rate_hz estimated or given.
    acc_range_mps2 / gyr_range_rps: full scale found from saturation plateaus in the data
    (:func:`saturation_level`), None when the data never saturate."""

    path: Path
    placement: str
    time_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_rps: np.ndarray
    rate_hz: float
    acc_range_mps2: float | None = None
    gyr_range_rps: float | None = None


def saturation_level(values: np.ndarray, min_count: int = 5, min_share: float = 1e-4) -> float | None:
    """The full-scale value of a clipped sensor channel group (n, 3): the largest absolute value
    when it is reached (to 1e-6 relative) by at least ``min_count`` samples and ``min_share`` of
    them (a flat top: an unclipped signal reaches its maximum once). None otherwise."""
    v = np.abs(np.asarray(values, float))
    if v.size == 0:
        return None
    m = float(v.max())
    if m <= 0:
        return None
    hits = int(np.count_nonzero(np.any(v >= m * (1 - 1e-6), axis=1)))
    return m if hits >= max(min_count, min_share * v.shape[0]) else None


def placement_from_name(path: Path) -> str | None:
    m = _NAME.search(path.name)
    return m.group(1) if m else None


def _bad_line(path: Path, lines: list[str]) -> str:
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != len(RAW_COLUMNS):
            return f"{path}:{i}: expected {len(RAW_COLUMNS)} values, found {len(parts)} (truncated or malformed line)"
        for p in parts:
            try:
                float(p)
            except ValueError:
                return f"{path}:{i}: not a number: {p.strip()!r}"
    return f"{path}: could not be parsed"


def read_raw_csv(path: Path, placement: str | None = None, rate_hz: float | None = None) -> RawRecording:
    """Read and check one raw CSV. Raises :class:`RawInputError` with file and line."""
    path = Path(path)
    placement = placement or placement_from_name(path)
    if placement is None:
        raise RawInputError(f"{path}: cannot tell the placement from the file name (raw_<placement>.csv); use --placement")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise RawInputError(f"{path}: cannot read: {e}") from e
    lines = text.splitlines()
    if not lines:
        raise RawInputError(f"{path}:1: empty file, expected the header {','.join(RAW_COLUMNS)}")
    header = [h.strip() for h in lines[0].split(",")]
    if tuple(header) != RAW_COLUMNS:
        unknown = [h for h in header if h not in RAW_COLUMNS]
        missing = [c for c in RAW_COLUMNS if c not in header]
        raise RawInputError(
            f"{path}:1: unexpected columns (unknown: {unknown or 'none'}, missing: {missing or 'none'}); expected {','.join(RAW_COLUMNS)}"
        )
    if len(lines) < 3:
        raise RawInputError(f"{path}: no samples")
    if not text.endswith("\n") and len(lines[-1].split(",")) != len(RAW_COLUMNS):
        raise RawInputError(f"{path}:{len(lines)}: truncated last line")
    try:
        data = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, ndmin=2)
    except ValueError:
        raise RawInputError(_bad_line(path, lines)) from None
    if data.shape[1] != len(RAW_COLUMNS):
        raise RawInputError(_bad_line(path, lines))
    bad = ~np.all(np.isfinite(data), axis=1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise RawInputError(f"{path}:{i + 2}: NaN or infinite value")
    t = data[:, 0]
    dt = np.diff(t)
    if np.any(dt <= 0):
        i = int(np.flatnonzero(dt <= 0)[0])
        raise RawInputError(f"{path}:{i + 3}: time_s does not increase ({t[i]} then {t[i + 1]})")
    acc, gyr_dps = data[:, 1:4], data[:, 4:7]
    norm = np.linalg.norm(acc, axis=1)
    if np.median(norm) < 0.3 * STANDARD_GRAVITY_MPS2:
        raise RawInputError(f"{path}: accelerometer median |a| = {np.median(norm):.2f}: looks like g, expected m/s^2 (acc_*_mps2)")
    gnorm = np.linalg.norm(gyr_dps, axis=1)
    # walking or running turns a foot or shank faster than ~100 deg/s at the 99th percentile;
    # the same motion in rad/s stays below ~35 (2000 deg/s): below 40 while moving is rad/s
    if np.std(norm) > 2.0 and np.percentile(gnorm, 99) < 40.0:
        raise RawInputError(
            f"{path}: the sensor moves (|a| varies by {np.std(norm):.1f} m/s^2) but |gyro| stays below "
            f"{np.percentile(gnorm, 99):.1f}: looks like rad/s, expected deg/s (gyr_*_dps)"
        )
    rate = float(rate_hz) if rate_hz else float(1.0 / np.median(dt))
    g_sat = saturation_level(gyr_dps)
    # contiguous copies of the time and acceleration columns (views of the (n, 7) table would
    # make every block the core reads a strided array: ~4x slower reductions and copies there)
    return RawRecording(path, placement, np.ascontiguousarray(t), np.ascontiguousarray(acc), gyr_dps * RAD_PER_DEG, rate,
                        saturation_level(acc), None if g_sat is None else g_sat * RAD_PER_DEG)
