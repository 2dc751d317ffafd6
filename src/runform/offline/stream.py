"""Reading a raw CSV for ``runform analyze`` in memory that does not grow with the recording.

One pass parses the text in chunks of CHUNK_BYTES, makes the checks and repairs of
:func:`runform.offline.raw.read_raw_csv` (``repair=True``) chunk by chunk and keeps what the
whole-file facts need: counts (repairs, values on either side of the unit checks' thresholds),
extremes, the few values at a channel's maximum, the spread of |a|. The rows go to a temporary
file as float64 (``spool``, 56 bytes per sample, deleted by :meth:`SpooledRecording.close` or
when the recording is collected; no file stays open between the read and the analysis, so
many sessions do not run out of descriptors). The time column goes to a file of its own, from
which the exact median time step (the rate), the rate notes and the gaps are taken in a few
cheap passes. The core then reads the rows back in order (:class:`SpoolCursor`).

Identity with the whole-file reader: every number the analysis uses (rate, saturation levels,
the notes' counts and lines, the samples) is computed exactly. The unit checks (median |a|,
99th percentile of |gyro|, spread of |a|) are decided from the counts only when the order
statistics are clearly on one side of the threshold; a file for which they are not, or that
any check would refuse, or whose text does not parse even with empty values allowed, is read
again by the whole-file reader, which gives the same result or the same message as before
(such files are bad input; their memory was not the point). See docs/data-format.md.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..core.schema import RAW_COLUMNS
from ..units import DEG_PER_RAD, RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from . import raw as _raw
from .raw import RawRecording

#: text parsed per chunk (completed to the end of its last line): ~40,000 rows, 2.2 MB as float64.
#: Parsed from a StringIO of the block, which is faster than loadtxt on the whole file (0.40 vs
#: 0.50 s for 240,000 rows) and than on a list of lines (0.55 s)
CHUNK_BYTES = 4 << 20
#: rows read back per chunk from the spool (0.9 MB, a buffer per sensor while the core reads)
READ_ROWS = 256 * 64
#: the unit checks compare order statistics of |a| and |gyro| with thresholds: counted here
#: against each threshold moved by this share up and down, so a norm a few ulp off the
#: whole-file reader's (or check_plausible's deg/s -> rad/s -> deg/s) cannot change a decision
_MARGIN = 1e-9
#: a selection bin holding at most this many values is sorted; a fuller one is split again
_SELECT_MAX = 1 << 16


class _Fallback(Exception):
    """The streaming pass cannot vouch for the file: read it with the whole-file reader."""


@dataclass
class SpooledRecording:
    """One sensor's samples in a temporary file, with what :func:`runform.offline.analyze.run_core`
    needs of the whole file (the same attributes as :class:`RawRecording` but the arrays)."""

    path: Path
    placement: str
    rate_hz: float
    samples: int
    t_first: float
    t_last: float
    spool: Path  # the rows (n, 7: time_s, acc m/s^2, gyr deg/s) as float64
    acc_range_mps2: float | None = None
    gyr_range_rps: float | None = None
    notes: list[str] = field(default_factory=list)
    dead_channels: list[str] = field(default_factory=list)
    #: time steps above GAP_FACTOR periods, in file order (run_core's gaps), and the longest step
    big_steps: np.ndarray | None = None
    longest_step: float = 0.0

    def __post_init__(self) -> None:
        self._remove = weakref.finalize(self, _unlink, str(self.spool))

    def cursor(self) -> "SpoolCursor":
        return SpoolCursor(self)

    def close(self) -> None:
        """Delete the temporary file."""
        self._remove()


def close_recordings(recs) -> None:
    """Delete the temporary files of the spooled recordings among ``recs`` (a whole-file
    :class:`RawRecording` has none)."""
    for r in recs:
        if isinstance(r, SpooledRecording):
            r.close()


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


class SpoolCursor:
    """Reads a spooled recording's rows in order: :meth:`take` the rows before a time."""

    def __init__(self, rec: SpooledRecording) -> None:
        self.rec = rec
        self.file = open(rec.spool, "rb")  # closed when every row is read
        self.t = np.empty(0)
        self.acc = np.empty((0, 3))
        self.gyr = np.empty((0, 3))
        self.left = rec.samples  # rows not yet read from the spool
        self.prev_t: float | None = None  # the last row taken
        self._buf = np.empty((min(READ_ROWS, rec.samples), 7))  # reused: its rows are copied out

    def _read(self) -> bool:
        k = min(READ_ROWS, self.left)
        if k <= 0:
            return False
        x = self._buf[:k]
        if self.file.readinto(memoryview(x).cast("B")) != x.nbytes:
            raise OSError(f"{self.rec.spool}: short read of the spooled rows")
        self.left -= k
        if self.left == 0:
            self.file.close()
        # contiguous columns, the rows not yet taken first (as the whole-file reader's arrays)
        self.t = np.concatenate([self.t, x[:, 0]])
        self.acc = np.concatenate([self.acc, x[:, 1:4]])
        g = np.multiply(x[:, 4:7], RAD_PER_DEG)
        self.gyr = np.concatenate([self.gyr, g]) if self.gyr.size else g
        return True

    def take(self, edge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None]:
        """Rows with time < edge: (t, acc m/s^2, gyr rad/s, time of the row before them or None)."""
        while (self.t.size == 0 or self.t[-1] < edge) and self._read():
            pass
        i1 = int(np.searchsorted(self.t, edge, side="left"))
        prev = self.prev_t
        t, a, g = self.t[:i1], self.acc[:i1], self.gyr[:i1]
        if i1:
            self.prev_t = float(t[-1])
            self.t, self.acc, self.gyr = self.t[i1:], self.acc[i1:], self.gyr[i1:]
        return t, a, g, prev

    def next_time(self) -> float | None:
        if self.t.size == 0 and not self._read():
            return None
        return float(self.t[0])


def read_streaming(path: Path, placement: str, rate_hz: float | None, gap_factor: float) -> SpooledRecording | RawRecording:
    """:func:`runform.offline.raw.read_raw_csv` (``repair=True``) followed by
    :func:`runform.offline.raw.check_plausible`, with the rows spooled to a temporary file; a
    file the streaming pass cannot vouch for is read by those functions instead (a
    :class:`RawRecording`, or their RawInputError). ``gap_factor``: a time step above this many
    periods is a gap (runform.offline.analyze.GAP_FACTOR)."""
    path = Path(path)
    try:
        return _stream(path, placement, rate_hz, gap_factor)
    except _Fallback:
        rec = _raw.read_raw_csv(path, placement, rate_hz, repair=True)
        _raw.check_plausible(rec)
        return rec


def _stream(path: Path, placement: str, rate_hz: float | None, gap_factor: float) -> SpooledRecording:
    if placement is None or rate_hz is not None and not (np.isfinite(rate_hz) and rate_hz > 0):
        raise _Fallback
    try:
        f = open(path, encoding="utf-8-sig")
    except OSError:
        raise _Fallback from None
    fd, name = tempfile.mkstemp(prefix="runform-spool-")
    spool = os.fdopen(fd, "w+b")
    tfile = tempfile.TemporaryFile(prefix="runform-time-")
    done = False
    try:
        with f:
            header = [h.strip() for h in f.readline().split(",")]
            if tuple(header) == RAW_COLUMNS:
                order = None
            elif sorted(header) == sorted(RAW_COLUMNS):
                order = [header.index(c) for c in RAW_COLUMNS]
            else:
                raise _Fallback
            st = _Scan()
            while True:
                text = f.read(CHUNK_BYTES)
                if not text:
                    break
                st.chunk(_parse(text + f.readline()), order, spool, tfile)
        spool.close()
        rec = st.finish(path, placement, rate_hz, gap_factor, Path(name), tfile)
        done = True
        return rec
    except UnicodeDecodeError:
        raise _Fallback from None
    finally:
        spool.close()
        tfile.close()
        if not done:
            _unlink(name)


def _parse(text: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            data = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
        except ValueError:
            try:
                data = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, converters=_raw._empty_as_nan)
            except ValueError:
                raise _Fallback from None
    if data.shape[0] and data.shape[1] != len(RAW_COLUMNS):
        raise _Fallback
    return data.reshape(-1, len(RAW_COLUMNS))


class _Saturation:
    """The exact :func:`runform.offline.raw.saturation_level` of a channel group, chunk by
    chunk: the running maximum of the rows' largest |value| and the rows near it."""

    def __init__(self) -> None:
        self.m = -np.inf
        self.values = np.empty(0)
        self.counts = np.empty(0, np.int64)

    def add(self, v: np.ndarray) -> None:
        if v.shape[0] == 0:
            return
        a = np.abs(v)
        cm = float(a.max())
        if cm < self.m * (1 - 1e-6):  # no row reaches the values kept (the usual chunk)
            return
        self.m = max(self.m, cm)
        thr = self.m * (1 - 1e-6)
        r = a[np.any(a >= thr, axis=1)].max(axis=1)
        u, c = np.unique(r, return_counts=True)
        vals = np.concatenate([self.values, u])
        cnts = np.concatenate([self.counts, c])
        keep = vals >= thr
        self.values, self.counts = vals[keep], cnts[keep]

    def level(self, n: int, min_count: int = 5, min_share: float = 1e-4) -> tuple[float | None, int]:
        """(the level or None, rows at it) as saturation_level and _saturation_notes count them."""
        if n == 0 or self.m <= 0:
            return None, 0
        hits = int(self.counts[self.values >= self.m * (1 - 1e-6)].sum())
        return (self.m if hits >= max(min_count, min_share * n) else None), hits


class _Scan:
    """What the whole-file checks need, gathered chunk by chunk."""

    def __init__(self) -> None:
        self.parsed = 0  # rows parsed (the file line of parsed row i is i + 2)
        self.rows = 0  # rows kept
        self.bad_t = 0
        self.bad_t_line = 0
        self.nonfin_rows = 0
        self.nonfin_values = 0
        self.nonfin_line = 0
        self.dups = 0
        self.dup_line = 0
        self.dup_t = 0.0
        self.last_t: float | None = None  # time of the last row after the dropped times
        self.t_first = 0.0
        self.finite = 0  # rows with six finite sensor values
        self.acc_sat, self.gyr_sat = _Saturation(), _Saturation()
        g, e = STANDARD_GRAVITY_MPS2, _MARGIN
        #: (threshold, strict): how many |a| (|gyro| deg/s) are < threshold (strict) or <= it
        self.acc_thr = [(0.3 * g * (1 + e), True), (_raw.MAX_MEDIAN_ACC_MPS2 * (1 - e), False)]
        self.gyr_thr = [(_raw.MAX_P99_GYR_DPS * (1 - e), False), (40.0 * (1 + e), True), (40.0 * (1 + e), False),
                        (40.0 * (1 - e), True)]
        self.acc_counts = [0] * len(self.acc_thr)
        self.gyr_counts = [0] * len(self.gyr_thr)
        self.norm_mean = 0.0
        self.norm_m2 = 0.0
        self.first_vals: np.ndarray | None = None  # the first finite row (acc, gyr deg/s via rad/s)
        self.constant = np.ones(6, bool)

    def chunk(self, data: np.ndarray, order, spool: BinaryIO, tfile: BinaryIO) -> None:
        if order is not None:
            data = data[:, order]
        n0 = data.shape[0]
        line = np.arange(self.parsed, self.parsed + n0) + 2
        self.parsed += n0
        if n0 == 0:
            return
        if not np.all(np.isfinite(data)):
            bad_t = ~np.isfinite(data[:, 0])
            if np.any(bad_t):
                if not self.bad_t:
                    self.bad_t_line = int(line[np.flatnonzero(bad_t)[0]])
                self.bad_t += int(np.count_nonzero(bad_t))
                data, line = data[~bad_t], line[~bad_t]
            sens = ~np.isfinite(data[:, 1:])
            rows = np.any(sens, axis=1)
            if np.any(rows):
                if not self.nonfin_rows:
                    self.nonfin_line = int(line[np.flatnonzero(rows)[0]])
                self.nonfin_rows += int(np.count_nonzero(rows))
                self.nonfin_values += int(np.count_nonzero(sens))
        if data.shape[0] == 0:
            return
        if np.any(np.isfinite(data[:, 1:]) & (np.abs(data[:, 1:]) > _raw._LIMITS)):
            raise _Fallback
        t = data[:, 0]
        prev = np.concatenate([[self.last_t if self.last_t is not None else np.nan], t[:-1]])
        if self.last_t is None:
            self.t_first = float(t[0])
        self.last_t = float(t[-1])
        dup = t == prev
        if np.any(dup):
            if not self.dups:
                i = int(np.flatnonzero(dup)[0])
                self.dup_line, self.dup_t = int(line[i]), t[i]
            self.dups += int(np.count_nonzero(dup))
            data = data[~dup]
            t = data[:, 0]
            prev = prev[~dup]
        if np.any(t <= prev):  # NaN (the first row) compares False
            raise _Fallback  # time going back: refused, with the line, by the whole-file reader
        spool.write(memoryview(np.ascontiguousarray(data)).cast("B"))
        tfile.write(memoryview(np.ascontiguousarray(t)).cast("B"))
        self.rows += data.shape[0]
        acc, gyr = data[:, 1:4], data[:, 4:7]
        fin = np.all(np.isfinite(data[:, 1:7]), axis=1)
        if not fin.all():
            acc, gyr = acc[fin], gyr[fin]
        k = acc.shape[0]
        if k == 0:
            return
        self.finite += k
        self.acc_sat.add(acc)
        self.gyr_sat.add(gyr)
        norm = np.sqrt(np.einsum("ij,ij->i", acc, acc))  # (a few ulp from np.linalg.norm's: see _MARGIN)
        gnorm = np.sqrt(np.einsum("ij,ij->i", gyr, gyr))
        for i, (thr, strict) in enumerate(self.acc_thr):
            self.acc_counts[i] += int(np.count_nonzero(norm < thr if strict else norm <= thr))
        for i, (thr, strict) in enumerate(self.gyr_thr):
            self.gyr_counts[i] += int(np.count_nonzero(gnorm < thr if strict else gnorm <= thr))
        # spread of |a| (Chan et al.'s pairwise update): the checks compare it with 0.5 and 2.0
        m, n_old = float(np.mean(norm)), self.finite - k
        m2 = float(np.sum((norm - m) ** 2))
        d = m - self.norm_mean
        self.norm_mean += d * k / self.finite
        self.norm_m2 += m2 + d * d * n_old * k / self.finite
        if self.first_vals is None:  # as check_plausible sees the gyroscope: deg/s -> rad/s -> deg/s
            self.first_vals = np.concatenate([acc[0], gyr[0] * RAD_PER_DEG * DEG_PER_RAD])
        for c in np.flatnonzero(self.constant):  # (after the first chunk, usually none is left)
            col = acc[:, c] if c < 3 else gyr[:, c - 3] * RAD_PER_DEG * DEG_PER_RAD
            self.constant[c] = bool(np.all(col == self.first_vals[c]))

    def finish(self, path: Path, placement: str, rate_hz: float | None, gap_factor: float, spool: Path,
               tfile: BinaryIO) -> SpooledRecording:
        n = self.rows
        if n < 2 or self.parsed < 2:
            raise _Fallback
        if self.dups and self.dups > _raw.MAX_REPEAT_SHARE * (n + self.dups):
            raise _Fallback
        if self.finite < 2:
            raise _Fallback
        notes = []
        if self.bad_t:
            notes.append(_raw.bad_time_note(self.bad_t, self.bad_t_line))
        if self.nonfin_rows:
            notes.append(_raw.nonfinite_note(self.nonfin_rows, self.nonfin_values, self.nonfin_line))
        if self.dups:
            notes.append(_raw.repeat_note(self.dups, self.dup_line, self.dup_t))
        nf = self.finite
        std = math.sqrt(max(self.norm_m2, 0.0) / nf)
        below_03g, upto_10g = self.acc_counts
        upto_1e4, below_40_up, upto_40_up, below_40_down = self.gyr_counts
        # np.median lies between the order statistics r0 and r1 (0-based); np.percentile(.., 99)
        # between j and j + 1, j = floor((n - 1) * 0.99), widened by one each side for its rounding
        r0, r1 = (nf - 1) // 2, nf // 2
        j0, j1 = max(math.floor((nf - 1) * 0.99) - 1, 0), min(math.floor((nf - 1) * 0.99) + 2, nf - 1)
        if self.acc_sat.m <= 0 or self.gyr_sat.m <= 0:  # a dead accelerometer or gyroscope: refused
            raise _Fallback
        # (the whole-file reader's refusals, decided here only when clear of their thresholds:
        # "x_(r) >= T" is "fewer than r + 1 values below T", "x_(r) <= T" is "r + 1 values up to T")
        if not below_03g <= r0:  # median |a| >= 0.3 g (not 'looks like g')
            raise _Fallback
        if not upto_10g >= r1 + 1:  # median |a| <= 10 g (not mg or counts)
            raise _Fallback
        if not upto_1e4 >= j1 + 1:  # 99th percentile of |gyro| <= 10,000 deg/s (not mdeg/s or counts)
            raise _Fallback
        if _near(std, 2.0):
            raise _Fallback
        if std > 2.0 and not below_40_up <= j0:  # moving and |gyro| >= 40 deg/s (not rad/s)
            raise _Fallback
        # exact rate from the time column
        est, chunk_rates, big, longest = _time_facts(tfile, n, rate_hz, gap_factor)
        if rate_hz is not None and abs(rate_hz / est - 1.0) > _raw.RATE_TOLERANCE:
            raise _Fallback
        rate = float(rate_hz) if rate_hz is not None else est
        lo, hi = _raw.PLAUSIBLE_RATE_HZ
        if not lo <= rate <= hi:
            raise _Fallback
        a_sat, a_hits = self.acc_sat.level(nf)
        g_sat, g_hits = self.gyr_sat.level(nf)
        notes += _rate_notes(chunk_rates, est, tfile)
        if a_sat is not None:
            notes.append(_raw.saturation_note("accelerometer", a_sat, a_hits, nf))
        if g_sat is not None:
            notes.append(_raw.saturation_note("gyroscope", g_sat, g_hits, nf))
        rec = SpooledRecording(path, placement, rate, n, self.t_first, self.last_t, spool, a_sat,
                               None if g_sat is None else g_sat * RAD_PER_DEG, notes)
        # check_plausible's dead axis: the sensor moves and a channel holds one value
        if _near(std, 0.5):
            raise _Fallback
        moves = std > 0.5
        if not moves:
            if upto_40_up <= j0:  # the 99th percentile of |gyro| above 40 deg/s
                moves = True
            elif not below_40_down >= j1 + 1:  # nor clearly below it: not decided here
                raise _Fallback
        if moves:
            leg = placement.split("_")[0]
            for k, name in enumerate(RAW_COLUMNS[1:]):
                if self.constant[k]:
                    rec.dead_channels.append(name)
                    rec.notes.append(_raw.dead_axis_note(name, self.first_vals[k], nf, leg))
        rec.big_steps, rec.longest_step = big, longest
        return rec


def _near(x: float, thr: float) -> bool:
    return abs(x - thr) <= 1e-6 * thr


def _read_floats(f: BinaryIO, k: int) -> np.ndarray:
    buf = np.empty(k, np.float64)
    if f.readinto(memoryview(buf).cast("B")) != 8 * k:
        raise OSError(f"spool file: short read of {k} values")
    return buf


def _read_times(tfile: BinaryIO, n: int):
    tfile.seek(0)
    left = n
    while left > 0:
        k = min(READ_ROWS, left)
        yield _read_floats(tfile, k)
        left -= k


def _steps(tfile: BinaryIO, n: int):
    """The time steps (n - 1 of them) in chunks."""
    last = None
    for t in _read_times(tfile, n):
        dt = np.diff(t) if last is None else np.diff(np.concatenate([[last], t]))
        last = t[-1]
        if dt.size:
            yield dt


def _select(chunks, n: int, ranks: list[int]) -> list[float]:
    """The exact values at ``ranks`` (0-based) of n values read by ``chunks()`` (an iterable
    factory), in a few passes of bounded memory: count the values per bin, keep the bin with
    the rank, split it again while it holds more than _SELECT_MAX values."""
    out = []
    for rank in ranks:
        lo, hi = -np.inf, np.inf
        below = 0  # values < lo
        while True:
            vals = []
            count = 0
            mn, mx = np.inf, -np.inf
            for x in chunks():
                x = x[(x >= lo) & (x <= hi)]
                count += x.size
                if x.size:
                    mn, mx = min(mn, float(x.min())), max(mx, float(x.max()))
            if mn == mx:  # every value left is the one at the rank
                out.append(mn)
                break
            if count <= _SELECT_MAX:
                for x in chunks():
                    vals.append(x[(x >= lo) & (x <= hi)])
                v = np.concatenate(vals)
                out.append(float(np.partition(v, rank - below)[rank - below]))
                break
            edges = np.linspace(mn, mx, 1025)
            hist = np.zeros(1025, np.int64)
            for x in chunks():
                x = x[(x >= lo) & (x <= hi)]
                hist += np.bincount(np.clip(np.searchsorted(edges, x, side="right") - 1, 0, 1023), minlength=1025)
            cum = below + np.cumsum(hist)
            b = int(np.searchsorted(cum, rank, side="right"))
            new_below = below + (int(hist[:b].sum()))
            # the bin [edges[b], edges[b + 1]) (the last bin includes mx); values are kept by the
            # same searchsorted rule in the next pass through lo/hi below
            lo_new = edges[b]
            hi_new = np.nextafter(edges[b + 1], -np.inf) if b < 1023 else mx
            lo, hi, below = lo_new, hi_new, new_below
    return out


def _median_exact(chunks, n: int) -> float:
    """np.median of n values (the mean of the middle two for even n)."""
    if n % 2:
        return _select(chunks, n, [n // 2])[0]
    a, b = _select(chunks, n, [n // 2 - 1, n // 2])
    return float(np.mean(np.array([a, b])))


def _time_facts(tfile: BinaryIO, n: int, rate_hz: float | None, gap_factor: float):
    """The rate from the median time step, the rate chunks' medians, and, at the rate used,
    the gap steps and the longest step."""
    med = _median_exact(lambda: _steps(tfile, n), n - 1)
    est = float(1.0 / med)
    rate = float(rate_hz) if rate_hz is not None else est
    limit = gap_factor / rate
    big, chunk_rates, longest = [], [], -np.inf
    carry = np.empty(0)
    for dt in _steps(tfile, n):
        big.append(dt[dt > limit])
        longest = max(longest, float(dt.max()))
        carry = np.concatenate([carry, dt])
        m = carry.size // _raw.RATE_CHUNK * _raw.RATE_CHUNK
        if m:
            chunk_rates.append(1.0 / np.median(carry[:m].reshape(-1, _raw.RATE_CHUNK), axis=1))
            carry = carry[m:]
    rates = np.concatenate(chunk_rates) if chunk_rates else np.empty(0)
    return est, rates, np.concatenate(big), longest


def _rate_notes(chunk_rate: np.ndarray, rate_hz: float, tfile: BinaryIO) -> list[str]:
    """raw._rate_notes from the chunks' rates (the time of a chunk's first sample read back)."""
    if chunk_rate.size == 0:
        return []

    def chunk_start_s(i: int) -> float:
        tfile.seek(8 * i * _raw.RATE_CHUNK)
        return float(_read_floats(tfile, 1)[0])

    return _raw.rate_change_notes(chunk_rate, rate_hz, chunk_start_s)
