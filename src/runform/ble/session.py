"""``runform run`` behind the CLI: sensors -> ConnectionManager -> LiveSession -> run_live."""

from __future__ import annotations

import asyncio

import argparse
import logging
import sys

from ..imu_file import ImuFileError, corrections_for, load_imu_option, recorded_form
from ..live.core_factory import make_core
from ..live.hub import Hub
from ..live.runner import listen_socket, run_live
from ..live.session import LiveSession
from .errors import BleError, IncompatibleSensorError, PlacementError
from .manager import ConnectionManager, SensorRequest, parse_sensor_arg
from .scanner import scan

log = logging.getLogger(__name__)


def _err(msg: str) -> None:
    print(f"runform run: {msg}", file=sys.stderr, flush=True)


async def requests_from_args(args: argparse.Namespace, scanner_backend: type | None) -> list[SensorRequest]:
    if not args.auto:
        reqs = [parse_sensor_arg(s) for s in args.sensor]
        return reqs
    found = await scan(args.scan_timeout, backend=scanner_backend)
    if not found:
        raise BleError("no runform sensors found: are they charged, near, and not connected to another host?")
    bad = [f for f in found if not f.compatible]
    if bad:
        raise IncompatibleSensorError("; ".join(
            f"{f.name} ({f.address}) advertises protocol version {f.protocol_version}, this runform speaks version 1"
            for f in bad) + ": update the firmware or runform, or leave it out with --sensor")
    return [SensorRequest(f.address, None, f.name) for f in found]


async def _close_quietly(manager: object) -> None:
    """Disconnect whatever a failed set-up connected (never raises)."""
    close = getattr(manager, "close", None)
    if close is None:
        return
    try:
        await asyncio.wait_for(close(), 10.0)
    except Exception as exc:  # noqa: BLE001
        _err(f"warning: could not disconnect every sensor cleanly: {type(exc).__name__}: {exc}")


async def run_ble(args: argparse.Namespace, *, backend: type | None = None, scanner_backend: type | None = None, sleep=None, clock=None) -> int:
    # the port first: a port in use is said before sensors are connected and a session is recorded
    sock = listen_socket(args.host, args.port)
    if sock is None:
        return 1
    try:
        imu_entries = load_imu_option(getattr(args, "imu_calibration", None))
    except ImuFileError as exc:
        _err(str(exc))
        sock.close()
        return 2
    hub = Hub()
    kwargs = {} if clock is None else {"clock": clock}
    imu_used: dict = {}  # filled once the sensors (and their addresses) are connected
    session = LiveSession(hub, core_factory=lambda sensors: make_core(sensors, imu=imu_used), recorder=None, **kwargs)
    try:
        requests = await requests_from_args(args, scanner_backend)
        extra = {} if sleep is None else {"sleep": sleep}
        manager = ConnectionManager(session, requests, rate_hz=args.rate, backend=backend,
                                    store_placements=args.store_placement, on_warning=lambda m: (_err("warning: " + m), session.notify(m, "warning", "ble")), **extra)
        await manager.connect_all()
        if imu_entries is not None:  # another sensor than the calibrated one at a placement is refused here
            imu_used.update(corrections_for(imu_entries, {st.placement: st.key for st in session.sensors.values()},
                                            args.imu_calibration))
            missing = sorted({st.placement for st in session.sensors.values()} - set(imu_used))
            if missing:
                _err(f"warning: no IMU calibration for {', '.join(missing)} in {args.imu_calibration}: readings used as they come")
    except (BleError, PlacementError, ImuFileError) as exc:
        _err(str(exc))
        await _close_quietly(locals().get("manager"))
        sock.close()
        return 2
    except Exception as exc:  # noqa: BLE001 - bleak/OS errors: a message, not a traceback
        _err(f"could not set up the sensors: {type(exc).__name__}: {exc} (is Bluetooth on? is the address a runform sensor?)")
        await _close_quietly(locals().get("manager"))
        sock.close()
        return 2
    names = ", ".join(f"{p}={a}" for a, p in manager.placements.items())
    from ..store import RecordingControl

    try:  # recording starts before streaming (manager.run), so every frame is in the session's log
        recording = RecordingControl.open(getattr(args, "data_dir", None), session, {
            "source": "run", "label": "run", "rate_hz": manager.rate_hz,
            "sensors": {p: a for a, p in manager.placements.items()},
            **({"imu_calibration": recorded_form(args.imu_calibration, imu_used)} if imu_used else {})})
    except Exception as exc:  # noqa: BLE001 - unwritable directory, damaged or newer index
        _err(f"cannot record sessions in the data directory ({type(exc).__name__}: {exc}); choose another with --data-dir")
        await _close_quietly(manager)
        sock.close()
        return 2

    def ready(url: str) -> None:
        print(f"runform run: {len(manager.placements)} sensors at {manager.rate_hz} Hz ({names}); dashboard at {url}", flush=True)

    try:
        status = await run_live(session, manager.run, host=args.host, port=args.port, duration_s=args.duration,
                                open_browser=not args.no_browser, on_ready=ready, app_state=recording.app_state,
                                sock=sock)
    finally:
        await _close_quietly(manager)  # sensors are released whatever happened
        recording.close()
    st = session.status()
    for s in st["sensors"]:
        print(f"runform run: {s['placement']}: {s['frames_received']} frames, {s['frames_lost']} lost, "
              f"{s['frames_rejected']} rejected, {s['frames_duplicated']} duplicated, "
              f"{s['effective_rate_hz']} Hz effective, {s['disconnects']} disconnects", file=sys.stderr, flush=True)
    for recorder in recording.recorders:
        if recorder.index_error:
            _err(recorder.index_error)
        if recorder.error:
            _err(recorder.error)
        else:
            _err(f"recorded session {recorder.session_id} ({recorder.path})")
    return status
