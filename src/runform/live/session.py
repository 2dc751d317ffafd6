"""A live session: notifications of every sensor -> decode -> clock -> recorder + core -> hub.

``submit`` is the only entry point for sources (virtual sensors, BLE, replay). It is
thread-safe and only enqueues, so a BLE notification callback never waits for processing.
A worker thread drains the queue in batches, decodes, maps sensor clocks to session time,
runs the gait core, and hands messages to the asyncio loop that owns the hub.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from ..clock import SensorClock
from ..placements import leg_of, segment_of
from ..protocol.messages import DeviceInfo, decode_status
from ..protocol.errors import ProtocolError
from ..protocol.stream import SampleBlock, SensorStream
from .hub import Hub, Message

log = logging.getLogger(__name__)

DATA, STATUS = "data", "status"


class Core(Protocol):  # what the live path needs from runform.core.SessionProcessor
    def push(self, placement: str, time_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, gap_before: bool = False) -> list[Any]: ...

    def finish(self) -> list[Any]: ...


class FrameSink(Protocol):  # the recorder
    def write(self, sensor_index: int, characteristic: str, payload: bytes, arrival_s: float) -> None: ...

    # optional (called when the recorder has them): the session's messages (core outputs,
    # connection changes) in the order the worker handled them, for a self-contained record
    # def write_message(self, msg: dict) -> None: ...


@dataclass
class SensorState:
    """What the session knows of one sensor; ``as_status`` is its row in /api/status."""

    index: int
    key: str  # address (BLE) or a virtual id
    placement: str
    name: str
    info: DeviceInfo
    stream: SensorStream
    clock: SensorClock = field(default_factory=SensorClock)
    connection: str = "connecting"  # connecting | streaming | disconnected | lost | stopped
    battery_percent: int | None = None
    sensor_samples_dropped: int = 0
    sensor_clipped_samples: int = 0
    accel_clipped: bool = False
    gyro_clipped: bool = False
    first_sample_s: float | None = None
    last_sample_s: float | None = None
    first_sensor_us: float | None = None
    last_sensor_us: float | None = None
    last_arrival_s: float | None = None
    disconnects: int = 0
    gaps: list[dict] = field(default_factory=list)
    status_rejected: int = 0

    def effective_rate_hz(self) -> float | None:
        """Samples received per second of session time (sensor clock span corrected for drift)."""
        n = self.stream.counters.samples_received
        if n < 2 or self.first_sensor_us is None or self.last_sensor_us is None or self.last_sensor_us <= self.first_sensor_us:
            return None
        span_s = (self.last_sensor_us - self.first_sensor_us) * 1e-6 * (1.0 + self.clock.drift)
        return (n - 1) / span_s

    def as_status(self) -> dict:
        k = self.stream.counters
        rate = self.effective_rate_hz()
        return {
            "placement": self.placement,
            "address": self.key,
            "name": self.name,
            "connection": self.connection,
            "connected": self.connection == "streaming",
            "sample_rate_hz": self.stream.sample_rate_hz,
            "effective_rate_hz": None if rate is None else round(rate, 2),
            "accel_range_g": self.stream.accel_range_g,
            "gyro_range_dps": self.stream.gyro_range_dps,
            "firmware": self.info.firmware,
            "model": self.info.model,
            "battery_percent": self.battery_percent,
            "frames_received": k.frames_received,
            "frames_lost": k.frames_lost,
            "frames_rejected": k.frames_rejected,
            "frames_duplicated": k.frames_duplicated,
            "frames_unknown": k.frames_unknown,
            "reject_reasons": dict(k.reject_reasons),
            "samples_received": k.samples_received,
            "samples_clipped": k.samples_clipped,
            "sensor_samples_dropped": self.sensor_samples_dropped,
            "accel_clipped": self.accel_clipped,
            "gyro_clipped": self.gyro_clipped,
            "clock": self.clock.as_dict(),
            "disconnects": self.disconnects,
            "gaps": list(self.gaps[-20:]),
            "last_error": self.stream.last_error,
        }


class LiveSession:
    """Owns the sensors' decoders and clocks, the core and the worker thread."""

    def __init__(
        self,
        hub: Hub,
        *,
        core_factory: Callable[[dict[str, SensorState]], Core | None] | None = None,
        recorder: FrameSink | None = None,
        display_rate_hz: float = 100.0,
        publish_period_s: float = 0.1,
        status_period_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.hub = hub
        self.sensors: dict[str, SensorState] = {}
        self._by_index: list[SensorState] = []
        self._core_factory = core_factory
        self.core: Core | None = None
        self.recorder = recorder
        self.display_rate_hz = display_rate_hz
        self.publish_period_s = publish_period_s
        self.status_period_s = status_period_s
        self._clock = clock
        self.t0 = clock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = threading.Event()
        self._display: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._last_publish_s = 0.0
        self._last_status_s = 0.0
        self.core_errors = 0
        self.core_outputs = 0
        self.last_core_error: str | None = None
        # the latest core outputs, for new viewers and the REST API (bounded: the store keeps all)
        self.events: deque[Message] = deque(maxlen=2000)
        self.strides: deque[Message] = deque(maxlen=5000)
        self.stride_count = 0
        #: warnings and errors shown to the user (BLE rate lowered, recording failed, ...)
        self.notices: deque[dict] = deque(maxlen=50)
        #: per placement: (session time of a block's last sample, arrival time of that block)
        self._arrivals: dict[str, deque[tuple[float, float]]] = {}
        #: IC detection latency (ms): publication minus arrival of the frame holding the IC sample
        self.ic_latency_ms: deque[float] = deque(maxlen=2000)
        self.ic_replayed = 0  # IC events of samples that arrived before calibration was ready
        self._ready_at: dict[str, float] = {}  # placement -> publication time of its "ready" state
        #: the latest calibration message of each placement (new viewers need the current state)
        self.calibration: dict[str, Message] = {}
        self.processing_time_s = 0.0
        #: notifications still queued when a stuck worker was abandoned at stop (normally 0)
        self.unprocessed_at_stop = 0
        self.frames_processed = 0
        self.started_wall = time.time()

    # ------------------------------------------------------------------ sensors
    def now(self) -> float:
        """Session time (s) now."""
        return self._clock() - self.t0

    def add_sensor(self, key: str, placement: str, info: DeviceInfo, name: str = "") -> SensorState:
        """Register a sensor before its first notification (after reading its device info)."""
        if placement in {s.placement for s in self.sensors.values() if s.key != key}:
            raise ValueError(f"placement {placement} is already taken by another sensor")
        if key in self.sensors:
            st = self.sensors[key]
            st.info = info
            st.stream.configure(info.sample_rate_hz, info.accel_range_g, info.gyro_range_dps)
            return st
        st = SensorState(
            index=len(self._by_index),
            key=key,
            placement=placement,
            name=name or key,
            info=info,
            stream=SensorStream(info.sample_rate_hz, info.accel_range_g, info.gyro_range_dps),
        )
        self.sensors[key] = st
        self._by_index.append(st)
        return st

    def set_connection(self, key: str, connection: str) -> None:
        """Record a connection state change (thread-safe enough: plain attribute writes)."""
        st = self.sensors[key]
        if connection == st.connection:
            return
        now = self.now()
        if connection in ("disconnected", "lost") and st.connection == "streaming":
            st.disconnects += 1
            st.gaps.append({"start_s": now, "end_s": None})
        if connection == "streaming" and st.gaps and st.gaps[-1]["end_s"] is None:
            st.gaps[-1]["end_s"] = now
        st.connection = connection
        self._queue.put(("state", key, connection, now, False))

    def expect_restart(self, key: str) -> None:
        """Call just BEFORE telling a sensor to START_STREAMING (again): its sequence restarts at 0.
        The marker is queued, so the worker forgets the old stream's history exactly between the
        frames sent before and after the restart, whichever arrives when."""
        self._queue.put(("state", key, None, self.now(), True))

    # ------------------------------------------------------------------ input
    def submit(self, key: str, characteristic: str, payload: bytes, arrival_s: float | None = None) -> None:
        """Enqueue one notification (thread-safe, never blocks, never raises for bad bytes)."""
        self._queue.put(("n", key, characteristic, bytes(payload), self.now() if arrival_s is None else arrival_s))

    def call_in_worker(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        """Run ``fn`` in the worker thread, in order with the notifications (the core is not
        thread-safe). If ``fn`` returns a list of core outputs they are published like others.
        Returns a future (``asyncio.wrap_future`` to await it)."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        if self._thread is None or not self._thread.is_alive():
            fut.set_exception(RuntimeError("the live session is not running"))
            return fut
        self._queue.put(("call", fn, fut))
        return fut

    def recalibrate(self, placement: str | None = None) -> concurrent.futures.Future:
        """Ask the core to calibrate again (all sensors, or one placement)."""
        if self.core is None or not hasattr(self.core, "recalibrate"):
            fut: concurrent.futures.Future = concurrent.futures.Future()
            fut.set_exception(RuntimeError("no gait core in this session"))
            return fut
        core = self.core
        return self.call_in_worker(lambda: core.recalibrate(placement))

    # ------------------------------------------------------------------ lifecycle
    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        if self._core_factory is not None:
            self.core = self._core_factory(self.sensors)
        self._thread = threading.Thread(target=self._work, name="runform-live", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Process what is queued, flush the core, and stop the worker. The worker records every
        queued notification before it stops: while it keeps making progress the wait goes on
        beyond ``timeout_s``; a worker stuck for ``timeout_s`` is reported, never silently cut."""
        self._stopping.set()
        self._queue.put(("stop",))
        if self._thread is not None:
            while True:
                before = self.frames_processed + self.core_outputs
                self._thread.join(timeout_s)
                if not self._thread.is_alive():
                    break
                if self.frames_processed + self.core_outputs == before:
                    left = self._queue.qsize()
                    self.unprocessed_at_stop = left
                    log.error("the live worker is stuck; %d queued items were not processed or recorded", left)
                    break
        for st in self.sensors.values():
            if st.connection == "streaming":
                st.connection = "stopped"

    # ------------------------------------------------------------------ worker
    def _emit(self, msgs: list[Message]) -> None:
        if not msgs or self._loop is None or self._loop.is_closed():
            return
        try:
            self._loop.call_soon_threadsafe(self._publish_all, msgs)
        except RuntimeError:  # loop closed while stopping
            pass

    def _publish_all(self, msgs: list[Message]) -> None:
        for m in msgs:
            self.hub.publish(m)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            batch = [item]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            out: list[Message] = []
            stop = False
            t_start = time.perf_counter()
            for it in batch:
                if it[0] == "stop":
                    stop = True
                    continue
                try:
                    out.extend(self._item(it))
                except Exception as exc:  # noqa: BLE001 - the worker must outlive any bug: it records
                    self._worker_failed(it, exc)
            self.processing_time_s += time.perf_counter() - t_start
            try:
                out.extend(self._periodic(force=stop))
                if stop:
                    out.extend(self._finish_core())
            except Exception as exc:  # noqa: BLE001
                self._worker_failed(("periodic",), exc)
            self._emit(out)
            if stop:
                return

    def _item(self, it: tuple) -> list[Message]:
        if it[0] == "n":
            return self._handle(*it[1:])
        if it[0] == "state":
            _, key, conn, at, restart = it
            st = self.sensors[key]
            if restart:
                st.stream.restart()
            if conn is None:  # a bare restart marker: in the log too, so decoding repeats it here
                self._record_message({"type": "stream_restart", "placement": st.placement, "time_s": at})
                return []
            msg = {"type": "connection", "placement": st.placement, "connection": conn, "time_s": at}
            self._record_message(msg)
            return [msg]
        if it[0] == "call":
            _, fn, fut = it
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)
                return []
            fut.set_result(result)
            return self._core_messages(result) if isinstance(result, list) else []
        return []

    def _worker_failed(self, item: tuple, exc: BaseException) -> None:
        """A bug behind the worker (core output, message hook): count it, show it, go on."""
        self.core_errors += 1
        self.last_core_error = f"{type(exc).__name__}: {exc}"
        if self.core_errors <= 3:
            log.error("live worker failed on a %r item: %s", item[0], exc, exc_info=exc)

    def _handle(self, key: str, characteristic: str, payload: bytes, arrival_s: float) -> list[Message]:
        st = self.sensors.get(key)
        if st is None:
            log.warning("notification from unknown sensor %s ignored", key)
            return []
        if self.recorder is not None:
            try:
                self.recorder.write(st.index, characteristic, payload, arrival_s)
            except Exception as exc:  # noqa: BLE001 - a recording failure must not stop the live view
                log.error("recording failed: %s", exc)
        st.last_arrival_s = arrival_s
        if characteristic == STATUS:
            try:
                s = decode_status(payload)
            except ProtocolError:
                st.status_rejected += 1
                return []
            st.battery_percent = s.battery_percent
            st.sensor_samples_dropped = s.samples_dropped
            st.sensor_clipped_samples = s.clipped_samples
            st.accel_clipped, st.gyro_clipped = s.accel_clipped, s.gyro_clipped
            return []
        resyncs = st.stream.counters.time_resyncs
        block = st.stream.feed(payload)
        if block is None:
            return []
        if st.stream.counters.time_resyncs != resyncs:
            st.clock = SensorClock()  # the sensor clock jumped: fit it anew
        self.frames_processed += 1
        if st.connection == "connecting":
            # a frame queued before a disconnect must not mark a disconnected sensor as streaming:
            # only the source's set_connection("streaming") closes a gap
            st.connection = "streaming"
        st.clock.observe(block.sensor_time_us[-1], arrival_s)
        t_session = st.clock.to_session(block.sensor_time_us)
        if st.first_sample_s is None:
            st.first_sample_s = float(t_session[0])
            st.first_sensor_us = float(block.sensor_time_us[0])
        st.last_sample_s = float(t_session[-1])
        st.last_sensor_us = float(block.sensor_time_us[-1])
        self._display.setdefault(st.placement, []).append((t_session, block.acc_mps2, block.gyr_rps))
        self._arrivals.setdefault(st.placement, deque(maxlen=400)).append((float(t_session[-1]), arrival_s))
        return self._run_core(st, t_session, block)

    def _run_core(self, st: SensorState, t_session: np.ndarray, block: SampleBlock) -> list[Message]:
        if self.core is None:
            return []
        try:
            outs = self.core.push(st.placement, t_session, block.acc_mps2, block.gyr_rps, gap_before=block.gap_before)
        except Exception as exc:  # noqa: BLE001 - count, show, keep the session alive
            self.core_errors += 1
            self.last_core_error = f"{type(exc).__name__}: {exc}"
            if self.core_errors <= 3:
                log.exception("gait core failed on a block from %s", st.placement)
            return []
        return self._core_messages(outs)

    def _core_messages(self, outs: list[Any]) -> list[Message]:
        msgs = []
        for o in outs:
            try:
                msgs.extend(self._core_message(o))
            except Exception as exc:  # noqa: BLE001 - one bad output must not cost the others
                self._worker_failed(("core output",), exc)
        return msgs

    def _core_message(self, o: Any) -> list[Message]:
        m = o.to_message() if hasattr(o, "to_message") else dict(o)
        m.setdefault("published_s", self.now())
        if m.get("type") == "calibration":
            self.calibration[m["placement"]] = m
            if m.get("state") == "ready":
                self._ready_at.setdefault(m["placement"], m["published_s"])
        if m.get("type") == "event" and m.get("kind") == "ic":
            self._add_latency(m)
        self.core_outputs += 1
        self._record_message(m)
        if m.get("type") == "stride":
            self.strides.append(m)
            self.stride_count += 1
        elif m.get("type") == "event":
            self.events.append(m)
        return [m]

    def _record_message(self, msg: Message) -> None:
        write_message = getattr(self.recorder, "write_message", None)
        if write_message is None:
            return
        try:
            write_message(msg)
        except Exception as exc:  # noqa: BLE001 - a recording failure must not stop the live view
            log.error("recording a message failed: %s", exc)

    def announce(self, msg: Message) -> None:
        """Publish one message to the hub from any thread (e.g. an alert of the recorder)."""
        if msg.get("type") == "alert":
            self.notices.append({k: v for k, v in msg.items() if k != "type"})
        self._emit([msg])

    def notify(self, message: str, level: str = "warning", source: str = "session") -> None:
        """Tell the people watching: an ``alert`` message on the dashboard (level ``info``,
        ``warning`` or ``error``), kept in ``/api/status`` under ``notices``. Any thread."""
        self.announce({"type": "alert", "level": level, "source": source, "message": message,
                       "time_s": round(self.now(), 3)})

    def _add_latency(self, m: Message) -> None:
        """Detection latency of an IC event: from the arrival of the frame that carried the IC
        sample (of that leg's foot sensor) to the publication of the event."""
        arrivals = self._arrivals.get(f"{m.get('leg')}_foot")
        t_ic = m.get("time_s")
        if not arrivals or t_ic is None:
            return
        for t_last, arrival in arrivals:
            if t_last >= t_ic:
                latency = (m["published_s"] - arrival) * 1000.0
                m["detection_latency_ms"] = round(latency, 2)
                ready = self._ready_at.get(f"{m.get('leg')}_foot")
                if ready is None or arrival < ready:
                    # held back until calibration was decided, then replayed: not live latency
                    m["replayed"] = True
                    self.ic_replayed += 1
                else:
                    self.ic_latency_ms.append(latency)
                return

    def _latency_summary(self) -> dict | None:
        if not self.ic_latency_ms:
            return {"n": 0, "replayed_after_calibration": self.ic_replayed}
        a = np.asarray(self.ic_latency_ms)
        return {"n": int(a.size), "replayed_after_calibration": self.ic_replayed, "p50_ms": round(float(np.percentile(a, 50)), 2),
                "p99_ms": round(float(np.percentile(a, 99)), 2), "max_ms": round(float(a.max()), 2)}

    def _finish_core(self) -> list[Message]:
        if self.core is None:
            return []
        try:
            return self._core_messages(self.core.finish())
        except Exception as exc:  # noqa: BLE001
            self.core_errors += 1
            self.last_core_error = f"{type(exc).__name__}: {exc}"
            log.exception("gait core failed while finishing")
            return []

    def _periodic(self, force: bool = False) -> list[Message]:
        now = self.now()
        out: list[Message] = []
        if force or now - self._last_publish_s >= self.publish_period_s:
            self._last_publish_s = now
            msg = self._display_message()
            if msg is not None:
                out.append(msg)
        if force or now - self._last_status_s >= self.status_period_s:
            self._last_status_s = now
            out.append({"type": "status", **self.status()})
        return out

    def _display_message(self) -> Message | None:
        """Decimate the samples gathered since the last message to ~display_rate_hz."""
        if not self._display:
            return None
        sensors: dict[str, dict] = {}
        for placement, blocks in self._display.items():
            t = np.concatenate([b[0] for b in blocks])
            acc = np.concatenate([b[1] for b in blocks])
            gyr = np.concatenate([b[2] for b in blocks])
            st = next(s for s in self.sensors.values() if s.placement == placement)
            step = max(1, int(round(st.stream.sample_rate_hz / self.display_rate_hz)))
            sl = slice(None, None, step)
            sensors[placement] = {
                "t": np.round(t[sl], 4).tolist(),
                "acc_mps2": np.round(acc[sl], 3).tolist(),
                "gyr_dps": np.round(np.degrees(gyr[sl]), 2).tolist(),
            }
        self._display = {}
        return {"type": "samples", "sensors": sensors}

    # ------------------------------------------------------------------ status
    def status(self) -> dict:
        return {
            "session_time_s": round(self.now(), 3),
            "sensors": [s.as_status() for s in self._by_index],
            "core": {
                "available": self.core is not None,
                "outputs": self.core_outputs,
                "errors": self.core_errors,
                "last_error": self.last_core_error,
                "strides": self.stride_count,
                "events": len(self.events),
                "ic_detection_latency": self._latency_summary(),
                "processing_cpu_s": round(self.processing_time_s, 3),
                # placements corrected with their sensor's own calibration (--imu-calibration)
                "imu_corrected": sorted(p for p, spec in getattr(self.core, "sensors", {}).items()
                                        if getattr(spec, "imu", None) is not None),
            },
            "recording": None if self.recorder is None else getattr(self.recorder, "status", lambda: {})(),
            "viewers": self.hub.subscriber_count,
            "notices": list(self.notices)[-20:],
            "calibration": {p: {k: v for k, v in m.items() if k != "type"} for p, m in list(self.calibration.items())},
        }


def sensors_by_leg(sensors: dict[str, SensorState]) -> dict[str, dict[str, SensorState]]:
    """{leg: {segment: state}} for the sensors of a session."""
    legs: dict[str, dict[str, SensorState]] = {}
    for st in sensors.values():
        legs.setdefault(leg_of(st.placement), {})[segment_of(st.placement)] = st
    return legs
