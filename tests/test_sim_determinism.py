"""The virtual runner is deterministic: by seed, and whatever the chunking of the calls."""

from __future__ import annotations

import numpy as np
import pytest

from runform.sim import VirtualRunner


def test_same_seed_same_signals_other_seed_differs():
    t = np.arange(0.0, 12.0, 1 / 400)
    a = VirtualRunner.from_profile("neutral", seed=7).imu("left_shank", t)
    b = VirtualRunner.from_profile("neutral", seed=7).imu("left_shank", t)
    c = VirtualRunner.from_profile("neutral", seed=8).imu("left_shank", t)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])


def test_chunking_does_not_change_the_signals():
    t = np.arange(0.0, 30.0, 1 / 400)
    whole = VirtualRunner.from_profile("neutral", seed=3).imu("right_foot", t)
    runner = VirtualRunner.from_profile("neutral", seed=3)
    cuts = [0, 1, 17, 400, 4000, 4001, 9000, t.size]
    parts = [runner.imu("right_foot", t[i:j]) for i, j in zip(cuts[:-1], cuts[1:])]
    np.testing.assert_allclose(np.concatenate([p[0] for p in parts]), whole[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.concatenate([p[1] for p in parts]), whole[1], rtol=0, atol=1e-9)


def test_lazy_generation_order_does_not_matter():
    """Strides are generated in batches as time advances; a runner that jumps far ahead first
    produces the same motion and truth as one that advances gradually."""
    t = np.arange(60.0, 62.0, 1 / 400)
    ahead = VirtualRunner.from_profile("asymmetric", seed=9)
    ahead.gait.ensure(300.0)
    gradual = VirtualRunner.from_profile("asymmetric", seed=9)
    for t_end in np.arange(1.0, 62.0, 7.3):
        gradual.imu_ideal("left_shank", np.array([t_end]))
    for p in ("left_foot", "right_shank"):
        a = ahead.imu_ideal(p, t)
        b = gradual.imu_ideal(p, t)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    assert ahead.truth_strides(60.0) == gradual.truth_strides(60.0)


def test_placement_streams_are_independent_of_the_selection():
    t = np.arange(0.0, 6.0, 1 / 400)
    all4 = VirtualRunner.from_profile("neutral", seed=4)
    one = VirtualRunner.from_profile("neutral", seed=4, placements=("right_shank",))
    np.testing.assert_array_equal(all4.imu("right_shank", t)[0], one.imu("right_shank", t)[0])
    assert all4.sensor_info("right_shank") == one.sensor_info("right_shank")


def test_motion_source_contract():
    runner = VirtualRunner.from_profile("walker", seed=1)
    acc, gyr = runner.imu("left_foot", np.arange(0.0, 1.0, 1 / 400))
    assert acc.shape == (400, 3) and gyr.shape == (400, 3)
    empty = runner.imu("left_foot", np.zeros(0))
    assert empty[0].shape == (0, 3)
    with pytest.raises(ValueError, match="went back"):
        runner.imu("left_foot", np.array([0.5]))
    with pytest.raises(KeyError):
        VirtualRunner.from_profile("neutral", placements=("left_foot",)).imu("left_shank", np.array([0.0]))


def test_sampling_follows_each_sensor_clock():
    runner = VirtualRunner.from_profile("neutral", seed=2, overrides={"clock_drift_sd_ppm": 50.0})
    info = runner.sensor_info("left_foot")
    t = runner.sample_times("left_foot", 400.0, 0.0, 10.0)
    sensor_us = info.clock_offset_us + t * 1e6 * (1 + info.clock_drift_ppm * 1e-6)
    np.testing.assert_allclose(sensor_us / 2500.0, np.round(sensor_us / 2500.0), atol=1e-6)
    assert t[0] >= 0.0 and t[-1] < 10.0
    assert np.diff(t).mean() == pytest.approx(1 / 400 / (1 + info.clock_drift_ppm * 1e-6), rel=1e-9)


def test_bounded_memory_forgets_old_strides_without_changing_anything():
    """A long live-style stream keeps only recent strides; signals and truth are unchanged."""
    bounded = VirtualRunner.from_profile("neutral", seed=6)
    full = VirtualRunner.from_profile("neutral", seed=6, bounded_memory=False)
    block = 200  # 0.5 s at 400 Hz
    n_blocks = 2 * 240  # 240 s
    for b in range(n_blocks):
        t = (np.arange(block) + b * block) / 400.0
        for p in ("left_foot", "right_shank", "left_shank", "right_foot"):
            a = bounded.imu(p, t)
            f = full.imu(p, t)
            if b % 50 == 0 or b == n_blocks - 1:
                np.testing.assert_array_equal(a[0], f[0])
    kept = bounded.gait.memory_rows()
    assert max(kept.values()) < 150  # strides retained, not the ~340 of 240 s
    assert min(full.gait.memory_rows().values()) > 300
    rows_b = bounded.truth_strides(230.0)
    rows_f = full.truth_strides(230.0)
    assert rows_b == rows_f
    with pytest.raises(ValueError, match="forgotten"):
        bounded.truth_angles("left", np.array([10.0]))


def test_bounded_memory_forgets_in_small_steps():
    """The live demo streams from the runner inside its event loop: forgetting (which computes the
    truth rows of what it forgets) must come in small steps, not 40 s of strides at once, which
    stalled the virtual link for 50-70 ms and delayed the IC events waiting behind it."""
    runner = VirtualRunner.from_profile("neutral", seed=6)
    steps: list[tuple[float, float]] = []  # (stream time, forgotten up to)
    forget = runner.gait.forget_before
    now = [0.0]

    def spy(t_s):
        steps.append((now[0], t_s))
        return forget(t_s)

    runner.gait.forget_before = spy
    for b in range(4 * 70):  # 70 s in 0.25-s blocks
        t = (np.arange(100) + b * 100) / 400.0
        now[0] = float(t[-1])
        for p in ("left_foot", "right_shank", "left_shank", "right_foot"):
            runner.imu(p, t)
    assert steps and steps[0][0] <= 26.0  # forgetting starts 20 s + one 5-s step in
    spans = np.diff([0.0] + [u for _, u in steps])
    assert spans.max() <= 5.5  # steps of ~5 s
    assert all(u <= t - runner.FORGET_AFTER_S for t, u in steps)  # never forgets what may still be asked
