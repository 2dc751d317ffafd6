"""Routers of other parts of runform, added to every app by :func:`install_extensions`.

A part adds its routes by appending the dotted path of a module that defines
``install(app: FastAPI) -> None`` to :data:`EXTENSION_MODULES`; modules are imported lazily.
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI

EXTENSION_MODULES: list[str] = ["runform.server.auth", "runform.server.routes_dashboard", "runform.server.routes_sessions"]


def install_extensions(app: FastAPI) -> None:
    for name in EXTENSION_MODULES:
        importlib.import_module(name).install(app)
