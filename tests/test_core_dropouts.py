"""Samples whose six channels are exactly 0 are dropouts (hugadb subject 07's left foot has 28-97
per file, inside strides), not data: SessionProcessor.push drops them as it drops non-finite
samples, counts them (``dropout_samples`` in the calibration status / summary) and marks a gap,
so no stride integrates through them as if the foot were in free fall."""

from __future__ import annotations

import numpy as np
import pytest

from runform.core.params import SensorSpec
from runform.core.processor import SessionProcessor
from test_core_synth import make_recording

#: (start s, samples) of the runs of all-zero samples put into the left foot (400 Hz): inside
#: strides after the calibration, one as long as two live frames
RUNS = ((8.013, 1), (11.507, 4), (14.251, 15))


def _rows(outs):
    return [o.to_message() for o in outs if o.to_message()["type"] == "stride"]


def _feed(rec, a, g, frame=None):
    proc = SessionProcessor({"left_foot": SensorSpec(rate_hz=rec.rate_hz)})
    n = rec.time_s.size
    cuts = [0, n] if frame is None else [*range(0, n, frame), n]
    outs = []
    for s0, s1 in zip(cuts[:-1], cuts[1:]):
        outs += proc.push("left_foot", rec.time_s[s0:s1], a[s0:s1], g[s0:s1])
    outs += proc.finish()
    return proc, _rows(outs)


def test_all_zero_samples_are_counted_dropouts_and_no_valid_stride_spans_them():
    rec = make_recording(duration_s=20.0, seed=12, placements=("left_foot",))
    a, g = (x.copy() for x in rec.raw["left_foot"])
    drop = np.zeros(rec.time_s.size, bool)
    for t0, k in RUNS:
        i = int(np.searchsorted(rec.time_s, t0))
        drop[i : i + k] = True
    a[drop] = 0.0
    g[drop] = 0.0
    _, clean = _feed(rec, *rec.raw["left_foot"])
    for frame in (None, 7):  # one block (offline) and live frames give the same
        proc, rows = _feed(rec, a, g, frame)
        st = proc.calibration_status()["left_foot"]
        assert st["dropout_samples"] == int(drop.sum()) == 20
        assert st["gaps"] == len(RUNS)
        assert st["state"] == "ready"
        t_drop = rec.time_s[drop]
        for r in rows:
            t1 = r["ic_time_s"] + r["stride_time_ms"] / 1000
            if np.any((t_drop > r["ic_time_s"]) & (t_drop < t1)):
                assert r["valid"] == 0 and "gap" in r["flags"], r
        # the strides away from the dropouts are the clean recording's
        far = [r for r in rows if r["valid"] and np.all(np.abs(t_drop - r["ic_time_s"]) > 2.0)]
        clean_ic = np.array([r["ic_time_s"] for r in clean])
        assert len(far) >= 6
        for r in far:
            assert np.min(np.abs(clean_ic - r["ic_time_s"])) < 1e-9, r
    _, live = _feed(rec, a, g, 7)
    _, off = _feed(rec, a, g)
    assert [(r["ic_time_s"], r["flags"], r["stride_length_m"]) for r in live] == \
        [(r["ic_time_s"], r["flags"], r["stride_length_m"]) for r in off]


@pytest.mark.parametrize("leading_dropouts", [0, 3])
def test_an_announced_gap_restarts_the_calibration_even_when_its_block_starts_with_dropouts(leading_dropouts):
    # 1 s still, a gap of 4 s (announced), 1 s still, then motion: no standing window may join
    # the two still seconds across the gap (each is shorter than the 1.5 s a standing needs)
    rng = np.random.default_rng(0)
    rate = 400.0
    proc = SessionProcessor({"left_foot": SensorSpec(rate_hz=rate)})

    def still(t0, s):
        t = t0 + np.arange(int(s * rate)) / rate
        return t, np.tile([0.0, 0.0, 9.81], (t.size, 1)) + rng.normal(0, 0.01, (t.size, 3)), rng.normal(0, 0.002, (t.size, 3))

    proc.push("left_foot", *still(0.0, 1.0))
    t, a, g = still(5.0, 1.0)
    a[:leading_dropouts] = 0.0
    g[:leading_dropouts] = 0.0
    proc.push("left_foot", t, a, g, gap_before=True)
    tm = 6.0 + np.arange(200) / rate
    proc.push("left_foot", tm, np.tile([0.0, 0.0, 9.81], (tm.size, 1)) + rng.normal(0, 3.0, (tm.size, 3)), rng.normal(0, 3.0, (tm.size, 3)))
    st = proc.calibration_status()["left_foot"]
    assert "standing" not in st or st["standing"]["start_s"] >= 5.0, st.get("standing")
    assert st["dropout_samples"] == leading_dropouts
