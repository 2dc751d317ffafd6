"""Stored sessions over HTTP (the data directory in ``app.state.data_dir``).

* ``GET /api/sessions``: the sessions, as ``runform sessions --json`` lists them
* ``GET /api/sessions/{id}``: one session: its row, sensors, annotations, and the files it exports to
* ``GET /api/sessions/{id}/{file}``: one file of its session directory (``session.json``,
  ``strides.csv``, ``events.csv``, ``annotations.csv``, ``raw_<placement>.csv``)
* ``GET /api/sessions/{id}/export.zip``: the whole session directory as a zip
* ``POST /api/sessions/{id}/annotations`` ``{"time_s", "text"}``: add a marker to a stored session

Files are made by :func:`runform.store.sessiondir.export_session` into ``<data_dir>/exports/<id>``
and made again when the session changed (new annotations, a recovery).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from ..placements import PLACEMENTS

FILES = ("session.json", "strides.csv", "events.csv", "annotations.csv", *(f"raw_{p}.csv" for p in PLACEMENTS))
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class AnnotationIn(BaseModel):
    time_s: float = Field(ge=0, allow_inf_nan=False)
    text: str = Field(min_length=1, max_length=500)


def _store(request: Request) -> Any:
    data_dir = getattr(request.app.state, "data_dir", None)
    if not data_dir:
        raise HTTPException(404, "this server has no data directory")
    cached = getattr(request.app.state, "_store", None)
    if cached is None or str(cached.data_dir) != str(Path(data_dir)):
        from ..store import Store

        cached = Store(data_dir, recover=False)  # the process that opened it recovered already
        request.app.state._store = cached
    return cached


def _row(store: Any, sid: str) -> dict[str, Any]:
    from ..store import SessionNotFound

    try:
        return store.session(sid)
    except SessionNotFound as e:
        raise HTTPException(404, str(e)) from None


def _stamp(store: Any, row: dict[str, Any]) -> str:
    from .. import __version__

    return json.dumps([row.get("state"), row.get("duration_s"), row.get("strides"), row.get("recovered"),
                       store.index.annotations(row["id"]), __version__], default=str)


def _exported(store: Any, row: dict[str, Any]) -> Path:
    """The session directory of ``row`` (made now if missing or stale)."""
    from ..store.paths import EXPORTS
    from ..store.sessiondir import export_session

    if row.get("state") == "recording":
        raise HTTPException(409, f"session {row['id']} is still being recorded")
    out = Path(store.data_dir) / EXPORTS / row["id"]
    stamp_path = Path(store.data_dir) / EXPORTS / f"{row['id']}.stamp"
    stamp = _stamp(store, row)
    with _locks_guard:
        lock = _locks.setdefault(row["id"], threading.Lock())
    with lock:
        if out.is_dir() and stamp_path.is_file() and stamp_path.read_text() == stamp:
            return out
        export_session(store, row["id"], out, force=True)
        stamp_path.write_text(stamp)
    return out


def install(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/api/sessions")
    async def list_sessions(request: Request) -> JSONResponse:
        """The stored sessions (oldest first)."""
        from ..commands.sessions import session_json

        store = _store(request)
        return JSONResponse([session_json(r) for r in store.list_sessions()])

    @router.get("/api/sessions/{sid}")
    async def get_session(sid: str, request: Request) -> JSONResponse:
        """One session with its sensors, annotations and downloadable files."""
        from ..commands.sessions import session_json

        store = _store(request)
        row = _row(store, sid)
        out = session_json(row)
        out["sensors"] = row.get("sensors", [])
        out["annotations"] = store.index.annotations(row["id"])
        base = f"/api/sessions/{row['id']}"
        names = ["session.json", "strides.csv", "events.csv", "annotations.csv", *(f"raw_{p}.csv" for p in out["placements"] if p)]
        out["files"] = {n: f"{base}/{n}" for n in names}
        out["zip"] = f"{base}/export.zip"
        return JSONResponse(out)

    @router.get("/api/sessions/{sid}/export.zip")
    async def get_zip(sid: str, request: Request) -> FileResponse:
        """The whole session directory as a zip (``<id>/<file>`` inside)."""
        store = _store(request)
        row = _row(store, sid)
        out = await asyncio.to_thread(_exported, store, row)
        zpath = await asyncio.to_thread(_zip, out, row["id"])
        return FileResponse(zpath, media_type="application/zip", filename=f"runform-{row['id']}.zip")

    @router.get("/api/sessions/{sid}/{name}")
    async def get_file(sid: str, name: str, request: Request) -> FileResponse:
        """One file of the session directory."""
        if name not in FILES:
            raise HTTPException(404, f"no file {name!r}; files: {', '.join(FILES)}")
        store = _store(request)
        row = _row(store, sid)
        out = await asyncio.to_thread(_exported, store, row)
        path = out / name
        if not path.is_file():
            raise HTTPException(404, f"session {row['id']} has no {name}")
        media = "application/json" if name.endswith(".json") else "text/csv"
        return FileResponse(path, media_type=media, filename=f"{row['id']}_{name}")

    @router.post("/api/sessions/{sid}/annotations")
    async def add_annotation(sid: str, body: AnnotationIn, request: Request) -> JSONResponse:
        """Add a time-stamped marker (session time, s) to a stored session."""
        store = _store(request)
        row = _row(store, sid)
        store.index.add_annotation(row["id"], body.time_s, body.text)
        return JSONResponse({"annotations": store.index.annotations(row["id"])})

    app.include_router(router)


def _zip(src: Path, sid: str) -> Path:
    zpath = src.parent / f"{sid}.zip"
    fd, tmp = tempfile.mkstemp(prefix=f".{sid}.zip.", dir=src.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for f in sorted(src.iterdir()):
                z.write(f, f"{sid}/{f.name}")
        os.replace(tmp, zpath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return zpath
