"""Token access for the server when it listens beyond this computer.

On 127.0.0.1 (the default) nothing is checked. With ``--host 0.0.0.0`` (the therapist's tablet
on the clinic network) runform makes a random token (:func:`token_for_host`), prints the URL
with ``?token=...`` (:func:`url_with_token`), and passes it to ``create_app(..., token=...)``.
The middleware then answers every HTTP request and every WebSocket handshake that lacks the
token with 401 and serves nothing.

The token is accepted from (first match wins):

* the query string ``?token=...`` (the printed URL; the page passes it on to its API calls
  and to ``/ws/live``),
* an ``Authorization: Bearer ...`` header (scripts),
* the ``runform_token`` cookie, which the server sets (HttpOnly, SameSite=Strict) when a
  request carried the right token in its query, so that ``/static/...`` files and links
  between the pages work without repeating it.

Tokens are compared in constant time (:func:`hmac.compare_digest`). This is access control on
a trusted local network, not transport security: use it behind TLS if the network is not
trusted. Install: ``runform.server.auth`` is listed in
:data:`runform.server.extensions.EXTENSION_MODULES`; the middleware reads ``app.state.token``
at each request, so an app without a token is open as before.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from http.cookies import SimpleCookie
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI

COOKIE_NAME = "runform_token"
QUERY_NAME = "token"
TOKEN_BYTES = 24  # 192 random bits, 32 url-safe characters

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """True for addresses that only this computer can reach (127.0.0.0/8, ::1, localhost)."""
    h = host.strip("[]").lower()
    if h in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh random token (url-safe text)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_for_host(host: str, token: str | None = None) -> str | None:
    """The token a server bound to ``host`` needs: None on loopback, else ``token`` or a new one."""
    if is_loopback(host):
        return None
    return token or new_token()


def url_with_token(url: str, token: str | None) -> str:
    """``url`` with ``?token=...`` appended (unchanged when ``token`` is None)."""
    if not token:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}{urlencode({QUERY_NAME: token})}"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def presented_tokens(scope: Scope) -> tuple[str | None, str | None, str | None]:
    """(query token, bearer token, cookie token) of a request scope."""
    q = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(QUERY_NAME, [None])[0]
    h = _headers(scope)
    bearer = None
    auth = h.get("authorization", "")
    if auth.lower().startswith("bearer "):
        bearer = auth[7:].strip()
    cookie = None
    if "cookie" in h:
        try:
            c = SimpleCookie()
            c.load(h["cookie"])
            if COOKIE_NAME in c:
                cookie = c[COOKIE_NAME].value
        except Exception:  # noqa: BLE001 - a malformed cookie header is simply no token
            cookie = None
    return q, bearer, cookie


def _matches(candidate: str | None, token: str) -> bool:
    return candidate is not None and hmac.compare_digest(candidate.encode(), token.encode())


class TokenMiddleware:
    """ASGI middleware: 401 for HTTP requests and WebSocket handshakes without the token.

    ``get_token()`` returns the token in force, or None for an open server."""

    def __init__(self, app: ASGIApp, get_token: Callable[[], str | None]):
        self.app = app
        self.get_token = get_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        token = self.get_token() if kind in ("http", "websocket") else None
        if not token:
            await self.app(scope, receive, send)
            return
        q, bearer, cookie = presented_tokens(scope)
        if not (_matches(q, token) or _matches(bearer, token) or _matches(cookie, token)):
            await _respond(kind, scope, receive, send, 401, _DENY_HEADERS, _DENY_BODY)
            return
        if kind == "http" and _matches(q, token) and not _matches(cookie, token):
            send = _with_cookie(send, token, secure=scope.get("scheme") == "https")
        await self.app(scope, receive, send)


_DENY_BODY = json.dumps({"detail": "a token is required: open the URL that runform printed (…?token=…)"}).encode()
_DENY_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_DENY_BODY)).encode()),
    (b"www-authenticate", b'Bearer realm="runform"'),
    (b"cache-control", b"no-store"),
]


async def _respond(kind: str, scope: Scope, receive: Receive, send: Send, status: int,
                   headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Answer a refused request with ``status``: an HTTP response, or for a WebSocket handshake
    an HTTP response where the server supports the ASGI WebSocket denial response extension
    (uvicorn does), else a close before accept (the client then sees 403)."""
    if kind == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    msg = await receive()  # websocket.connect
    if msg.get("type") != "websocket.connect":
        return
    if "websocket.http.response" in (scope.get("extensions") or {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


def _with_cookie(send: Send, token: str, secure: bool) -> Send:
    cookie = f"{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")

    async def wrapped(message: dict[str, Any]) -> None:
        if message.get("type") == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]}
        await send(message)

    return wrapped


_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class SameOriginMiddleware:
    """Other web pages open in the same browser must not drive runform (cross-site request
    forgery, cross-site WebSocket hijacking) and must not reach it through a hostname that
    resolves to this computer (DNS rebinding):

    * a WebSocket handshake or an unsafe request (POST, PUT, PATCH, DELETE) whose ``Origin``
      is not this server's own origin is refused (403);
    * when the server is bound to a loopback address (``app.state.bind_host``), a request
      whose ``Host`` is not a loopback name or address is refused (403).
    Requests without an ``Origin`` (curl, scripts) are not affected by the first rule."""

    def __init__(self, app: ASGIApp, get_bind_host: Callable[[], str | None]):
        self.app = app
        self.get_bind_host = get_bind_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        h = _headers(scope)
        host = h.get("host", "")
        bind = self.get_bind_host()
        if bind is not None and is_loopback(bind) and not is_loopback(_hostname(host)):
            await _refuse(kind, scope, receive, send, "requests to this server must name it by a loopback address")
            return
        origin = h.get("origin")
        unsafe = kind == "websocket" or scope.get("method", "GET").upper() in _UNSAFE_METHODS
        if unsafe and origin is not None and _netloc(origin) != host.lower():
            await _refuse(kind, scope, receive, send, "cross-origin requests are refused")
            return
        await self.app(scope, receive, send)


def _hostname(host_header: str) -> str:
    h = host_header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    return h.rsplit(":", 1)[0] if h.count(":") == 1 else h


def _netloc(origin: str) -> str:
    o = origin.strip().lower()
    return o.split("://", 1)[1].rstrip("/") if "://" in o else o


async def _refuse(kind: str, scope: Scope, receive: Receive, send: Send, why: str) -> None:
    body = json.dumps({"detail": why}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await _respond(kind, scope, receive, send, 403, headers, body)


def install(app: FastAPI) -> None:
    """Add the token check and the same-origin rules to ``app``; they read ``app.state.token``
    and ``app.state.bind_host`` at each request."""
    app.add_middleware(TokenMiddleware, get_token=lambda: getattr(app.state, "token", None))
    app.add_middleware(SameOriginMiddleware, get_bind_host=lambda: getattr(app.state, "bind_host", None))
