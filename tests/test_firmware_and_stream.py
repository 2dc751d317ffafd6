"""The virtual sensor firmware speaks the protocol; the host stream decoder recovers its samples,
counts losses, duplicates and wraps, and the clock maps sensor time to session time."""

from __future__ import annotations

import numpy as np
import pytest

from runform.clock import SensorClock
from runform.protocol import ControlCommand, ControlRejected, decode_data, decode_device_info, decode_status, encode_control
from runform.protocol import constants as c
from runform.protocol.messages import ImuFrame
from runform.protocol.scaling import raw_to_si
from runform.protocol.sizing import plan_sample_rate
from runform.protocol.stream import SensorStream
from runform.sensors.firmware import FirmwareConfig, VirtualSensorFirmware
from runform.sensors.motion import SwingMotion


def control(fw, op, *args, now=0.0):
    fw.write_control(encode_control(ControlCommand(op, tuple(args))), now_true_s=now)


def make_fw(**kw):
    cfg = FirmwareConfig(placement="left_foot", address="AA:BB:CC:DD:EE:01", **kw)
    return VirtualSensorFirmware(cfg, SwingMotion())


def test_firmware_streams_the_motion_at_its_rate_in_mtu_sized_frames():
    fw = make_fw(sample_rate_hz=400)
    fw.set_att_mtu(247)
    control(fw, c.OP_START_STREAMING)
    notes = fw.advance(2.0)
    data = [decode_data(n.payload) for n in notes if n.characteristic == "data"]
    assert all(isinstance(f, ImuFrame) for f in data)
    assert all(len(n.payload) <= 247 - 3 for n in notes)
    assert {f.sample_count for f in data} == {19}
    assert [f.sequence for f in data] == list(range(len(data)))
    n = sum(f.sample_count for f in data)
    assert 800 - 19 <= n <= 801
    # the samples are the motion, within one LSB
    stream = SensorStream(400, 16, 2000)
    blocks = [stream.feed(n.payload) for n in notes if n.characteristic == "data"]
    t_us = np.concatenate([b.sensor_time_us for b in blocks])
    gyr = np.concatenate([b.gyr_rps for b in blocks])
    _, want = SwingMotion().imu("left_foot", fw.true_time_s(t_us))
    assert np.max(np.abs(gyr - want)) <= np.radians(2000 / 32768) * 0.51
    assert np.allclose(np.diff(t_us), 2500.0)


def test_mtu23_frames_hold_one_sample_of_twenty_bytes():
    fw = make_fw()
    control(fw, c.OP_START_STREAMING)
    notes = [n for n in fw.advance(0.1) if n.characteristic == "data"]
    assert notes and all(len(n.payload) == 20 for n in notes)


def test_control_errors_are_the_documented_att_codes():
    fw = make_fw()
    with pytest.raises(ControlRejected) as e:
        fw.write_control(b"\x99")
    assert e.value.code == c.ERR_UNKNOWN_OPCODE
    with pytest.raises(ControlRejected) as e:
        fw.write_control(b"\x03\x90")
    assert e.value.code == c.ERR_INVALID_LENGTH
    with pytest.raises(ControlRejected) as e:
        control(fw, c.OP_SET_SAMPLE_RATE, 123)
    assert e.value.code == c.ERR_INVALID_PARAMETER
    control(fw, c.OP_SET_RANGES, 32, 4000)
    info = decode_device_info(fw.read_device_info())
    assert (info.accel_range_g, info.gyro_range_dps) == (32, 4000)
    control(fw, c.OP_START_STREAMING)
    with pytest.raises(ControlRejected) as e:
        control(fw, c.OP_SET_SAMPLE_RATE, 200)
    assert e.value.code == c.ERR_BUSY_STREAMING
    control(fw, c.OP_SET_PLACEMENT, 4)
    assert decode_device_info(fw.read_device_info()).placement == "right_shank"


def test_time_sync_answers_with_the_sensor_clock():
    fw = make_fw(clock_offset_us=5_000_000, clock_drift_ppm=100)
    control(fw, c.OP_TIME_SYNC, 77, now=10.0)
    (note,) = fw.advance(10.0)
    f = decode_data(note.payload)
    assert f.token == 77
    assert f.timestamp_us == pytest.approx(5_000_000 + 10e6 * (1 + 100e-6), abs=1)


def test_status_reports_clipping_and_battery():
    fw = make_fw(accel_range_g=2, gyro_range_dps=125)  # the swing motion's 6 g impact clips at 2 g
    control(fw, c.OP_START_STREAMING)
    notes = fw.advance(3.0)
    statuses = [decode_status(n.payload) for n in notes if n.characteristic == "status"]
    assert len(statuses) >= 3
    assert any(s.accel_clipped for s in statuses) and statuses[-1].clipped_samples > 0
    assert statuses[-1].battery_percent == fw.config.battery_percent


def test_stream_counts_loss_duplicates_and_unwraps_time_and_sequence():
    stream = SensorStream(100, 16, 2000)
    raw = np.zeros((1, 6), dtype=np.int16)
    from runform.protocol import encode_data

    start_ts = 2**32 - 15_000  # wraps after two frames
    seqs = [65533, 65534, 65535, 0, 0, 2, 1, 3]
    times = []
    for s in seqs:
        k = (s - 65533) % 65536
        b = stream.feed(encode_data(ImuFrame(s, (start_ts + k * 10_000) % 2**32, raw)))
        if b is not None:
            times.append(b.sensor_time_us[0])
    k = stream.counters
    assert k.frames_received == 6  # 65533 65534 65535 0 2 3
    assert k.frames_duplicated == 2  # the second 0, and 1 arriving after 2
    assert k.frames_lost == 1  # 1 was missing when 2 arrived
    assert np.all(np.diff(times) > 0) and times[-1] - times[0] == 6 * 10_000


def test_stream_rejects_malformed_frames_and_goes_on():
    stream = SensorStream(400, 16, 2000)
    from runform.protocol import encode_data

    good = encode_data(ImuFrame(0, 0, np.ones((2, 6), dtype=np.int16)))
    assert stream.feed(good[:-1]) is None
    assert stream.feed(b"\x21" + good[1:]) is None
    assert stream.feed(encode_data(ImuFrame(1, 5000, np.ones((2, 6), dtype=np.int16)))) is not None
    assert stream.counters.frames_rejected == 2
    assert stream.counters.reject_reasons == {"length_mismatch": 1, "unsupported_version": 1}


def test_clock_lower_envelope_recovers_offset_and_drift_under_jitter():
    rng = np.random.default_rng(3)
    clock = SensorClock()
    offset_s, drift = 1234.5, 50e-6  # sensor clock 50 ppm fast
    true_t = np.arange(0, 120, 0.0475)  # frames every 47.5 ms for two minutes
    sensor_us = (offset_s + true_t * (1 + drift)) * 1e6
    arrival = true_t + 0.0075 + rng.exponential(0.01, true_t.size)  # 7.5 ms floor + jitter
    for s, a in zip(sensor_us, arrival):
        clock.observe(s, a)
    est = clock.to_session(sensor_us[-200:])
    err = est - (true_t[-200:] + 0.0075)
    assert np.max(np.abs(err)) < 0.002
    assert clock.drift == pytest.approx(-drift, abs=10e-6)


def test_rate_plan_lowers_the_rate_at_mtu23_only():
    assert plan_sample_rate(400, [247] * 4, (100, 200, 400, 800)) == 400
    assert plan_sample_rate(400, [23] * 4, (100, 200, 400, 800)) == 200
    assert plan_sample_rate(400, [23], (100, 200, 400, 800)) == 400
    assert plan_sample_rate(800, [247] * 6, (100, 200, 400, 800)) == 800


def test_raw_scaling_is_exact_at_full_scale():
    acc, gyr = raw_to_si(np.array([[32767, -32768, 2048, 32767, -32768, 0]], dtype=np.int16), 16, 2000)
    assert acc[0, 2] == pytest.approx(9.80665)
    assert acc[0, 1] == pytest.approx(-16 * 9.80665)
    assert np.degrees(gyr[0, 1]) == pytest.approx(-2000)


def _frame(seq, ts, n=2):
    from runform.protocol import encode_data

    return encode_data(ImuFrame(seq % 65536, ts % 2**32, np.ones((n, 6), dtype=np.int16)))


def test_a_corrupted_timestamp_is_rejected_and_the_stream_goes_on():
    stream = SensorStream(100, 16, 2000)  # 2 samples per frame = 20 ms
    assert stream.feed(_frame(0, 1_000_000)).new_epoch
    assert not stream.feed(_frame(1, 1_020_000)).gap_before
    assert stream.feed(_frame(2, 999_000_000)) is None  # a wild timestamp
    b = stream.feed(_frame(3, 1_060_000))
    # the rejected frame counts once (rejected), not also as lost; its samples are a hole
    assert b is not None and b.frames_lost_before == 0 and b.samples_missing_before == 2 and b.gap_before
    assert stream.counters.frames_lost == 0
    assert stream.counters.reject_reasons == {"time_jump": 1}
    assert stream.counters.time_resyncs == 0


def test_a_real_clock_jump_is_confirmed_by_the_next_frame_and_starts_a_new_epoch():
    stream = SensorStream(100, 16, 2000)
    stream.feed(_frame(0, 50_000_000))
    stream.feed(_frame(1, 50_020_000))
    assert stream.feed(_frame(2, 7_000)) is None  # sensor clock reset: backwards
    b = stream.feed(_frame(3, 27_000))
    assert b is not None and b.new_epoch and b.gap_before
    assert stream.counters.time_resyncs == 1
    c3 = stream.feed(_frame(4, 47_000))
    assert c3 is not None and not c3.gap_before


def test_after_a_reconnect_a_long_hole_is_a_gap_not_an_error():
    stream = SensorStream(100, 16, 2000)
    stream.feed(_frame(0, 1_000_000))
    stream.feed(_frame(1, 1_020_000))
    stream.restart()
    b = stream.feed(_frame(0, 61_000_000))  # one minute later, sequence restarted
    assert b is not None and b.gap_before and stream.counters.frames_rejected == 0
    assert stream.counters.samples_missing == (61_000_000 - 1_040_000) // 10_000


def test_sensor_side_drops_show_as_missing_samples():
    stream = SensorStream(100, 16, 2000)
    stream.feed(_frame(0, 0))
    b = stream.feed(_frame(1, 20_000 + 3 * 10_000))  # three samples dropped in the sensor
    assert b.samples_missing_before == 3 and b.frames_lost_before == 0 and b.gap_before


def test_a_failing_core_output_does_not_stop_recording_or_the_worker():
    """A bug in the core's output conversion is counted and shown; every frame is still recorded."""
    import asyncio

    from runform.live.hub import Hub
    from runform.live.session import LiveSession
    from runform.protocol import encode_data

    class Rec:
        def __init__(self):
            self.frames = 0

        def write(self, *a):
            self.frames += 1

    class Bad:
        def to_message(self):
            raise ValueError("broken output")

    class Core:
        n = 0

        def push(self, *a, **k):
            self.n += 1
            return [Bad()] if self.n % 10 == 0 else []

        def finish(self):
            return [Bad()]

    async def go():
        rec = Rec()
        s = LiveSession(Hub(), core_factory=lambda sensors: Core(), recorder=rec)
        fw = make_fw()
        s.add_sensor("k", "left_foot", fw.device_info())
        s.start(asyncio.get_running_loop())
        for i in range(100):
            s.submit("k", "data", encode_data(ImuFrame(i, 1_000_000 + i * 47_500, np.zeros((19, 6), dtype=np.int16))), i * 0.05)
        await asyncio.to_thread(s.stop)
        return s, rec

    s, rec = asyncio.run(go())
    assert rec.frames == 100
    st = s.status()
    assert st["core"]["errors"] == 11 and "broken output" in st["core"]["last_error"]
    assert st["sensors"][0]["frames_received"] == 100
