"""Sessions on disk: crash-safe raw frame logs, the SQLite index, export and import.

Public API:

* :func:`resolve_data_dir` -- ``--data-dir``, else ``RUNFORM_DATA_DIR``, else the user data dir
* :class:`Store` -- the data directory (index, logs, recovery of sessions cut short)
* :func:`open_live_recording` -- record a :class:`runform.live.session.LiveSession`
* :func:`export_session`, :func:`read_session_dir`, :func:`import_session_dir` -- the session
  directory format (docs/data-format.md)
"""

from __future__ import annotations

from .paths import resolve_data_dir
from .recorder import FrameRecorder
from .store import SessionNotFound, Store, open_live_recording
from .control import RecordingControl

__all__ = ["FrameRecorder", "RecordingControl", "SessionNotFound", "Store", "open_live_recording", "resolve_data_dir",
           "export_session", "read_session_dir", "import_session_dir"]


def __getattr__(name: str):  # the CSV side loads lazily
    if name in ("export_session", "read_session_dir", "import_session_dir"):
        from . import sessiondir

        return getattr(sessiondir, name)
    raise AttributeError(name)
