"""``runform demo``: four virtual sensors on a virtual runner, the live server and the dashboard."""

from __future__ import annotations

import argparse

from ._options import add_data_dir_option, add_set_option, parse_set


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo",
        help="virtual sensors on a virtual runner streaming live into the dashboard",
        description="Start four virtual sensors (left_foot, right_foot, left_shank, right_shank) that speak "
        "the firmware protocol, the live server and the dashboard at http://HOST:PORT/.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop by itself after this many seconds (exit status 0)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    add_data_dir_option(p, "where sessions are recorded")
    p.add_argument("--seed", type=int, default=None, help="random seed of the virtual runner and sensors")
    p.add_argument("--profile", default="neutral", help="virtual runner profile (default neutral)")
    p.add_argument("--rate", type=int, default=400, choices=(100, 200, 400, 800), help="sample rate in Hz (default 400)")
    p.add_argument("--imu-calibration", metavar="FILE", help="correct each virtual sensor with its own calibration from FILE "
                   "(runform simulate --imu-procedure, then runform imu-calibrate; same --seed); 'none': no correction")
    add_set_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    args.overrides = parse_set(args.set, "demo")
    from ..live.demo import run_demo

    return asyncio.run(run_demo(args))
