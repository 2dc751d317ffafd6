"""The session directory format (docs/data-format.md): export from the store, import into it.

Export writes, into a temporary directory that is renamed into place when complete:
``session.json``, ``raw_<placement>.csv`` (sensor frame, session time), ``strides.csv``,
``events.csv``, ``annotations.csv``. ``strides.csv`` is computed by
:func:`runform.offline.analyze.run_core` from exactly the ``raw_*.csv`` just written (read back
with :func:`runform.offline.raw.read_raw_csv`), so ``runform analyze`` on an exported directory
gives the same strides, and export -> import -> export gives the same files.

Import checks every file first (file and line of the first problem; :class:`SessionDirError`)
and copies nothing until all are good.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..core.schema import RAW_COLUMNS, STRIDE_COLUMNS
from ..placements import PLACEMENTS
from ..units import DEG_PER_RAD
from .csvfast import format_rows
from .decode import DecodedLog
from .recorder import software_info
from .store import Store

FORMAT = "runform-session"
FORMAT_VERSION = 1
#: decimals of raw_<placement>.csv: time_s (1 us), acc m/s^2, gyr deg/s -- finer than one LSB
#: of every range the protocol has (16 g: 0.0048 m/s^2; 2000 dps: 0.061 dps)
RAW_DECIMALS = (6, 4, 4, 4, 3, 3, 3)
EVENT_COLUMNS = ("time_s", "type", "leg", "placement", "kind", "detail")
ANNOTATION_COLUMNS = ("time_s", "text")
FILES = ("session.json", "strides.csv", "events.csv", "annotations.csv")


class SessionDirError(ValueError):
    """A session directory that cannot be read or written; the message names the file (and line)."""


@dataclass
class ExportResult:
    path: Path
    files: list[str]
    samples: dict[str, int]
    strides: int
    strides_source: str
    timings_s: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- export


def raw_arrays_from_log(decoded: DecodedLog) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], dict[str, int]]:
    """Per placement: time_s, acc_mps2, gyr_dps rounded as in the CSV, with samples whose time
    does not advance (a clock refit can step back by microseconds) dropped; and those counts."""
    out, dropped = {}, {}
    for s in decoded.sensors.values():
        t, acc, gyr = s.arrays()
        t = np.round(t, RAW_DECIMALS[0])
        if t.size:
            prev_max = np.maximum.accumulate(np.concatenate([[-np.inf], t[:-1]]))
            keep = t > prev_max
        else:
            keep = np.zeros(0, bool)
        dropped[s.placement] = int(t.size - np.count_nonzero(keep))
        out[s.placement] = (t[keep], acc[keep], gyr[keep] * DEG_PER_RAD)
    return out, dropped


def write_raw_csv(path: Path, t: np.ndarray, acc_mps2: np.ndarray, gyr_dps: np.ndarray) -> None:
    cols = [t, acc_mps2[:, 0], acc_mps2[:, 1], acc_mps2[:, 2], gyr_dps[:, 0], gyr_dps[:, 1], gyr_dps[:, 2]]
    with open(path, "wb") as f:
        f.write((",".join(RAW_COLUMNS) + "\n").encode())
        f.write(format_rows(cols, list(RAW_DECIMALS)))


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(round(v, 6))
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def events_from_log(decoded: DecodedLog) -> list[dict[str, Any]]:
    """events.csv rows: the live session's gait events, calibration and connection changes."""
    rows = []
    for m in decoded.messages:
        typ = m.get("type")
        if typ == "event":
            rows.append({"time_s": m.get("time_s"), "type": "gait", "leg": m.get("leg"), "kind": m.get("kind"),
                         "detail": json.dumps({"decided_time_s": m.get("decided_time_s")})})
        elif typ == "connection":
            rows.append({"time_s": m.get("time_s"), "type": "connection", "placement": m.get("placement"), "kind": m.get("connection")})
        elif typ == "calibration":
            rows.append({"time_s": m.get("time_s"), "type": "calibration", "placement": m.get("placement"), "kind": m.get("state"),
                         "detail": json.dumps(m.get("quality"), sort_keys=True, default=str)})
    if decoded.problem or not decoded.clean_end:
        rows.append({"time_s": max((r.get("time_s") or 0.0 for r in rows), default=0.0), "type": "recording", "kind": "recovered",
                     "detail": decoded.problem or "no clean end"})
    return rows


def _sensor_entry(meta: dict[str, Any], *, samples: int, extra: dict[str, Any]) -> dict[str, Any]:
    info = meta.get("device_info") or {}
    return {
        "placement": meta.get("placement"),
        "file": f"raw_{meta.get('placement')}.csv",
        "address": meta.get("key") or meta.get("address"),
        "name": meta.get("name"),
        "model": info.get("model", meta.get("model")),
        "firmware": ".".join(str(v) for v in info["firmware_version"]) if "firmware_version" in info else meta.get("firmware"),
        "sample_rate_hz": meta.get("sample_rate_hz"),
        "accel_range_g": meta.get("accel_range_g"),
        "gyro_range_dps": meta.get("gyro_range_dps"),
        "samples": samples,
        "device_info": info or meta.get("device_info"),
        **extra,
    }


def _atomic_dir(out: Path, force: bool) -> Path:
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise SessionDirError(f"{out}: exists and is not empty (use --force to replace it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))


def _commit_dir(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def export_session(store: Store, key: str, out: str | os.PathLike, *, analysis: str = "auto", force: bool = False) -> ExportResult:
    """Write session ``key`` (id, id prefix or ``latest``) as a session directory at ``out``.

    analysis: ``auto`` (re-run the core on the exported raw CSVs; the live strides if the core
    is missing), ``live`` (the strides the live session computed), ``none`` (no strides)."""
    if analysis not in ("auto", "live", "none"):
        raise ValueError("analysis must be auto, live or none")
    row = store.session(key)
    out = Path(out)
    tmp = _atomic_dir(out, force)
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        imported = store.imported_dir(row["id"])
        if imported.is_dir():
            src = read_session_dir(imported)
            for p in src.placements:
                shutil.copyfile(imported / f"raw_{p}.csv", tmp / f"raw_{p}.csv")
            meta = src.meta
            sensors = meta.get("sensors", [])
            samples = {s["placement"]: int(s.get("samples", 0)) for s in sensors}
            events = src.events
            live_strides = src.strides
            header = meta
            recovered = bool(meta.get("recovered"))
            extra: dict[str, Any] = {"imported_from": meta.get("imported_from"), "frame_log": meta.get("frame_log")}
            timings["read_s"] = time.perf_counter() - t0
        else:
            decoded = store.decode(row["id"])
            timings["decode_s"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            raw, dropped = raw_arrays_from_log(decoded)
            for p, (t, acc, gyr) in raw.items():
                write_raw_csv(tmp / f"raw_{p}.csv", t, acc, gyr)
            timings["raw_csv_s"] = time.perf_counter() - t1
            samples = {p: int(v[0].size) for p, v in raw.items()}
            sensors = []
            for s in sorted(decoded.sensors.values(), key=lambda s: PLACEMENTS.index(s.placement) if s.placement in PLACEMENTS else 9):
                sensors.append(_sensor_entry(s.meta, samples=samples[s.placement], extra={
                    "frames": s.stream.counters.as_dict(),
                    "clock": s.clock.as_dict(),
                    "samples_dropped_time_not_increasing": dropped[s.placement],
                }))
            events = events_from_log(decoded)
            live_strides = decoded.live_strides()
            header = decoded.header
            recovered = bool(row.get("recovered"))
            extra = {"frame_log": {"records": decoded.records, "clean_end": decoded.clean_end, "problem": decoded.problem}}
        t2 = time.perf_counter()
        strides, source, core_params, summary = _strides(tmp, samples, live_strides, analysis, header.get("imu_calibration"))
        timings["analysis_s"] = time.perf_counter() - t2
        from runform.offline.analyze import write_strides_csv

        write_strides_csv(tmp / "strides.csv", strides)
        _write_csv(tmp / "events.csv", EVENT_COLUMNS, events)
        annotations = store.index.annotations(row["id"])
        _write_csv(tmp / "annotations.csv", ANNOTATION_COLUMNS, annotations)
        session_json = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "id": row["id"],
            "label": row.get("label") or header.get("label", ""),
            "runner": row.get("runner") or header.get("runner", ""),
            "source": (header.get("source") if imported.is_dir() else None) or row.get("source") or header.get("source", ""),
            "start_wall": row.get("start_wall"),
            "start_utc": None if row.get("start_wall") is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(row["start_wall"])),
            "duration_s": row.get("duration_s"),
            "recovered": recovered,
            "time_base": "session time (s): the host's monotonic clock since the session started; each sensor's clock is "
                         "mapped onto it by a lower-envelope fit (runform.clock.SensorClock)",
            "frames": "sensor frame as printed on the chip; acc m/s^2 (specific force), gyr deg/s",
            "software": {"recorded_with": header.get("software") or {"runform": header.get("software_version")},
                         "exported_with": software_info() if not imported.is_dir() else header.get("software", {}).get("exported_with"),
                         "runform": __version__},
            "sensors": sensors,
            "frame_counts": row.get("frame_counts", {}),
            "calibration": [e for e in events if e.get("type") == "calibration"],
            "algorithm": {"strides_source": source, "core_params": core_params or header.get("algorithm", {}).get("core_params")
                          or header.get("core_params"), "raw_decimals": dict(zip(RAW_COLUMNS, RAW_DECIMALS))},
            "summary": summary,
            "counts": {"strides": len(strides), "events": len(events), "annotations": len(annotations), "samples": samples},
            **{k: v for k, v in extra.items() if v is not None},
        }
        if header.get("imu_calibration"):  # the sensors' own corrections the session used (docs/data-format.md)
            session_json["imu_calibration"] = header["imu_calibration"]
        if imported.is_dir():  # re-exporting an import keeps its provenance as it was
            session_json["software"] = header.get("software", session_json["software"])
        with open(tmp / "session.json", "w") as f:
            json.dump(session_json, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
        _commit_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    timings["total_s"] = time.perf_counter() - t0
    files = sorted(p.name for p in out.iterdir())
    return ExportResult(out, files, samples, len(strides), source, timings)


def _strides(tmp: Path, samples: dict[str, int], live: list[dict[str, Any]], analysis: str, imu_recorded: Any = None):
    """The strides of the export: re-analysed from its raw CSVs (corrected with the sensor
    calibrations the session recorded, as live), the live ones, or none."""
    if analysis == "none":
        return [], "none", None, None
    if analysis == "auto":
        try:
            from runform.core.params import CoreParams
            from runform.offline.analyze import run_core
            from runform.offline.raw import read_raw_csv
        except ImportError:
            pass
        else:
            recs = [read_raw_csv(tmp / f"raw_{p}.csv", p) for p in samples if samples[p] >= 2]
            if not recs:
                return [], "reanalysis", CoreParams().to_dict(), None
            imu = None
            if imu_recorded:
                from runform.imu_file import from_recorded

                origin, entries = from_recorded(imu_recorded, "the session's imu_calibration")
                imu = (origin, {r.placement: entries[r.placement] for r in recs if r.placement in entries})
            rows, summary = run_core(recs, imu=imu)
            summary.pop("inputs", None)
            return rows, "reanalysis", CoreParams().to_dict(), _jsonable(summary)
    rows = sorted(live, key=lambda r: (r.get("ic_time_s") or 0.0, str(r.get("leg"))))
    return rows, "live", None, None


def _jsonable(x: Any) -> Any:
    return json.loads(json.dumps(x, default=str, allow_nan=True).replace("NaN", "null").replace("Infinity", "null"))


# --------------------------------------------------------------------------- import


@dataclass
class SessionDir:
    path: Path
    meta: dict[str, Any]
    placements: list[str]
    samples: dict[str, int]
    strides: list[dict[str, Any]]
    events: list[dict[str, Any]]
    annotations: list[dict[str, Any]]


def _read_csv_rows(path: Path, expected: tuple[str, ...], *, required: bool = True) -> list[dict[str, Any]]:
    if not path.is_file():
        if required:
            raise SessionDirError(f"{path}: missing")
        return []
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise SessionDirError(f"{path}: cannot read: {e}") from e
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise SessionDirError(f"{path}:1: empty file, expected the header {','.join(expected)}") from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in expected]
    missing = [c for c in expected if c not in header]
    if unknown or missing:
        raise SessionDirError(f"{path}:1: unexpected columns (unknown: {unknown or 'none'}, missing: {missing or 'none'}); expected {','.join(expected)}")
    rows = []
    for line, rec in enumerate(reader, start=2):
        if not rec:
            continue
        if len(rec) != len(header):
            raise SessionDirError(f"{path}:{line}: expected {len(header)} values, found {len(rec)} (truncated or malformed line)")
        row: dict[str, Any] = {}
        for k, v in zip(header, rec):
            if k.endswith(("_s", "_ms", "_deg", "_dps", "_g", "_m", "_mps", "_spm", "_ratio")) and v != "":
                try:
                    row[k] = float(v)
                except ValueError:
                    raise SessionDirError(f"{path}:{line}: {k} is not a number: {v!r}") from None
                if not math.isfinite(row[k]):
                    raise SessionDirError(f"{path}:{line}: {k} is NaN or infinite")
            else:
                row[k] = None if v == "" else v
        rows.append(row)
    if text and not text.endswith("\n"):
        raise SessionDirError(f"{path}:{line if rows else 1}: the file ends in the middle of a line (truncated?)")
    return rows


def read_session_dir(path: str | os.PathLike) -> SessionDir:
    """Read and check a session directory; raises :class:`SessionDirError` (file and line)."""
    from runform.offline.raw import RawInputError, placement_from_name, read_raw_csv

    path = Path(path)
    if not path.is_dir():
        raise SessionDirError(f"{path}: not a directory")
    sj = path / "session.json"
    if not sj.is_file():
        raise SessionDirError(f"{sj}: missing (a session directory has session.json and raw_<placement>.csv files)")
    try:
        meta = json.loads(sj.read_text())
    except json.JSONDecodeError as e:
        raise SessionDirError(f"{sj}:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SessionDirError(f"{sj}: not a runform session (format {meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r})")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise SessionDirError(f"{sj}: format version {meta.get('format_version')}; this runform reads up to {FORMAT_VERSION}")
    if meta.get("imu_calibration") is not None:  # the sensors' own corrections, used by export and analyze
        from runform.imu_file import ImuFileError, from_recorded

        try:
            from_recorded(meta["imu_calibration"], f"{sj}: imu_calibration")
        except ImuFileError as e:
            raise SessionDirError(str(e)) from None
    listed = [s.get("placement") for s in meta.get("sensors", [])]
    bad = [p for p in listed if p not in PLACEMENTS]
    if bad:
        raise SessionDirError(f"{sj}: unknown placement(s) {bad}; expected some of {', '.join(PLACEMENTS)}")
    files = {placement_from_name(f): f for f in path.glob("raw_*.csv")}
    stray = sorted(f.name for f in path.glob("raw_*.csv") if placement_from_name(f) is None)
    if stray:
        raise SessionDirError(f"{path}: raw file(s) of unknown placement: {stray}; expected raw_<placement>.csv with one of {', '.join(PLACEMENTS)}")
    missing = [p for p in listed if p not in files]
    if missing:
        raise SessionDirError(f"{sj}: lists {', '.join(missing)} but {', '.join('raw_' + p + '.csv' for p in missing)} is missing")
    unlisted = [p for p in files if p not in listed]
    if unlisted:
        raise SessionDirError(f"{path}: raw_{unlisted[0]}.csv has no entry in session.json 'sensors'")
    samples = {}
    for p in listed:
        try:
            rec = read_raw_csv(files[p], p)
        except RawInputError as e:
            raise SessionDirError(str(e)) from None
        samples[p] = int(rec.time_s.size)
    strides = _read_csv_rows(path / "strides.csv", STRIDE_COLUMNS, required=False)
    events = _read_csv_rows(path / "events.csv", EVENT_COLUMNS, required=False)
    annotations = _read_csv_rows(path / "annotations.csv", ANNOTATION_COLUMNS, required=False)
    for i, a in enumerate(annotations, start=2):
        if a.get("time_s") is None:
            raise SessionDirError(f"{path / 'annotations.csv'}:{i}: time_s is empty")
    return SessionDir(path, meta, listed, samples, strides, events, annotations)


def import_session_dir(store: Store, path: str | os.PathLike) -> str:
    """Check a session directory and add it to the store (copied to ``sessions/<id>/imported``).
    Returns the new session id. Nothing is written if a file is bad."""
    from .store import new_session_id

    src = read_session_dir(path)
    sid = new_session_id()
    dest_parent = store.imported_dir(sid).parent
    dest_parent.mkdir(parents=True, exist_ok=False)
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=dest_parent))
    try:
        meta = dict(src.meta)
        meta["imported_from"] = meta.get("imported_from") or {"path": str(Path(path).resolve()), "id": meta.get("id")}
        for p in src.placements:
            shutil.copyfile(src.path / f"raw_{p}.csv", tmp / f"raw_{p}.csv")
        for name in ("strides.csv", "events.csv", "annotations.csv"):
            if (src.path / name).is_file():
                shutil.copyfile(src.path / name, tmp / name)
        with open(tmp / "session.json", "w") as f:
            json.dump(meta, f, indent=2, sort_keys=True, default=str)
        os.replace(tmp, store.imported_dir(sid))
    except BaseException:
        shutil.rmtree(dest_parent, ignore_errors=True)
        raise
    store.index.upsert_session(
        id=sid, runner=str(meta.get("runner") or ""), label=str(meta.get("label") or ""), source="import",
        start_wall=meta.get("start_wall"), end_wall=(meta.get("start_wall") or 0) + (meta.get("duration_s") or 0) if meta.get("start_wall") else None,
        duration_s=meta.get("duration_s"), state="imported", recovered=bool(meta.get("recovered")),
        sensors_json=[{k: s.get(k) for k in ("placement", "address", "name", "model", "firmware", "sample_rate_hz", "accel_range_g", "gyro_range_dps")}
                      for s in meta.get("sensors", [])],
        frame_counts_json=meta.get("frame_counts") or {}, software_version=str((meta.get("software") or {}).get("runform", "")),
    )
    store.index.replace_strides(sid, src.strides)
    store.index.replace_annotations(sid, src.annotations)
    return sid
