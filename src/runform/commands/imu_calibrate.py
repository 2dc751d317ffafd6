"""``runform imu-calibrate INPUT... --out FILE``: each sensor's own scale/cross-axis/offset correction
from a recording of the table procedure (docs/metrics.md, "The sensor's own calibration")."""

from __future__ import annotations

import argparse
import sys

from ._options import add_raw_input_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "imu-calibrate", help="calibrate each sensor's accelerometer and gyroscope (scale, cross-axis, offset) from a table procedure",
        description="Estimate each sensor's own accelerometer and gyroscope correction (scale factors, cross-axis "
                    "misalignment, offsets) from a recording of the table procedure: the sensor laid still in at least "
                    "12 different orientations (its six faces, then tilted on edges and corners), 2-3 s each, turned by "
                    "hand between them (Tedaldi et al., ICRA 2014). INPUT: raw_<placement>.csv files or directories of them "
                    "(the raw CSV of runform analyze). A sensor whose calibration is good is added to FILE (a calibration of "
                    "the same placement replaced); one that is not is reported with its reasons and not written (exit "
                    "status 1). Use FILE with runform analyze / run / demo --imu-calibration.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="raw_<placement>.csv file or a directory of them")
    p.add_argument("--out", required=True, metavar="FILE", help="IMU calibration file to create or update (JSON)")
    add_raw_input_options(p)
    p.add_argument("--address", help="the sensor's BLE address (one sensor only; default: the address the session.json "
                                     "beside a recorded procedure gives): sessions with another sensor at this placement "
                                     "then refuse the calibration")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import datetime

    import numpy as np

    from ..core.imu_calibration import estimate_imu_correction
    from ..imu_file import ImuEntry, ImuFileError, save_imu_entries
    from ..offline.analyze import sessions_from_inputs
    from ..offline.raw import RawInputError, placement_from_name, read_raw_csv
    from ..placements import PlacementError, check_placement

    try:
        if args.placement:
            check_placement(args.placement)
        files = [f for _, fs in sessions_from_inputs(args.inputs, args.placement) for f in fs]
        if args.address and len(files) != 1:
            raise RawInputError(f"--address names one sensor, but {len(files)} recordings were given")
        recs = [read_raw_csv(f, placement_from_name(f) or args.placement, args.rate) for f in files]
    except (RawInputError, PlacementError) as e:
        print(f"runform imu-calibrate: error: {e}", file=sys.stderr)
        return 2
    seen = [r.placement for r in recs]
    if len(set(seen)) != len(seen):
        print(f"runform imu-calibrate: error: the same placement twice: {seen}", file=sys.stderr)
        return 2
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    good, failed = {}, []
    for r in recs:
        a_range = None if r.acc_range_mps2 is None else r.acc_range_mps2 / 9.80665
        g_range = None if r.gyr_range_rps is None else float(np.degrees(r.gyr_range_rps))
        try:
            res = estimate_imu_correction(r.time_s, r.acc_mps2, r.gyr_rps, accel_range_g=a_range, gyro_range_dps=g_range)
        except ValueError as e:
            print(f"{r.placement}: cannot calibrate {r.path}: {e}")
            failed.append(r.placement)
            continue
        print(f"{r.placement}: {res.state}{' (' + ', '.join(res.reasons) + ')' if res.reasons else ''}; {_quality_line(res.quality)}")
        if res.state == "ready" and res.correction is not None:
            print(f"  {_correction_line(res.correction)}")
            address = args.address or _recorded_address(r.path, r.placement)
            good[r.placement] = ImuEntry(r.placement, res.correction, address, now, str(r.path), res.quality)
            if address:
                print(f"  sensor {address}: a session with another sensor at {r.placement} refuses this calibration")
        else:
            failed.append(r.placement)
    if good:
        try:
            save_imu_entries(args.out, good)
        except (ImuFileError, OSError) as e:
            print(f"runform imu-calibrate: error: {args.out}: {e}", file=sys.stderr)
            return 2
        print(f"wrote {', '.join(sorted(good))} to {args.out}")
    if failed:
        print(f"not calibrated (nothing written for them): {', '.join(failed)}; repeat the procedure: "
              "still poses of 2-3 s in at least 12 different orientations, turned by hand between them")
        return 1
    return 0


def _quality_line(q: dict) -> str:
    parts = []
    if q.get("n_distinct_poses") is not None and q.get("n_poses") is not None and q["n_distinct_poses"] < q["n_poses"]:
        parts.append(f"{q['n_poses']} poses in {q['n_distinct_poses']} different orientations")
        q = {k: v for k, v in q.items() if k != "n_poses"}
    for key, fmt in (("n_poses", "{} poses"), ("acc_residual_rms_mps2", "|acc| residual {:.4f} m/s^2"),
                     ("gyro_residual_rms_deg", "rotation residual {:.2f} deg"), ("n_moves", "over {} moves"),
                     ("duration_s", "{:.0f} s")):
        if q.get(key) is not None:
            parts.append(fmt.format(q[key]))
    # moves left out of the gyroscope's fit, with what to do differently
    if q.get("n_moves_clipped"):
        parts.append(f"{q['n_moves_clipped']} moves left out: the gyroscope saturated (turn the sensor slower, "
                     "or set a larger gyroscope range)")
    if q.get("n_moves_with_gap"):
        parts.append(f"{q['n_moves_with_gap']} moves left out: samples missing for more than "
                     f"{q.get('thresholds', {}).get('max_sample_gap_s', 0.05) * 1000:.0f} ms (a weak radio link?)")
    return ", ".join(parts)


def _correction_line(c) -> str:
    import numpy as np

    def size(m):
        # the matrix's symmetric part (scale and non-orthogonality); its rotation part is mounting
        s = 0.5 * (m + m.T) - np.eye(3)
        return 100 * float(np.max(np.abs(np.diag(s)))), 100 * float(np.max(np.abs(s - np.diag(np.diag(s)))))

    a_s, a_x = size(c.acc_matrix)
    g_s, g_x = size(c.gyr_matrix)
    return (f"accelerometer scale up to {a_s:.2f} %, cross-axis {a_x:.2f} %, offset {np.linalg.norm(c.acc_bias_mps2):.3f} m/s^2; "
            f"gyroscope scale up to {g_s:.2f} %, cross-axis {g_x:.2f} %, offset {np.degrees(np.linalg.norm(c.gyr_bias_rps)):.2f} deg/s")


def _recorded_address(path, placement: str) -> str | None:
    """The address of the sensor at ``placement`` in the session.json beside a recorded (exported)
    procedure, so that a calibration made from a recording is tied to that sensor by itself."""
    from ..offline.analyze import session_addresses

    address = session_addresses([path]).get(placement)
    return address if isinstance(address, str) and address else None
