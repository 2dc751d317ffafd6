"""Where the static dashboards are."""

from __future__ import annotations

import os
from pathlib import Path


def dashboards_dir() -> Path:
    """The ``dashboards/`` folder: ``RUNFORM_DASHBOARDS`` if set, the copy installed inside the
    package (wheel installs), else the repository's folder (editable installs)."""
    env = os.environ.get("RUNFORM_DASHBOARDS")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    installed = here.parents[1] / "dashboards"
    if (installed / "index.html").is_file():
        return installed
    repo = here.parents[3] / "dashboards"
    if (repo / "index.html").is_file():
        return repo
    raise FileNotFoundError("runform's dashboards/ folder was not found; set RUNFORM_DASHBOARDS")
