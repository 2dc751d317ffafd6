"""The vectorised decode of clean frame runs gives exactly (bit for bit) what the per-frame path
gives, on logs with every irregularity a recording can hold."""

from __future__ import annotations

import numpy as np
import pytest

from runform.protocol import constants as c
from runform.protocol.messages import ImuFrame, SyncFrame, encode_data
from runform.store import Store, framelog as fl
from runform.store.decode import decode_records
from runform.store.sessiondir import raw_arrays_from_log, write_raw_csv
from runform.store.virtual import record_virtual_session

PLACEMENTS = ("left_foot", "right_foot", "left_shank", "right_shank")


def _meta(placement: str, rate: int) -> dict:
    return {"placement": placement, "key": placement, "name": placement, "device_info": {},
            "sample_rate_hz": rate, "accel_range_g": 16, "gyro_range_dps": 2000}


def irregular_log(seed: int, duration_s: float = 150.0, quantum_s: float = 0.0) -> bytes:
    """Four sensors streaming with losses, duplicates, malformed, sync and unknown frames, a
    timestamp and a sequence wrap, clock jumps, a single corrupted timestamp, holes in time,
    a reconnect with the sequence restarting, a change of frame length and of sample rate,
    jittered latency and clock drift."""
    rng = np.random.default_rng(seed)
    recs: list[tuple[float, int, bytes]] = []  # (arrival, order, record bytes)
    out = [fl.file_header(), fl.encode_json(fl.SESSION, 0, 0.0, {"source": "test"})]
    for i, p in enumerate(PLACEMENTS):
        rate = 400
        out.append(fl.encode_json(fl.SENSOR, i, 0.0, {**_meta(p, rate), "index": i}))
        drift = rng.uniform(-50e-6, 50e-6)
        offset = rng.uniform(0.01, 0.05)
        ts = int(c.TIMESTAMP_MODULUS_US - rng.uniform(20e6, 60e6))  # wraps within the session
        seq = int(rng.integers(65000, 65536))  # wraps too
        n = 19
        t_sensor = 0.0  # sensor seconds since start
        jumped = False
        reconnected = rate_changed = False
        k = 0
        while t_sensor < duration_s:
            period_us = 1e6 / rate
            samples = rng.integers(-32768, 32768, size=(n, 6)).astype(np.int16)
            payload = encode_data(ImuFrame(seq % 65536, ts % c.TIMESTAMP_MODULUS_US, samples))
            arrival = offset + (t_sensor + n / rate) * (1 + drift) + rng.exponential(0.006)
            if quantum_s:  # host stamps at connection events: equal lags (ties) in the clock fit
                arrival = np.ceil(arrival / quantum_s) * quantum_s
            u = rng.random()
            if u < 0.01:
                pass  # lost
            elif u < 0.02:
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, payload)))
                recs.append((arrival + 1e-4, k, fl.encode_record(fl.DATA, i, arrival + 1e-4, payload)))  # duplicate
            elif u < 0.025:
                bad = bytes(rng.choice([payload[:5], payload[:-3], b"\x51" + payload[1:], payload[:8] + b"\x00"]))
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, bad)))
            elif u < 0.03:
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, encode_data(SyncFrame(int(rng.integers(65536)), ts % c.TIMESTAMP_MODULUS_US)))))
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, payload)))
            elif u < 0.033:
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, bytes([(1 << 4) | 0x7]) + payload[1:])))
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, payload)))
            elif u < 0.036:  # one frame with a corrupted timestamp (a suspect that is not confirmed)
                wrong = encode_data(ImuFrame(seq % 65536, (ts + 3_000_000_000) % c.TIMESTAMP_MODULUS_US, samples))
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, wrong)))
            else:
                recs.append((arrival, k, fl.encode_record(fl.DATA, i, arrival, payload)))
            k += 1
            seq += 1
            ts += int(round(n * period_us))
            t_sensor += n / rate
            if rng.random() < 0.01:  # a hole in time without lost sequence numbers
                hole = int(rng.integers(1, 40))
                ts += int(round(hole * period_us))
                t_sensor += hole / rate
            if not jumped and t_sensor > duration_s * 0.6 and i % 2 == 0:  # the sensor clock jumps
                ts += 1_500_000_000
                jumped = True
            if not reconnected and t_sensor > duration_s * 0.3:
                reconnected = True
                a = arrival + 0.01
                recs.append((a, k, fl.encode_json(fl.MESSAGE, 0, a, {"type": "connection", "placement": p, "connection": "lost", "time_s": a})))
                t_sensor += 2.0
                ts += 2_000_000
                b = offset + t_sensor + 0.001
                recs.append((b, k, fl.encode_json(fl.MESSAGE, 0, b, {"type": "connection", "placement": p, "connection": "streaming", "time_s": b})))
                seq = 0
            if k % 700 == 350:
                n = int(rng.choice([5, 12, 19]))  # frame length changes (another MTU)
            if not rate_changed and t_sensor > duration_s * 0.8 and i == 1:
                rate_changed = True
                rate = 200
                a = arrival + 0.001
                recs.append((a, k, fl.encode_json(fl.SENSOR, i, a, {**_meta(p, rate), "index": i})))
    recs.sort(key=lambda r: (r[0], r[1]))
    out += [r[2] for r in recs]
    out.append(fl.encode_json(fl.END, 0, recs[-1][0], {"reason": "test"}))
    return b"".join(out)


def assert_same(slow, fast):
    assert sorted(slow.sensors) == sorted(fast.sensors)
    for i in slow.sensors:
        a, b = slow.sensors[i], fast.sensors[i]
        for x, y in zip(a.arrays(), b.arrays()):
            assert x.dtype == y.dtype and x.shape == y.shape
            assert np.array_equal(x, y), f"sensor {i}: samples differ"
            assert x.tobytes() == y.tobytes()  # bit for bit (also -0.0 and NaN payloads)
        assert a.stream.counters.as_dict() == b.stream.counters.as_dict()
        assert a.clock.as_dict() == b.clock.as_dict()
        assert (a.data_records, a.status_records, a.connection) == (b.data_records, b.status_records, b.connection)
    assert slow.messages == fast.messages and slow.records == fast.records


@pytest.mark.parametrize("seed,quantum_s", [(0, 0.0), (1, 0.0), (2, 0.0475)])
def test_fast_decode_equals_per_frame_decode_on_irregular_logs(seed, quantum_s, tmp_path):
    scan = fl.parse(irregular_log(seed, quantum_s=quantum_s))
    slow = decode_records(scan, vectorised=False)
    fast = decode_records(scan)
    # the log really holds what it is meant to exercise
    counts = {k: sum(s.stream.counters.as_dict()[k] for s in slow.sensors.values())
              for k in ("frames_lost", "frames_duplicated", "frames_rejected", "frames_unknown", "samples_missing", "time_resyncs")}
    assert all(v > 0 for v in counts.values()), counts
    updates = [s.clock.updates for s in slow.sensors.values()]
    assert min(updates) > 20 and max(updates) > 120, updates  # the drift fit ran, and its window rolled
    # ... and most frames went through the vectorised runs
    assert sum(len(s.blocks) for s in fast.sensors.values()) < 0.2 * sum(len(s.blocks) for s in slow.sensors.values())
    assert_same(slow, fast)
    raw_slow, _ = raw_arrays_from_log(slow)
    raw_fast, _ = raw_arrays_from_log(fast)
    for p in raw_slow:
        write_raw_csv(tmp_path / f"slow_{p}.csv", *raw_slow[p])
        write_raw_csv(tmp_path / f"fast_{p}.csv", *raw_fast[p])
        assert (tmp_path / f"slow_{p}.csv").read_bytes() == (tmp_path / f"fast_{p}.csv").read_bytes()


def test_fast_decode_equals_per_frame_decode_on_a_torn_log():
    buf = irregular_log(3, duration_s=40.0)
    scan = fl.parse(buf[: len(buf) * 2 // 3 + 5])
    assert scan.problem
    assert_same(decode_records(scan, vectorised=False), decode_records(scan))


def test_fast_decode_equals_per_frame_decode_on_a_virtual_recording(tmp_path):
    from runform.sensors.motion import SwingMotion

    store = Store(tmp_path / "data")
    sid = record_virtual_session(store, 30.0, motion=SwingMotion(), step_s=0.5)
    scan = fl.read(store.log_path(sid))
    assert_same(decode_records(scan, vectorised=False), decode_records(scan))
