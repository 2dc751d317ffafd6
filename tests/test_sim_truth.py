"""Ground truth of the virtual runner: per-stride metrics agree with the continuous truth
they come from, follow docs/metrics.md, and the profiles show what they are named for."""

from __future__ import annotations

import numpy as np
import pytest

from runform.core.schema import STRIDE_COLUMNS, strike_pattern_of
from runform.sim import VirtualRunner
from runform.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2

DUR = 40.0


@pytest.fixture(scope="module")
def neutral():
    return VirtualRunner.from_profile("neutral", seed=21)


def test_rows_have_the_core_columns(neutral):
    rows = neutral.truth_strides(DUR)
    assert len(rows) > 80
    for r in rows:
        assert tuple(r) == STRIDE_COLUMNS
    ic = [r["ic_time_s"] for r in rows]
    assert ic == sorted(ic)
    for leg in ("left", "right"):
        idx = [r["stride_index"] for r in rows if r["leg"] == leg]
        assert idx == list(range(len(idx)))


@pytest.mark.parametrize("leg", ["left", "right"])
def test_metrics_recomputed_from_continuous_truth(neutral, leg):
    rows = [r for r in neutral.truth_strides(DUR) if r["leg"] == leg]
    other = "right" if leg == "left" else "left"
    other_ic = neutral.events(other, DUR + 5)["ic"]
    for k in (3, 17, 30):
        r = rows[k]
        ic, to = r["ic_time_s"], r["to_time_s"]
        # an independent, finer grid than the one used to make the rows
        t = np.linspace(ic, to, 7919)
        a = neutral.truth_angles(leg, t)
        ev = a["eversion"] * DEG_PER_RAD
        j = int(np.argmax(ev))
        ir = a["shank_internal_rotation"] * DEG_PER_RAD
        assert r["eversion_at_ic_deg"] == pytest.approx(ev[0], abs=1e-6)
        assert r["peak_eversion_deg"] == pytest.approx(ev[j], abs=0.01)
        assert r["eversion_excursion_deg"] == pytest.approx(ev[j] - ev[0], abs=0.01)
        assert r["time_to_peak_eversion_ms"] == pytest.approx((t[j] - ic) * 1000, abs=1.0)
        rate = np.gradient(ev, t)
        assert r["peak_eversion_velocity_dps"] == pytest.approx(rate[: j + 1].max(), rel=0.01)
        assert r["foot_strike_angle_deg"] == pytest.approx(a["foot_sagittal"][0] * DEG_PER_RAD, abs=1e-6)
        assert r["strike_pattern"] == strike_pattern_of(r["foot_strike_angle_deg"])
        assert r["tibial_inclination_at_ic_deg"] == pytest.approx(a["tibial_inclination"][0] * DEG_PER_RAD, abs=1e-6)
        assert r["peak_shank_frontal_angle_deg"] == pytest.approx(a["shank_frontal"].max() * DEG_PER_RAD, abs=0.01)
        assert r["tibial_internal_rotation_deg"] == pytest.approx(ir.max() - ir[0], abs=0.01)
        assert r["ev_tir_ratio"] == pytest.approx(r["eversion_excursion_deg"] / r["tibial_internal_rotation_deg"], rel=1e-9)
        assert r["peak_tibial_accel_g"] == pytest.approx(a["tibial_axial_accel"].max() / STANDARD_GRAVITY_MPS2, rel=0.002)
        assert r["contact_time_ms"] == pytest.approx((to - ic) * 1000, abs=1e-9)
        nxt = rows[k + 1]
        assert r["stride_time_ms"] == pytest.approx((nxt["ic_time_s"] - ic) * 1000, abs=1e-9)
        assert r["cadence_spm"] == pytest.approx(120000 / r["stride_time_ms"])
        later = other_ic[other_ic > ic][0]
        assert r["flight_time_ms"] == pytest.approx((later - to) * 1000, abs=1e-9)
        mid = np.array([0.5 * (ic + to), 0.5 * (nxt["ic_time_s"] + nxt["to_time_s"])])
        m = neutral.truth_angles(leg, mid)
        length = np.hypot(np.diff(m["ankle_x"])[0], np.diff(m["ankle_y"])[0])
        assert r["stride_length_m"] == pytest.approx(length, abs=1e-9)
        assert r["speed_mps"] == pytest.approx(length / (r["stride_time_ms"] / 1000))
        assert r["eversion_reference"] == "shank" and r["valid"] == 1 and r["flags"] == ""


def test_truth_is_relative_to_standing(neutral):
    a = neutral.truth_angles("left", np.array([0.5, 1.0, 2.0]))
    for name in ("foot_sagittal", "eversion", "tibial_inclination", "shank_frontal", "shank_internal_rotation"):
        np.testing.assert_allclose(a[name], 0.0, atol=1e-12)


def _steady(profile, leg=None, **overrides):
    r = VirtualRunner.from_profile(profile, seed=4, overrides=overrides)
    rows = [x for x in r.truth_strides(45.0) if x["ic_time_s"] > 12.0]
    return [x for x in rows if leg is None or x["leg"] == leg]


def _mean(rows, key):
    return float(np.mean([r[key] for r in rows if r[key] not in (None, "")]))


def test_profiles_show_what_they_are_named_for():
    neutral = _steady("neutral")
    over = _steady("overpronator")
    assert _mean(over, "peak_eversion_deg") == pytest.approx(15.0, abs=1.5)
    assert _mean(over, "eversion_excursion_deg") == pytest.approx(20.0, abs=2.0)
    assert _mean(over, "tibial_internal_rotation_deg") > _mean(neutral, "tibial_internal_rotation_deg") + 3
    strider = _steady("overstrider")
    assert _mean(strider, "tibial_inclination_at_ic_deg") == pytest.approx(10.0, abs=1.0)
    assert _mean(strider, "peak_tibial_accel_g") == pytest.approx(12.0, rel=0.1)
    assert {r["strike_pattern"] for r in strider} == {"rearfoot"}
    fore = _steady("forefoot")
    assert {r["strike_pattern"] for r in fore} == {"forefoot"}
    walker = _steady("walker")
    assert _mean(walker, "flight_time_ms") < -50  # double support
    assert _mean(walker, "contact_time_ms") / _mean(walker, "stride_time_ms") > 0.55
    assert _mean(walker, "speed_mps") == pytest.approx(1.3, rel=0.05)
    assert _mean(neutral, "speed_mps") == pytest.approx(3.2, rel=0.03)
    assert _mean(neutral, "ev_tir_ratio") == pytest.approx(1.3, rel=0.05)


def test_asymmetric_profile_differs_between_legs():
    left = _steady("asymmetric", "left")
    right = _steady("asymmetric", "right")
    assert _mean(right, "peak_eversion_deg") > _mean(left, "peak_eversion_deg") + 3
    assert _mean(right, "peak_tibial_accel_g") > _mean(left, "peak_tibial_accel_g") + 2
    assert _mean(right, "contact_time_ms") > _mean(left, "contact_time_ms")


def test_fatiguing_profile_drifts_over_the_session():
    r = VirtualRunner.from_profile("fatiguing", seed=8, overrides={"drift_time_s": 60.0})
    rows = r.truth_strides(90.0)
    early = [x for x in rows if 12 < x["ic_time_s"] < 25]
    late = [x for x in rows if x["ic_time_s"] > 75]
    assert _mean(late, "peak_eversion_deg") - _mean(early, "peak_eversion_deg") > 3.0
    assert _mean(late, "peak_tibial_accel_g") - _mean(early, "peak_tibial_accel_g") > 2.0


def test_missing_sensors_empty_their_metrics():
    r = VirtualRunner.from_profile("neutral", seed=1, placements=("left_foot", "right_foot", "right_shank"))
    rows = r.truth_strides(20.0)
    left = [x for x in rows if x["leg"] == "left"]
    right = [x for x in rows if x["leg"] == "right"]
    assert left and right
    for x in left:
        assert x["eversion_reference"] == "standing" and "no_shank" in x["flags"]
        assert x["peak_tibial_accel_g"] is None and x["tibial_internal_rotation_deg"] is None
    for x in right:
        assert x["eversion_reference"] == "shank" and x["peak_tibial_accel_g"] is not None
    solo = VirtualRunner.from_profile("neutral", seed=1, placements=("left_foot",)).truth_strides(20.0)
    assert all(x["flight_time_ms"] is None and "no_other_foot" in x["flags"] for x in solo if x["leg"] == "left")


def test_standing_then_ramp_up():
    r = VirtualRunner.from_profile("neutral", seed=2, overrides={"standing_s": 3.0})
    rows = r.truth_strides(30.0)
    assert rows[0]["ic_time_s"] > 3.0
    assert rows[0]["speed_mps"] < 2.0 < rows[-1]["speed_mps"]


def test_toe_out_is_not_eversion():
    """Joint angles are zero in the calibrated standing pose by definition: the foot takes its
    heading from the shank there, so a standing toe-out is neither eversion nor a change of it."""
    from runform import anatomy

    over = {"right.toe_out_deg": 10.0, "left.toe_out_deg": 7.0}
    toed = VirtualRunner.from_profile("neutral", seed=5, overrides=over)
    straight = VirtualRunner.from_profile("neutral", seed=5, overrides={"toe_out_deg": 0.0})
    for leg in ("left", "right"):
        g = toed.gait
        assert abs(g.standing_toe_out(leg) * DEG_PER_RAD) > 5.0
        k = g.kinematics(leg, np.array([0.0, 1.5, 3.0]))
        rel = np.swapaxes(k.r_shank, 1, 2) @ g.foot_heading_reference(leg, k.r_foot)
        np.testing.assert_allclose(rel, np.broadcast_to(np.eye(3), rel.shape), atol=1e-12)
        # not relative to a reference: the raw eversion of standing is zero
        assert np.abs(anatomy.rearfoot_eversion(k.r_shank, g.foot_heading_reference(leg, k.r_foot), leg)).max() < 1e-12
        np.testing.assert_allclose(toed.truth_angles(leg, np.array([0.5, 2.0]))["eversion"], 0.0, atol=1e-12)
        # the truth eversion of a running leg does not depend on the toe-out ...
        t = np.linspace(10.0, 16.0, 3001)
        a = toed.truth_angles(leg, t)["eversion"]
        b = straight.truth_angles(leg, t)["eversion"]
        np.testing.assert_allclose(a, b, atol=1e-9)
        # ... whereas the foot relative to the shank without that convention would
        ka, kb = g.kinematics(leg, t), straight.gait.kinematics(leg, t)
        raw_a = anatomy.rearfoot_eversion(ka.r_shank, ka.r_foot, leg)
        raw_b = anatomy.rearfoot_eversion(kb.r_shank, kb.r_foot, leg)
        assert np.abs(raw_a - raw_b).max() * DEG_PER_RAD > 0.5
    keys = ("eversion_at_ic_deg", "peak_eversion_deg", "eversion_excursion_deg", "ev_tir_ratio")
    for ra, rb in zip(toed.truth_strides(20.0), straight.truth_strides(20.0)):
        for key in keys:
            assert ra[key] == pytest.approx(rb[key], abs=1e-6)


def test_eversion_time_course_over_stance(neutral):
    """Slightly inverted at contact, peak at 35-45 % of stance, still everted at 70-75 %, back
    to about neutral or inverted at toe-off (docs/virtual-runner.md, 'Eversion')."""
    rows = [r for r in neutral.truth_strides(DUR) if r["ic_time_s"] > 12.0]
    u = np.array([0.0, 0.7, 0.75, 1.0])
    for r in rows:
        leg, ic, tc = r["leg"], r["ic_time_s"], r["to_time_s"] - r["ic_time_s"]
        ev = neutral.truth_angles(leg, ic + u * tc)["eversion"] * DEG_PER_RAD
        assert ev[0] < 0.0 and ev[3] < 0.5
        assert 0.35 <= r["time_to_peak_eversion_ms"] / (tc * 1000.0) <= 0.45
        assert ev[1] > 0.4 * r["peak_eversion_deg"] and ev[2] > 0.0
