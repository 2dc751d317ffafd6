"""Readers for public IMU recordings (other devices), turned into our raw session layout so that
``runform analyze`` runs on them: one ``raw_<placement>.csv`` per sensor (sensor frame, acc m/s^2,
gyro deg/s, time s). Used by tests/test_core_public_data.py and benchmarks/bench_core_public.py.

Formats (../shared/data/*/README.txt):

* pyshoe_dev ``*.mat`` (Wagstaff/Kelly et al., pyshoe): ``ts`` (s), ``imu`` (n, 6) acc m/s^2,
  gyro rad/s; one IMU on top of the right shoe.
* gaitmap_walking ``imu_sample.csv`` (mad-lab-fau/gaitmap example): two header rows (sensor,
  axis), acc m/s^2, gyro deg/s, 204.8 Hz, no time column.
* hugadb ``HuGaDB_v1_*.txt`` (Chereshnev & Kertesz-Farkas 2017): tab-separated int16, acc +-2 g,
  gyro +-2000 deg/s, no time stamps (~58.8 Hz); feet and shins are used, thighs ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..core.schema import RAW_COLUMNS
from ..units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2

#: placement -> (time_s (n,), acc_mps2 (n, 3), gyr_dps (n, 3))
Session = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]

GAITMAP_RATE_HZ = 204.8
HUGADB_RATE_HZ = 58.8
_HUGADB = {"rf": "right_foot", "rs": "right_shank", "lf": "left_foot", "ls": "left_shank"}


def load_pyshoe(path: str | Path) -> Session:
    import scipy.io as sio

    m = sio.loadmat(Path(path), squeeze_me=True)
    imu = np.asarray(m["imu"], float)
    return {"right_foot": (np.asarray(m["ts"], float), imu[:, :3], imu[:, 3:] * DEG_PER_RAD)}


def load_gaitmap(folder: str | Path) -> Session:
    with open(Path(folder) / "imu_sample.csv") as f:
        rows = list(csv.reader(f))
    sensors, axes = rows[0][1:], rows[1][1:]
    raw = np.array(rows[2:], dtype=float)[:, 1:]
    t = np.arange(raw.shape[0]) / GAITMAP_RATE_HZ
    out: Session = {}
    for foot in ("left", "right"):
        col = {a: i for i, (s, a) in enumerate(zip(sensors, axes)) if s == f"{foot}_sensor"}
        out[f"{foot}_foot"] = (t, raw[:, [col[f"acc_{x}"] for x in "xyz"]], raw[:, [col[f"gyr_{x}"] for x in "xyz"]])
    return out


def load_hugadb(path: str | Path) -> Session:
    with open(path) as f:
        lines = [ln for ln in f if not ln.startswith("#")]
    header = lines[0].split()
    raw = np.array([ln.split() for ln in lines[1:] if ln.strip()], dtype=float)
    col = {h: i for i, h in enumerate(header)}
    t = np.arange(raw.shape[0]) / HUGADB_RATE_HZ
    out: Session = {}
    for code, placement in _HUGADB.items():
        a = raw[:, [col[f"acc_{code}_{x}"] for x in "xyz"]] / 32768.0 * 2.0 * STANDARD_GRAVITY_MPS2
        g = raw[:, [col[f"gyro_{code}_{x}"] for x in "xyz"]] / 32768.0 * 2000.0
        out[placement] = (t, a, g)
    return out


def write_session(folder: str | Path, session: Session) -> Path:
    """Write ``raw_<placement>.csv`` files into ``folder`` (created); returns it."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    for placement, (t, a, g) in session.items():
        with open(d / f"raw_{placement}.csv", "w") as f:
            f.write(",".join(RAW_COLUMNS) + "\n")
            np.savetxt(f, np.column_stack([t, a, g]), delimiter=",", fmt="%.9g")
    return d


def public_recordings(data: str | Path) -> list[tuple[str, Session]]:
    """Every recording of the shared data folder: (name, session)."""
    data = Path(data)
    out: list[tuple[str, Session]] = []
    for p in sorted((data / "pyshoe_dev").glob("*.mat")):
        out.append((f"pyshoe_{p.stem}", load_pyshoe(p)))
    if (data / "gaitmap_walking" / "imu_sample.csv").exists():
        out.append(("gaitmap_walking", load_gaitmap(data / "gaitmap_walking")))
    for p in sorted((data / "hugadb_running").glob("HuGaDB_v1_*.txt")):
        out.append((p.stem, load_hugadb(p)))
    return out
