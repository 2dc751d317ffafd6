"""The raw frame log: an append-only file of records, the source of truth of a session.

Layout (little-endian, docs/data-format.md "frames.rfl"):

* file header, 16 bytes: ``MAGIC`` (8 bytes) then ``u32`` format version, ``u32`` reserved;
* records, each ``u8 kind | u8 sensor_index | u32 length | f64 arrival_s`` (14 bytes),
  ``length`` payload bytes, then ``u32`` CRC-32 (zlib) of header and payload.

Kinds: ``DATA`` and ``STATUS`` hold a notification's bytes exactly as received; ``SESSION``,
``SENSOR``, ``MESSAGE``, ``END`` hold UTF-8 JSON (session header, one sensor's metadata, a
message of the live session such as a stride, an annotation or a connection change, the clean
end). ``arrival_s`` is session time (s) of the host when the record was made.

A crash can only cut the last record (the file is append-only): the reader stops at the first
record that is short or fails its CRC, and :func:`repair` truncates the file there.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

MAGIC = b"RFFRAMES"
FORMAT_VERSION = 1
FILE_HEADER = struct.Struct("<8sII")
RECORD_HEADER = struct.Struct("<BBId")
CRC = struct.Struct("<I")
RECORD_OVERHEAD = RECORD_HEADER.size + CRC.size
MAX_PAYLOAD = 1 << 24

DATA, STATUS, SESSION, SENSOR, MESSAGE, END = 0, 1, 2, 3, 4, 5
KIND_NAMES = {DATA: "data", STATUS: "status", SESSION: "session", SENSOR: "sensor", MESSAGE: "message", END: "end"}
CHARACTERISTIC_KIND = {"data": DATA, "status": STATUS}
JSON_KINDS = (SESSION, SENSOR, MESSAGE, END)


class FrameLogError(ValueError):
    """A file that is not a frame log (or of an unknown format version)."""


@dataclass(frozen=True)
class Record:
    kind: int
    sensor_index: int
    arrival_s: float
    payload: bytes

    def json(self) -> Any:
        return json.loads(self.payload.decode("utf-8"))


def file_header() -> bytes:
    return FILE_HEADER.pack(MAGIC, FORMAT_VERSION, 0)


def encode_record(kind: int, sensor_index: int, arrival_s: float, payload: bytes) -> bytes:
    """Bytes of one record (header, payload, CRC)."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"record payload of {len(payload)} bytes is larger than {MAX_PAYLOAD}")
    head = RECORD_HEADER.pack(kind, sensor_index, len(payload), arrival_s)
    return head + payload + CRC.pack(zlib.crc32(payload, zlib.crc32(head)))


def encode_json(kind: int, sensor_index: int, arrival_s: float, obj: Any) -> bytes:
    return encode_record(kind, sensor_index, arrival_s, json.dumps(obj, separators=(",", ":"), allow_nan=False).encode())


@dataclass
class ScanResult:
    records: list[Record]
    valid_bytes: int  # length of the intact prefix (header + whole records)
    file_bytes: int
    problem: str | None  # why the scan stopped early (None: clean to the end)

    @property
    def torn(self) -> bool:
        return self.valid_bytes < self.file_bytes


def parse(buf: bytes | memoryview, *, name: str = "frame log") -> ScanResult:
    """All intact records of a log's bytes; stops at the first short or corrupt record."""
    mv = memoryview(buf)
    if len(mv) < FILE_HEADER.size:
        if bytes(mv) == file_header()[: len(mv)]:
            return ScanResult([], 0, len(mv), "file header incomplete" if len(mv) else None)
        raise FrameLogError(f"{name}: not a runform frame log (too short, no header)")
    magic, version, _ = FILE_HEADER.unpack_from(mv, 0)
    if magic != MAGIC:
        raise FrameLogError(f"{name}: not a runform frame log (bad magic {magic!r})")
    if version != FORMAT_VERSION:
        raise FrameLogError(f"{name}: frame log format version {version}; this runform reads version {FORMAT_VERSION}")
    pos = FILE_HEADER.size
    end = len(mv)
    out: list[Record] = []
    problem = None
    hsize = RECORD_HEADER.size
    unpack = RECORD_HEADER.unpack_from
    crc_unpack = CRC.unpack_from
    crc32 = zlib.crc32
    while pos < end:
        if end - pos < RECORD_OVERHEAD:
            problem = f"incomplete record header at byte {pos}"
            break
        kind, idx, n, arrival = unpack(mv, pos)
        stop = pos + hsize + n
        if n > MAX_PAYLOAD or stop + 4 > end:
            problem = f"record at byte {pos} is cut short ({end - pos} of {hsize + n + 4} bytes)"
            break
        payload = bytes(mv[pos + hsize : stop])
        if crc32(payload, crc32(mv[pos : pos + hsize])) != crc_unpack(mv, stop)[0]:
            problem = f"record at byte {pos} fails its checksum"
            break
        out.append(Record(kind, idx, arrival, payload))
        pos = stop + 4
    return ScanResult(out, pos, end, problem)


def read(path: str | os.PathLike) -> ScanResult:
    """Parse a frame log file (see :func:`parse`)."""
    p = Path(path)
    return parse(p.read_bytes(), name=str(p))


def iter_records(path: str | os.PathLike) -> Iterator[Record]:
    yield from read(path).records


def repair(path: str | os.PathLike) -> ScanResult:
    """Truncate a torn tail (a record cut by a crash or a full disk) so the file ends with a
    whole record. Returns the scan of the file before the repair."""
    res = read(path)
    if res.torn:
        with open(path, "r+b") as f:
            if res.valid_bytes == 0:  # even the header was cut: write it again
                f.truncate(0)
                f.write(file_header())
            else:
                f.truncate(res.valid_bytes)
            f.flush()
            os.fsync(f.fileno())
    return res
