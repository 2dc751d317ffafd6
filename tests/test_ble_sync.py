"""Clock synchronisation over the in-memory BLE link: offsets of seconds, drift of 50 ppm,
connection-event and jitter latency; foot and shank of a leg within 2 ms."""

from __future__ import annotations

import asyncio

import numpy as np

from runform.protocol.stream import SensorStream
from runform.sync_refine import impact_lag

from ble_backends.inmemory import SimWorld
from ble_backends.scenario import make_firmwares, run_scenario

OFFSETS_S = [3.0, 17.5, 0.2, 41.0]
DRIFTS_PPM = [50, -50, -50, 50]  # the worst case within a leg: 100 ppm apart


class Keep:
    """A recorder (LiveSession's FrameSink hook) that keeps the data payloads."""

    def __init__(self):
        self.frames: dict[int, list[bytes]] = {}

    def write(self, sensor_index, characteristic, payload, arrival_s):
        if characteristic == "data":
            self.frames.setdefault(sensor_index, []).append(payload)


def session_samples(run, keep, address):
    """(session times s, acc m/s^2, true times s) of every sample of a sensor, with its final clock."""
    st = run.session.sensors[address]
    stream = SensorStream(st.stream.sample_rate_hz, st.stream.accel_range_g, st.stream.gyro_range_dps)
    blocks = [b for b in (stream.feed(p) for p in keep.frames[st.index]) if b is not None]
    us = np.concatenate([b.sensor_time_us for b in blocks])
    acc = np.concatenate([b.acc_mps2 for b in blocks])
    fw = next(p.fw for p in run.world.peripherals.values() if p.address == address)
    return st.clock.to_session(us), acc, fw.true_time_s(us)


def within_leg_errors_ms(run):
    errs = {}
    for p in run.world.peripherals.values():
        st = run.session.sensors[p.address]
        us = np.linspace(st.first_sensor_us, st.last_sensor_us, 500)
        errs[st.placement] = (st.clock.to_session(us) - p.fw.true_time_s(us)) * 1e3
    return {leg: errs[f"{leg}_foot"] - errs[f"{leg}_shank"] for leg in ("left", "right")}


def test_offsets_of_seconds_and_50_ppm_drift_sync_within_a_leg_to_2_ms():
    worst, drift_err = [], []
    for seed in range(3):
        fws = make_firmwares(offsets_s=OFFSETS_S, drifts_ppm=DRIFTS_PPM)
        run = asyncio.run(run_scenario(SimWorld(fws, seed=seed, jitter_s=0.003), 60.0))
        for leg, d in within_leg_errors_ms(run).items():
            worst.append(float(np.abs(d).max()))
        # drift estimated: the fitted drift is the sensor's (sensor slower -> session runs faster)
        for p in run.world.peripherals.values():
            st = run.session.sensors[p.address]
            drift_err.append(st.clock.drift * 1e6 + p.fw.config.clock_drift_ppm)
    print("drift estimate error (ppm):", np.round(drift_err, 1))
    # the drift is a means, the within-leg error above the requirement; 60 s leave it to ~+-25 ppm
    # with 7-sample frames against a 15 ms interval (docs/ble.md)
    assert np.abs(drift_err).max() < 30.0
    print("within-leg sync error, max over the session (ms):", np.round(worst, 3))
    assert max(worst) <= 2.0


def test_impact_refinement_removes_a_constant_link_latency_the_clock_cannot_see():
    fws = make_firmwares(offsets_s=OFFSETS_S, drifts_ppm=DRIFTS_PPM)
    world = SimWorld(fws, seed=11, jitter_s=0.003)
    shank = fws[2].config.address  # left_shank
    world.peripherals[shank].extra_latency_s = 0.006  # this link always delivers 6 ms later
    keep = Keep()
    run = asyncio.run(run_scenario(world, 30.0, setup=lambda w, s: setattr(s, "recorder", keep)))
    d_clock = within_leg_errors_ms(run)["left"]
    assert np.abs(d_clock).mean() > 4.0  # the clock alone is off by the link's extra latency
    t_f, acc_f, true_f = session_samples(run, keep, fws[0].config.address)
    t_s, acc_s, true_s = session_samples(run, keep, shank)
    est = impact_lag(t_f, acc_f, t_s, acc_s, max_lag_s=0.02)
    assert est.correlation > 0.5
    err_f = np.interp(true_s, true_f, t_f - true_f)  # foot error at the shank's sample times
    residual_ms = ((t_s + est.lag_s - true_s) - err_f) * 1e3
    print(f"clock only {np.abs(d_clock).mean():.2f} ms; refined {np.abs(residual_ms).max():.3f} ms (lag {est.lag_s*1e3:.2f} ms, r={est.correlation:.2f})")
    assert np.abs(residual_ms).max() <= 2.0
