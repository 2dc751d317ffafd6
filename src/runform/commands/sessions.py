"""``runform sessions``: list the recorded sessions of the data directory (or import one)."""

from __future__ import annotations

import argparse

from ._options import add_data_dir_option, open_store


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sessions",
        help="list recorded sessions (--json for scripts; --import DIR to add an exported session directory)",
        description="List the sessions of the data directory, newest last. Sessions cut short by a crash are "
        "repaired and marked recovered first.",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list of objects (id, label, start, duration_s, strides, recovered, ...)")
    p.add_argument("--import", dest="import_dirs", action="append", default=[], metavar="DIR",
                   help="check a session directory (as written by runform export or simulate) and add it to the store")
    add_data_dir_option(p)
    p.set_defaults(func=run)


def session_json(row: dict) -> dict:
    """A session as ``runform sessions --json`` and ``GET /api/sessions`` show it."""
    import time

    start = row.get("start_wall")
    return {
        "id": row["id"],
        "label": row.get("label", ""),
        "runner": row.get("runner", ""),
        "source": row.get("source", ""),
        "start": None if start is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
        "start_wall": start,
        "duration_s": None if row.get("duration_s") is None else round(float(row["duration_s"]), 3),
        "strides": int(row.get("strides") or 0),
        "recovered": bool(row.get("recovered")),
        "state": row.get("state"),
        "placements": [s.get("placement") for s in row.get("sensors", [])],
        "frame_counts": row.get("frame_counts", {}),
        "error": row.get("error"),
    }


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from ..store.sessiondir import SessionDirError, import_session_dir

    store = open_store(args)
    for d in args.import_dirs:
        try:
            sid = import_session_dir(store, d)
        except SessionDirError as e:
            print(f"runform sessions: cannot import: {e}", file=sys.stderr)
            return 1
        print(f"runform sessions: imported {d} as {sid}", file=sys.stderr)
    rows = [session_json(r) for r in store.list_sessions()]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    if not rows:
        print(f"no sessions in {store.data_dir}")
        return 0
    print(f"{'id':<22} {'start (UTC)':<20} {'duration':>9} {'strides':>7}  {'state':<10} label")
    for r in rows:
        dur = "" if r["duration_s"] is None else f"{r['duration_s']:.1f} s"
        state = r["state"] + ("!" if r["error"] else "")
        print(f"{r['id']:<22} {(r['start'] or '').replace('T', ' ').rstrip('Z'):<20} {dur:>9} {r['strides']:>7}  {state:<10} {r['label']}")
    return 0
