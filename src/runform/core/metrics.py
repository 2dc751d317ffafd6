"""Per-stride metrics: one row of ``STRIDE_COLUMNS`` from a foot stride (FootTracker), the
leg's shank orientation over the same stride (if that leg has a shank sensor) and the other
foot's initial contacts. Definitions, signs and sources: docs/metrics.md; angles follow
runform.anatomy (docs/conventions.md). Missing inputs give empty (None) cells, never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..anatomy import foot_sagittal_angle, rearfoot_eversion, segment_frontal_angle, segment_internal_rotation, tibial_inclination
from ..units import DEG_PER_RAD, MS_PER_S, STANDARD_GRAVITY_MPS2
from .orientation import interp_quat, qmatrix, rotate_heading, yaw_of
from .params import MetricsParams
from .schema import STRIDE_COLUMNS, strike_pattern_of
from .shank import ShankStride, tibial_shock_peaks

#: vector-coding bins (Chang et al. 2008): index -> name
COUPLING_BINS = ("in_phase", "anti_phase", "eversion_phase", "rotation_phase")


def coupling_bin_counts(ev_rad: np.ndarray, tir_rad: np.ndarray) -> np.ndarray:
    """Counts (4,) of vector-coding coupling angles ``gamma = atan2(d TIR, d EV)`` between
    consecutive samples, in the bins of Chang et al. 2008 (J Biomech 41:3101) / Needham et al.
    2014: in-phase (gamma near 45 or 225 deg), anti-phase (135, 315), eversion (distal) phase
    (near 0 or 180: EV moves, TIR does not), rotation (proximal) phase (near 90 or 270)."""
    d_ev, d_tir = np.diff(ev_rad), np.diff(tir_rad)
    moving = (np.abs(d_ev) + np.abs(d_tir)) > 0
    g = np.degrees(np.arctan2(d_tir[moving], d_ev[moving])) % 360.0
    # distance to the nearest axis-aligned or diagonal direction, 45 deg bins centred on them
    sector = np.floor(((g + 22.5) % 360.0) / 45.0).astype(int)  # 0: 0deg, 1: 45, 2: 90, ...
    kind = np.array([2, 0, 3, 1, 2, 0, 3, 1])[sector]
    return np.bincount(kind, minlength=4)


@dataclass(frozen=True)
class StrideResult:
    """A finished stride row (``row``: STRIDE_COLUMNS -> value or None), the coupling
    histogram of its stance (``coupling_counts`` (4,) or None without a shank) and the
    tibial-shock peaks of the stride by the 375 ms rule (``shock_peaks_g``, g; empty without a
    shank; :func:`runform.core.shank.tibial_shock_peaks`)."""

    row: dict[str, Any]
    coupling_counts: np.ndarray | None
    shock_peaks_g: tuple[float, ...] = ()
    #: stance curves for display, each sampled at CURVE_POINTS equal steps of % stance (0..100):
    #: ``eversion_curve_deg``, and with a shank ``shank_frontal_curve_deg`` and
    #: ``tibial_rotation_curve_deg`` (internal rotation relative to IC). Not part of strides.csv.
    curves: dict[str, list[float]] | None = None


#: samples per stance curve (0, 5, ..., 100 % of stance)
CURVE_POINTS = 21
_STEPS = np.arange(CURVE_POINTS, dtype=float)


def stance_curve_deg(t: np.ndarray, angle_rad: np.ndarray, ic: float, to: float) -> list[float]:
    """``angle_rad`` at CURVE_POINTS equal steps from IC to TO, in degrees (2 decimals)."""
    grid = _STEPS * ((to - ic) / (CURVE_POINTS - 1)) + ic  # np.linspace(ic, to, CURVE_POINTS), same arithmetic
    grid[-1] = to
    return [round(v, 2) for v in np.degrees(np.interp(grid, t, angle_rad)).tolist()]


def _deg(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x) * DEG_PER_RAD


def _num(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def stride_metrics(
    leg: str,
    stride_index: int,
    foot: Any,
    shank: ShankStride | None,
    other_foot_ics_s: Sequence[float] | None,
    extra_flags: Sequence[str] = (),
    params: MetricsParams | None = None,
    heading_offset_rad: float = 0.0,
) -> StrideResult:
    """Compute one stride row.

    foot: a ``runform.core.foot.FootStride`` (times s, quat_wxyz world-from-foot over IC..next IC).
    shank: the leg's :class:`ShankStride` or None (no shank sensor / no data).
    other_foot_ics_s: IC times (s) of the other foot, or None when there is no other foot.
    extra_flags: flags from calibration/processor (``calibration_bad``, ``no_shank``, ...).
    heading_offset_rad: the leg's mean foot-minus-shank heading over a stride (runform.core.heading;
    0 = as when standing).
    """
    p = params or MetricsParams()
    ic, to, nic = float(foot.ic_time_s), float(foot.to_time_s), float(foot.next_ic_time_s)
    flags: list[str] = list(foot.flags) + list(extra_flags)
    row: dict[str, Any] = {c: None for c in STRIDE_COLUMNS}
    stride_s = nic - ic
    row.update(
        leg=leg,
        stride_index=int(stride_index),
        ic_time_s=ic,
        to_time_s=to,
        contact_time_ms=(to - ic) * MS_PER_S,
        stride_time_ms=stride_s * MS_PER_S,
        cadence_spm=2 * 60.0 / stride_s if stride_s > 0 else None,
        stride_length_m=_num(foot.stride_length_m),
        speed_mps=_num(foot.speed_mps),
    )
    # flight: the other foot's IC inside this stride minus this TO (negative = double support)
    if other_foot_ics_s is None:
        flags.append("no_other_foot")
    else:
        o = np.asarray(other_foot_ics_s, float)
        inside = o[(o > ic) & (o < nic)]
        if inside.size:
            row["flight_time_ms"] = (float(inside[0]) - to) * MS_PER_S

    ft, fq = np.asarray(foot.time_s, float), np.asarray(foot.quat_wxyz, float)
    r_foot = qmatrix(fq)
    ic_q = interp_quat(np.array([ic, to]), ft, fq)
    r_ic = qmatrix(ic_q[0])
    fsa = _deg(float(foot_sagittal_angle(r_ic)))
    row["foot_strike_angle_deg"] = fsa
    row["strike_pattern"] = strike_pattern_of(fsa) if fsa is not None else None

    stance = (ft >= ic) & (ft <= to)
    coupling = None
    shock: tuple[float, ...] = ()
    curves: dict[str, list[float]] = {}
    if shank is not None:
        row["eversion_reference"] = "shank"
        flags.extend(f for f in shank.flags if f not in flags)
        qs = interp_quat(ft, shank.time_s, shank.quat_wxyz)
        # heading alignment: the shank's heading is arbitrary; turn it so that its mean heading
        # over the stride differs from the foot's by the leg's learned offset (0: as standing)
        dyaw = yaw_of(fq) - yaw_of(qs)
        qs = rotate_heading(qs, float(np.arctan2(np.mean(np.sin(dyaw)), np.mean(np.cos(dyaw)))) - heading_offset_rad)
        r_shank = qmatrix(qs)
        ev = rearfoot_eversion(r_shank, r_foot, leg)
        frontal_all = segment_frontal_angle(r_shank, leg)
        frontal = frontal_all[stance]
        tir = np.unwrap(segment_internal_rotation(r_shank, leg))
        row["tibial_inclination_at_ic_deg"] = _deg(float(np.interp(ic, ft, tibial_inclination(r_shank))))
        if np.any(stance):
            row["peak_shank_frontal_angle_deg"] = _deg(float(np.max(frontal)))
            tir_ic = float(np.interp(ic, ft, tir))
            tir_exc = float(np.max(tir[stance])) - tir_ic
            row["tibial_internal_rotation_deg"] = _deg(tir_exc)
            coupling = coupling_bin_counts(ev[stance], tir[stance])
            curves["shank_frontal_curve_deg"] = stance_curve_deg(ft, frontal_all, ic, to)
            curves["tibial_rotation_curve_deg"] = stance_curve_deg(ft, tir - tir_ic, ic, to)
        st_s = (shank.time_s >= ic) & (shank.time_s <= to)
        if np.any(st_s):
            row["peak_tibial_accel_g"] = float(np.max(shank.axial_acc_mps2[st_s])) / STANDARD_GRAVITY_MPS2
        pk = tibial_shock_peaks(shank.time_s, shank.axial_acc_mps2)
        pk = pk[(shank.time_s[pk] >= ic) & (shank.time_s[pk] < nic)]
        shock = tuple(float(v) / STANDARD_GRAVITY_MPS2 for v in shank.axial_acc_mps2[pk])
    else:
        row["eversion_reference"] = "standing"
        if "no_shank" not in flags:
            flags.append("no_shank")
        ev = segment_frontal_angle(r_foot, leg)

    if np.count_nonzero(stance) >= 2:
        ts, es = ft[stance], ev[stance]
        ev_ic = float(np.interp(ic, ft, ev))
        k = int(np.argmax(es))
        row["eversion_at_ic_deg"] = _deg(ev_ic)
        row["peak_eversion_deg"] = _deg(float(es[k]))
        row["eversion_excursion_deg"] = _deg(float(es[k]) - ev_ic)
        row["time_to_peak_eversion_ms"] = (float(ts[k]) - ic) * MS_PER_S
        if k >= 1:
            vel = np.diff(es[: k + 1]) / np.diff(ts[: k + 1])
            row["peak_eversion_velocity_dps"] = _deg(float(np.max(vel)))
        else:
            row["peak_eversion_velocity_dps"] = 0.0
        curves["eversion_curve_deg"] = stance_curve_deg(ft, ev, ic, to)
        tir_deg = row["tibial_internal_rotation_deg"]
        exc = row["eversion_excursion_deg"]
        if tir_deg is not None and exc is not None and abs(tir_deg) >= p.min_tibial_rotation_for_ratio_deg:
            row["ev_tir_ratio"] = exc / tir_deg

    bad = {"gap", "clipped_acc", "clipped_gyr", "calibration_bad"}
    row["valid"] = int(bool(getattr(foot, "valid", True)) and not (bad & set(flags)))
    seen: list[str] = []
    for f in flags:
        if f not in seen:
            seen.append(f)
    row["flags"] = ";".join(seen)
    return StrideResult(row, coupling, shock, curves or None)
