"""The demo: virtual runner -> virtual sensor firmware -> live path -> server."""

from __future__ import annotations

import argparse
import logging
import sys

from .core_factory import make_core
from .hub import Hub
from .runner import listen_socket, run_live
from .session import LiveSession
from .virtual_sensors import make_virtual_sensors
from .virtual_source import VirtualSource

log = logging.getLogger(__name__)


def make_motion(profile: str, seed: int, overrides: dict | None = None):
    """The virtual runner of ``profile`` with parameter ``overrides`` (docs/virtual-runner.md)."""
    from ..sim import VirtualRunner

    return VirtualRunner.from_profile(profile, seed=seed, overrides=overrides)


async def run_demo(args: argparse.Namespace) -> int:
    if args.seed is None:  # a fresh runner each time, but say which so it can be reproduced
        import random

        args.seed = random.SystemRandom().randrange(2**31)
    log.info("demo seed %d (repeat with --seed %d)", args.seed, args.seed)
    from ..sim import LinkEffects

    motion = make_motion(args.profile, args.seed, getattr(args, "overrides", None))
    link = motion.link if motion.link.active else LinkEffects(jitter_ms=4.0)
    from ..store import RecordingControl

    sock = listen_socket(args.host, args.port)  # before the recording: a port in use records nothing
    if sock is None:
        return 1
    from ..imu_file import ImuFileError, load_imu_option, recorded_form

    try:
        imu = load_imu_option(getattr(args, "imu_calibration", None))
    except ImuFileError as exc:
        print(f"runform demo: error: {exc}", file=sys.stderr)
        sock.close()
        return 2
    hub = Hub()
    session = LiveSession(hub, core_factory=lambda sensors: make_core(sensors, imu=imu))
    meta = {"source": "demo", "label": f"demo {args.profile}", "profile": args.profile, "seed": args.seed, "rate_hz": args.rate}
    if imu:
        meta["imu_calibration"] = recorded_form(args.imu_calibration, imu)
    recording = RecordingControl.open(args.data_dir, session, meta)
    firmwares = make_virtual_sensors(motion, rate_hz=args.rate, seed=args.seed)
    source = VirtualSource(session, firmwares, link=link, seed=args.seed)
    source.connect_all()

    def ready(url: str) -> None:
        print(f"runform demo: {len(firmwares)} virtual sensors streaming; dashboard at {url}", flush=True)
        if args.duration is None:
            print("press Ctrl+C to stop", flush=True)

    async def stream() -> None:
        await source.run()

    try:
        status = await run_live(
            session,
            stream,
            host=args.host,
            port=args.port,
            duration_s=args.duration,
            open_browser=not args.no_browser,
            on_ready=ready,
            app_state=recording.app_state,
            sock=sock,
        )
    finally:
        recording.close()
    st = session.status()
    total = sum(s["frames_received"] for s in st["sensors"])
    lost = sum(s["frames_lost"] for s in st["sensors"])
    print(f"runform demo: stopped after {st['session_time_s']:.1f} s; {total} frames received, {lost} lost, "
          f"{st['core']['strides']} strides", file=sys.stderr, flush=True)
    for recorder in recording.recorders:
        if recorder.index_error:
            print(f"runform demo: {recorder.index_error}", file=sys.stderr, flush=True)
        if recorder.error:
            print(f"runform demo: {recorder.error}", file=sys.stderr, flush=True)
        else:
            print(f"runform demo: recorded session {recorder.session_id} ({recorder.path})", file=sys.stderr, flush=True)
    return status
