"""The session index (SQLite) on a full disk: the failure is visible (recorder status, an alert
for the dashboard, the log) and recording goes on; the index is rebuilt from the frame log once
there is room again.

The full disk is real: in a user + mount namespace (``unshare``) the data directory is a
tiny tmpfs that is filled up, with a larger tmpfs mounted on its ``sessions`` folder, so
SQLite gets ENOSPC while the frame log has room."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import errno, json, os, sys, time
    import numpy as np
    from runform.protocol.messages import ImuFrame, encode_data
    from runform.store import Store, framelog as fl

    data = sys.argv[1]
    alerts = []

    class Session:  # what Store.open_live_recording reads, and the hub's announce
        sensors = {}
        started_wall = time.time()
        recorder = None
        def announce(self, msg):
            alerts.append(msg)

    store = Store(data)
    filler = os.path.join(data, "filler")
    with open(filler, "wb", buffering=0) as f:  # fill the index's file system to the last page
        try:
            while True:
                f.write(b"\\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    session = Session()
    rec = store.open_live_recording(session, {"source": "test", "label": "full index"})
    rec.describe_sensor(0, {"placement": "left_foot", "key": "k", "name": "n", "device_info": {},
                            "sample_rate_hz": 400.0, "accel_range_g": 16.0, "gyro_range_dps": 2000.0})
    def frames(a, b):
        for seq in range(a, b):
            samples = np.full((19, 6), seq, dtype=np.int16)
            rec.write(0, "data", encode_data(ImuFrame(seq, seq * 47500, samples)), seq * 0.0475 + 0.01)
    frames(0, 200)
    rec.app_state["annotation_sink"](5.0, "insoles on")
    rec.app_state["meta_sink"](label="renamed")
    frames(200, 400)
    during = rec.status()
    rec.close()
    after = rec.status()
    os.unlink(filler)
    rows = Store(data).list_sessions()
    again = Store(data)
    print(json.dumps({"id": rec.session_id, "during": during, "after": after, "alerts": alerts,
                      "rows": rows, "annotations": again.index.annotations(rec.session_id),
                      "decoded_frames": again.decode(rec.session_id).sensors[0].stream.counters.frames_received}, default=str))
    """
)


def _namespaces_work(tmp_path) -> bool:
    if shutil.which("unshare") is None:
        return False
    d = tmp_path / "probe"
    d.mkdir()
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {d}"],
                       capture_output=True, timeout=20)
    return r.returncode == 0


def test_a_full_disk_under_the_index_is_visible_and_recording_goes_on(tmp_path):
    if not _namespaces_work(tmp_path):
        pytest.skip("needs unshare with user and mount namespaces to make a tiny file system")
    data = tmp_path / "data"
    data.mkdir()
    shell = (f"mount -t tmpfs -o size=512k tmpfs {data} && mkdir {data}/sessions && "
             f"mount -t tmpfs -o size=16m tmpfs {data}/sessions && exec {sys.executable} -c \"$0\" {data}")
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", shell, SCRIPT],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # visible: recorder status (-> /api/status "recording"), an alert for the dashboard, the log
    assert out["during"]["index_error"] and "could not be updated" in out["during"]["index_error"]
    assert out["during"]["ok"] and out["during"]["state"] == "recording" and out["during"]["error"] is None
    assert any(a["type"] == "alert" and a["source"] == "index" for a in out["alerts"])
    assert "could not be updated" in r.stderr
    # recording went on: every frame is in the log, the session ended cleanly
    assert out["after"]["state"] == "closed" and out["after"]["frames"] == 400
    assert out["decoded_frames"] == 400
    # with room again, the session is indexed from its log, with the annotation and the new label
    row = next(x for x in out["rows"] if x["id"] == out["id"])
    assert row["state"] == "finished" and not row["recovered"] and row["label"] == "renamed"
    assert [(a["time_s"], a["text"]) for a in out["annotations"]] == [(5.0, "insoles on")]
