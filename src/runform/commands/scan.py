"""``runform scan``: list the runform sensors that advertise nearby."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan",
        help="list nearby runform sensors (name, address, placement, RSSI, battery, firmware)",
        description="Scan for Bluetooth LE devices that advertise the runform service and a RunForm- name.",
    )
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS", help="how long to scan (default 5)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=run)


def format_table(found: list) -> str:
    if not found:
        return "no runform sensors found (are they charged and not connected to another host?)"
    rows = [("NAME", "ADDRESS", "PLACEMENT", "RSSI", "BATTERY", "FIRMWARE")]
    for f in found:
        placement = f.placement or f"- ({f.placement_note})"
        if not f.compatible:
            placement += f" [protocol {f.protocol_version}: not supported by this runform]"
        rows.append((f.name, f.address, placement, "?" if f.rssi_dbm is None else f"{f.rssi_dbm} dBm",
                     "?" if f.battery_percent is None else f"{f.battery_percent} %", f.firmware or "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)) + "  " + r[-1] for r in rows)


def run(args: argparse.Namespace, backend: type | None = None) -> int:
    import asyncio

    from ..ble.scanner import scan

    try:
        found = asyncio.run(scan(args.timeout, backend=backend))
    except Exception as exc:  # noqa: BLE001 - no adapter, BlueZ down, permissions: say so
        print(f"runform scan: Bluetooth scan failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([f.as_dict() for f in found], indent=1))
    else:
        print(format_table(found))
    return 0
