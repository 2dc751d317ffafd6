"""``runform export SESSION --out DIR``: write a session as CSV files (the session directory format)."""

from __future__ import annotations

import argparse

from ._options import add_data_dir_option, open_store


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a recorded session as session.json and CSV files (raw, strides, events, annotations)",
        description="Write SESSION (an id from `runform sessions`, a unique prefix, or 'latest') as a session directory: "
        "session.json, raw_<placement>.csv, strides.csv, events.csv, annotations.csv (docs/data-format.md). "
        "The directory appears complete or not at all.",
    )
    p.add_argument("session", metavar="SESSION", help="session id, unique id prefix, or 'latest'")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (must be empty or absent unless --force)")
    p.add_argument("--analysis", choices=("auto", "live", "none"), default="auto",
                   help="strides.csv from a re-analysis of the raw data (auto, default), as computed live, or none")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    add_data_dir_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..store import SessionNotFound
    from ..store.sessiondir import SessionDirError, export_session

    store = open_store(args)
    try:
        res = export_session(store, args.session, args.out, analysis=args.analysis, force=args.force)
    except (SessionNotFound, SessionDirError) as e:
        print(f"runform export: {e}", file=sys.stderr)
        return 1
    total = sum(res.samples.values())
    print(f"runform export: {res.path}: {', '.join(res.files)}; {total} samples, {res.strides} strides ({res.strides_source}) "
          f"in {res.timings_s.get('total_s', 0):.1f} s", file=sys.stderr)
    return 0
