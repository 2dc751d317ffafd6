"""Run the gait core on recordings and write ``strides.csv`` + ``summary.json``.

Inputs: session directories (every ``raw_<placement>.csv`` inside; a directory with only some
placements is fine) or raw CSV files (together one session). Every input is read and checked
before anything is written; outputs are written to a temporary file and renamed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..core.params import CoreParams, SensorSpec
from ..core.processor import SessionProcessor
from ..core.schema import STRIDE_COLUMNS
from ..imu_file import NO_CORRECTION, ImuEntry, ImuFileError, corrections_for, from_recorded, load_imu_option
from ..placements import PLACEMENTS
from ..units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2
from .raw import RawInputError, RawRecording, placement_from_name
from .stream import SpooledRecording, close_recordings, read_streaming

#: a recording as run_core takes it: read whole (read_raw_csv) or spooled (read_streaming)
Recording = RawRecording | SpooledRecording

#: samples are fed to the core in blocks of this many seconds, all sensors interleaved in time;
#: after each round of blocks SessionProcessor.advance says every stream is in up to the block's
#: edge, so a foot pushed a block ahead of the other streams is not taken for a silent sensor
#: (the processor's max-wait rule). Longer blocks: fewer per-push calls (4 s vs 1 s: ~+25 %
#: offline); the shank's raw ring (ShankParams.buffer_s = 8 s) must still hold a stride's
#: window when its shank is pushed a block ahead of it
BLOCK_S = 4.0
#: finished strides computed together (SessionProcessor ``batch_strides``): the per-stride work is
#: numpy call overhead on ~300-sample arrays, so one call over many strides is what makes it fast
STRIDE_BATCH = 64
#: a time step larger than this many nominal sample periods is a gap
GAP_FACTOR = 2.5


def sessions_from_inputs(inputs: Iterable[str | Path], placement: str | None = None) -> list[tuple[str, list[Path]]]:
    """(name, raw files) per session: each directory is one session, loose files together one."""
    sessions: list[tuple[str, list[Path]]] = []
    loose: list[Path] = []
    for inp in inputs:
        p = Path(inp)
        if p.is_dir():
            files = sorted(f for f in p.glob("raw_*.csv") if placement_from_name(f))
            if placement:
                files = [f for f in files if placement_from_name(f) == placement]
            if not files:
                raise RawInputError(f"{p}: no raw_<placement>.csv files" + (f" for {placement}" if placement else "") + _what_is_there(p))
            sessions.append((p.name, files))
        elif p.is_file():
            named = placement_from_name(p)
            if placement and named and named != placement:
                raise RawInputError(f"{p}: the file name says {named}, --placement says {placement}")
            loose.append(p)
        else:
            raise RawInputError(f"{p}: no such file or directory")
    if loose:
        sessions.append(("session", loose))
    return sessions


def _what_is_there(d: Path) -> str:
    """For the message about a directory without raw files: its CSV files (a misspelt
    placement, another device's names) or its subdirectories that are sessions (a folder of
    sessions given instead of the sessions)."""
    csvs = sorted(f.name for f in d.glob("*") if f.suffix.lower() == ".csv")
    subs = sorted(s.name for s in d.iterdir() if s.is_dir() and any(placement_from_name(f) for f in s.glob("raw_*.csv")))
    say = ""
    if csvs:
        say += f" (CSV files there: {', '.join(csvs[:5])}{' ...' if len(csvs) > 5 else ''}; placements: {', '.join(PLACEMENTS)})"
    if subs:
        say += (f"; {len(subs)} of its subdirectories are sessions ({', '.join(subs[:3])}{' ...' if len(subs) > 3 else ''}): "
                f"give them as inputs, e.g. {d / '*'}")
    return say


class _ArrayCursor:
    """A whole-file recording's rows in order, as :class:`runform.offline.stream.SpoolCursor`."""

    def __init__(self, rec: RawRecording) -> None:
        self.rec = rec
        self.i = 0

    def take(self, edge: float):
        r, i0 = self.rec, self.i
        i1 = int(np.searchsorted(r.time_s, edge, side="left"))
        if i1 <= i0:
            return r.time_s[:0], r.acc_mps2[:0], r.gyr_rps[:0], None
        self.i = i1
        return r.time_s[i0:i1], r.acc_mps2[i0:i1], r.gyr_rps[i0:i1], float(r.time_s[i0 - 1]) if i0 > 0 else None

    def next_time(self) -> float | None:
        return float(self.rec.time_s[self.i]) if self.i < self.rec.time_s.size else None


def _cursor(rec: Recording):
    return rec.cursor() if isinstance(rec, SpooledRecording) else _ArrayCursor(rec)


def _span(rec: Recording) -> tuple[float, float, int]:
    """(first time_s, last time_s, samples)."""
    if isinstance(rec, SpooledRecording):
        return rec.t_first, rec.t_last, rec.samples
    return float(rec.time_s[0]), float(rec.time_s[-1]), int(rec.time_s.size)


def sensor_spec(rec: Recording) -> SensorSpec:
    """The sensor's spec: its rate, and the full scale where the data show saturation
    (otherwise the defaults of :class:`SensorSpec`), so clipped samples are flagged."""
    kw: dict[str, float] = {"rate_hz": rec.rate_hz}
    if rec.acc_range_mps2 is not None:
        kw["accel_range_g"] = rec.acc_range_mps2 / STANDARD_GRAVITY_MPS2
    if rec.gyr_range_rps is not None:
        kw["gyro_range_dps"] = rec.gyr_range_rps * DEG_PER_RAD
    return SensorSpec(**kw)


def session_json_beside(files: Iterable[Path]) -> dict[str, Any]:
    """The ``session.json`` beside the raw files (a recorded or exported session), or {}."""
    files = list(files)
    if not files:
        return {}
    try:
        doc = json.loads((Path(files[0]).parent / "session.json").read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def session_addresses(files: Iterable[Path]) -> dict[str, str | None]:
    """placement -> sensor address from the session.json beside the raw files; {} without one."""
    sensors = session_json_beside(files).get("sensors", [])
    if not isinstance(sensors, list):
        return {}
    return {s["placement"]: s.get("address") for s in sensors if isinstance(s, dict) and s.get("placement")}


#: the sensors' own corrections of one session: (where they come from, placement -> entry)
ImuChoice = tuple[str | None, dict[str, ImuEntry]]


def imu_for_session(recs: list[Recording], imu_path: str | Path | None) -> ImuChoice:
    """Where this session's sensor corrections come from and the entries (placement -> entry):
    the file ``imu_path`` (``runform imu-calibrate``), each entry checked against the sensor's
    address in session.json; without one, the corrections the session recorded (its
    session.json ``imu_calibration``: re-analysis corrects the raw samples as the live session
    did); ``imu_path == "none"`` or neither: (None, {}). Raises :class:`RawInputError` when the
    file or the recorded corrections cannot be used."""
    if imu_path is not None and str(imu_path) == NO_CORRECTION:
        return None, {}
    files = [Path(r.path) for r in recs]
    try:
        entries = load_imu_option(imu_path)
        if entries is not None:
            addresses = session_addresses(files)
            return str(imu_path), corrections_for(entries, {r.placement: addresses.get(r.placement) for r in recs}, imu_path)
        recorded = session_json_beside(files).get("imu_calibration")
        if not recorded:
            return None, {}
        origin, entries = from_recorded(recorded, f"{files[0].parent / 'session.json'} (imu_calibration)")
        return origin, {r.placement: entries[r.placement] for r in recs if r.placement in entries}
    except ImuFileError as e:
        raise RawInputError(str(e)) from None


def run_core(recs: list[Recording], params: CoreParams | None = None,
             imu: ImuChoice | None = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Stride rows and summary of one session's recordings (read whole or spooled: the same
    blocks on the same grid of edges either way). ``imu``: the sensors' own corrections
    (:func:`imu_for_session`); None: those the session recorded, if any."""
    imu_from, imu_used = imu if imu is not None else imu_for_session(recs, None)
    specs = {r.placement: sensor_spec(r) for r in recs}
    specs = {p: replace(s, imu=imu_used[p].correction) if p in imu_used else s for p, s in specs.items()}
    proc = SessionProcessor(specs, params, batch_strides=STRIDE_BATCH)
    for leg in sorted({r.placement.split("_")[0] for r in recs if r.dead_channels}):
        proc.mark_leg(leg, "dead_channel")  # the core cannot see a constant axis sample by sample
    t0 = min(_span(r)[0] for r in recs)
    t1 = max(_span(r)[1] for r in recs)
    cursors = {r.placement: _cursor(r) for r in recs}
    rows: list[dict[str, Any]] = []

    def take(outs):
        rows.extend(o.row for o in outs if hasattr(o, "row"))

    edge = t0
    while edge <= t1:
        edge += BLOCK_S
        for r in recs:
            t, acc, gyr, prev_t = cursors[r.placement].take(edge)
            if t.size == 0:
                continue
            # split at gaps so the core knows samples are missing
            big = np.flatnonzero(np.diff(t) > GAP_FACTOR / r.rate_hz) + 1
            prev_gap = prev_t is not None and (t[0] - prev_t) > GAP_FACTOR / r.rate_hz
            for k, (s0, s1) in enumerate(zip([0, *big], [*big, t.size])):
                take(proc.push(r.placement, t[s0:s1], acc[s0:s1], gyr[s0:s1], gap_before=prev_gap if k == 0 else True))
        take(proc.advance(edge))
        # no stream has a sample in the next blocks (every sensor in a gap, or files whose
        # time_s do not overlap): go to the block of the next sample on the same grid of edges
        # (a file in epoch seconds beside one from 0 was 4e8 empty blocks: a hang)
        nxt = min((x for x in (c.next_time() for c in cursors.values()) if x is not None), default=None)
        if nxt is not None and nxt >= edge + BLOCK_S:
            edge += math.floor((nxt - edge) / BLOCK_S) * BLOCK_S
            take(proc.advance(edge))
    take(proc.finish())
    rows.sort(key=lambda row: (row["ic_time_s"], row["leg"]))
    summary = proc.summary()
    summary["inputs"] = [{"file": str(r.path), "placement": r.placement, "samples": _span(r)[2], "rate_hz": r.rate_hz,
                          "acc_saturation_mps2": r.acc_range_mps2,
                          "gyr_saturation_dps": None if r.gyr_range_rps is None else r.gyr_range_rps * DEG_PER_RAD,
                          **_gaps(r), "notes": [*r.notes, *_gap_notes(r), *_overlap_notes(r, recs), *_side_notes(r, rows),
                                                   *_footless_notes(r, recs), *_imu_notes(r, imu_used, imu_from)]}
                         for r in recs]
    if imu_from is not None:
        summary["imu_calibration"] = {p: e.summary(imu_from) for p, e in sorted(imu_used.items())}
    return rows, summary


def _imu_notes(rec: Recording, imu: dict[str, ImuEntry], imu_from: str | None) -> list[str]:
    if imu_from is None or rec.placement in imu:
        return []
    return [f"no IMU calibration for {rec.placement} ({imu_from}): its readings are used as they come"]


#: a foot sensor is noted as maybe on the other foot when at least this share of its leg's
#: valid strides (and MIRROR_MIN_STRIDES of them) peak in eversion in the last MIRROR_LATE of
#: stance: a foot rolls in (everts) early in stance and out at push-off, so a foot read with
#: the other foot's mirroring has its 'peak eversion' at toe-off. Measured (valid strides): 0-6 %
#: for every foot of gaitmap, the four pyshoe trials and the virtual runner; with left and right
#: swapped 94-100 % (gaitmap), 50-100 % (pyshoe, read as a left foot). Not caught: a foot whose
#: shank is swapped with it (virtual runner: the mirrored rearfoot angle peaks at contact instead,
#: 3-34 %) and the virtual runner's feet swapped alone (peak at contact too: 0 % late). A 'peak
#: at contact, no excursion' rule would catch those but also 34 % of pyshoe 18-11's right strides;
#: hugadb has no valid strides
MIRROR_LATE = 0.8
MIRROR_SHARE = 0.3
MIRROR_MIN_STRIDES = 5


def _side_notes(rec: Recording, rows: list[dict[str, Any]]) -> list[str]:
    if not rec.placement.endswith("_foot"):
        return []
    leg = rec.placement.split("_")[0]
    frac = [r["time_to_peak_eversion_ms"] / r["contact_time_ms"] for r in rows
            if r["leg"] == leg and r.get("valid") and isinstance(r.get("time_to_peak_eversion_ms"), float)
            and isinstance(r.get("contact_time_ms"), float) and r["contact_time_ms"] > 0
            and np.isfinite(r["time_to_peak_eversion_ms"])]
    if len(frac) < MIRROR_MIN_STRIDES:
        return []
    late = float(np.mean(np.asarray(frac) > MIRROR_LATE))
    if late < MIRROR_SHARE:
        return []
    return [f"peak eversion in the last {100 - 100 * MIRROR_LATE:.0f} % of stance in {100 * late:.0f} % of the {len(frac)} "
            f"valid {leg} strides (a foot everts early in stance): is this sensor on the other foot (left and right "
            f"swapped), or are its axes not right-handed? Its eversion numbers would be mirrored"]


def _footless_notes(rec: Recording, recs: list[Recording]) -> list[str]:
    """A shank without its leg's foot sensor gives no strides (the events come from the foot):
    said, instead of a bare 'left 0 strides'."""
    leg = rec.placement.split("_")[0]
    if rec.placement.endswith("_shank") and not any(r.placement == f"{leg}_foot" for r in recs):
        return [f"no {leg}_foot file in the session: strides are found from the foot sensor, so this shank gives none"]
    return []


def _overlap_notes(rec: Recording, recs: list[Recording]) -> list[str]:
    """A note when a file's time_s range meets none of the other files' (another time base:
    its strides are not paired with the other sensors' and left/right are compared across time)."""
    others = [r for r in recs if r is not rec]
    t0, t1, _ = _span(rec)
    if not others or any(_span(r)[0] <= t1 and t0 <= _span(r)[1] for r in others):
        return []
    spans = ", ".join(f"{r.placement} {_span(r)[0]:.3f}-{_span(r)[1]:.3f}" for r in others)
    return [f"time_s {t0:.3f}-{t1:.3f} s overlaps no other file of the session ({spans}): another time base? "
            f"it is analysed apart from the other sensors"]


def _gaps(rec: Recording) -> dict[str, Any]:
    """The gaps of a recording (time steps above GAP_FACTOR periods, as run_core splits them):
    how many, and the time they leave without samples (s)."""
    if isinstance(rec, SpooledRecording):
        big = rec.big_steps
    else:
        dt = np.diff(rec.time_s)
        big = dt[dt > GAP_FACTOR / rec.rate_hz]
    return {"gaps": int(big.size), "gap_s": round(float(np.sum(big - 1.0 / rec.rate_hz)), 6)}


def _gap_notes(rec: Recording) -> list[str]:
    g = _gaps(rec)
    if not g["gaps"]:
        return []
    longest = rec.longest_step if isinstance(rec, SpooledRecording) else float(np.max(np.diff(rec.time_s)))
    return [f"{g['gaps']} gap(s) in time_s, {g['gap_s']:.3f} s without samples (longest step {longest:.3f} s): "
            f"strides touching a gap are flagged gap"]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not np.isfinite(v) else repr(round(v, 6))
    return str(v)


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_strides_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    def w(f):
        cw = csv.writer(f)
        cw.writerow(STRIDE_COLUMNS)
        for row in rows:
            cw.writerow([_cell(row.get(c)) for c in STRIDE_COLUMNS])

    _atomic_write(path, w)


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    _atomic_write(path, lambda f: json.dump(summary, f, indent=2, default=str))


def analyze(inputs: Iterable[str | Path], out_dir: str | Path, placement: str | None = None, rate_hz: float | None = None,
            params: CoreParams | None = None, imu_path: str | Path | None = None) -> list[Path]:
    """Analyse sessions; returns the written session output directories. Raises
    :class:`RawInputError` (before writing anything) on bad input, an unusable IMU calibration
    file (``imu_path``) included."""
    out = Path(out_dir)
    if not str(out_dir):
        raise RawInputError("--out: empty output directory name")
    sessions = sessions_from_inputs(inputs, placement)
    loaded = []
    seen_names: dict[str, int] = {}
    for name, files in sessions:
        recs = []
        for f in files:
            recs.append(read_streaming(f, placement_from_name(f) or placement, rate_hz, GAP_FACTOR))
        seen = [r.placement for r in recs]
        if len(set(seen)) != len(seen):
            raise RawInputError(f"session {name}: the same placement twice: {seen}")
        # two inputs with the same directory name (a/run1 b/run1) must not write into one place
        seen_names[name] = seen_names.get(name, 0) + 1
        # an unusable calibration file (or another sensor's) is said before any analysis
        loaded.append((name if seen_names[name] == 1 else f"{name}_{seen_names[name]}", recs, imu_for_session(recs, imu_path)))
    dests = [out if len(loaded) == 1 else out / name for name, _, _ in loaded]
    for dest in dests:  # before the (long) analysis: an --out that cannot be written is said now
        _check_writable(dest)
    written = []
    for dest, (name, recs, imu) in zip(dests, loaded):
        try:
            rows, summary = run_core(recs, params, imu)
        finally:
            close_recordings(recs)
        try:
            write_strides_csv(dest / "strides.csv", rows)
            write_summary(dest / "summary.json", summary)
        except OSError as e:
            raise RawInputError(f"{dest}: cannot write the results: {e}") from e
        written.append(dest)
    return written


def _check_writable(dest: Path) -> None:
    """Create ``dest`` (a directory) or raise :class:`RawInputError` saying why it cannot be.
    An exported session whose strides.csv holds the strides computed live (``runform export
    --analysis live``) is not written into: those cannot be computed again from its raw files."""
    if dest.exists() and not dest.is_dir():
        raise RawInputError(f"{dest}: exists and is not a directory (--out must be a directory)")
    meta = dest / "session.json"
    if meta.is_file() and (dest / "strides.csv").is_file():
        try:
            source = json.loads(meta.read_text()).get("algorithm", {}).get("strides_source")
        except (OSError, ValueError, AttributeError):
            source = None
        if source == "live":
            raise RawInputError(f"{dest}: its strides.csv holds the strides computed live (session.json strides_source "
                                f"'live'), which a re-analysis would replace; choose another --out")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".runform-write-test.", dir=dest)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise RawInputError(f"{dest}: cannot write the results there: {e}") from e
