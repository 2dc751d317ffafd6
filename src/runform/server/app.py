"""The FastAPI application: static dashboards, REST status, the live WebSocket.

Routes (contract):
* ``GET /``                 the live dashboard (dashboards/index.html)
* ``GET /static/...``       the other static files of dashboards/
* ``GET /api/status``       JSON: each sensor's placement, connection, rates, frame counters
* ``GET /api/strides``      the latest strides of the live session
* ``WS  /ws/live``          JSON messages with a ``type`` field: hello, samples, event, stride,
                            calibration, status, connection
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..live.hub import Hub
from ..live.session import LiveSession
from .paths import dashboards_dir

log = logging.getLogger(__name__)


#: functions ``(app) -> None`` that add routes of other parts (sessions, review, ...); each
#: part registers itself in :mod:`runform.server.extensions` so this file stays small
def create_app(session: LiveSession | None, hub: Hub | None = None, *, title: str = "runform", **state: Any) -> FastAPI:
    """The app for a live session (or ``session=None`` to serve stored sessions only).
    Extra keyword arguments land in ``app.state`` for the extension routers (e.g. ``data_dir``)."""
    hub = hub or (session.hub if session else Hub())
    app = FastAPI(title=title, version=__version__)
    static = dashboards_dir()
    app.state.session = session
    app.state.hub = hub
    for key, value in state.items():
        setattr(app.state, key, value)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Any, exc: RequestValidationError) -> JSONResponse:
        """422 with what was wrong, without echoing the input (an ``Infinity`` would not even
        encode as JSON, and echoing user input is not needed to say what is wrong)."""
        detail = [{k: v for k, v in e.items() if k in ("type", "loc", "msg")} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(static / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/api/status")
    async def status() -> JSONResponse:
        """Each sensor's placement, connection state, sample rate and frame counters."""
        if session is None:
            return JSONResponse({"live": False, "version": __version__, "sensors": []})
        return JSONResponse({"live": True, "version": __version__, **session.status()})

    @app.get("/api/strides")
    async def strides(limit: int = 200) -> JSONResponse:
        """The latest strides of the live session (newest last)."""
        rows: list[Any] = [] if session is None else list(session.strides)[-max(0, limit):]
        return JSONResponse({"strides": rows})

    @app.websocket("/ws/live")
    async def ws_live(ws: WebSocket) -> None:
        await ws.accept()
        sub = hub.subscribe(maxsize=500)
        try:
            hello: dict[str, Any] = {"type": "hello", "version": __version__, "live": session is not None}
            if session is not None:
                hello["status"] = session.status()
                hello["recent"] = list(hub.recent)
            await ws.send_json(hello)
            receiver = asyncio.create_task(_drain_client(ws))
            try:
                while True:
                    getter = asyncio.create_task(sub.get())
                    done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                    if receiver in done:
                        getter.cancel()
                        break
                    msg = getter.result()
                    # send everything that is already waiting in one go
                    batch = [msg]
                    while not sub.queue.empty() and len(batch) < 100:
                        batch.append(sub.queue.get_nowait())
                    for m in batch:
                        await ws.send_text(_encoded(m))
            finally:
                receiver.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            sub.close()

    from .extensions import install_extensions

    install_extensions(app)
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app


#: JSON text of the latest hub messages by object id: the hub hands the same dict to every
#: viewer, so each message is serialised once, not once per viewer (keeps the dicts alive so an
#: id is not reused while cached)
_ENCODED: "OrderedDict[int, tuple[dict, str]]" = OrderedDict()
_ENCODED_MAX = 512


def _encoded(msg: dict) -> str:
    hit = _ENCODED.get(id(msg))
    if hit is not None and hit[0] is msg:
        return hit[1]
    text = json.dumps(msg, separators=(",", ":"), ensure_ascii=False, default=str)
    _ENCODED[id(msg)] = (msg, text)
    if len(_ENCODED) > _ENCODED_MAX:
        _ENCODED.popitem(last=False)
    return text


async def _drain_client(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return
