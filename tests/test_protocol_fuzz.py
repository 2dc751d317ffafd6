"""Random, truncated and extended bytes: decoding raises only ProtocolError, never reads past
the buffer, and the stream decoder counts every bad frame without stopping."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from runform.protocol import (
    ImuFrame,
    ProtocolError,
    decode_advertisement,
    decode_control,
    decode_data,
    decode_device_info,
    decode_status,
    encode_data,
)
from runform.protocol.stream import SensorStream

DECODERS = [decode_data, decode_device_info, decode_status, decode_control, decode_advertisement]

samples = st.integers(1, 20).flatmap(
    lambda n: st.lists(st.lists(st.integers(-32768, 32767), min_size=6, max_size=6), min_size=n, max_size=n)
)
frames = st.builds(
    lambda seq, ts, s: ImuFrame(seq, ts, np.array(s, dtype=np.int16)),
    st.integers(0, 65535),
    st.integers(0, 2**32 - 1),
    samples,
)


class GuardedBytes(bytes):
    """bytes that remember their length: a decoder reading past it would have to slice beyond."""


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_protocol_error(data):
    for decode in DECODERS:
        try:
            decode(data)
        except ProtocolError as exc:
            assert exc.reason and str(exc)


@settings(max_examples=300, deadline=None)
@given(frames, st.data())
def test_truncated_and_extended_frames_are_rejected(frame, data):
    raw = encode_data(frame)
    assert decode_data(raw) == frame
    cut = data.draw(st.integers(0, len(raw) - 1))
    try:
        decode_data(raw[:cut])
        raise AssertionError("a truncated frame was accepted")
    except ProtocolError:
        pass
    extra = data.draw(st.binary(min_size=1, max_size=30))
    try:
        decode_data(raw + extra)
        # an extension that happens to describe a valid longer frame is impossible: count is fixed
        raise AssertionError("an extended frame was accepted")
    except ProtocolError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(frames.map(encode_data), st.binary(max_size=64)), max_size=40))
def test_stream_counts_every_frame_and_never_raises(payloads):
    stream = SensorStream(400, 16, 2000)
    total_samples = 0
    for p in payloads:
        block = stream.feed(p)
        if block is not None:
            total_samples += len(block.sensor_time_us)
            assert block.acc_mps2.shape == (len(block.sensor_time_us), 3)
            assert np.all(np.diff(block.sensor_time_us) > 0)
    k = stream.counters
    assert k.samples_received == total_samples
    handled = k.frames_received + k.frames_rejected + k.frames_duplicated + k.frames_unknown
    syncs = len(payloads) - handled
    assert syncs >= 0  # the rest can only be sync frames
