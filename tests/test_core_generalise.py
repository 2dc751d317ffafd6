"""The product path does not depend on how the sensor is mounted on the foot: real recordings
(../shared/data) rotated as a sensor mounted differently would record them (``a' = R a``,
``g' = R g``, extreme and random R) give the same calibrated foot frame and the same strides
through ``runform analyze``'s core (``run_core``: calibration, SessionProcessor, foot tracker)
as the unrotated recording. benchmarks/bench_generalise.py measures the same on every recording
and at other sample rates (docs/validation-generalise.md). Skips without the data locally,
fails in CI (the ``shared_data`` fixture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from runform.core.calibration import calibrate
from runform.offline.analyze import run_core
from runform.offline.public import load_gaitmap, load_pyshoe
from runform.offline.raw import RawRecording, saturation_level
from runform.units import DEG_PER_RAD, RAD_PER_DEG

#: upside down (180 deg about x), a quarter turn about z, and a random mounting (fixed seed)
MOUNTINGS = {
    "upside_down": Rotation.from_rotvec([np.pi, 0.0, 0.0]).as_matrix(),
    "rz90": Rotation.from_rotvec([0.0, 0.0, np.pi / 2]).as_matrix(),
    "random7": Rotation.random(random_state=7).as_matrix(),
}


def _session(session, placements, r=np.eye(3)):
    """{placement: (t, acc m/s^2, gyr rad/s)} of the public-data session, sensors rotated by r."""
    return {p: (t, a @ r.T, (g * RAD_PER_DEG) @ r.T) for p, (t, a, g) in session.items() if p in placements}


def _analyze(session, ranges):
    recs = [RawRecording(Path(f"raw_{p}.csv"), p, t, a, g, float(1.0 / np.median(np.diff(t))), *ranges[p])
            for p, (t, a, g) in session.items()]
    rows, summary = run_core(recs)
    return rows, summary["calibration"]


def _num(row, key):
    v = row[key]
    return float("nan") if v in (None, "") else float(v)


def _check_invariant(session0, rate_of):
    # the unrotated recording's full scales (a rotated recording has no flat tops to find them from)
    ranges = {p: (saturation_level(a), None if saturation_level(g * DEG_PER_RAD) is None else saturation_level(g * DEG_PER_RAD) * RAD_PER_DEG)
              for p, (_, a, g) in session0.items()}
    rows0, cal0 = _analyze(session0, ranges)
    assert len(rows0) >= 10
    for name, r in MOUNTINGS.items():
        sess = {p: (t, a @ r.T, g @ r.T) for p, (t, a, g) in session0.items()}
        # the calibrated foot frame, expressed for the original sensor, is the unrotated one
        for p, (t, a, g) in sess.items():
            c0 = calibrate(p, *session0[p], rate_of(t))
            c = calibrate(p, t, a, g, rate_of(t))
            assert c is not None and c0 is not None, (name, p)
            assert (c.ok, c.method, c.sign_rule) == (c0.ok, c0.method, c0.sign_rule), (name, p)
            cos = np.clip((np.trace(c.matrix @ r @ c0.matrix.T) - 1) / 2, -1.0, 1.0)
            assert np.degrees(np.arccos(cos)) < 0.1, (name, p, np.degrees(np.arccos(cos)))
        rows, cal = _analyze(sess, ranges)
        assert {p: (c["state"], c["in_use"]["method"]) for p, c in cal.items()} == \
            {p: (c["state"], c["in_use"]["method"]) for p, c in cal0.items()}, name
        assert [r_["leg"] for r_ in rows] == [r_["leg"] for r_ in rows0], name
        for a_, b_ in zip(rows, rows0):
            where = (name, b_["leg"], b_["ic_time_s"])
            assert abs(_num(a_, "ic_time_s") - _num(b_, "ic_time_s")) < 0.002, where
            assert abs(_num(a_, "to_time_s") - _num(b_, "to_time_s")) < 0.002, where
            # clipping is found per sensor axis (gaitmap's vertical axis reaches the default 16 g
            # at heel strikes, a rotated one does not): every other flag is the same
            clip = {"clipped_acc", "clipped_gyr"}
            assert set(a_["flags"].split(";")) - clip == set(b_["flags"].split(";")) - clip, where
            for key, tol in (("stride_length_m", 0.01), ("foot_strike_angle_deg", 0.5), ("peak_eversion_deg", 0.5),
                             ("eversion_at_ic_deg", 0.5)):
                x, y = _num(a_, key), _num(b_, key)
                assert (np.isnan(x) and np.isnan(y)) or abs(x - y) <= tol, (where, key, x, y)


@pytest.mark.shared_data
def test_gaitmap_strides_and_angles_do_not_depend_on_the_mounting(shared_data):
    """gaitmap_walking, both feet (moving_only calibration: 0.9 s of standing only)."""
    s = _session(load_gaitmap(shared_data / "gaitmap_walking"), ("left_foot", "right_foot"))
    _check_invariant(s, lambda t: 204.8)


@pytest.mark.shared_data
def test_pyshoe_running_strides_and_angles_do_not_depend_on_the_mounting(shared_data):
    """pyshoe 2017-11-27-11-18-11 (running, standing start, +-8 g impacts)."""
    s = _session(load_pyshoe(shared_data / "pyshoe_dev" / "2017-11-27-11-18-11.mat"), ("right_foot",))
    _check_invariant(s, lambda t: float(1.0 / np.median(np.diff(t))))
