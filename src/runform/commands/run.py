"""``runform run``: real sensors over Bluetooth LE into the live path (recording, core, dashboard)."""

from __future__ import annotations

import argparse

from ._options import add_data_dir_option


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="stream real sensors over Bluetooth LE into the live dashboard",
        description="Connect runform sensors one at a time, check their firmware, configure rate and ranges, "
        "and stream them into the same live path as the demo (recording, gait core, dashboard at http://HOST:PORT/). "
        "Placements come from the sensors (stored) or from --sensor PLACEMENT=ADDRESS, which overrides the stored one.",
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--auto", action="store_true", help="use every runform sensor found by a scan, with its stored placement")
    g.add_argument("--sensor", action="append", metavar="PLACEMENT=ADDRESS",
                   help="a sensor and its placement, e.g. left_foot=F0:0D:00:00:00:1A (repeat for each sensor)")
    p.add_argument("--rate", type=int, default=400, choices=(100, 200, 400, 800), help="sample rate in Hz (default 400; lowered with a warning when the links cannot carry it)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    add_data_dir_option(p, "where sessions are recorded")
    p.add_argument("--scan-timeout", type=float, default=5.0, metavar="SECONDS", help="scan time for --auto (default 5)")
    p.add_argument("--store-placement", action="store_true", help="write the --sensor placements into the sensors (SET_PLACEMENT)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop by itself after this many seconds")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--imu-calibration", metavar="FILE", help="correct each sensor with its own calibration from FILE "
                   "(runform imu-calibrate); a sensor other than the calibrated one at a placement is refused; 'none': no correction")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, backend: type | None = None, scanner_backend: type | None = None) -> int:
    """``backend``/``scanner_backend``: bleak backend classes (None = the platform's)."""
    import asyncio

    from ..ble.session import run_ble

    return asyncio.run(run_ble(args, backend=backend, scanner_backend=scanner_backend))
