"""Physics of the virtual runner's signals: the gyroscope integrates to the true orientation,
the accelerometer reads gravity at rest and integrates to the true displacement (lever arm
and impact included), and impacts reach the configured tibial peak."""

from __future__ import annotations

import numpy as np
import pytest

from runform.placements import PLACEMENTS
from runform.rotations import quat_conj, quat_from_rotvec, quat_mul, quat_rotate, quat_to_rotvec
from runform.sim import PROFILES, VirtualRunner
from runform.units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2

IDEAL = {"sensor_error_scale": 0.0}


def _integrate_gyro(q0: np.ndarray, gyr: np.ndarray, dt: float, every: int = 50) -> np.ndarray:
    """Body-rate integration with the mean rate over each step (second order); the
    orientation at samples 0, every, 2*every, ..."""
    q = q0.copy()
    out = [q]
    steps = quat_from_rotvec(0.5 * (gyr[1:] + gyr[:-1]) * dt)
    for i, dq in enumerate(steps, start=1):  # a test, not a hot path
        q = quat_mul(q, dq)
        if i % every == 0:
            out.append(q)
    return np.array(out)


@pytest.mark.parametrize("profile", ["neutral", "walker", "forefoot"])
@pytest.mark.parametrize("placement", ["left_foot", "right_shank"])
def test_gyroscope_integrates_to_true_orientation(profile, placement):
    runner = VirtualRunner.from_profile(profile, seed=5, overrides=IDEAL)  # random mounting
    ev = runner.events(placement.split("_")[0], 30.0)
    t0, t1 = ev["ic"][8], ev["ic"][9]  # one full stride, impact included
    dt = 1.0 / 8000.0
    t = t0 + np.arange(int(round((t1 - t0) / dt)) + 1) * dt
    _, gyr = runner.imu(placement, t)
    q_true = runner.sensor_quaternions(placement, t[::50])
    q_int = _integrate_gyro(q_true[0], gyr, dt)
    err = np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(q_true), q_int)), axis=-1) * DEG_PER_RAD
    assert err.max() < 0.1  # all along the stride, not only at its end
    # the stride really rotated the sensor, and a 1 % gyro scale error would be caught
    turned = np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(q_true[0]), q_true)), axis=-1) * DEG_PER_RAD
    assert turned.max() > 20.0
    q_bad = _integrate_gyro(q_true[0], gyr * 1.01, dt)
    bad = np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(q_true), q_bad)), axis=-1) * DEG_PER_RAD
    assert bad.max() > 0.1


@pytest.mark.parametrize("placement", PLACEMENTS)
def test_accelerometer_at_rest_reads_one_g_up(placement):
    runner = VirtualRunner.from_profile("neutral", seed=11, overrides=IDEAL)
    t = np.arange(0.0, 3.0, 1 / 400)
    acc, gyr = runner.imu(placement, t)
    world = quat_rotate(runner.sensor_quaternions(placement, t), acc)
    np.testing.assert_allclose(world, np.tile([0.0, 0.0, STANDARD_GRAVITY_MPS2], (t.size, 1)), atol=1e-9)
    np.testing.assert_allclose(gyr, 0.0, atol=1e-12)
    # the mounting is not the identity, so the reading is not trivially along the sensor z
    assert abs(acc[0, 2] - STANDARD_GRAVITY_MPS2) > 1e-3


def test_accelerometer_at_rest_with_sensor_errors_is_within_bias():
    runner = VirtualRunner.from_profile("neutral", seed=12)
    t = np.arange(0.0, 3.0, 1 / 400)
    acc, _ = runner.imu("left_foot", t)
    mean_norm = np.linalg.norm(acc.mean(axis=0))
    assert abs(mean_norm - STANDARD_GRAVITY_MPS2) < 0.25  # bias + scale errors, default magnitudes
    assert acc.std(axis=0).max() > 0.005  # noise is there


@pytest.mark.parametrize("placement", ["right_foot", "left_shank"])
def test_accelerometer_integrates_to_true_displacement(placement):
    """World acceleration R f + g at the sensor, integrated twice over a stride from the true
    velocity, lands on the true sensor position: lever-arm terms and impact are consistent."""
    runner = VirtualRunner.from_profile("overstrider", seed=3, overrides=IDEAL)
    leg, seg = placement.split("_")
    ev = runner.events(leg, 30.0)
    t0 = 0.5 * (ev["ic"][6] + ev["to"][6])
    t1 = 0.5 * (ev["ic"][7] + ev["to"][7])
    dt = 1.0 / 20000.0
    t = t0 + np.arange(int(round((t1 - t0) / dt)) + 1) * dt
    acc, _ = runner.imu(placement, t)
    q = runner.sensor_quaternions(placement, t)
    a_world = quat_rotate(q, acc) - np.array([0.0, 0.0, STANDARD_GRAVITY_MPS2])
    kin = runner.gait.kinematics(leg, t[[0, -1]])
    site = runner._site(placement)
    r = kin.r_foot if seg == "foot" else kin.r_shank
    w = kin.w_foot if seg == "foot" else kin.w_shank
    pos = kin.ankle_pos + np.einsum("nij,j->ni", r, site)
    vel0 = kin.ankle_vel[0] + r[0] @ np.cross(w[0], site)
    v = vel0 + np.concatenate([[np.zeros(3)], np.cumsum(0.5 * (a_world[1:] + a_world[:-1]) * dt, axis=0)])
    disp = np.sum(0.5 * (v[1:] + v[:-1]) * dt, axis=0)
    true_disp = pos[1] - pos[0]
    assert np.linalg.norm(true_disp) > 1.0
    np.testing.assert_allclose(disp, true_disp, atol=0.005)


@pytest.mark.parametrize("profile,expected_g", [("neutral", 8.0), ("overstrider", 12.0), ("forefoot", 4.5)])
def test_impacts_reach_configured_peak(profile, expected_g):
    overrides = {"mounting": "aligned", "sensor_error_scale": 0.0, "peak_tibial_accel_cv": 0.0}
    runner = VirtualRunner.from_profile(profile, seed=1, overrides=overrides)
    p = runner.params
    window = (p.impact_rise_ms + 4 * p.impact_decay_ms) / 1000.0
    ev = runner.events("left", 40.0)
    peaks = []
    for ic in ev["ic"][10:16]:
        t = np.arange(ic, ic + window, 1 / 4000)
        acc, _ = runner.imu("left_shank", t)  # aligned: sensor z = tibial axis
        peaks.append(acc[:, 2].max() / STANDARD_GRAVITY_MPS2)
    peaks = np.array(peaks)
    # the transient is fitted so that the total axial peak after contact is the target
    np.testing.assert_allclose(peaks, expected_g, rtol=0.01)
    # metrics.md's peak is over the whole stance: at least the impact peak (push-off can be higher)
    rows = [r for r in runner.truth_strides(40.0) if r["leg"] == "left"][10:16]
    assert np.all(np.array([r["peak_tibial_accel_g"] for r in rows]) >= peaks * 0.995)
    if profile != "forefoot":
        np.testing.assert_allclose([r["peak_tibial_accel_g"] for r in rows], peaks, rtol=0.005)


def test_strike_pattern_shapes_the_impact():
    def peak(profile):
        r = VirtualRunner.from_profile(profile, seed=2, overrides=IDEAL)
        return np.median([row["peak_tibial_accel_g"] for row in r.truth_strides(40.0)[10:]])

    # forefoot landings have a smaller impact; their stance peak may come from push-off instead

    assert peak("forefoot") < peak("neutral") < peak("overstrider")


def _foot_jerk_around_ic(runner: VirtualRunner, leg: str, until_s: float, dt: float = 0.25e-3):
    """Per stride of ``leg``: the steepest rise (m/s^3) of the foot sensor's specific-force
    magnitude from IC to the end of the impact's rise, and the largest |rate of change| of that
    magnitude in the swing from 100 ms to 5 ms before the IC (noise-free signals). The last
    5 ms are left out: the swing path ends matched to the stance's acceleration at IC, so |f|
    already climbs towards 1 g there (up to ~1700 m/s^3): that is the touchdown, not the swing."""
    rise_s = runner.params.for_leg(leg).impact_rise_ms / 1000.0
    ic = runner.events(leg, until_s)["ic"]
    tau = np.arange(-0.1, rise_s + dt / 2, dt)
    t = (ic[:, None] + tau[None, :]).reshape(-1)
    acc, _ = runner.imu_ideal(f"{leg}_foot", t)
    jerk = np.diff(np.linalg.norm(acc, axis=1).reshape(ic.size, tau.size), axis=1) / dt
    after, swing = tau[1:] > 0.0, tau[1:] <= -0.005
    return ic, jerk[:, after].max(axis=1), np.abs(jerk[:, swing]).max(axis=1)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_landing_has_a_detectable_impact(profile):
    """The ground stops the foot at every landing, whatever the strike pattern: forefoot
    strikes have smaller tibial transients, not none (Lieberman et al. 2010, Nature 463:531;
    Nordin et al. 2017, J Sport Health Sci 6:489: loading-rate peaks in every foot-strike
    condition). Detectable here means two things, on every stride of several seeds: the
    contact point lands with a downward speed (the pulse has an amplitude), and the landing is
    the sharpest change of the foot's |specific force| around it: its rise within the impact's
    rise time is steeper, by 25 %, than any change in the late swing before it. Today the
    smallest margins are walker 1.34x, forefoot 2.5x, the rearfoot runners >= 6.8x. (Before the
    fit took the transient's own peak, 6 forefoot strides of seed 1 landed with amplitude 0
    and a rise of 0.57-0.76x the swing's.)"""
    for seed in (1, 2, 3):
        runner = VirtualRunner.from_profile(profile, seed=seed, overrides=IDEAL)
        for leg in ("left", "right"):
            st = runner.gait.strides(leg, 40.0)
            assert np.all(st["touchdown_speed_mps"] > 0.1), f"seed {seed} {leg}: a landing without impact"
            ic, rise, swing = _foot_jerk_around_ic(runner, leg, 40.0)
            ratio = rise / swing
            k = int(np.argmin(ratio))
            assert ratio[k] >= 1.25, (f"seed {seed} {leg} IC {ic[k]:.3f} s: landing jerk {rise[k]:.0f} m/s^3, "
                                      f"swing {swing[k]:.0f} m/s^3")


def test_forefoot_transient_stays_when_the_heel_drop_peaks_higher():
    """With a tibial target below the peak that the heel drop after a forefoot landing makes on
    its own (~3.5-4.5 g, 40-60 ms after IC), the landing still has its transient at the target:
    the fit takes the transient's own peak (the first maximum after contact), not a later one of
    the leg's motion. The truth's peak tibial acceleration is the stance maximum of the same
    signal, whichever peak that is."""
    overrides = {"sensor_error_scale": 0.0, "peak_tibial_accel_cv": 0.0, "peak_tibial_accel_g": 3.0}
    runner = VirtualRunner.from_profile("forefoot", seed=1, overrides=overrides)
    rows = [r for r in runner.truth_strides(40.0) if r["leg"] == "left"][10:16]
    for row in rows:
        ic, to = row["ic_time_s"], row["to_time_s"]
        t = np.linspace(ic, to, 4001)
        axial_g = runner.imu_ideal("left_shank", t)[0][:, 2] / STANDARD_GRAVITY_MPS2  # segment z = tibial axis
        d = np.diff(axial_g)
        first = int(np.flatnonzero((d[:-1] > 0) & (d[1:] <= 0))[0]) + 1
        assert (t[first] - ic) * 1000 == pytest.approx(runner.params.impact_rise_ms, abs=2.0)
        assert axial_g[first] == pytest.approx(3.0, rel=0.01)
        heel_drop = (t > ic + 0.03) & (t < ic + 0.08)
        assert axial_g[heel_drop].max() > 3.2  # the case this test is about
        assert row["peak_tibial_accel_g"] == pytest.approx(axial_g.max(), rel=0.002)


def test_swing_rotation_turns_only_the_swinging_foot():
    """The foot's turn about the direction of travel in swing (``swing_foot_external_rotation_deg``)
    starts after toe-off and is over before the next landing, with zero rate and acceleration at
    both ends: stance, the shank and every truth row are exactly as without it, the swinging
    foot's gyroscope reads the turn (toes out: about -z of the right foot pitched toes-down, +z of
    the left), and the gyroscope still integrates to the true orientation through the swing."""
    base = {"sensor_error_scale": 0.0, "toe_off_foot_release_per_s": 35.0}
    off = VirtualRunner.from_profile("neutral", seed=4, overrides={**base, "swing_foot_external_rotation_deg": 0.0})
    on = VirtualRunner.from_profile("neutral", seed=4, overrides={**base, "swing_foot_external_rotation_deg": 15.0})
    assert repr(on.truth_strides(30.0)) == repr(off.truth_strides(30.0))
    for leg, sign in (("left", 1.0), ("right", -1.0)):
        ev = off.events(leg, 30.0)
        t = np.arange(ev["ic"][6], ev["ic"][9], 1e-3)
        row = np.searchsorted(ev["ic"], t, side="right") - 1
        stance = t < ev["to"][row]
        for p in (f"{leg}_foot", f"{leg}_shank"):
            a_on, g_on = on.imu_ideal(p, t)
            a_off, g_off = off.imu_ideal(p, t)
            keep = stance if p.endswith("foot") else np.ones(t.size, bool)
            assert np.array_equal(a_on[keep], a_off[keep]) and np.array_equal(g_on[keep], g_off[keep]), p
        # 90-180 ms after toe-off the foot turns (segment frame: z = sole normal, toes down there)
        to = ev["to"][7]
        early = to + np.arange(0.09, 0.18, 0.005)
        dz = on.imu_ideal(f"{leg}_foot", early)[1][:, 2] - off.imu_ideal(f"{leg}_foot", early)[1][:, 2]
        assert sign * dz.mean() > 1.0
    dt = 1.0 / 8000.0
    on = VirtualRunner.from_profile("neutral", seed=4, overrides={**base, "swing_foot_external_rotation_deg": 15.0})
    ev = on.events("right", 30.0)
    t = ev["to"][8] + np.arange(int(round((ev["ic"][9] - ev["to"][8]) / dt)) + 1) * dt  # the whole swing
    _, gyr = on.imu("right_foot", t)
    q_true = on.sensor_quaternions("right_foot", t[::50])
    q_int = _integrate_gyro(q_true[0], gyr, dt)
    err = np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(q_true), q_int)), axis=-1) * DEG_PER_RAD
    assert err.max() < 0.1
