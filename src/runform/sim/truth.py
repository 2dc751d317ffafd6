"""Ground truth of the virtual runner, computed from the kinematic model only.

* Continuous truth angles (:func:`truth_angles`) use the shared decompositions of
  :mod:`runform.anatomy`, relative to the standing pose at t = 0.
* Per-stride metrics (:func:`truth_strides`) follow docs/metrics.md, evaluated on a grid of 201
  points over each stance, every maximum then refined on 41 points within +-1.5 grid steps of
  the coarse one (resolution ~0.05 ms when running). Interpretations where the
  definition leaves room are in docs/virtual-runner.md ("Truth definitions").

Nothing here looks at sensor signals or at the detection algorithms.
"""

from __future__ import annotations

import math

import numpy as np

from .. import anatomy
from ..core.schema import STRIDE_COLUMNS, strike_pattern_of
from ..units import DEG_PER_RAD, STANDARD_GRAVITY_MPS2
from .gait import LEGS, GaitModel, shank_sensor_site

STANCE_GRID = 201  # coarse grid over each stance; every peak is then refined locally
REFINE_POINTS = 41  # points over +-1.5 coarse steps around a coarse maximum
MIN_TIR_FOR_RATIO_DEG = 0.5


def _raw_angles(gait: GaitModel, leg: str, t: np.ndarray, use_shank: bool) -> dict[str, np.ndarray]:
    k = gait.kinematics(leg, t)
    out = {
        "foot_sagittal": anatomy.foot_sagittal_angle(k.r_foot),
        "foot_frontal": anatomy.segment_frontal_angle(k.r_foot, leg),
        "tibial_inclination": anatomy.tibial_inclination(k.r_shank),
        "shank_frontal": anatomy.segment_frontal_angle(k.r_shank, leg),
        "shank_internal_rotation": anatomy.segment_internal_rotation(k.r_shank, leg),
        # foot heading from the shank in standing: the toe-out is not eversion (docs/virtual-runner.md)
        "rearfoot_eversion": anatomy.rearfoot_eversion(k.r_shank, gait.foot_heading_reference(leg, k.r_foot), leg),
    }
    out["eversion"] = out["rearfoot_eversion"] if use_shank else out["foot_frontal"]
    f = k.specific_force("shank", shank_sensor_site(leg))
    out["tibial_axial_accel"] = f[:, 2]  # m/s^2, along the tibia towards the knee
    out["ankle_x"] = k.ankle_pos[:, 0]
    out["ankle_y"] = k.ankle_pos[:, 1]
    return out


ANGLE_NAMES = ("foot_sagittal", "foot_frontal", "tibial_inclination", "shank_frontal",
               "shank_internal_rotation", "rearfoot_eversion", "eversion")


def truth_angles(gait: GaitModel, leg: str, t: np.ndarray, use_shank: bool = True) -> dict[str, np.ndarray]:
    """Continuous truth of ``leg`` at true times ``t`` (s): angles in rad relative to standing
    (keys in :data:`ANGLE_NAMES`; ``eversion`` is rearfoot eversion with a shank, else the
    shoe's frontal angle), ``tibial_axial_accel`` in m/s^2 (noise-free, at the shank sensor),
    and the ankle's horizontal position ``ankle_x``, ``ankle_y`` in m."""
    t = np.asarray(t, dtype=float)
    out = _raw_angles(gait, leg, t, use_shank)
    ref = standing_reference(gait, leg, use_shank)
    for name in ANGLE_NAMES:
        out[name] = out[name] - ref[name]
    return out


def standing_reference(gait: GaitModel, leg: str, use_shank: bool) -> dict[str, float]:
    """The angles (rad) of the standing pose at t = 0, computed once and kept (so that they
    survive the bounded-memory forgetting of old strides)."""
    cache = gait.__dict__.setdefault("_standing_reference", {})
    key = (leg, bool(use_shank))
    if key not in cache:
        raw = _raw_angles(gait, leg, np.array([0.0]), use_shank)
        cache[key] = {name: float(raw[name][0]) for name in ANGLE_NAMES}
    return cache[key]


def _fmt_empty(x: float | None):
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else x


def truth_strides(gait: GaitModel, t_max: float, placements: tuple[str, ...] | list[str],
                  first_index: dict[str, int] | None = None) -> list[dict]:
    """Truth rows (dicts with the keys of STRIDE_COLUMNS, units of docs/metrics.md) of every
    stride whose next IC is <= ``t_max``, ordered by IC time. ``placements`` decides, as in the
    core, which metrics exist: no shank on a leg -> eversion relative to standing and empty shank
    metrics; no foot on the other leg -> empty flight time."""
    placements = tuple(placements)
    rows: list[dict] = []
    events = {leg: gait.strides(leg, t_max) for leg in LEGS}
    all_ic = {leg: gait.strides(leg, t_max + 10.0)["ic"] for leg in LEGS}
    for leg in LEGS:
        other = "right" if leg == "left" else "left"
        has_shank = f"{leg}_shank" in placements
        has_other = f"{other}_foot" in placements
        ev = events[leg]
        n = ev["ic"].size
        if n == 0:
            continue
        ic, to, icn = ev["ic"], ev["to"], ev["ic_next"]
        # mid-stance of the next stride, for the stride length
        nxt = gait.strides(leg, t_max + 10.0)
        mid = 0.5 * (ic + to)
        mid_next = 0.5 * (nxt["ic"][1: n + 1] + nxt["to"][1: n + 1])
        start = max((first_index or {}).get(leg, 0) - int(ev["index"][0]) if n else 0, 0)
        for c0 in range(start, n, 32):
            c1 = min(n, c0 + 32)
            m = c1 - c0
            u = np.linspace(0.0, 1.0, STANCE_GRID)
            tg = ic[c0:c1, None] + u[None, :] * (to - ic)[c0:c1, None]
            extra = np.concatenate([mid[c0:c1], mid_next[c0:c1]])
            a = truth_angles(gait, leg, np.concatenate([tg.reshape(-1), extra]), use_shank=has_shank)
            g = {k: v[: m * STANCE_GRID].reshape(m, STANCE_GRID) for k, v in a.items()}
            xy = np.stack([a["ankle_x"][m * STANCE_GRID:], a["ankle_y"][m * STANCE_GRID:]], axis=1)
            length = np.hypot(*(xy[m:] - xy[:m]).T)
            evs = g["eversion"] * DEG_PER_RAD
            dt = (to - ic)[c0:c1] / (STANCE_GRID - 1)
            ev_rate = np.gradient(evs, axis=1) / dt[:, None]
            j_pk = np.argmax(evs, axis=1)
            ir = g["shank_internal_rotation"] * DEG_PER_RAD
            # refine each peak on a fine local grid around its coarse maximum
            j_rate = np.array([np.argmax(ev_rate[i, : j_pk[i] + 1]) for i in range(m)])
            centres = {
                "eversion": j_pk,
                "rate": j_rate,
                "shank_frontal": np.argmax(g["shank_frontal"], axis=1),
                "ir": np.argmax(ir, axis=1),
                "axial": np.argmax(g["tibial_axial_accel"], axis=1),
            }
            off = np.linspace(-1.5, 1.5, REFINE_POINTS)
            t_ref = []
            for key in centres:
                tc_ = tg[np.arange(m), centres[key]][:, None] + off[None, :] * dt[:, None]
                t_ref.append(np.clip(tc_, ic[c0:c1, None], to[c0:c1, None]))
            t_ref = np.stack(t_ref, axis=1)  # (m, metrics, points)
            fine = truth_angles(gait, leg, t_ref.reshape(-1), use_shank=has_shank)
            shape = t_ref.shape
            f_ev = (fine["eversion"] * DEG_PER_RAD).reshape(shape)
            f_dt = 3.0 * dt / (REFINE_POINTS - 1)
            f_rate = np.gradient(f_ev[:, 1], axis=1) / f_dt[:, None]
            pk_val = np.maximum(f_ev[:, 0].max(axis=1), evs.max(axis=1))
            pk_time = t_ref[np.arange(m), 0, np.argmax(f_ev[:, 0], axis=1)]
            # the fastest eversion must come before the peak
            rate_ok = t_ref[:, 1] <= pk_time[:, None]
            rate_val = np.maximum(np.where(rate_ok, f_rate, -np.inf).max(axis=1),
                                  np.array([ev_rate[i, : j_pk[i] + 1].max() for i in range(m)]))
            fr_val = np.maximum((fine["shank_frontal"].reshape(shape)[:, 2]).max(axis=1), g["shank_frontal"].max(axis=1))
            ir_val = np.maximum((fine["shank_internal_rotation"].reshape(shape)[:, 3] * DEG_PER_RAD).max(axis=1), ir.max(axis=1))
            ax_val = np.maximum(fine["tibial_axial_accel"].reshape(shape)[:, 4].max(axis=1), g["tibial_axial_accel"].max(axis=1))
            for i in range(m):
                k = c0 + i
                stride_ms = (icn[k] - ic[k]) * 1000.0
                strike = float(g["foot_sagittal"][i, 0] * DEG_PER_RAD)
                ev_ic = float(evs[i, 0])
                pk = float(pk_val[i])
                exc = pk - ev_ic
                row = {
                    "leg": leg,
                    "stride_index": int(ev["index"][k]),
                    "ic_time_s": float(ic[k]),
                    "to_time_s": float(to[k]),
                    "contact_time_ms": float((to[k] - ic[k]) * 1000.0),
                    "flight_time_ms": None,
                    "stride_time_ms": float(stride_ms),
                    "cadence_spm": float(2 * 60000.0 / stride_ms),
                    "foot_strike_angle_deg": strike,
                    "strike_pattern": strike_pattern_of(strike),
                    "eversion_reference": "shank" if has_shank else "standing",
                    "eversion_at_ic_deg": ev_ic,
                    "peak_eversion_deg": pk,
                    "eversion_excursion_deg": exc,
                    "peak_eversion_velocity_dps": float(rate_val[i]),
                    "time_to_peak_eversion_ms": float((pk_time[i] - ic[k]) * 1000.0),
                    "tibial_inclination_at_ic_deg": None,
                    "peak_shank_frontal_angle_deg": None,
                    "tibial_internal_rotation_deg": None,
                    "ev_tir_ratio": None,
                    "peak_tibial_accel_g": None,
                    "stride_length_m": float(length[i]),
                    "speed_mps": float(length[i] / (stride_ms / 1000.0)),
                    "valid": 1,
                    "flags": "",
                }
                flags = []
                if has_shank:
                    tir = float(ir_val[i] - ir[i, 0])
                    row["tibial_inclination_at_ic_deg"] = float(g["tibial_inclination"][i, 0] * DEG_PER_RAD)
                    row["peak_shank_frontal_angle_deg"] = float(fr_val[i] * DEG_PER_RAD)
                    row["tibial_internal_rotation_deg"] = tir
                    row["ev_tir_ratio"] = exc / tir if tir >= MIN_TIR_FOR_RATIO_DEG else None
                    row["peak_tibial_accel_g"] = float(ax_val[i] / STANDARD_GRAVITY_MPS2)
                else:
                    flags.append("no_shank")
                if has_other:
                    later = all_ic[other][all_ic[other] > ic[k]]
                    if later.size:
                        row["flight_time_ms"] = float((later[0] - to[k]) * 1000.0)
                else:
                    flags.append("no_other_foot")
                row["flags"] = ";".join(flags)
                rows.append(row)
    rows.sort(key=lambda r: (r["ic_time_s"], r["leg"]))
    return rows


def format_truth_rows(rows: list[dict]) -> str:
    """CSV text (header + rows) of truth rows, numbers with 6 decimals, empty = not available."""
    lines = [",".join(STRIDE_COLUMNS)]
    for r in rows:
        cells = []
        for c in STRIDE_COLUMNS:
            v = _fmt_empty(r[c])
            if isinstance(v, float):
                cells.append(f"{v:.6f}")
            else:
                cells.append(str(v))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
