"""``runform simulate``: write a session directory from the virtual runner (raw CSVs of every
sensor, session.json, truth_strides.csv, truth_angles.csv), optionally a PNG of a few strides."""

from __future__ import annotations

import argparse
import sys


from ._options import parse_set


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate a runner wearing IMUs; write raw CSVs, session.json and the ground truth",
        description="Simulate the virtual runner (docs/virtual-runner.md) and write a session directory "
        "in the export format with the exact ground truth beside it. The same arguments give the same bytes.",
    )
    p.add_argument("--duration", type=float, required=True, metavar="SECONDS", help="session length (s), including standing")
    p.add_argument("--out", required=True, metavar="DIR", help="session directory to write (created)")
    p.add_argument("--profile", default="neutral", help="runner profile: neutral, overpronator, overstrider, "
                   "forefoot, walker, fatiguing, asymmetric (default neutral)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, e.g. speed_mps=3.5, right.peak_eversion_deg=14, "
                   "drift.peak_tibial_accel_g=3, sensor_error_scale=0, mounting=aligned (repeatable)")
    p.add_argument("--rate", type=float, default=400.0, metavar="HZ", help="sensor sample rate (default 400)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--placements", default="left_foot,right_foot,left_shank,right_shank",
                   help="comma-separated sensors to simulate (default all four)")
    p.add_argument("--truth-rate", type=float, default=100.0, metavar="HZ", help="rate of truth_angles.csv (default 100)")
    p.add_argument("--imu-procedure", action="store_true",
                   help="also write OUT/imu_procedure/raw_<placement>.csv: each sensor on the table procedure of runform imu-calibrate "
                        "(its own scale/cross-axis errors), to calibrate the virtual sensors like real ones")
    p.add_argument("--plot", metavar="PNG", help="also draw a few strides of signals and truth to this PNG")
    p.add_argument("--list-parameters", action="store_true", help="print the profile's parameters and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json
    import time

    from ..placements import PlacementError
    from ..sim import ProfileError, VirtualRunner
    from ..sim.export import write_session

    try:
        placements = tuple(x.strip() for x in args.placements.split(",") if x.strip())
        runner = VirtualRunner.from_profile(args.profile, seed=args.seed, overrides=parse_set(args.set, "simulate"),
                                            placements=placements)
    except (ProfileError, PlacementError) as exc:
        print(f"runform simulate: {exc}", file=sys.stderr)
        return 2
    if args.list_parameters:
        print(json.dumps(runner.effective_parameters(), indent=2, sort_keys=True))
        return 0
    if args.duration <= 0 or args.rate <= 0:
        print("runform simulate: --duration and --rate must be positive", file=sys.stderr)
        return 2
    if args.duration < runner.first_step_time() + 2.0:
        print(f"runform simulate: note: the runner stands until {runner.params.standing_s:g} s; "
              f"no complete stride before {runner.first_step_time() + 1.5:.1f} s", file=sys.stderr)
    t0 = time.perf_counter()
    meta = write_session(runner, args.out, args.duration, rate_hz=args.rate, truth_rate_hz=args.truth_rate)
    wall = time.perf_counter() - t0
    clipped = {s["placement"]: s["clipped_acc_samples"] + s["clipped_gyr_samples"] for s in meta["sensors"]
               if s["clipped_acc_samples"] + s["clipped_gyr_samples"]}
    print(f"wrote {args.out}: {len(runner.placements)} sensors x {args.duration:g} s at {args.rate:g} Hz, "
          f"{meta['truth_strides']} truth strides ({wall:.1f} s)")
    if clipped:
        print(f"clipped samples (sensor range): {clipped}")
    if args.imu_procedure:
        from ..sim.export import write_imu_procedure

        files = write_imu_procedure(runner, args.out, rate_hz=args.rate, seed=args.seed)
        print(f"wrote the table procedure of {len(files)} sensors to {files[0].parent} (runform imu-calibrate {files[0].parent} --out FILE)")
    if args.plot:
        from ..sim.plot import plot_strides

        if args.duration < runner.gait.t_go + runner.gait.ramp_time + 6.0:
            start = runner.first_step_time()
        else:
            start = None
        plot_strides(runner, args.plot, t_start_s=start)
        print(f"plot: {args.plot}")
    return 0
