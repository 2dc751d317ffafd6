"""Accuracy of the whole gait core on the virtual runner (runform.sim): every profile, random
mounting, sensor errors on, 400 Hz, 4 sensors, against the simulator's exact truth rows.

    .venv-test/bin/python benchmarks/bench_core_sim.py [--duration 60] [--seeds 1] [--rate 400] [--imu-calibration]

Signals: ``VirtualRunner.imu`` (sensor frame, noise/bias/scale/cross-axis errors, random
mounting), then clipped to the sensor's range and quantised to int16 as the firmware does,
sampled at true times (perfect clock sync: clock errors are the stream's business, not the
core's). They go through ``SessionProcessor`` in 1-s blocks of all sensors interleaved (as
``runform analyze``). Detected strides are matched to truth strides of the same leg by IC
(nearest, within 60 ms). Goals (issue 4): IC/TO median |error| <= 3 ms; peak eversion and
excursion RMSE <= 1.5 deg; tibial inclination at IC RMSE <= 1.5 deg; peak tibial acceleration
within 5 %; stride length within 2 %; no missed or extra strides. Prints one line per profile
and leg; nothing is asserted. ``--imu-calibration``: each sensor is first calibrated as a user
calibrates a real one (``runform imu-calibrate``'s estimator on the sensor's simulated table
procedure) and corrected at the core's entry (``runform analyze --imu-calibration``).
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from runform.core import SensorSpec, SessionProcessor
from runform.core.calibration import SegmentCalibration, SegmentCalibrator
from runform.placements import PLACEMENTS
from runform.sim import PROFILES, VirtualRunner
from runform.units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2

ANGLES = ("peak_eversion_deg", "eversion_excursion_deg", "tibial_inclination_at_ic_deg",
          "peak_shank_frontal_angle_deg", "tibial_internal_rotation_deg", "foot_strike_angle_deg")


def imu_corrections(runner: VirtualRunner, rate_hz: float, seed: int, offsets: str = "new") -> dict:
    """Each sensor's own correction as a user gets it: ``runform imu-calibrate``'s estimator on the
    sensor's simulated table procedure (runform.sim.imu_procedure: the sensor's scale/cross-axis
    matrices, a new turn-on bias, noise, int16 codes). Refuses to go on if one is not ready.
    ``offsets``: ``new`` (the procedure on another day: a new turn-on bias draw), ``same``
    (EXPERIMENT: the session's own turn-on biases, as if calibrated just before the run) or
    ``none`` (EXPERIMENT: the estimated offsets not applied, only the matrices)."""
    from runform.core.imu_calibration import estimate_imu_correction
    from runform.sim.imu_procedure import simulate_imu_procedure

    out = {}
    for k, p in enumerate(PLACEMENTS):
        info = runner.sensor_info(p)
        t, a, g = simulate_imu_procedure(runner._sensors[p], rate_hz=rate_hz, seed=1000 * seed + k, new_turn_on_bias=offsets != "same")
        res = estimate_imu_correction(t, a, g, accel_range_g=info.accel_range_g, gyro_range_dps=info.gyro_range_dps)
        if res.state != "ready":
            raise SystemExit(f"seed {seed} {p}: the simulated table procedure gave a {res.state} calibration: {res.reasons}")
        c = res.correction
        if offsets == "none":
            c = dataclasses.replace(c, acc_bias_mps2=np.zeros(3), gyr_bias_rps=np.zeros(3))
        out[p] = c
    return out


def signals(runner: VirtualRunner, rate_hz: float, duration_s: float, imu: dict | None = None) -> dict:
    t = np.arange(int(duration_s * rate_hz)) / rate_hz
    out = {}
    for p in PLACEMENTS:
        info = runner.sensor_info(p)
        a, g = runner.imu(p, t)
        a_fs = info.accel_range_g * STANDARD_GRAVITY_MPS2
        g_fs = info.gyro_range_dps * RAD_PER_DEG
        a = np.round(np.clip(a, -a_fs, a_fs) / a_fs * 32767) * a_fs / 32767
        g = np.round(np.clip(g, -g_fs, g_fs) / g_fs * 32767) * g_fs / 32767
        out[p] = (t, a, g, SensorSpec(rate_hz=rate_hz, accel_range_g=info.accel_range_g, gyro_range_dps=info.gyro_range_dps,
                                      imu=(imu or {}).get(p)))
    return out


def frame_error(cal: SegmentCalibration, mount: np.ndarray) -> dict:
    """The calibration's segment-from-sensor rotation against the simulator's true one
    (``mount``: v_segment = mount v_sensor): E = R_cal mount^T maps the true segment frame to the
    calibrated one. ``yaw_deg``: its rotation about the segment's vertical (heading of the
    mediolateral axis), ``tilt_deg``: angle between the two verticals, ``total_deg``."""
    e = cal.matrix @ mount.T
    return {"yaw_deg": float(np.degrees(np.arctan2(e[1, 0] - e[0, 1], e[0, 0] + e[1, 1]))),
            "tilt_deg": float(np.degrees(np.arccos(np.clip(e[2, 2], -1, 1)))),
            "total_deg": float(np.degrees(np.arccos(np.clip((np.trace(e) - 1) / 2, -1, 1))))}


def make_ideal(runner: VirtualRunner, placements) -> None:
    """EXPERIMENT, not a method: the sensors at ``placements`` lose every error of the
    simulator's sensor model (turn-on bias and its random walk, scale-factor and cross-axis
    matrices, white noise) while the others keep theirs; mounting, clipping and int16
    quantisation stay. Every profile of one seed draws the same sensor errors (the sensors'
    random streams are spawned from the seed alone), so a pattern on "every right leg" of a
    seed can be one sensor's draw: this attributes an error to a sensor (docs/validation.md,
    "The right-leg shank frontal-angle bias")."""
    strip_errors(runner, [f"{p}:{kind}" for p in placements for kind in SENSOR_ERRORS])


SENSOR_ERRORS = ("acc_bias", "acc_walk", "acc_err", "gyr_bias", "gyr_walk", "gyr_err", "noise")


def strip_errors(runner: VirtualRunner, specs) -> None:
    """EXPERIMENT, not a method: :func:`make_ideal` for one error kind of one sensor at a time,
    ``specs`` of ``"placement:kind"`` with kind in :data:`SENSOR_ERRORS` (``acc_bias`` /
    ``gyr_bias`` the turn-on bias, ``*_walk`` its random walk, ``*_err`` the scale-factor and
    cross-axis matrix, ``noise`` both white noises); to say which error of a sensor's draw
    moves a row (docs/validation.md, "Peak eversion on seeds 4-5")."""
    for spec in specs:
        p, kind = spec.split(":")
        if kind not in SENSOR_ERRORS:
            raise ValueError(f"unknown sensor error {kind!r} (one of {', '.join(SENSOR_ERRORS)})")
        s = runner._sensors[p]
        if kind == "acc_bias":
            s._acc_bias[:] = 0.0
        elif kind == "gyr_bias":
            s._gyr_bias[:] = 0.0
        elif kind == "acc_walk":
            s._acc_walk = 0.0
        elif kind == "gyr_walk":
            s._gyr_walk = 0.0
        elif kind == "noise":
            s._acc_noise = s._gyr_noise = 0.0
        elif kind == "acc_err":
            s.acc_err[:] = 0.0
            s._acc_map = s.mount.T.copy()
        else:
            s.gyr_err[:] = 0.0
            s._gyr_map = s.mount.T.copy()


class FootSwingWindow:
    """EXPERIMENT, not a method: while active, the foot's swing axis (calibration.swing_axis)
    uses ``[TO + f0 x swing, TO + f1 x swing)`` of every swing, straight or turning, instead of
    the product's windows (``swing_axis_from``, ``swing_axis_to_straight`` / ``swing_axis_to``;
    docs/validation.md, "Foot heading")."""

    def __init__(self, window: tuple[float, float] | None):
        self.window = window

    def __enter__(self):
        from runform.core import calibration as cal_mod
        self._mod, self._orig = cal_mod, cal_mod.swing_axis
        if self.window is None:
            return self
        f0, f1 = self.window
        orig = self._orig

        def swing_axis(time_s, gyr_rps, strides, params):
            # the product's own function with the window's two fractions
            return orig(time_s, gyr_rps, strides, dataclasses.replace(params, swing_axis_from=f0, swing_axis_to=f1, swing_axis_to_straight=f1))

        cal_mod.swing_axis = swing_axis
        return self

    def __exit__(self, *exc):
        self._mod.swing_axis = self._orig


class TrueFrame:
    """EXPERIMENT, not a method: while active, every calibration decided for a placement whose
    segment is in ``segments`` keeps its gyro bias and quality but gets the simulator's true
    segment-from-sensor rotation (to measure what part of an error is the calibrated frame's).
    Also records every decided calibration in ``decided`` (placement -> SegmentCalibration)."""

    def __init__(self, runner: VirtualRunner, segments: tuple[str, ...] = ()):
        self.runner, self.segments, self.decided = runner, segments, {}

    def __enter__(self):
        self._orig = {k: getattr(SegmentCalibrator, k) for k in ("_decide", "_decide_fallback")}
        outer = self

        def wrap(orig):
            def decide(cal_self, *a, **k):
                res = orig(cal_self, *a, **k)
                outer.decided[cal_self.placement] = res
                if cal_self.segment in outer.segments:
                    m = outer.runner._sensors[cal_self.placement].mount
                    res = dataclasses.replace(res, gravity_sensor=m[2].copy(), ml_axis_sensor=m[1].copy())
                    cal_self.result = res
                return res
            return decide

        for k, f in self._orig.items():
            setattr(SegmentCalibrator, k, wrap(f))
        return self

    def __exit__(self, *exc):
        for k, f in self._orig.items():
            setattr(SegmentCalibrator, k, f)


def run(sig: dict, block_s: float = 1.0) -> list[dict]:
    proc = SessionProcessor({p: s[3] for p, s in sig.items()})
    rows = []
    n = next(iter(sig.values()))[0].size
    rate = next(iter(sig.values()))[3].rate_hz
    b = int(block_s * rate)
    for s in range(0, n, b):
        for p, (t, a, g, _) in sig.items():
            rows += [o.row for o in proc.push(p, t[s:s + b], a[s:s + b], g[s:s + b]) if hasattr(o, "row")]
    rows += [o.row for o in proc.finish() if hasattr(o, "row")]
    return rows


#: a true stride whose next IC is this close to the recording's end need not be found (s)
END_MARGIN_S = 0.1


def compare(rows: list[dict], truth: list[dict], leg: str, t_end: float, runner: VirtualRunner | None = None) -> dict:
    det = [r for r in rows if r["leg"] == leg]
    # every true stride that ends inside the recording may be matched; the ones whose next IC
    # lies at least END_MARGIN_S before the end must be (the next IC is decided a few samples
    # after it; the core publishes the last stride, without length, at the end)
    tru = [r for r in truth if r["leg"] == leg and r["ic_time_s"] + r["stride_time_ms"] / 1000 <= t_end]
    must = [r["ic_time_s"] + r["stride_time_ms"] / 1000 <= t_end - END_MARGIN_S for r in tru]
    tic = np.array([r["ic_time_s"] for r in tru])
    used, pairs, extra = set(), [], 0
    for r in det:
        k = int(np.argmin(np.abs(tic - r["ic_time_s"]))) if tic.size else -1
        if k < 0 or abs(tic[k] - r["ic_time_s"]) > 0.06 or k in used:
            extra += 1
            continue
        used.add(k)
        pairs.append((r, tru[k]))
    found = sum(must[k] for k in used)
    res = {"truth": int(sum(must)), "found": found, "missed": int(sum(must)) - found, "extra": extra,
           "valid": sum(r["valid"] == 1 for r, _ in pairs)}
    if not pairs:
        return res
    ic = np.array([(r["ic_time_s"] - t["ic_time_s"]) * 1000 for r, t in pairs])
    to = np.array([(r["to_time_s"] - t["to_time_s"]) * 1000 for r, t in pairs])
    res["ic_med_abs_ms"], res["ic_bias_ms"] = float(np.median(np.abs(ic))), float(np.median(ic))
    res["to_med_abs_ms"], res["to_bias_ms"] = float(np.median(np.abs(to))), float(np.median(to))
    ok = [(r, t) for r, t in pairs if r["valid"] == 1]
    for c in ANGLES:
        e = np.array([r[c] - t[c] for r, t in ok if r[c] is not None and t[c] is not None])
        if e.size:
            res[c] = (float(np.sqrt(np.mean(e ** 2))), float(np.mean(e)))
    if runner is not None and ok:
        # angles at IC against the truth at the DETECTED IC: the core's orientation error
        # without the event-timing error
        tdet = np.array([r["ic_time_s"] for r, _ in ok])
        ang = runner.truth_angles(leg, tdet)
        for c, key in (("tibial_inclination_at_ic_deg", "tibial_inclination"), ("foot_strike_angle_deg", "foot_sagittal")):
            e = np.array([r[c] - np.degrees(a) for (r, _), a in zip(ok, ang[key]) if r[c] is not None])
            if e.size:
                res[c + "@det"] = (float(np.sqrt(np.mean(e ** 2))), float(np.mean(e)))
        # excursion against the truth's excursion measured from the DETECTED IC (true peak minus
        # true eversion at the detected IC): without the event-timing share (the true eversion
        # rises ~0.07 deg/ms just after a running contact, docs/validation.md "Eversion near IC")
        e = np.array([r["eversion_excursion_deg"] - (t["peak_eversion_deg"] - np.degrees(a))
                      for (r, t), a in zip(ok, ang["eversion"])
                      if r["eversion_excursion_deg"] is not None and t["peak_eversion_deg"] is not None])
        if e.size:
            res["eversion_excursion_deg@det"] = (float(np.sqrt(np.mean(e ** 2))), float(np.mean(e)))
    for c in ("peak_tibial_accel_g", "stride_length_m"):
        e = np.array([100 * (r[c] - t[c]) / t[c] for r, t in ok if r[c] is not None and t[c]])
        if e.size:
            res[c] = (float(np.median(np.abs(e))), float(np.percentile(np.abs(e), 95)), float(np.median(e)))
    return res


def fmt(name: str, leg: str, r: dict) -> str:
    s = f"{name:13s} {leg:5s} strides {r['found']}/{r['truth']} (missed {r['missed']}, extra {r['extra']}, valid {r['valid']})"
    if "ic_med_abs_ms" in r:
        s += f" | IC {r['ic_med_abs_ms']:.1f} ms (bias {r['ic_bias_ms']:+.1f}) TO {r['to_med_abs_ms']:.1f} ms (bias {r['to_bias_ms']:+.1f})"
    for c, short in zip(ANGLES, ("pkEV", "EVexc", "TibInc", "ShFr", "TIR", "FSA")):
        if c in r:
            s += f" | {short} {r[c][0]:.2f} ({r[c][1]:+.2f})"
    for c, short in (("tibial_inclination_at_ic_deg@det", "TibInc@detIC"), ("foot_strike_angle_deg@det", "FSA@detIC"),
                     ("eversion_excursion_deg@det", "EVexc@detIC")):
        if c in r:
            s += f" | {short} {r[c][0]:.2f} ({r[c][1]:+.2f})"
    for c, short in (("peak_tibial_accel_g", "PTA%"), ("stride_length_m", "SL%")):
        if c in r:
            s += f" | {short} med {r[c][0]:.1f} p95 {r[c][1]:.1f} ({r[c][2]:+.1f})"
    return s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--rate", type=float, default=400.0)
    ap.add_argument("--profiles", nargs="*", default=list(PROFILES))
    ap.add_argument("--frames", action="store_true",
                    help="also print each sensor's calibrated frame against the simulator's true mounting")
    ap.add_argument("--true-frame", nargs="*", default=[], choices=("foot", "shank"),
                    help="EXPERIMENT: replace the calibrated rotation of these segments by the true one")
    ap.add_argument("--ideal-sensors", nargs="*", default=[], choices=PLACEMENTS,
                    help="EXPERIMENT: these sensors without the simulator's sensor errors (bias, scale, cross-axis, noise)")
    ap.add_argument("--ideal-errors", nargs="*", default=[], metavar="PLACEMENT:KIND",
                    help=f"EXPERIMENT: remove one error kind of one sensor ({', '.join(SENSOR_ERRORS)}), e.g. left_foot:gyr_err")
    ap.add_argument("--imu-calibration", action="store_true",
                    help="product option: each sensor corrected with its own calibration from its simulated table procedure "
                         "(runform imu-calibrate's estimator; runform analyze --imu-calibration)")
    ap.add_argument("--imu-offsets", choices=("new", "same", "none"), default="new",
                    help="with --imu-calibration: the procedure's turn-on biases are a new draw (default), EXPERIMENT: the "
                         "session's own (calibrated just before the run), or the estimated offsets are not applied")
    ap.add_argument("--foot-swing-window", nargs=2, type=float, default=None, metavar=("F0", "F1"),
                    help="EXPERIMENT: the foot's swing axis from [TO + F0 x swing, TO + F1 x swing) instead of the product's window")
    args = ap.parse_args(argv)
    print("angles: RMSE (mean error) deg over valid matched strides; PTA/SL: median and p95 |error| % (median signed)")
    if args.true_frame:
        print(f"EXPERIMENT: true segment-from-sensor rotation substituted for {', '.join(args.true_frame)}")
    if args.foot_swing_window:
        print(f"EXPERIMENT: foot swing axis from {args.foot_swing_window[0]:g}-{args.foot_swing_window[1]:g} of swing")
    if args.ideal_sensors:
        print(f"EXPERIMENT: no sensor errors on {', '.join(args.ideal_sensors)}")
    if args.ideal_errors:
        print(f"EXPERIMENT: without {', '.join(args.ideal_errors)}")
    if args.imu_calibration:
        print(f"each sensor corrected with its own calibration from its simulated table procedure (--imu-calibration, offsets {args.imu_offsets})")
    for name in args.profiles:
        for seed in range(1, args.seeds + 1):
            runner = VirtualRunner.from_profile(name, seed=seed, bounded_memory=False)  # the truth of every stride is compared at the end
            make_ideal(runner, args.ideal_sensors)
            strip_errors(runner, args.ideal_errors)
            imu = imu_corrections(runner, args.rate, seed, args.imu_offsets) if args.imu_calibration else None
            sig = signals(runner, args.rate, args.duration, imu)
            with FootSwingWindow(args.foot_swing_window), TrueFrame(runner, tuple(args.true_frame)) as tf:
                rows = run(sig)
            if args.frames:
                for p, cal in sorted(tf.decided.items()):
                    fe = frame_error(cal, runner._sensors[p].mount)
                    print(f"{name}/{seed} frame {p:12s} about vertical {fe['yaw_deg']:+6.2f} deg, vertical {fe['tilt_deg']:.2f} deg,"
                          f" total {fe['total_deg']:.2f} deg ({cal.method}, ok={cal.ok}, planarity {cal.planarity:.2f})", flush=True)
            truth = runner.truth_strides(args.duration)
            for leg in ("left", "right"):
                print(fmt(f"{name}/{seed}", leg, compare(rows, truth, leg, args.duration, runner)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
