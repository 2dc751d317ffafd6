"""Crash-safe recording of a live session's raw frames (the live path's ``recorder`` hook).

``write`` is called by the live worker for every notification: it appends one record to an
in-memory buffer (microseconds, no I/O). A flusher thread hands the buffer to the kernel with
``os.write`` every ``flush_period_s`` (default 0.5 s), so a SIGKILL loses at most the last
flush period; an ``fsync`` every ``fsync_period_s`` bounds what a power cut can lose. While a
process records, it holds an exclusive ``flock`` on its log, so a later runform can tell a
live recording from one whose process died (:mod:`runform.store.recovery`).

When a write fails (disk full ``ENOSPC``, file-size limit ``EFBIG``, I/O error) the recorder
truncates the file back to its last whole record, stops recording, and says so: ``status()``
(``/api/status`` -> ``recording``) carries the error, an ``alert`` message goes to the
dashboard, and the error is logged (CLI). The live view goes on.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from .. import __version__
from . import framelog as fl

log = logging.getLogger(__name__)

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: recovery falls back to the pid
    fcntl = None  # type: ignore[assignment]

FLUSH_PERIOD_S = 0.5
FSYNC_PERIOD_S = 5.0
MAX_BUFFER_BYTES = 1 << 20


class RecordingStopped(RuntimeError):
    pass


class FrameRecorder:
    """Append-only writer of one session's frame log. Thread-safe."""

    def __init__(
        self,
        path: str | os.PathLike,
        header: dict[str, Any],
        *,
        sensor_lookup: Callable[[int], dict[str, Any] | None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_close: Callable[["FrameRecorder"], None] | None = None,
        flush_period_s: float = FLUSH_PERIOD_S,
        fsync_period_s: float = FSYNC_PERIOD_S,
        clock: Callable[[], float] | None = None,
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.header = dict(header)
        self.session_id = str(header.get("id", self.path.parent.name))
        self._sensor_lookup = sensor_lookup
        self._on_error = on_error
        self._on_close = on_close
        self.flush_period_s = flush_period_s
        self.fsync_period_s = fsync_period_s
        self._clock = clock
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._ends: list[int] = []  # end offsets of whole records in _buf
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self.committed_bytes = 0  # bytes of whole records handed to the kernel
        self.state = "recording"  # recording | failed | closed
        self.error: str | None = None
        #: the session index (SQLite) could not be updated; the frame log is unaffected and the
        #: index is rebuilt from it on the next start (runform.store.Store.recover)
        self.index_error: str | None = None
        self.frames_written: dict[int, int] = {}
        self.records = 0
        self.last_arrival_s = 0.0
        self.last_flush_wall: float | None = None
        self.flushes = 0
        self.write_cpu_s = 0.0  # time spent in write() and flush(), for the benchmark
        self.sensors: dict[int, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []  # strides, annotations... (the index gets them at close)
        self._described: dict[int, Any] = {}
        self.app_state: dict[str, Any] = {}
        self._append(fl.file_header(), record=True)
        self._append(fl.encode_json(fl.SESSION, 0, 0.0, self.header), record=True)
        self.flush(sync=True)
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="runform-recorder", daemon=True)
        self._flusher.start()

    # ------------------------------------------------------------------ the live hooks
    def write(self, sensor_index: int, characteristic: str, payload: bytes, arrival_s: float) -> None:
        """Append one notification (``data`` or ``status``) with its arrival time (session s)."""
        if self.state != "recording":
            return
        t = time.perf_counter()
        kind = fl.CHARACTERISTIC_KIND.get(characteristic)
        if kind is None:
            raise ValueError(f"unknown characteristic {characteristic!r}")
        if self._sensor_lookup is not None:
            meta = self._sensor_lookup(sensor_index)
            if meta is not None and self._described.get(sensor_index) is not meta:
                self.describe_sensor(sensor_index, meta, arrival_s)
        rec = fl.encode_record(kind, sensor_index, arrival_s, payload)
        with self._lock:
            self._append(rec)
            if kind == fl.DATA:
                self.frames_written[sensor_index] = self.frames_written.get(sensor_index, 0) + 1
            self.last_arrival_s = max(self.last_arrival_s, arrival_s)
            big = len(self._buf) >= MAX_BUFFER_BYTES
        self.write_cpu_s += time.perf_counter() - t
        if big:
            self.flush()

    def write_message(self, msg: dict[str, Any]) -> None:
        """Append a message of the session (stride, event, calibration, connection, annotation)."""
        if self.state != "recording":
            return
        if msg.get("type") == "samples":
            return
        at = float(msg.get("time_s") or msg.get("ic_time_s") or self.last_arrival_s or 0.0)
        try:
            rec = fl.encode_json(fl.MESSAGE, 0, at, msg)
        except (TypeError, ValueError):  # NaN or a non-JSON value: store what can be stored
            rec = fl.encode_record(fl.MESSAGE, 0, at, _json_lenient(msg))
        with self._lock:
            self._append(rec)
            if msg.get("type") in ("stride", "annotation", "calibration"):
                self.messages.append(msg)

    def describe_sensor(self, sensor_index: int, meta: dict[str, Any], arrival_s: float = 0.0) -> None:
        """Record a sensor's metadata (placement, address, device info); needed to decode its frames."""
        rec = fl.encode_json(fl.SENSOR, sensor_index, arrival_s, {"index": sensor_index, **meta})
        with self._lock:
            self._append(rec)
            self._described[sensor_index] = meta
            self.sensors[sensor_index] = {"index": sensor_index, **meta}

    def annotate(self, time_s: float, text: str) -> dict[str, Any]:
        """A time-stamped marker such as "insoles on" (session time, s)."""
        msg = {"type": "annotation", "time_s": float(time_s), "text": str(text)}
        self.write_message(msg)
        return msg

    # ------------------------------------------------------------------ I/O
    def _append(self, rec: bytes, record: bool = True) -> None:
        self._buf += rec
        self._ends.append(len(self._buf))
        self.records += 1

    def flush(self, sync: bool = False) -> bool:
        """Hand buffered records to the kernel (and fsync if ``sync``). False after a failure."""
        t = time.perf_counter()
        with self._lock:
            if self._fd is None:
                return False
            data = memoryview(bytes(self._buf))
            ends = self._ends
            self._buf = bytearray()
            self._ends = []
            written = 0
            try:
                while written < len(data):
                    written += os.write(self._fd, data[written:])
                if sync:
                    os.fsync(self._fd)
            except OSError as exc:
                self._fail_locked(exc, written, ends)
                return False
            finally:
                self.write_cpu_s += time.perf_counter() - t
            self.committed_bytes += written
            self.flushes += 1
            self.last_flush_wall = time.time()
            return True

    def _fail_locked(self, exc: OSError, written: int, ends: list[int]) -> None:
        keep = max([e for e in ends if e <= written], default=0)
        try:
            os.ftruncate(self._fd, self.committed_bytes + keep)  # type: ignore[arg-type]
            self.committed_bytes += keep
        except OSError as exc2:  # pragma: no cover - the reader stops at the torn record anyway
            log.error("could not cut the torn record of %s: %s", self.path, exc2)
        try:
            os.close(self._fd)  # type: ignore[arg-type]
        except OSError:  # pragma: no cover
            pass
        self._fd = None
        what = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file is too large for this system",
                errno.EDQUOT: "the disk quota is exceeded"}.get(exc.errno or 0, f"a write failed ({exc.strerror or exc})")
        self.state = "failed"
        self.error = (f"recording stopped: {what}; the {self.committed_bytes} bytes recorded until "
                      f"{self.last_arrival_s:.1f} s are kept in {self.path}")
        log.error("%s", self.error)
        if self._on_error is not None:
            try:
                self._on_error(self.error)
            except Exception:  # noqa: BLE001
                log.exception("error callback failed")

    def _flush_loop(self) -> None:
        last_sync = time.monotonic()
        while not self._stop.wait(self.flush_period_s):
            sync = time.monotonic() - last_sync >= self.fsync_period_s
            if not self.flush(sync=sync):
                return
            if sync:
                last_sync = time.monotonic()

    def close(self, end: dict[str, Any] | None = None) -> None:
        """Write the end record, flush, fsync, release the lock. Idempotent."""
        if self.state == "closed":
            return
        self._stop.set()
        if threading.current_thread() is not self._flusher:
            self._flusher.join(5.0)
        if self.state == "recording":
            info = {"ended_wall": time.time(), "frames": {str(k): v for k, v in sorted(self.frames_written.items())},
                    "last_arrival_s": self.last_arrival_s, **(end or {})}
            with self._lock:
                self._append(fl.encode_json(fl.END, 0, self.last_arrival_s, info))
            if self.flush(sync=True):
                self.state = "closed"
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # closing releases the flock
                self._fd = None
        if self._on_close is not None:
            self._on_close(self)

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        """The ``recording`` part of /api/status."""
        return {
            "session_id": self.session_id,
            "state": "recording" if self.state == "recording" else self.state,
            "ok": self.error is None,
            "error": self.error,
            "index_error": self.index_error,
            "path": str(self.path),
            "bytes": self.committed_bytes + len(self._buf),
            "bytes_on_disk": self.committed_bytes,
            "frames": sum(self.frames_written.values()),
            "last_flush_wall": self.last_flush_wall,
        }


def _json_lenient(msg: dict[str, Any]) -> bytes:
    import json
    import math

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, (str, int, float, bool)) or v is None:
            return v
        if hasattr(v, "tolist"):
            return clean(v.tolist())
        return str(v)

    return json.dumps(clean(msg), separators=(",", ":")).encode()


def sensor_meta(state: Any) -> dict[str, Any]:
    """Metadata of a live session's sensor (:class:`runform.live.session.SensorState`) for the log."""
    info = state.info
    d = asdict(info)
    return {
        "key": state.key,
        "placement": state.placement,
        "name": state.name,
        "device_info": {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()},
        "sample_rate_hz": float(state.stream.sample_rate_hz),
        "accel_range_g": float(state.stream.accel_range_g),
        "gyro_range_dps": float(state.stream.gyro_range_dps),
    }


def software_info() -> dict[str, Any]:
    import platform
    import sys

    import numpy as np

    return {"runform": __version__, "python": sys.version.split()[0], "numpy": np.__version__, "platform": platform.platform()}
