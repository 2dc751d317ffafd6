"""Reading ``raw_<placement>.csv`` files (sensor frame, SI acc, deg/s gyro) with checks that
name the file and line of the first problem. See runform.core.schema.RAW_COLUMNS."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.schema import RAW_COLUMNS
from ..placements import PLACEMENTS
from ..units import DEG_PER_RAD, RAD_PER_DEG, STANDARD_GRAVITY_MPS2

_NAME = re.compile(r"raw_(" + "|".join(PLACEMENTS) + r")\.csv$")
#: a given sample rate (--rate) may differ from the rate of the time stamps by this share
RATE_TOLERANCE = 0.1
#: sample rates (from the time stamps) an IMU recording can have; outside them time_s is not in s
PLAUSIBLE_RATE_HZ = (20.0, 10_000.0)
#: the rate is checked over chunks of this many samples; a chunk whose rate differs from the
#: whole file's by more than RATE_CHANGE is reported (a rate change within the file)
RATE_CHUNK = 256
RATE_CHANGE = 0.15
#: repeated time_s (a frame recorded twice) are dropped by ``runform analyze`` while they are at
#: most this share of the rows; more are time stamps coarser than the sample period (a 400 Hz
#: file with time_s rounded to 10 ms repeats in half its rows: dropping them analysed every other
#: sample, an epoch time written with too few digits), which are refused: the samples cannot be ordered
MAX_REPEAT_SHARE = 0.01
#: larger values are no measurement, and squared they overflow (one acc_x of 1e300 ended runform
#: analyze in a traceback in the foot strapdown). Far above any IMU (~400 g, ~5000 deg/s): a
#: spike of 1e6 is analysed (its strides flagged), and tests/test_core_synth.py's generator
#: has 2e6 m/s^2 where standing turns into running
MAX_ACC_MPS2 = 1e9
MAX_GYR_DPS = 1e9
#: above these a file is in other units (mg, cm/s^2, mdeg/s, raw int16 counts): the median |a|
#: of a foot or shank is 1-3 g (check recordings: at most 30 m/s^2, the virtual shank), the 99th
#: percentile of |gyro| below any gyroscope's range (check recordings: at most 3,464 deg/s,
#: hugadb's clipped +-2000 deg/s on three axes). Such files gave strides, none valid, and no reason
MAX_MEDIAN_ACC_MPS2 = 10 * STANDARD_GRAVITY_MPS2
MAX_P99_GYR_DPS = 10_000.0
_LIMITS = np.array([MAX_ACC_MPS2] * 3 + [MAX_GYR_DPS] * 3)


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
    #: what is odd about the file but does not stop its analysis (shown on stdout, in summary.json)
    notes: list[str] = field(default_factory=list)
    #: channels (RAW_COLUMNS names) that hold one value in every sample while the sensor moves
    #: (:func:`check_plausible`): their leg's strides are flagged ``dead_channel``, not valid
    dead_channels: list[str] = field(default_factory=list)


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


def _bad_line(path: Path) -> str:
    """The first malformed line of a file that did not parse (read again, line by line)."""
    with open(path, encoding="utf-8-sig") as f:
        lines = enumerate(f, start=1)
        next(lines, None)
        return _first_bad(path, lines)


def _undecodable_line(path: Path) -> str:
    """``path:line`` of the first line that is not UTF-8 (``path`` when none is found)."""
    with open(path, "rb") as f:
        for i, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f"{path}:{i}"
    return str(path)


def _first_bad(path: Path, lines, empty_ok: bool = False) -> str:
    """The first line with another number of values or a value that is not a number (an
    empty value is one unless ``empty_ok``)."""
    for i, line in lines:
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != len(RAW_COLUMNS):
            return f"{path}:{i}: expected {len(RAW_COLUMNS)} values, found {len(parts)} (truncated or malformed line)"
        for p in parts:
            if empty_ok and not p.strip():
                continue
            try:
                float(p)
            except ValueError:
                return f"{path}:{i}: not a number: {p.strip()!r}"
    return f"{path}: could not be parsed"


def _empty_as_nan(text: str) -> float:
    """loadtxt converter of the repairing read: an empty cell is a missing value (NaN)."""
    return float(text) if text.strip() else np.nan


def _load_repairing(path: Path) -> np.ndarray:
    """The table again with empty cells read as NaN (only for a file whose plain read failed:
    a Python converter per value is slower than the plain parse). Raises RawInputError with the
    first line that is still bad (a non-number, a line with another number of values)."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            f.readline()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return np.loadtxt(f, delimiter=",", ndmin=2, converters=_empty_as_nan)
    except ValueError:
        with open(path, encoding="utf-8-sig") as f:
            lines = enumerate(f, start=1)
            next(lines, None)
            msg = _first_bad(path, lines, empty_ok=True)
        raise RawInputError(msg) from None


def read_raw_csv(path: Path, placement: str | None = None, rate_hz: float | None = None, repair: bool = False) -> RawRecording:
    """Read and check one raw CSV. Raises :class:`RawInputError` with file and line.

    ``repair`` (``runform analyze``): what can be analysed around is, and said in ``notes``
    instead of refused: empty, NaN or infinite sensor values are kept as NaN (the core drops such
    samples as a gap and counts them, ``dropout_samples``); a row whose time_s is empty or not
    finite is dropped; a row whose time_s repeats the previous row's is dropped (the later one,
    as the recorder does live). Without it (import) these are refused. Time going backwards and
    text that is not a number are refused either way."""
    path = Path(path)
    placement = placement or placement_from_name(path)
    if placement is None:
        raise RawInputError(f"{path}: cannot tell the placement from the file name (raw_<placement>.csv); use --placement")
    if rate_hz is not None and not (np.isfinite(rate_hz) and rate_hz > 0):
        raise RawInputError(f"{path}: sample rate {rate_hz} Hz: expected a positive number")
    try:
        # read the file as a stream, not as one string: a 3-hour file at 400 Hz is ~250 MB of
        # text, and the string, its lines and a StringIO of it took ~1.5 GB (the table: 240 MB).
        # utf-8-sig: a byte-order mark (spreadsheet programs write one) is not part of the header
        with open(path, encoding="utf-8-sig") as f:
            first = f.readline()
            header = [h.strip() for h in first.split(",")]
            if not first:
                raise RawInputError(f"{path}:1: empty file, expected the header {','.join(RAW_COLUMNS)}")
            order = None  # the same columns in another order: read by name
            if tuple(header) != RAW_COLUMNS:
                if sorted(header) == sorted(RAW_COLUMNS):
                    order = [header.index(c) for c in RAW_COLUMNS]
                else:
                    unknown = [h for h in header if h not in RAW_COLUMNS]
                    missing = [c for c in RAW_COLUMNS if c not in header]
                    sep = next((name for ch, name in ((";", "semicolons"), ("\t", "tabs")) if len(header) == 1 and ch in first), None)
                    hint = f"; the values are separated by {sep}, expected commas" if sep else ""
                    raise RawInputError(f"{path}:1: unexpected columns (unknown: {unknown or 'none'}, missing: {missing or 'none'}); "
                                        f"expected {','.join(RAW_COLUMNS)}{hint}")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "input contained no data": said below
                    data = np.loadtxt(f, delimiter=",", ndmin=2)
            except UnicodeDecodeError:
                raise
            except ValueError:
                if not repair:
                    raise RawInputError(_bad_line(path)) from None
                data = _load_repairing(path)
    except UnicodeDecodeError as e:
        raise RawInputError(f"{_undecodable_line(path)}: not UTF-8 text ({e.reason}, byte {e.object[e.start:e.start + 1]!r})") from e
    except OSError as e:
        raise RawInputError(f"{path}: cannot read: {e}") from e
    if data.shape[0] < 2:
        raise RawInputError(f"{path}: {'no samples' if data.shape[0] == 0 else 'one sample'}, at least 2 needed")
    if data.shape[1] != len(RAW_COLUMNS):
        raise RawInputError(_bad_line(path))
    if order is not None:
        data = data[:, order]
    repair_notes: list[str] = []
    #: the file line of each row (rows dropped by the repair leave holes; blank lines are not counted)
    line = None
    bad = ~np.all(np.isfinite(data), axis=1)
    if np.any(bad):
        if not repair:
            i = int(np.flatnonzero(bad)[0])
            raise RawInputError(f"{path}:{i + 2}: NaN or infinite value")
        data, line, repair_notes = _repair_rows(data, bad)
    beyond = np.abs(data[:, 1:]) > _LIMITS
    if repair:
        beyond &= np.isfinite(data[:, 1:])  # inf is a missing value here, not a corrupt one
    if np.any(beyond):
        i, k = (int(v[0]) for v in np.nonzero(beyond))
        raise RawInputError(f"{_line(path, line, i)}: {RAW_COLUMNS[k + 1]} = {data[i, k + 1]:g} is beyond any IMU's range "
                            f"(|acc| <= {MAX_ACC_MPS2:g} m/s^2, |gyr| <= {MAX_GYR_DPS:g} deg/s): a corrupt value")
    t = data[:, 0]
    dt = np.diff(t)
    if repair and np.any(dt == 0):
        keep = np.ones(t.size, bool)
        keep[1:] = dt != 0
        n_dup = int(t.size - np.count_nonzero(keep))
        first = int(np.flatnonzero(~keep)[0])
        if n_dup > MAX_REPEAT_SHARE * t.size:
            raise RawInputError(f"{_line(path, line, first)}: time_s repeats the previous row's ({t[first]}) in {n_dup} of "
                                f"{t.size} rows: time stamps coarser than the sample period (rounded?); the samples "
                                f"cannot be ordered in time")
        repair_notes.append(repeat_note(n_dup, _line_no(line, first), t[first]))
        data = data[keep]
        line = (np.arange(keep.size) + 2 if line is None else line)[keep]
        if data.shape[0] < 2:
            raise RawInputError(f"{path}: fewer than 2 rows with distinct time_s")
        t = data[:, 0]
        dt = np.diff(t)
    if np.any(dt <= 0):
        i = int(np.flatnonzero(dt <= 0)[0])
        raise RawInputError(f"{_line(path, line, i + 1)}: time_s does not increase ({t[i]} then {t[i + 1]})")
    acc, gyr_dps = data[:, 1:4], data[:, 4:7]
    fin = None  # rows whose six sensor values are finite (None: all of them)
    if repair_notes:
        fin = np.all(np.isfinite(data[:, 1:7]), axis=1)
        if np.count_nonzero(fin) < 2:
            raise RawInputError(f"{path}: fewer than 2 rows with six finite sensor values")
        if fin.all():
            fin = None
    rec = _check_values(path, placement, t, acc, gyr_dps, rate_hz, fin, repair)
    rec.notes[:0] = repair_notes
    return rec


def _line_no(line: np.ndarray | None, i: int) -> int:
    return int(line[i]) if line is not None else i + 2


def _line(path: Path, line: np.ndarray | None, i: int) -> str:
    return f"{path}:{_line_no(line, i)}"


def _repair_rows(data: np.ndarray, bad: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """The repairing read's non-finite values: rows whose time_s is not finite are dropped
    (counted); non-finite sensor values stay (the core drops their samples as dropouts).
    Returns the table, the file line of each kept row (None when none is dropped) and notes."""
    notes = []
    bad_t = ~np.isfinite(data[:, 0])
    line = None
    if np.any(bad_t):
        first = int(np.flatnonzero(bad_t)[0])
        notes.append(bad_time_note(int(np.count_nonzero(bad_t)), first + 2))
        line = np.flatnonzero(~bad_t) + 2
        data = data[~bad_t]
        if data.shape[0] < 2:
            raise RawInputError(f"{notes[0]}; fewer than 2 rows left")
    sens = ~np.isfinite(data[:, 1:])
    rows = np.any(sens, axis=1)
    if np.any(rows):
        first = int(np.flatnonzero(rows)[0])
        notes.append(nonfinite_note(int(np.count_nonzero(rows)), int(np.count_nonzero(sens)), _line_no(line, first)))
    return data, line, notes


def _check_values(path: Path, placement: str, t: np.ndarray, acc: np.ndarray, gyr_dps: np.ndarray,
                  rate_hz: float | None, fin: np.ndarray | None, repair: bool = False) -> RawRecording:
    """The unit checks, the rate and the saturation levels of the values read. ``fin``: rows
    whose sensor values are all finite (None: every row), the only ones the checks look at.
    ``repair`` (analyze): an accelerometer or gyroscope that is 0 in every sample is not
    refused; its unit checks are skipped and :func:`check_plausible` finds its axes dead (a
    file of a sensor that did not record while the others did is analysed, its leg flagged)."""
    acc_f, gyr_f = (acc, gyr_dps) if fin is None else (acc[fin], gyr_dps[fin])
    dt = np.diff(t)
    norm = np.linalg.norm(acc_f, axis=1)
    gnorm = np.linalg.norm(gyr_f, axis=1)
    dead_acc, dead_gyr = not np.any(norm), not np.any(gnorm)
    if dead_acc and not repair:
        raise RawInputError(f"{path}: the accelerometer is 0 in every sample (a dead sensor, or no accelerometer data)")
    if dead_gyr and not repair:
        raise RawInputError(f"{path}: the gyroscope is 0 in every sample (a dead sensor, or no gyroscope data)")
    med = None if dead_acc else float(np.median(norm))
    if med is not None and med < 0.3 * STANDARD_GRAVITY_MPS2:
        raise RawInputError(f"{path}: accelerometer median |a| = {med:.2f}: looks like g, expected m/s^2 (acc_*_mps2)")
    if med is not None and med > MAX_MEDIAN_ACC_MPS2:
        raise RawInputError(f"{path}: accelerometer median |a| = {med:.4g}: looks like mg, cm/s^2 or raw counts, "
                            f"expected m/s^2 (acc_*_mps2; gravity is 9.81)")
    if np.percentile(gnorm, 99) > MAX_P99_GYR_DPS:
        raise RawInputError(f"{path}: |gyro| reaches {np.percentile(gnorm, 99):.4g} at the 99th percentile: looks like mdeg/s or "
                            f"raw counts, expected deg/s (gyr_*_dps)")
    # walking or running turns a foot or shank faster than ~100 deg/s at the 99th percentile;
    # the same motion in rad/s stays below ~35 (2000 deg/s): below 40 while moving is rad/s
    if not dead_gyr and np.std(norm) > 2.0 and np.percentile(gnorm, 99) < 40.0:
        raise RawInputError(
            f"{path}: the sensor moves (|a| varies by {np.std(norm):.1f} m/s^2) but |gyro| stays below "
            f"{np.percentile(gnorm, 99):.1f}: looks like rad/s, expected deg/s (gyr_*_dps)"
        )
    est = float(1.0 / np.median(dt))
    if rate_hz is not None and abs(rate_hz / est - 1.0) > RATE_TOLERANCE:
        raise RawInputError(f"{path}: sample rate {rate_hz:g} Hz given, but time_s advances by a median "
                            f"{1e3 / est:.4g} ms per sample ({est:.4g} Hz)")
    rate = float(rate_hz) if rate_hz is not None else est
    a_sat, g_sat = saturation_level(acc_f), saturation_level(gyr_f)
    notes = [*_rate_notes(t, est), *_saturation_notes("accelerometer", acc_f, a_sat), *_saturation_notes("gyroscope", gyr_f, g_sat)]
    # contiguous copies of the time and acceleration columns (views of the (n, 7) table would
    # make every block the core reads a strided array: ~4x slower reductions and copies there)
    return RawRecording(path, placement, np.ascontiguousarray(t), np.ascontiguousarray(acc), gyr_dps * RAD_PER_DEG, rate,
                        a_sat, None if g_sat is None else g_sat * RAD_PER_DEG, notes)


def _saturation_notes(sensor: str, values: np.ndarray, level: float | None) -> list[str]:
    """A note when :func:`saturation_level` found the sensor's full scale in the data."""
    if level is None:
        return []
    n = int(np.count_nonzero(np.any(np.abs(values) >= level * (1 - 1e-6), axis=1)))
    return [saturation_note(sensor, level, n, values.shape[0])]


# The notes of the repairing read, worded here once for the whole-file reader and for the
# streaming one (runform.offline.stream), whose output must be the same byte for byte.

def bad_time_note(rows: int, line: int) -> str:
    return f"{rows} row(s) with an empty or non-finite time_s (first at line {line}): dropped"


def nonfinite_note(rows: int, values: int, line: int) -> str:
    return (f"{rows} sample(s) with an empty, NaN or infinite sensor value ({values} value(s), first at line {line}): "
            f"dropped by the core as a gap (dropout_samples)")


def repeat_note(rows: int, line: int, time_s: float) -> str:
    return f"{rows} row(s) repeat the previous row's time_s (first at line {line}, time_s {time_s}): the later row is dropped"


def saturation_note(sensor: str, level: float, n: int, total: int) -> str:
    """``sensor``: ``accelerometer`` (``level`` m/s^2) or ``gyroscope`` (deg/s)."""
    if sensor == "accelerometer":
        shown, flag = f"{level:.4g} m/s^2 ({level / STANDARD_GRAVITY_MPS2:.3g} g)", "clipped_acc"
    else:
        shown, flag = f"{level:.4g} deg/s", "clipped_gyr"
    return (f"{sensor} saturates at {shown} in {n} of {total} samples ({100 * n / total:.1f} %): "
            f"strides with clipped samples are flagged {flag} and not valid")


def dead_axis_note(name: str, value: float, samples: int, leg: str) -> str:
    return (f"{name} is {value:g} in all {samples} samples while the sensor moves: a dead or disconnected axis; "
            f"every {leg} stride is flagged dead_channel and not valid")


def _rate_notes(t: np.ndarray, rate_hz: float) -> list[str]:
    """A note when the sample rate changes within the file: the median time step of chunks of
    RATE_CHUNK samples, against the file's (gaps do not move a chunk's median)."""
    dt = np.diff(t)
    n = dt.size // RATE_CHUNK * RATE_CHUNK
    if n == 0:
        return []
    chunk_rate = 1.0 / np.median(dt[:n].reshape(-1, RATE_CHUNK), axis=1)
    return rate_change_notes(chunk_rate, rate_hz, lambda i: float(t[i * RATE_CHUNK]))


def rate_change_notes(chunk_rate: np.ndarray, rate_hz: float, chunk_start_s) -> list[str]:
    """The note of :func:`_rate_notes` from the rates of the chunks of RATE_CHUNK samples;
    ``chunk_start_s(i)``: the time of chunk i's first sample. Worded here once for the
    whole-file reader and the streaming one (runform.offline.stream)."""
    off = np.flatnonzero(np.abs(chunk_rate / rate_hz - 1.0) > RATE_CHANGE)
    if off.size == 0:
        return []
    i = int(off[0])
    return [f"sample rate changes within the file: {rate_hz:.4g} Hz overall, {chunk_rate[i]:.4g} Hz from "
            f"time_s {chunk_start_s(i):.3f} ({off.size} of {chunk_rate.size} chunks of {RATE_CHUNK} samples "
            f"off by more than {RATE_CHANGE:.0%}); analysed at {rate_hz:.4g} Hz"]


def check_plausible(rec: RawRecording) -> None:
    """Refuse what cannot be a recording in the documented units, beyond what
    :func:`read_raw_csv` checks: a sample rate outside PLAUSIBLE_RATE_HZ (time_s in ms or us).
    A channel that never changes while the sensor moves (a dead or disconnected axis) is not
    refused: it goes to ``rec.dead_channels`` with a note (run_core flags its leg's strides
    ``dead_channel``, not valid). Used by ``runform analyze``; not by export, which must write
    what was recorded whatever it is."""
    lo, hi = PLAUSIBLE_RATE_HZ
    if rec.time_s.size >= 2 and not lo <= rec.rate_hz <= hi:
        step = (rec.time_s[-1] - rec.time_s[0]) / (rec.time_s.size - 1)
        hint = "; is time_s in ms?" if rec.rate_hz < lo else "; is time_s in another unit than s?"
        raise RawInputError(f"{rec.path}: sample rate {rec.rate_hz:.4g} Hz (time_s advances by {step:.4g} per sample), "
                            f"expected {lo:g}-{hi:g} Hz{hint}")
    acc, gyr = rec.acc_mps2, rec.gyr_rps * DEG_PER_RAD
    fin = np.all(np.isfinite(acc), axis=1) & np.all(np.isfinite(gyr), axis=1)
    if not fin.all():  # the repairing read's missing values: the checks look at the others
        acc, gyr = acc[fin], gyr[fin]
    acc_norm = np.linalg.norm(acc, axis=1)
    moves = np.std(acc_norm) > 0.5 or np.percentile(np.linalg.norm(gyr, axis=1), 99) > 40.0
    if not moves:
        return
    leg = rec.placement.split("_")[0]
    for k, name in enumerate(RAW_COLUMNS[1:]):
        col = acc[:, k] if k < 3 else gyr[:, k - 3]
        if name not in rec.dead_channels and col[0] == col[-1] and np.all(col == col[0]):
            rec.dead_channels.append(name)
            rec.notes.append(dead_axis_note(name, col[0], col.size, leg))
