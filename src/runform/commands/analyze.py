"""``runform analyze INPUT... --out DIR [--placement P] [--rate HZ]``: offline re-analysis."""

from __future__ import annotations

import argparse
import sys

from ._options import add_raw_input_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze", help="run the gait core on session directories or raw_<placement>.csv files; write strides.csv and summary.json",
        description="Run the gait core on recordings and write strides.csv (one row per stride and leg, docs/metrics.md) "
                    "and summary.json into --out (OUT/<directory name> for several sessions). Each directory is one session "
                    "(its raw_<placement>.csv files; any subset of left_foot, right_foot, left_shank, right_shank); loose "
                    "files together are one session. A raw CSV has the header time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,"
                    "gyr_x_dps,gyr_y_dps,gyr_z_dps (sensor frame; s, m/s^2, deg/s). Every file is checked before anything is "
                    "written; a bad one stops the command with its file and line (exit status 2; with --jobs its session is "
                    "skipped); what is analysed but odd "
                    "(gaps, a rate change, saturation, missing values, a dead axis) is kept in summary.json and printed as 'note:' lines "
                    "(docs/data-format.md).")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="session directory or raw_<placement>.csv file")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created; the strides.csv and summary.json in it are replaced)")
    add_raw_input_options(p)
    p.add_argument("--imu-calibration", metavar="FILE", help="correct each sensor with its own calibration from FILE "
                   "(runform imu-calibrate: scale, cross-axis, offsets); sensors without an entry are used as they come (noted). "
                   "Default: the corrections a recorded session used live (its session.json), if any; 'none': no correction")
    p.add_argument("--jobs", type=int, metavar="N", help="batch: analyse sessions in N processes, with a progress bar and summary.csv across sessions (runform.batch)")
    p.add_argument("--dask", metavar="ADDRESS", help="batch: run the sessions on the Dask scheduler at ADDRESS (optional extra runform[dask])")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.jobs is not None or args.dask is not None:
        from ..batch.cli import run_batch_command

        return run_batch_command(args)
    from ..offline.analyze import analyze
    from ..offline.raw import RawInputError
    from ..placements import PlacementError, check_placement

    try:
        if args.placement:
            check_placement(args.placement)
        dirs = analyze(args.inputs, args.out, args.placement, args.rate, imu_path=args.imu_calibration)
    except (RawInputError, PlacementError) as e:
        print(f"runform analyze: error: {e}", file=sys.stderr)
        return 2
    for d in dirs:
        print(f"wrote {d / 'strides.csv'} and {d / 'summary.json'}")
        print(_summary_line(d / "summary.json"))
    return 0


def _summary_line(path) -> str:
    """One line of what the summary says: strides (valid) per leg, and every sensor whose
    calibration is not ``ready`` with its reasons (their strides are flagged, not valid); then a
    line per note on an input file (gaps, a rate change: summary.json ``inputs[].notes``)."""
    import json

    s = json.loads(path.read_text())
    present = {p.split("_")[0] for p in s.get("calibration", {})}  # legs with a sensor in this session
    legs = ", ".join(f"{leg} {v['strides']} strides ({v['valid_strides']} valid)"
                     for leg, v in s.get("legs", {}).items() if leg in present)
    bad = []
    for p, c in s.get("calibration", {}).items():
        if c.get("state") != "ready":
            why = (c.get("in_use") or c.get("quality") or {}).get("reasons") or []
            never = " (never calibrated: no motion to calibrate from)" if c.get("state") in ("standing", "moving") else ""
            bad.append(f"{p} {c.get('state')}{' (' + ', '.join(why) + ')' if why else ''}{never}")
    notes = [f"\n  note: {i['file']}: {n}" for i in s.get("inputs", []) for n in i.get("notes", [])]
    return f"  {legs}" + (f"; calibration not ready: {'; '.join(bad)}" if bad else "") + "".join(notes)
