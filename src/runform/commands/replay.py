"""``runform replay SESSION``: stream a recorded session through the live path and dashboard."""

from __future__ import annotations

import argparse

from ._options import add_data_dir_option, open_store


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "replay",
        help="stream a recorded session through the live path and the dashboard as if live",
        description="Replay SESSION's raw frames (id, unique id prefix, or 'latest') through decode, clock, core and "
        "the live dashboard at http://HOST:PORT/. The replay is recorded as a new session unless --no-record.",
    )
    p.add_argument("session", metavar="SESSION", help="session id, unique id prefix, or 'latest'")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="replay speed (default 1 = real time; 10 = ten times faster)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS", help="stop after this many seconds (default: at the end of the recording)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--no-record", action="store_true", help="do not record the replay as a new session")
    add_data_dir_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_replay(args))


async def _replay(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from ..live.core_factory import make_core
    from ..live.hub import Hub
    from ..live.runner import listen_socket, run_live
    from ..live.session import LiveSession
    from ..store import SessionNotFound
    from ..store.replay import Replayer

    store = open_store(args)
    try:
        replayer = Replayer(store, args.session, args.speed)
    except (SessionNotFound, ValueError) as e:
        print(f"runform replay: {e}", file=sys.stderr)
        return 1
    sock = listen_socket(args.host, args.port)  # before the recording: a port in use records nothing
    if sock is None:
        return 1
    imu_recorded = replayer.header.get("imu_calibration")
    imu = None
    if imu_recorded:  # the sensors' own corrections the recording used live: replayed the same way
        from ..imu_file import ImuFileError, from_recorded

        try:
            _, imu = from_recorded(imu_recorded, f"session {replayer.row['id']} imu_calibration")
        except ImuFileError as e:
            print(f"runform replay: {e}", file=sys.stderr)
            sock.close()
            return 1
    session = LiveSession(Hub(), core_factory=lambda sensors: make_core(sensors, imu=imu))
    replayer.register(session)
    recorder = None
    if not args.no_record:
        meta = {"source": "replay", "label": f"replay of {replayer.row['id']}", "replay_of": replayer.row["id"], "speed": args.speed}
        if imu_recorded:
            meta["imu_calibration"] = imu_recorded
        recorder = store.open_live_recording(session, meta)
    sid = replayer.row["id"]

    def ready(url: str) -> None:
        print(f"runform replay: {sid} at {args.speed:g}x; dashboard at {url}", flush=True)

    async def source() -> None:
        await replayer.run(session)
        await asyncio.sleep(0.3)  # let the worker drain before run_live stops it

    state = {"data_dir": store.data_dir}
    if recorder is not None:
        state["annotation_sink"] = lambda time_s, text: (recorder.annotate(time_s, text), store.index.add_annotation(recorder.session_id, time_s, text))
    try:
        status = await run_live(session, source, host=args.host, port=args.port, duration_s=args.duration,
                                open_browser=not args.no_browser, on_ready=ready, app_state=state, sock=sock)
    finally:
        if recorder is not None:
            recorder.close()
    st = session.status()
    print(f"runform replay: {replayer.submitted} notifications replayed, "
          f"{sum(s['frames_received'] for s in st['sensors'])} frames decoded, {st['core']['strides']} strides"
          + (f"; recorded as {recorder.session_id}" if recorder is not None and not recorder.error else ""), file=sys.stderr, flush=True)
    if recorder is not None and recorder.error:
        print(f"runform replay: {recorder.error}", file=sys.stderr)
    return status
