"""Record a session of virtual sensors faster than real time (tests, benchmarks, examples).

The virtual sensor firmware (:mod:`runform.sensors.firmware`) runs on a virtual runner (or the
minimal swing motion); its notifications are written to a frame log with arrival time = time
sent + a fixed link latency, as :class:`runform.live.virtual_source.VirtualSource` would deliver
them, but without waiting for the wall clock and without running the live core.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from ..live.virtual_sensors import make_virtual_sensors
from ..protocol import constants as c
from ..protocol.messages import ControlCommand, decode_device_info, encode_control
from ..protocol.stream import SensorStream
from .store import Store


def make_motion(profile: str = "neutral", seed: int | None = 0) -> Any:
    """The virtual runner of ``profile`` (the simulator is part of every build)."""
    from ..sim import VirtualRunner

    return VirtualRunner.from_profile(profile, seed=seed or 0)


def record_virtual_session(store: Store, duration_s: float, *, rate_hz: int = 400, seed: int = 0, motion: Any = None,
                           latency_s: float = 0.008, step_s: float = 0.05, label: str = "virtual",
                           annotations: list[tuple[float, str]] = (), meta: dict[str, Any] | None = None) -> str:
    """Record ``duration_s`` of four virtual sensors into ``store``; returns the session id.
    ``meta``: more facts for the session header (e.g. the ``imu_calibration`` a live session used)."""
    motion = motion if motion is not None else make_motion(seed=seed)
    firmwares = make_virtual_sensors(motion, rate_hz=rate_hz, seed=seed)
    sensors = {}
    for i, fw in enumerate(firmwares):
        fw.set_att_mtu(247)
        info = decode_device_info(fw.read_device_info())
        st = SimpleNamespace(index=i, key=fw.config.address, placement=info.placement or fw.motion_placement, name=fw.config.name,
                             info=info, stream=SensorStream(info.sample_rate_hz, info.accel_range_g, info.gyro_range_dps))
        sensors[fw.config.address] = st
    session = SimpleNamespace(sensors=sensors, started_wall=time.time(), recorder=None)
    rec = store.open_live_recording(session, {"source": "virtual", "label": label, "seed": seed, "rate_hz": rate_hz, **(meta or {})})
    for fw in firmwares:
        fw.write_control(encode_control(ControlCommand(c.OP_START_STREAMING)), now_true_s=0.0)
        rec.write_message({"type": "connection", "placement": sensors[fw.config.address].placement, "connection": "streaming", "time_s": 0.0})
    pending_ann = sorted(annotations)
    t = 0.0
    while t < duration_s:
        t = min(duration_s, t + step_s)
        out = []
        for fw in firmwares:
            st = sensors[fw.config.address]
            for n in fw.advance(t):
                out.append((n.sent_true_s + latency_s, st.index, n.characteristic, n.payload))
        out.sort(key=lambda x: (x[0], x[1]))
        for arrival, idx, char, payload in out:
            rec.write(idx, char, payload, arrival)
        while pending_ann and pending_ann[0][0] <= t:
            at, text = pending_ann.pop(0)
            rec.annotate(at, text)
            store.index.add_annotation(rec.session_id, at, text)
    rec.close()
    return rec.session_id
