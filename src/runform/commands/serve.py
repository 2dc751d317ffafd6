"""``runform serve``: the dashboard and the stored sessions, without sensors."""

from __future__ import annotations

import argparse

from ._options import add_data_dir_option, open_store


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the dashboard and the recorded sessions (review, downloads) without sensors",
        description="Serve the dashboard at http://HOST:PORT/ for the sessions of the data directory: "
        "GET /api/sessions, /api/sessions/{id}, /api/sessions/{id}/<file>.csv, /api/sessions/{id}/export.zip.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    add_data_dir_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import threading
    import webbrowser

    import uvicorn

    from ..server.app import create_app

    store = open_store(args)
    state = {"data_dir": store.data_dir}
    from ..server.addresses import urls_for
    from ..server.auth import token_for_host, url_with_token

    # the same access rules as a live server: a token beyond loopback, same-origin, Host check
    state["token"] = token_for_host(args.host, None)
    state["bind_host"] = args.host
    url = url_with_token(urls_for(args.host, args.port)[0], state["token"])
    app = create_app(None, **state)
    n = len(store.list_sessions())
    print(f"runform serve: {n} sessions in {store.data_dir}; dashboard at {url}", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
