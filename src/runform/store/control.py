"""Start and stop recording a live session (the dashboard's Record button), without stopping it.

Stopping ends the current session's frame log (indexed as a finished session); the live view,
the core and the sensors go on. Starting opens a new session in the store with the label and
runner given; its log describes the sensors again, so it decodes on its own.
"""

from __future__ import annotations

import threading
from typing import Any

from .recorder import FrameRecorder
from .store import Store


class RecordingControl:
    """``app.state.recording_control`` for runform.server.routes_dashboard: ``start``, ``stop``,
    ``status``; and delegating annotation/label sinks that always reach the current recording."""

    def __init__(self, store: Store, session: Any, meta: dict[str, Any], recorder: FrameRecorder | None):
        self.store = store
        self.session = session
        self.meta = dict(meta)
        self.current = recorder
        self.finished: list[FrameRecorder] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: Any, session: Any, meta: dict[str, Any]) -> "RecordingControl":
        """Start recording ``session`` at once (as ``open_live_recording`` does) under control."""
        store = Store(data_dir)
        return cls(store, session, meta, store.open_live_recording(session, dict(meta)))

    # ------------------------------------------------------------------ control
    def start(self, label: str = "", runner: str = "") -> None:
        with self._lock:
            if self.current is not None and self.current.state == "recording":
                return
            if self.current is not None:  # failed earlier (e.g. full disk): finalise it, keep it listed
                self.current.close()
                self.finished.append(self.current)
            if label:
                self.meta["label"] = label
            if runner:
                self.meta["runner"] = runner
            meta = {**self.meta, "recording_started_s": round(float(self.session.now()), 3)}
            self.current = self.store.open_live_recording(self.session, meta)

    def stop(self) -> None:
        with self._lock:
            rec, self.current = self.current, None
            if rec is None:
                return
            self.session.recorder = None  # the worker stops handing it frames
            rec.close()
            self.finished.append(rec)

    close = stop

    def status(self) -> dict[str, Any]:
        rec = self.current
        if rec is None:
            return {"recording": False, "state": "stopped", "session_id": None,
                    "finished": [r.session_id for r in self.finished]}
        st = rec.status()
        return {**st, "recording": st["state"] == "recording", "finished": [r.session_id for r in self.finished]}

    @property
    def recorders(self) -> list[FrameRecorder]:
        """Every recording of this live session, oldest first."""
        return self.finished + ([self.current] if self.current is not None else [])

    # ------------------------------------------------------------------ sinks for the routers
    def annotation_sink(self, time_s: float, text: str) -> None:
        rec = self.current
        if rec is not None:
            rec.app_state["annotation_sink"](time_s, text)

    def meta_sink(self, label: str | None = None, runner: str | None = None) -> None:
        if label is not None:
            self.meta["label"] = label
        if runner is not None:
            self.meta["runner"] = runner
        rec = self.current
        if rec is not None:
            rec.app_state["meta_sink"](label=label, runner=runner)

    @property
    def app_state(self) -> dict[str, Any]:
        return {"data_dir": self.store.data_dir, "annotation_sink": self.annotation_sink,
                "meta_sink": self.meta_sink, "recording_control": self}
