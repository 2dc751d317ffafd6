"""Run a live session: a source task, the worker, and the uvicorn server in one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import webbrowser
from typing import Any, Awaitable, Callable

import uvicorn

from ..server.app import create_app
from ..server.addresses import urls_for
from ..server.auth import token_for_host, url_with_token
from .session import LiveSession

log = logging.getLogger(__name__)


def listen_socket(host: str, port: int) -> socket.socket | None:
    """The server's listening socket on ``host:port``, or None (the reason logged) when it cannot
    be had. Commands take it before they open a recording or connect sensors, so that a port in
    use is said at once and leaves no empty session behind; :func:`run_live` serves on it."""
    config = uvicorn.Config(app=None, host=host, port=port)
    try:
        return config.bind_socket()
    except (OSError, SystemExit) as exc:  # uvicorn logs and exits on a port in use
        log.error("the server could not listen on %s:%s (%s); is another runform running? choose "
                  "another port with --port", host, port, exc if isinstance(exc, OSError) else "address in use")
        return None


async def run_live(
    session: LiveSession,
    source: Callable[[], Awaitable[None]],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    duration_s: float | None = None,
    open_browser: bool = False,
    on_ready: Callable[[str], None] | None = None,
    token: str | None = None,
    app_state: dict[str, Any] | None = None,
    sock: socket.socket | None = None,
) -> int:
    """Serve the dashboard and run ``source`` until it ends, ``duration_s`` passes, or SIGINT/SIGTERM.
    Returns an exit status (0 = normal end).

    On a non-loopback ``host`` every request needs a token (runform.server.auth): ``token`` or a
    new random one; the URL given to ``on_ready`` and the browser carries it (``?token=...``).
    ``app_state``: extra ``app.state`` entries for the routers (e.g. ``data_dir``, ``annotation_sink``).
    ``sock``: the listening socket from :func:`listen_socket` (bound here when None)."""
    token = token_for_host(host, token)
    app = create_app(session, **{**(app_state or {}), "token": token, "bind_host": host})
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", ws_ping_interval=20)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # we handle signals
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this platform/thread
            pass
    # bind first, so that a port in use is a clear message, not uvicorn's sys.exit in a task
    if sock is None:
        sock = listen_socket(host, port)
        if sock is None:
            return 1
    session.start(loop)

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits the process on start-up errors: keep ours
            raise RuntimeError(f"the server stopped while starting (exit {exc.code})") from None

    server_task = asyncio.create_task(serve(), name="uvicorn")
    while not server.started:
        if server_task.done():
            await asyncio.to_thread(session.stop)
            exc = server_task.exception()
            log.error("the server could not start on %s:%s: %s", host, port, exc or "see above")
            return 1
        await asyncio.sleep(0.02)
    urls = [url_with_token(u, token) for u in urls_for(host, port)]
    url = urls[0]
    if on_ready:
        on_ready(url)
    for other in urls[1:]:
        print(f"  also at {other}", flush=True)
    if open_browser:
        try:
            webbrowser.open(url)
        except Exception:  # noqa: BLE001 - no browser is not an error
            pass
    source_task = asyncio.create_task(source(), name="source")
    waiters = {source_task, asyncio.create_task(stop.wait())}
    if duration_s is not None:
        waiters.add(asyncio.create_task(asyncio.sleep(duration_s)))
    done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    if source_task in done and source_task.exception() is not None:
        log.error("the source failed: %s", source_task.exception())
        status = 1
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    # drain: process what arrived, flush the core, let viewers get the last messages
    await asyncio.to_thread(session.stop)
    await asyncio.sleep(0.05)
    server.should_exit = True
    await server_task
    return status
