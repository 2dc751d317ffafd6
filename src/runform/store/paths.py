"""Where runform keeps its data: ``--data-dir``, else ``RUNFORM_DATA_DIR``, else the platform's
user data directory (platformdirs: ``~/.local/share/runform`` on Linux,
``~/Library/Application Support/runform`` on macOS, ``%LOCALAPPDATA%\\runform`` on Windows).

Layout of a data directory (docs/data-format.md)::

    index.sqlite                 the SQLite index (runform.store.index)
    sessions/<id>/frames.rfl     each recorded session's raw frame log (runform.store.framelog)
    sessions/<id>/imported/      an imported session directory (CSV), for imported sessions
    exports/<id>/                session directories made for downloads (a cache)
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "RUNFORM_DATA_DIR"
SESSIONS = "sessions"
EXPORTS = "exports"
FRAME_LOG = "frames.rfl"
IMPORTED = "imported"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory (created if missing): the argument, else ``$RUNFORM_DATA_DIR``,
    else the platform's user data directory for ``runform``."""
    if data_dir:
        p = Path(data_dir)
    elif os.environ.get(ENV_VAR):
        p = Path(os.environ[ENV_VAR])
    else:
        import platformdirs

        p = Path(platformdirs.user_data_dir("runform", appauthor=False))
    p = p.expanduser()
    p.mkdir(parents=True, exist_ok=True)
    return p


def session_dir(data_dir: Path, session_id: str) -> Path:
    return Path(data_dir) / SESSIONS / session_id


def frame_log_path(data_dir: Path, session_id: str) -> Path:
    return session_dir(data_dir, session_id) / FRAME_LOG
