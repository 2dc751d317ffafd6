"""Write a simulated session directory in runform's export format.

Files (all written to a temporary name and renamed into place, so a crash never leaves a
half-written file under the final name):

* ``raw_<placement>.csv``: ``time_s,acc_x_mps2,acc_y_mps2,acc_z_mps2,gyr_x_dps,gyr_y_dps,gyr_z_dps``
  in the sensor frame, after range saturation and int16 quantisation (every value is an exact
  multiple of one LSB). ``time_s`` is session (true) time of the sample, to the microsecond:
  the sensor samples at ``rate_hz`` on its *own* clock, so samples of different sensors are
  not simultaneous and their spacing differs from 1/rate by the clock drift (session.json has
  each sensor's ``clock_offset_us`` and ``clock_drift_ppm`` to recover the sensor timestamps).
* ``truth_strides.csv``: per-stride truth, columns ``runform.core.schema.STRIDE_COLUMNS``.
* ``truth_angles.csv``: continuous truth angles (deg) and stance flags at ``truth_rate_hz``.
* ``imu_procedure/raw_<placement>.csv`` (``runform simulate --imu-procedure``): what each sensor
  reads during the table procedure of ``runform imu-calibrate`` (runform.sim.imu_procedure: the
  same scale/cross-axis errors, a new turn-on bias), in the raw CSV format above.
* ``session.json``: software version, source, profile, every effective parameter, seed,
  rates, duration, per-sensor information (ranges, mounting quaternion, clock, error
  constants, clipped sample counts).

The same (profile, parameters, seed, rate, duration) gives the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .. import __version__
from ..core.schema import RAW_COLUMNS
from ..placements import leg_of
from ..sensors.quantize import INT16_MAX, INT16_MIN, acc_lsb_mps2, gyr_lsb_dps, quantize_imu
from ..units import DEG_PER_RAD
from . import csvfast
from .gait import ANKLE_HEIGHT_M, FOOT_HEEL_M, FOOT_MTP_M, LEGS, foot_sensor_site, shank_sensor_site
from .runner import VirtualRunner
from .truth import STANCE_GRID, format_truth_rows

CHUNK_S = 20.0
TRUTH_ANGLE_COLUMNS = ("foot_sagittal", "eversion", "foot_frontal", "tibial_inclination", "shank_frontal",
                       "shank_internal_rotation")


class _AtomicFile:
    """Write to ``<name>.tmp`` and rename onto ``<name>`` on success."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")

    def __enter__(self):
        self.fh = open(self.tmp, "wb")
        return self.fh

    def __exit__(self, exc_type, exc, tb):
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            try:
                os.unlink(self.tmp)
            except OSError:
                pass
        return False


def write_raw(runner: VirtualRunner, placement: str, path: Path, rate_hz: float, duration_s: float) -> dict:
    """Simulate and write one sensor's raw CSV; returns counts (samples, clipped)."""
    info = runner.sensor_info(placement)
    a_lsb = acc_lsb_mps2(info.accel_range_g)
    g_lsb = gyr_lsb_dps(info.gyro_range_dps)
    n_total = 0
    clipped_acc = 0
    clipped_gyr = 0
    with _AtomicFile(path) as fh:
        fh.write((",".join(RAW_COLUMNS) + "\n").encode())
        t0 = 0.0
        while t0 < duration_s:
            t1 = min(t0 + CHUNK_S, duration_s)
            t = runner.sample_times(placement, rate_hz, t0, t1)
            t0 = t1
            if t.size == 0:
                continue
            acc, gyr = runner.imu(placement, t)
            ac, gc = quantize_imu(acc, gyr, info.accel_range_g, info.gyro_range_dps)
            clipped_acc += int(np.count_nonzero(np.any((ac == INT16_MAX) | (ac == INT16_MIN), axis=1)))
            clipped_gyr += int(np.count_nonzero(np.any((gc == INT16_MAX) | (gc == INT16_MIN), axis=1)))
            fh.write(csvfast.imu_rows(t, ac, gc, a_lsb, g_lsb))
            n_total += t.size
    return {"samples": n_total, "clipped_acc_samples": clipped_acc, "clipped_gyr_samples": clipped_gyr}


def write_truth_angles(runner: VirtualRunner, path: Path, rate_hz: float, duration_s: float) -> None:
    """Continuous truth at ``rate_hz``: per leg the angles of TRUTH_ANGLE_COLUMNS in deg
    (relative to standing, signs of docs/conventions.md) and ``<leg>_stance`` (1 while the
    foot is on the ground: from IC to TO, and while standing before the first push-off)."""
    header = ["time_s"]
    for leg in LEGS:
        header += [f"{leg}_{c}_deg" for c in TRUTH_ANGLE_COLUMNS] + [f"{leg}_stance"]
    with _AtomicFile(path) as fh:
        fh.write((",".join(header) + "\n").encode())
        n = int(np.floor(duration_s * rate_hz - 1e-9)) + 1
        step = int(CHUNK_S * rate_hz)
        ev = {leg: runner.events(leg, duration_s + 5.0) for leg in LEGS}
        for i0 in range(0, n, step):
            t = np.arange(i0, min(n, i0 + step)) / rate_hz
            cols = [t]
            dec = [6]
            dig = [7]
            for leg in LEGS:
                a = runner.truth_angles(leg, t)
                cols += [a[c] * DEG_PER_RAD for c in TRUTH_ANGLE_COLUMNS]
                k = np.searchsorted(ev[leg]["ic"], t, side="right") - 1
                # on the ground: between IC and TO, and while standing before the first push-off
                stance = np.where(k >= 0, t < ev[leg]["to"][np.maximum(k, 0)], t < runner.first_toe_off(leg))
                cols.append(stance.astype(float))
                dec += [4] * len(TRUTH_ANGLE_COLUMNS) + [0]
                dig += [3] * len(TRUTH_ANGLE_COLUMNS) + [1]
            text = csvfast.float_rows(cols, dec, dig)
            fh.write(text.replace(b".,", b",").replace(b".\n", b"\n"))


def session_metadata(runner: VirtualRunner, rate_hz: float, duration_s: float, truth_rate_hz: float,
                     counts: dict[str, dict]) -> dict:
    sensors = []
    for p in runner.placements:
        info = runner.sensor_info(p).to_dict()
        site = foot_sensor_site(leg_of(p)) if p.endswith("foot") else shank_sensor_site(leg_of(p))
        info.update({"file": f"raw_{p}.csv", "name": f"virtual-{p}", "model": "runform-virtual-runner",
                     "sample_rate_hz": rate_hz, "site_in_segment_m": [float(x) for x in site]})
        info.update(counts.get(p, {}))
        sensors.append(info)
    return {
        # the session directory format of runform.store.sessiondir (docs/data-format.md)
        "format": "runform-session",
        "format_version": 1,
        "label": f"simulated {runner.profile} seed {runner.seed}",
        "runner": f"virtual:{runner.profile}",
        "software": {"runform": __version__},
        "software_version": __version__,
        "source": "simulate",
        "profile": runner.profile,
        "seed": runner.seed,
        "rate_hz": rate_hz,
        "duration_s": duration_s,
        "placements": list(runner.placements),
        "parameters": runner.effective_parameters(),
        "link_effects": runner.link.to_dict(),
        "sensors": sensors,
        "time_base": "time_s is session (true) time; sensor clock: sensor_us = clock_offset_us + "
                     "time_s * 1e6 * (1 + clock_drift_ppm * 1e-6); samples at multiples of 1e6/rate_hz us",
        "frames": "raw samples in the sensor frame; segment frames and signs as docs/conventions.md; "
                  "v_segment = R(mounting_quat_wxyz) v_sensor",
        "model": {
            "foot_heel_m": FOOT_HEEL_M.tolist(), "foot_mtp_m": FOOT_MTP_M.tolist(),
            "ankle_height_m": ANKLE_HEIGHT_M, "truth_stance_grid_points": STANCE_GRID,
            "truth_angles_rate_hz": truth_rate_hz,
        },
        "files": {
            "raw": {p: f"raw_{p}.csv" for p in runner.placements},
            "truth_strides": "truth_strides.csv",
            "truth_angles": "truth_angles.csv",
        },
    }


def write_session(runner: VirtualRunner, out_dir: Path, duration_s: float, rate_hz: float = 400.0,
                  truth_rate_hz: float = 100.0, progress=None) -> dict:
    """Simulate ``duration_s`` seconds and write the session directory; returns session.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runner.bounded_memory = False  # each sensor is generated from t = 0 in turn, then the truth
    counts = {}
    for p in runner.placements:
        counts[p] = write_raw(runner, p, out / f"raw_{p}.csv", rate_hz, duration_s)
        if progress:
            progress(p)
    rows = runner.truth_strides(duration_s)
    with _AtomicFile(out / "truth_strides.csv") as fh:
        fh.write(format_truth_rows(rows).encode())
    write_truth_angles(runner, out / "truth_angles.csv", truth_rate_hz, duration_s)
    meta = session_metadata(runner, rate_hz, duration_s, truth_rate_hz, counts)
    meta["truth_strides"] = len(rows)
    with _AtomicFile(out / "session.json") as fh:
        fh.write((json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    return meta


def write_imu_procedure(runner: VirtualRunner, out_dir: Path, rate_hz: float = 400.0, seed: int = 0) -> list[Path]:
    """Write ``out_dir/imu_procedure/raw_<placement>.csv``: each sensor's simulated table
    procedure, for ``runform imu-calibrate``. Returns the files written."""
    from .imu_procedure import simulate_imu_procedure

    d = Path(out_dir) / "imu_procedure"
    d.mkdir(parents=True, exist_ok=True)
    written = []
    for k, p in enumerate(runner.placements):
        info = runner.sensor_info(p)
        t, acc, gyr = simulate_imu_procedure(runner._sensors[p], rate_hz=rate_hz, seed=1000 * seed + k)
        ac, gc = quantize_imu(acc, gyr, info.accel_range_g, info.gyro_range_dps)
        with _AtomicFile(d / f"raw_{p}.csv") as fh:
            fh.write((",".join(RAW_COLUMNS) + "\n").encode())
            fh.write(csvfast.imu_rows(t, ac, gc, acc_lsb_mps2(info.accel_range_g), gyr_lsb_dps(info.gyro_range_dps)))
        written.append(d / f"raw_{p}.csv")
    return written
