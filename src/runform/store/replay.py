"""Replay a recorded session through the live path (decode -> clock -> core -> hub -> dashboard).

The frame log's notifications are submitted to a new :class:`runform.live.session.LiveSession`
at their recorded arrival times divided by ``speed``, with their recorded arrival times (so
the sensor clocks map onto the original session time base whatever the speed); connection
changes and annotations are replayed in order. The replay is itself recorded (source
``replay``) unless ``record`` is false.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import framelog as fl
from .decode import device_info_from_meta
from .store import Store

log = logging.getLogger(__name__)


class Replayer:
    def __init__(self, store: Store, key: str, speed: float = 1.0):
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.row = store.session(key)
        if store.imported_dir(self.row["id"]).is_dir():
            raise ValueError(f"session {self.row['id']} was imported from CSV files: it has no raw frames to replay")
        self.scan = fl.read(store.log_path(self.row["id"]))
        self.speed = float(speed)
        #: the recording's session header (source, label, the sensor corrections it used...)
        self.header: dict = next((r.json() for r in self.scan.records if r.kind == fl.SESSION), {})
        self.keys: dict[int, str] = {}
        self.submitted = 0

    def register(self, session: Any) -> None:
        """Add every recorded sensor to ``session`` (same index order as when recorded)."""
        metas = {}
        for r in self.scan.records:
            if r.kind == fl.SENSOR:
                m = r.json()
                metas.setdefault(int(m.get("index", r.sensor_index)), m)
        for idx in sorted(metas):
            m = metas[idx]
            session.add_sensor(m["key"], m["placement"], device_info_from_meta(m), m.get("name", ""))
            self.keys[idx] = m["key"]

    async def run(self, session: Any) -> None:
        loop = asyncio.get_running_loop()
        t_start = loop.time()
        t_first = None
        placements = {v: k for k, v in self.keys.items()}
        by_placement = {}
        for r in self.scan.records:
            if r.kind == fl.SENSOR:
                m = r.json()
                by_placement[m["placement"]] = m["key"]
        for r in self.scan.records:
            if r.kind in (fl.DATA, fl.STATUS):
                if t_first is None:
                    t_first = r.arrival_s
                due = (r.arrival_s - t_first) / self.speed
                ahead = due - (loop.time() - t_start)
                if ahead > 0.002:
                    await asyncio.sleep(ahead)
                key = self.keys.get(r.sensor_index)
                if key is not None:
                    session.submit(key, "data" if r.kind == fl.DATA else "status", r.payload, r.arrival_s)
                    self.submitted += 1
            elif r.kind == fl.MESSAGE:
                m = r.json()
                if m.get("type") == "connection" and m.get("placement") in by_placement:
                    session.set_connection(by_placement[m["placement"]], str(m.get("connection")))
                elif m.get("type") == "annotation":
                    session.announce(m)
                    if session.recorder is not None and hasattr(session.recorder, "annotate"):
                        session.recorder.annotate(m["time_s"], m.get("text", ""))
        del placements
