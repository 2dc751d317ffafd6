"""``runform analyze DIR... --out DIR --jobs N | --dask ADDRESS``: the batch side of the command
(options parsed by runform.commands.analyze)."""

from __future__ import annotations

import argparse
import sys


def run_batch_command(args: argparse.Namespace) -> int:
    """Run the batch, print the summary table and timings; 0 if every session was analysed,
    2 if an input is missing or any session failed (each failure printed with file and line)."""
    from ..offline.raw import RawInputError
    from ..placements import PlacementError, check_placement
    from .run import run_batch
    from .summary import table_text

    if args.jobs is not None and args.jobs < 1:
        print("runform analyze: error: --jobs must be at least 1", file=sys.stderr)
        return 2

    def report(res) -> None:
        if res.error:
            print(f"runform analyze: error: {res.error}", file=sys.stderr)
        for inp in (res.summary or {}).get("inputs", []):  # what runform analyze prints without --jobs
            for note in inp.get("notes", []):
                print(f"runform analyze: note: {inp['file']}: {note}", file=sys.stderr)

    try:
        if args.placement:
            check_placement(args.placement)
        result = run_batch(args.inputs, args.out, placement=args.placement, rate_hz=args.rate, imu_path=getattr(args, 'imu_calibration', None), jobs=args.jobs or 1,
                           dask_address=args.dask, progress=sys.stderr.isatty(), on_result=report)
    except (RawInputError, PlacementError, RuntimeError, OSError) as e:
        print(f"runform analyze: error: {e}", file=sys.stderr)
        return 2
    if result.table:
        sys.stdout.write(table_text(result.table))
    for name, d in result.written.items():
        print(f"wrote {d / 'strides.csv'} and {d / 'summary.json'}")
    if result.summary_csv is not None:
        print(f"wrote {result.summary_csv}")
    print(result.timing_text())
    if result.failed:
        print(f"runform analyze: {len(result.failed)} of {len(result.results)} sessions failed: "
              + ", ".join(r.name for r in result.failed), file=sys.stderr)
        return 2
    return 0
