"""The data directory as one object: the index, the frame logs, recovery, live recordings.

Recovery (:meth:`Store.recover`, run whenever a Store is opened): a session whose log is not
locked by a live recorder and that has no clean end record was cut short (crash, SIGKILL,
power loss). Its torn tail is truncated to the last whole record, the index gets its frame
counts, strides and annotations from the log, and it is marked ``recovered``. Session folders
that the index does not know (index lost or never written) are indexed the same way.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

from .. import __version__
from . import framelog as fl
from .decode import DecodedLog, decode_records, summarize
from .index import SessionIndex
from .paths import FRAME_LOG, IMPORTED, SESSIONS, frame_log_path, resolve_data_dir, session_dir
from .recorder import FrameRecorder, sensor_meta, software_info

log = logging.getLogger(__name__)

try:
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


class SessionNotFound(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


def is_being_recorded(log_path: Path, header: dict[str, Any] | None = None) -> bool:
    """True if a live process holds the log's lock (POSIX flock; elsewhere: its pid is alive)."""
    if fcntl is not None:
        try:
            fd = os.open(log_path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also releases our probe lock
        return False
    pid = (header or {}).get("pid")  # pragma: no cover - non-POSIX
    if not pid:
        return False
    return _pid_alive(int(pid))


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs. On Windows ``os.kill(pid, 0)`` would send CTRL_C_EVENT
    (signal 0) instead of probing, so the process is opened and waited on with zero timeout."""
    if os.name == "nt":  # pragma: no cover - Windows
        import ctypes

        synchronize, wait_timeout = 0x00100000, 0x00000102
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(synchronize, False, pid)
        if not handle:
            return False
        try:
            return kernel32.WaitForSingleObject(handle, 0) == wait_timeout
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _log_header(log_path: Path) -> dict[str, Any] | None:
    """The SESSION record of a frame log (its ``pid`` tells whether the recorder still runs
    where file locks are not available), or None when it cannot be read."""
    try:
        scan = fl.read(log_path)
    except (OSError, fl.FrameLogError):
        return None
    for rec in scan.records:
        if rec.kind == fl.SESSION:
            return rec.json()
    return None


def new_session_id(now: float | None = None) -> str:
    """``YYYYMMDD-HHMMSS-xxxx`` (UTC start time and 4 random hex digits): unique, sortable."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now or time.time())) + "-" + secrets.token_hex(2)


class Store:
    """The data directory (``--data-dir``, else ``RUNFORM_DATA_DIR``, else the user data dir)."""

    def __init__(self, data_dir: str | os.PathLike | None = None, *, recover: bool = True):
        self.data_dir = resolve_data_dir(data_dir)
        self.index = SessionIndex(self.data_dir)
        (self.data_dir / SESSIONS).mkdir(exist_ok=True)
        self.recovered: list[dict[str, Any]] = self.recover() if recover else []

    # ------------------------------------------------------------------ lookup
    def log_path(self, session_id: str) -> Path:
        return frame_log_path(self.data_dir, session_id)

    def session(self, key: str) -> dict[str, Any]:
        """A session row by id, unique id prefix, or ``latest``; raises :class:`SessionNotFound`."""
        row = self.index.find_session(key)
        if row is None:
            matches = [r["id"] for r in self.index.list_sessions() if r["id"].startswith(key)]
            if len(matches) > 1:
                raise SessionNotFound(f"session {key!r} is ambiguous in {self.data_dir}: {', '.join(matches[:5])}")
            known = [r["id"] for r in self.index.list_sessions()][-5:]
            raise SessionNotFound(f"no session {key!r} in {self.data_dir}" + (f" (latest: {', '.join(known)})" if known else " (it has no sessions)"))
        return row

    def list_sessions(self) -> list[dict[str, Any]]:
        return self.index.list_sessions()

    def decode(self, session_id: str) -> DecodedLog:
        return decode_records(fl.read(self.log_path(session_id)))

    def imported_dir(self, session_id: str) -> Path:
        return session_dir(self.data_dir, session_id) / IMPORTED

    # ------------------------------------------------------------------ recovery
    def recover(self) -> list[dict[str, Any]]:
        """Repair and index sessions cut short by a crash; returns the rows recovered now."""
        out = []
        rows = {r["id"]: r for r in self.index.list_sessions()}
        for d in sorted((self.data_dir / SESSIONS).iterdir()):
            logp = d / FRAME_LOG
            if not logp.is_file():
                continue
            row = rows.get(d.name)
            if row is not None and row["state"] != "recording":
                continue
            if is_being_recorded(logp, _log_header(logp) if fcntl is None else None):
                continue
            try:
                before = fl.repair(logp)
            except fl.FrameLogError as exc:
                log.error("cannot recover %s: %s", logp, exc)
                continue
            scan = fl.read(logp)
            summary = summarize(scan)
            clean = summary["end"] is not None
            try:
                self._index_from_summary(d.name, summary, recovered=not clean, row=row)
            except (sqlite3.Error, OSError) as exc:  # e.g. a full disk: the log is intact, try again next time
                log.error("cannot index %s now (%s); it is indexed on a later start", d.name, exc)
                continue
            if not clean:
                msg = (f"recovered session {d.name}: {sum(summary['frame_counts'].values())} frames up to "
                       f"{summary['last_arrival_s']:.1f} s" + (f"; cut a torn tail ({before.problem})" if before.torn else ""))
                log.warning("%s", msg)
                out.append({"id": d.name, "message": msg, "torn_bytes": before.file_bytes - before.valid_bytes})
        return out

    def _index_from_summary(self, session_id: str, s: dict[str, Any], *, recovered: bool, row: dict | None) -> None:
        h = {**s["header"], **s.get("meta", {})}
        # a recording started with the Record button mid-session: its times are session time
        # (started_wall is the live session's start), so it starts recording_started_s later
        offset_s = float(h.get("recording_started_s") or 0.0)
        start = h.get("started_wall")
        if start is not None:
            start = float(start) + offset_s
        duration_s = max(0.0, s["last_arrival_s"] - offset_s)
        end = s["end"] or {}
        self.index.upsert_session(
            id=session_id,
            runner=str(h.get("runner") or ""),
            label=str(h.get("label") or ""),
            source=str(h.get("source") or ""),
            start_wall=start,
            end_wall=end.get("ended_wall") or ((start or 0.0) + duration_s if start else None),
            duration_s=duration_s,
            state="recovered" if recovered else "finished",
            recovered=recovered or bool(row and row.get("recovered")),
            sensors_json=[_sensor_row(m) for m in s["sensors"]],
            frame_counts_json=s["frame_counts"],
            software_version=str((h.get("software") or {}).get("runform", "")),
        )
        self.index.replace_strides(session_id, s["strides"])
        if s["annotations"] and not self.index.annotations(session_id):
            self.index.replace_annotations(session_id, s["annotations"])

    # ------------------------------------------------------------------ live recording
    def open_live_recording(self, session: Any, meta: dict[str, Any] | None = None, **recorder_kw: Any) -> FrameRecorder:
        """Start recording ``session`` (a :class:`runform.live.session.LiveSession`): creates the
        session in the index and its frame log, sets ``session.recorder``, returns the recorder.
        ``meta``: ``label``, ``runner``, ``source`` (e.g. ``demo``, ``run``, ``replay``) and any
        other JSON-able facts to keep in the log's header. Call ``recorder.close()`` at the end."""
        meta = dict(meta or {})
        sid = new_session_id(getattr(session, "started_wall", None))
        while self.log_path(sid).exists():
            sid = new_session_id()
        header = {
            "format": "runform-frames",
            "id": sid,
            "started_wall": float(getattr(session, "started_wall", time.time())),
            "runner": str(meta.pop("runner", "") or ""),
            "label": str(meta.pop("label", "") or ""),
            "source": str(meta.pop("source", "") or ""),
            "software": software_info(),
            "pid": os.getpid(),
            "core_params": _core_params(),
            "time_base": "session time: seconds of the host's monotonic clock since the session started",
            **meta,
        }
        holder: dict[str, Any] = {"rec": None, "pending": None}

        def index_failed(what: str, exc: BaseException) -> None:
            """The index cannot be written (full disk, locked, damaged): say so, keep recording."""
            message = (f"the session index {self.index.path} could not be updated ({what}: {type(exc).__name__}: {exc}); "
                       f"recording goes on in {self.log_path(sid)} and the index is rebuilt from it on the next start")
            log.error("%s", message)
            rec_ = holder["rec"]
            if rec_ is None:
                holder["pending"] = message
            else:
                rec_.index_error = message
            announce = getattr(session, "announce", None)
            if announce is not None:
                announce({"type": "alert", "level": "warning", "source": "index", "message": message})

        try:
            self.index.upsert_session(id=sid, runner=header["runner"], label=header["label"], source=header["source"],
                                      start_wall=header["started_wall"] + float(header.get("recording_started_s") or 0.0), state="recording", software_version=__version__)
        except (sqlite3.Error, OSError) as exc:
            index_failed("new session", exc)
        cache: dict[int, tuple[Any, dict]] = {}

        def lookup(index: int) -> dict[str, Any] | None:
            st = next((s for s in session.sensors.values() if s.index == index), None)
            if st is None:
                return None
            hit = cache.get(index)
            if hit is None or hit[0] is not st.info:
                hit = (st.info, sensor_meta(st))
                cache[index] = hit
            return hit[1]

        def on_error(message: str) -> None:
            try:
                self.index.upsert_session(id=sid, error=message)
            except Exception as exc:  # noqa: BLE001 - the index may sit on the same full disk
                log.error("could not note the recording error in the index: %s", exc)
                if holder["rec"] is not None:
                    holder["rec"].index_error = f"the session index {self.index.path} could not be updated: {exc}"
            announce = getattr(session, "announce", None)
            if announce is not None:
                announce({"type": "alert", "level": "error", "source": "recording", "message": message})

        def on_close(rec: FrameRecorder) -> None:
            try:
                s = summarize(fl.read(rec.path))
                self._index_from_summary(sid, s, recovered=False, row=None)
                if rec.error:
                    self.index.upsert_session(id=sid, error=rec.error)
            except Exception as exc:  # noqa: BLE001
                log.error("could not update the index for %s (it will be rebuilt from the log): %s", sid, exc)
                rec.index_error = (f"the session index {self.index.path} could not be updated at the end of the session "
                                   f"({type(exc).__name__}: {exc}); the recording in {rec.path} is complete and is indexed "
                                   "on the next start")

        rec = FrameRecorder(self.log_path(sid), header, sensor_lookup=lookup, on_error=on_error, on_close=on_close, **recorder_kw)
        holder["rec"] = rec
        if holder["pending"] is not None:
            rec.index_error = holder["pending"]

        def annotation_sink(time_s: float, text: str) -> None:
            rec.annotate(time_s, text)  # the frame log has it, whatever the index does
            try:
                self.index.add_annotation(sid, time_s, text)
            except (sqlite3.Error, OSError) as exc:
                index_failed("annotation", exc)

        def meta_sink(label: str | None = None, runner: str | None = None) -> None:
            fields = {k: str(v) for k, v in (("label", label), ("runner", runner)) if v is not None}
            rec.write_message({"type": "session_meta", **fields})
            try:
                self.index.upsert_session(id=sid, **fields)
            except (sqlite3.Error, OSError) as exc:
                index_failed("label", exc)

        #: app.state entries for the server's routers (runform.server.routes_dashboard, routes_sessions)
        rec.app_state = {"data_dir": self.data_dir, "annotation_sink": annotation_sink, "meta_sink": meta_sink}
        session.recorder = rec
        return rec


def open_live_recording(data_dir: str | os.PathLike | None, session: Any, meta: dict[str, Any] | None = None) -> FrameRecorder:
    """Record a live session in ``data_dir`` (None: ``RUNFORM_DATA_DIR`` or the user data dir).

    For ``runform run`` / ``demo`` / ``replay``::

        session = LiveSession(hub, core_factory=make_core)
        recorder = open_live_recording(args.data_dir, session, {"source": "run", "label": args.label})
        try:
            await run_live(session, ...)
        finally:
            recorder.close()
            if recorder.error: print(recorder.error, file=sys.stderr)

    Sessions cut short earlier are recovered first (logged). Sets ``session.recorder``.
    """
    return Store(data_dir).open_live_recording(session, meta)


def _sensor_row(meta: dict[str, Any]) -> dict[str, Any]:
    info = meta.get("device_info") or {}
    return {"placement": meta.get("placement"), "address": meta.get("key"), "name": meta.get("name"),
            "model": info.get("model"), "firmware": ".".join(str(v) for v in info.get("firmware_version", [])),
            "sample_rate_hz": meta.get("sample_rate_hz"), "accel_range_g": meta.get("accel_range_g"),
            "gyro_range_dps": meta.get("gyro_range_dps")}


def _core_params() -> dict[str, Any] | None:
    try:
        from ..core.params import CoreParams
    except ImportError:
        return None
    return CoreParams().to_dict()
