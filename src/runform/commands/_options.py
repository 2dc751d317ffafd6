"""Options shared by several commands."""

from __future__ import annotations

import argparse


def parse_set(items: list[str] | None, command: str) -> dict[str, str]:
    """``--set key=value`` items -> {key: value}; a malformed item is a usage error."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"runform {command}: --set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def add_set_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a runner parameter, e.g. --set speed_mps=3.8 --set right.peak_eversion_deg=14 "
                   "(names: docs/virtual-runner.md)")


def add_raw_input_options(p: argparse.ArgumentParser) -> None:
    """``--placement`` and ``--rate`` of the commands that read raw_<placement>.csv files
    (runform.offline.raw.read_raw_csv refuses a rate more than 10 % off time_s)."""
    p.add_argument("--placement", help="placement of a raw CSV whose name does not say it (or: only this placement of a directory)")
    p.add_argument("--rate", type=float, metavar="HZ", help="sample rate (default: estimated from time_s; a rate more than 10 %% off time_s is refused)")


def add_data_dir_option(p: argparse.ArgumentParser, what: str = "data directory") -> None:
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help=f"{what} (default: RUNFORM_DATA_DIR or the user data directory)")


def open_store(args: argparse.Namespace):  # -> runform.store.Store (imported lazily: CLI start-up)
    """The store of ``--data-dir``; sessions cut short earlier are recovered and said so."""
    import sys

    from ..store import Store

    store = Store(args.data_dir)
    for r in store.recovered:
        print(f"runform: {r['message']}", file=sys.stderr)
    return store
