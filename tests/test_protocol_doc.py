"""Every hex example in firmware_protocol.md decodes to the JSON beside it and encodes back to
the same bytes: the document and the code cannot drift apart."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import REPO_ROOT
from runform.protocol import (
    Advertisement,
    ControlCommand,
    DeviceInfo,
    ImuFrame,
    ProtocolError,
    Status,
    SyncFrame,
    UnknownFrame,
    decode_advertisement,
    decode_control,
    decode_data,
    decode_device_info,
    decode_status,
    encode_advertisement,
    encode_control,
    encode_data,
    encode_device_info,
    encode_status,
)
from runform.protocol import constants as c

DOC = (REPO_ROOT / "firmware_protocol.md").read_text()
EXAMPLE = re.compile(r"<!-- example: (\S+) kind=(\S+) -->\s*```hex\n(.*?)```\s*```json\n(.*?)```", re.S)
EXAMPLES = [(m[0], m[1], bytes.fromhex(m[2]), json.loads(m[3])) for m in EXAMPLE.findall(DOC)]


def test_the_document_has_an_example_of_every_message():
    kinds = {k for _, k, _, _ in EXAMPLES}
    assert {"data", "data-error", "device_info", "status", "control", "advertisement"} <= kinds
    opcodes = {j["opcode"] for _, k, _, j in EXAMPLES if k == "control"}
    assert opcodes == {v for n, v in vars(c).items() if n.startswith("OP_")}
    frames = {j["frame"] for _, k, _, j in EXAMPLES if k == "data"}
    assert frames == {"imu", "sync", "unknown"}


def test_uuids_and_advertising_bytes_in_the_document_match_the_code():
    for uuid in (c.SERVICE_UUID, c.DEVICE_INFO_UUID, c.CONTROL_UUID, c.DATA_UUID, c.STATUS_UUID):
        assert f"`{uuid}`" in DOC
    le_uuid = bytes.fromhex(c.SERVICE_UUID.replace("-", ""))[::-1]
    assert ("11 07 " + le_uuid.hex(" ")) in DOC
    assert f"`{c.ADVERTISED_NAME_PREFIX}" in DOC


@pytest.mark.parametrize("name,kind,raw,expected", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_example(name, kind, raw, expected):
    if kind == "data":
        frame = decode_data(raw)
        if expected["frame"] == "imu":
            assert isinstance(frame, ImuFrame)
            assert frame.sequence == expected["sequence"]
            assert frame.timestamp_us == expected["timestamp_us"]
            assert frame.samples.tolist() == expected["samples"]
            rebuilt = ImuFrame(expected["sequence"], expected["timestamp_us"], np.array(expected["samples"], dtype=np.int16))
            assert encode_data(rebuilt) == raw
        elif expected["frame"] == "sync":
            assert frame == SyncFrame(expected["token"], expected["timestamp_us"])
            assert encode_data(frame) == raw
        else:
            assert isinstance(frame, UnknownFrame) and frame.frame_type == expected["frame_type"]
    elif kind == "data-error":
        with pytest.raises(ProtocolError) as err:
            decode_data(raw)
        assert err.value.reason == expected["reason"]
    elif kind == "device_info":
        info = decode_device_info(raw)
        want = DeviceInfo(**{k: tuple(v) if isinstance(v, list) else v for k, v in expected.items()})
        assert info == want
        assert encode_device_info(want) == raw
    elif kind == "status":
        st = decode_status(raw)
        assert st == Status(**expected)
        assert encode_status(st) == raw
    elif kind == "control":
        cmd = decode_control(raw)
        assert cmd == ControlCommand(expected["opcode"], tuple(expected["args"]))
        assert encode_control(cmd) == raw
    elif kind == "advertisement":
        adv = decode_advertisement(raw)
        assert adv == Advertisement(**{k: tuple(v) if isinstance(v, list) else v for k, v in expected.items()})
        assert encode_advertisement(adv) == raw
    else:  # pragma: no cover
        pytest.fail(f"unknown example kind {kind}")


def test_mtu_rule_stated_in_the_document():
    from runform.protocol.sizing import max_samples_per_frame

    assert max_samples_per_frame(23) == 1
    assert max_samples_per_frame(185) == 14
    assert max_samples_per_frame(247) == 19
    assert max_samples_per_frame(517) == 42
    for mtu, n in ((23, 1), (185, 14), (247, 19), (517, 42)):
        assert re.search(rf"\b{n} at (the default )?MTU {mtu}\b", DOC.replace("**", "")), (n, mtu)
