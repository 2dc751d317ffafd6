"""Decode a frame log again, exactly as the live path did.

Each sensor's data records go, in arrival order, through a fresh
:class:`runform.protocol.stream.SensorStream` (sequence accounting, timestamp unwrapping,
SI scaling) and :class:`runform.clock.SensorClock` (sensor time -> session time), the same
objects and calls as :meth:`runform.live.session.LiveSession._handle`. A connection change back
to ``streaming`` after a gap restarts the stream, as ``LiveSession.set_connection`` does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..clock import SensorClock
from ..protocol.messages import DeviceInfo
from ..protocol.stream import SensorStream
from . import framelog as fl
from .fastdecode import FrameBatch, clock_run, stream_run


@dataclass
class DecodedSensor:
    index: int
    meta: dict[str, Any]
    stream: SensorStream
    clock: SensorClock = field(default_factory=SensorClock)
    #: (session time s (n,), acc m/s^2 (n,3), gyr rad/s (n,3), gap_before) per accepted frame, or
    #: per clean run of frames decoded together (no gap inside a run; see fastdecode)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]] = field(default_factory=list)
    data_records: int = 0
    status_records: int = 0
    connection: str = "connecting"
    gap_open: bool = False

    @property
    def placement(self) -> str:
        return str(self.meta["placement"])

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All samples: time_s (n,), acc_mps2 (n, 3), gyr_rps (n, 3) (sensor frame)."""
        if not self.blocks:
            return np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        return (np.concatenate([b[0] for b in self.blocks]), np.concatenate([b[1] for b in self.blocks]),
                np.concatenate([b[2] for b in self.blocks]))

    def device_info(self) -> DeviceInfo:
        return device_info_from_meta(self.meta)


@dataclass
class DecodedLog:
    header: dict[str, Any]
    sensors: dict[int, DecodedSensor]
    #: (sensor index, block number) in the order the live worker handled them (a run of frames
    #: decoded together is one block, ordered by its first frame)
    order: list[tuple[int, int]]
    messages: list[dict[str, Any]]
    end: dict[str, Any] | None
    problem: str | None  # why the log stopped early (torn tail), None if whole
    records: int

    @property
    def clean_end(self) -> bool:
        return self.end is not None

    def by_placement(self) -> dict[str, DecodedSensor]:
        return {s.placement: s for s in self.sensors.values()}

    def annotations(self) -> list[dict[str, Any]]:
        return [{"time_s": float(m["time_s"]), "text": str(m.get("text", ""))} for m in self.messages if m.get("type") == "annotation"]

    def live_strides(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in m.items() if k not in ("type", "published_s")} for m in self.messages if m.get("type") == "stride"]


def device_info_from_meta(meta: dict[str, Any]) -> DeviceInfo:
    d = dict(meta["device_info"])
    return DeviceInfo(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def decode_records(scan: fl.ScanResult, *, vectorised: bool = True) -> DecodedLog:
    """Decode a scanned log. ``vectorised`` (default) decodes clean runs of frames with arrays
    (:mod:`runform.store.fastdecode`, bit-identical); ``False`` feeds every frame one by one,
    the reference the fast path is tested against."""
    if not vectorised:
        return _decode_per_frame(scan)
    order: list[tuple[int, int, int]] = []  # (record number, sensor index, block number)
    pending: dict[int, list[tuple[int, fl.Record]]] = {}

    def hold(pos: int, s: DecodedSensor, rec: fl.Record) -> None:
        pending.setdefault(s.index, []).append((pos, rec))

    def flush(s: DecodedSensor) -> None:
        items = pending.pop(s.index, None)
        if items:
            _decode_data_records(s, items, order)

    header, sensors, messages, end = _walk_records(scan, hold, flush)
    order.sort()
    return DecodedLog(header, sensors, [(i, b) for _, i, b in order], messages, end, scan.problem, len(scan.records))


def _walk_records(scan: fl.ScanResult, on_data: Any, flush: Any = None) -> tuple[dict[str, Any], dict[int, DecodedSensor], list[dict[str, Any]], Any]:
    """One pass over the log's records in order, shared by both decoders: sensors described,
    status counted, messages kept (connection / restart events applied to the sensor's stream),
    session header and end record. A DATA record of a described sensor goes to
    ``on_data(record number, sensor, record)``; ``flush(sensor)``, if given, runs before anything
    that changes how a sensor's later frames decode (a new description, a stream event) and for
    every sensor at the end. Returns (header, sensors, messages, end)."""
    header: dict[str, Any] = {}
    sensors: dict[int, DecodedSensor] = {}
    by_placement: dict[str, DecodedSensor] = {}
    messages: list[dict[str, Any]] = []
    end = None
    markers = _uses_restart_markers(scan)
    for pos, rec in enumerate(scan.records):
        k = rec.kind
        if k == fl.DATA:
            s = sensors.get(rec.sensor_index)
            if s is None:
                continue  # a frame of a sensor never described: cannot be decoded
            s.data_records += 1
            on_data(pos, s, rec)
        elif k == fl.STATUS:
            s = sensors.get(rec.sensor_index)
            if s is not None:
                s.status_records += 1
        elif k == fl.SENSOR:
            _describe_sensor(rec, sensors, by_placement, before_change=flush)
        elif k == fl.MESSAGE:
            msg = rec.json()
            messages.append(msg)
            if msg.get("type") in ("connection", "stream_restart"):
                s = by_placement.get(str(msg.get("placement")))
                if s is not None:
                    if flush is not None:
                        flush(s)
                    _stream_event(s, msg, markers)
        elif k == fl.SESSION:
            header = rec.json()
        elif k == fl.END:
            end = rec.json()
    if flush is not None:
        for s in sensors.values():
            flush(s)
    return header, sensors, messages, end


def _describe_sensor(rec: fl.Record, sensors: dict[int, DecodedSensor], by_placement: dict[str, DecodedSensor],
                     before_change: Any = None) -> None:
    """A SENSOR record: a new sensor, or a new description (rate, ranges) of a known one, as
    LiveSession.add_sensor. ``before_change(sensor)`` runs first for a known sensor (the
    vectorised path decodes the frames held back under the old description)."""
    meta = rec.json()
    idx = int(meta.pop("index", rec.sensor_index))
    s = sensors.get(idx)
    if s is None:
        s = DecodedSensor(idx, meta, SensorStream(meta["sample_rate_hz"], meta["accel_range_g"], meta["gyro_range_dps"]))
        sensors[idx] = s
        by_placement[s.placement] = s
        return
    if before_change is not None:
        before_change(s)
    s.meta = meta
    s.stream.configure(meta["sample_rate_hz"], meta["accel_range_g"], meta["gyro_range_dps"])


def _uses_restart_markers(scan: Any) -> bool:
    """Logs written since LiveSession.expect_restart record a ``stream_restart`` message exactly
    where the live worker restarted the stream; older logs restarted it when a gap closed."""
    for rec in scan.records:
        if rec.kind == fl.MESSAGE and b"stream_restart" in rec.payload:
            if rec.json().get("type") == "stream_restart":
                return True
    return False


def _stream_event(s: DecodedSensor, msg: dict, markers: bool) -> None:
    """What LiveSession's worker did at this point of the queue."""
    if msg.get("type") == "stream_restart":
        s.stream.restart()
        return
    conn = str(msg.get("connection"))
    if conn in ("disconnected", "lost") and s.connection == "streaming":
        s.gap_open = True
    if conn == "streaming" and s.gap_open:
        s.gap_open = False
        if not markers:  # an older log: the restart happened when the gap closed
            s.stream.restart()
    s.connection = conn


def _feed_one(s: DecodedSensor, payload: bytes, arrival_s: float):
    """One frame exactly as LiveSession._handle: stream, clock (anew after a resync), session times."""
    resyncs = s.stream.counters.time_resyncs
    block = s.stream.feed(payload)
    if block is None:
        return None
    if s.stream.counters.time_resyncs != resyncs:
        s.clock = SensorClock()  # the sensor clock jumped: fit it anew (as the live path)
    if s.connection == "connecting":
        s.connection = "streaming"
    s.clock.observe(block.sensor_time_us[-1], arrival_s)
    return s.clock.to_session(block.sensor_time_us), block


def _decode_data_records(s: DecodedSensor, items: list[tuple[int, fl.Record]], order: list[tuple[int, int, int]]) -> None:
    """A sensor's data records between two events that change its stream (connection change,
    new description): irregular frames one by one, clean runs with arrays."""
    batch = FrameBatch([r.payload for _, r in items], [r.arrival_s for _, r in items])
    n = len(batch)
    i = 0
    while i < n:
        pos, rec = items[i]
        got = _feed_one(s, rec.payload, rec.arrival_s)
        i += 1
        if got is None:
            continue
        t, block = got
        order.append((pos, s.index, len(s.blocks)))
        s.blocks.append((t, block.acc_mps2, block.gyr_rps, block.gap_before))
        while i < n:  # the clean run that continues the frame just accepted
            end = batch.run_end(i)
            k, times_us, acc, gyr = stream_run(s.stream, batch, i, end)
            if k == 0:
                break
            t = clock_run(s.clock, times_us, batch.arrival_s[i : i + k]).reshape(-1)
            order.append((items[i][0], s.index, len(s.blocks)))
            s.blocks.append((t, acc, gyr, False))
            i += k


def _decode_per_frame(scan: fl.ScanResult) -> DecodedLog:
    order: list[tuple[int, int]] = []

    def feed(_pos: int, s: DecodedSensor, rec: fl.Record) -> None:
        got = _feed_one(s, rec.payload, rec.arrival_s)
        if got is not None:
            t, block = got
            order.append((s.index, len(s.blocks)))
            s.blocks.append((t, block.acc_mps2, block.gyr_rps, block.gap_before))

    header, sensors, messages, end = _walk_records(scan, feed)
    return DecodedLog(header, sensors, order, messages, end, scan.problem, len(scan.records))


def decode_log(path: str | os.PathLike, *, vectorised: bool = True) -> DecodedLog:
    """Decode the frame log at ``path`` (intact records only; see :func:`framelog.parse`)."""
    return decode_records(fl.read(path), vectorised=vectorised)


def summarize(scan: fl.ScanResult) -> dict[str, Any]:
    """What the index needs, without decoding samples: header, sensors, frame counts per
    placement, last arrival time, live strides, annotations, clean end."""
    header: dict[str, Any] = {}
    sensors: dict[int, dict[str, Any]] = {}
    frames: dict[int, int] = {}
    strides: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    session_meta: dict[str, Any] = {}
    end = None
    last = 0.0
    for rec in scan.records:
        last = max(last, rec.arrival_s)
        if rec.kind == fl.DATA:
            frames[rec.sensor_index] = frames.get(rec.sensor_index, 0) + 1
        elif rec.kind == fl.SENSOR:
            sensor_meta = rec.json()
            sensors[int(sensor_meta.get("index", rec.sensor_index))] = sensor_meta
        elif rec.kind == fl.MESSAGE:
            m = rec.json()
            if m.get("type") == "stride":
                strides.append({k: v for k, v in m.items() if k not in ("type", "published_s")})
            elif m.get("type") == "annotation":
                annotations.append({"time_s": float(m["time_s"]), "text": str(m.get("text", ""))})
            elif m.get("type") == "session_meta":
                session_meta.update({k: v for k, v in m.items() if k in ("label", "runner")})
        elif rec.kind == fl.SESSION:
            header = rec.json()
        elif rec.kind == fl.END:
            end = rec.json()
    frame_counts = {sensors[i]["placement"] if i in sensors else f"sensor{i}": n for i, n in sorted(frames.items())}
    return {"header": header, "sensors": [sensors[i] for i in sorted(sensors)], "frame_counts": frame_counts,
            "last_arrival_s": last, "strides": strides, "annotations": annotations, "end": end, "meta": session_meta}
