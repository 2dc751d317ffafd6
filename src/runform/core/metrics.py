"""Per-stride metrics: one row of ``STRIDE_COLUMNS`` from a foot stride (FootTracker), the
leg's shank orientation over the same stride (if that leg has a shank sensor) and the other
foot's initial contacts. Definitions, signs and sources: docs/metrics.md; angles follow
runform.anatomy (docs/conventions.md). Missing inputs give empty (None) cells, never guesses.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any, Generator, Sequence

import numpy as np

from ..anatomy import foot_sagittal_angle, segment_frontal_angle, tait_bryan_zyx
from ..placements import mirror_sign
from ..units import DEG_PER_RAD, MS_PER_S, STANDARD_GRAVITY_MPS2
from .heading import ml_axis_heading
from .orientation import positions_in_runs, qmatrix, qmul, qnormalize, take_rows
from .foot.strapdown import run_steps
from .params import MetricsParams
from .schema import STRIDE_COLUMNS, strike_pattern_of
from .shank import ShankStride

#: vector-coding bins (Chang et al. 2008): index -> name
COUPLING_BINS = ("in_phase", "anti_phase", "eversion_phase", "rotation_phase")
#: vector-coding coupling angles ``gamma = atan2(d TIR, d EV)`` between consecutive stance
#: samples are put in 45 deg sectors centred on 0, 45, ..., 315 deg (Chang et al. 2008, J Biomech
#: 41:3101; Needham et al. 2014): sector -> bin (near 0/180 eversion (distal) phase, 45/225
#: in-phase, 90/270 rotation (proximal) phase, 135/315 anti-phase)
_BIN_OF_SECTOR = np.array([2, 0, 3, 1, 2, 0, 3, 1])
_BAD = frozenset({"gap", "clipped_acc", "clipped_gyr", "calibration_bad", "dead_channel"})


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


def _deg(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x) * DEG_PER_RAD


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


#: one stride's inputs to :func:`stride_metrics_batch`: (leg, stride_index, foot stride, shank
#: stride or None, other foot's IC times or None, extra flags, heading offset rad)
MetricsJob = tuple


class _Segs:
    """Concatenated per-stride series: ``starts``/``counts`` (k,) into arrays of ``n`` samples,
    ``seg`` (n,) the stride of each sample and ``key`` (n,) complex ``stride + 1j * time``, which
    numpy orders lexicographically, so one ``searchsorted`` finds times within every stride at
    once (no arithmetic on the times: exact)."""

    def __init__(self, times: list[np.ndarray]):
        self.counts = np.array([t.shape[0] for t in times], dtype=np.intp)
        self.starts = np.zeros(len(times), dtype=np.intp)
        np.cumsum(self.counts[:-1], out=self.starts[1:])
        self.t = np.concatenate(times) if times else np.zeros(0)
        self.n = self.t.shape[0]
        self.seg = np.repeat(np.arange(len(times)), self.counts)
        self.key = np.empty(self.n, complex)
        self.key.real = self.seg
        self.key.imag = self.t

    def search(self, seg: np.ndarray, x: np.ndarray, side: str) -> np.ndarray:
        """Global index of ``np.searchsorted(t_seg, x, side)`` within each stride ``seg``."""
        q = np.empty(np.shape(x), complex)
        q.real = seg
        q.imag = x
        return np.searchsorted(self.key, q, side=side)

    def interp(self, seg: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``np.interp(x, t_seg, y_seg)`` for points ``x`` of strides ``seg`` (y (n,) or (n, c));
        the same formula as numpy's (``slope * (x - t_j) + y_j``, ends held)."""
        i = self.search(seg, x, "right") - 1  # last sample <= x (starts - 1: none)
        lo = self.starts[seg]
        last = lo + self.counts[seg] - 1
        j = np.minimum(np.maximum(i, lo), last - 1)
        t0, t1 = self.t[j], self.t[j + 1]
        if y.ndim == 2:
            x, t0, t1 = x[:, None], t0[:, None], t1[:, None]
        y0, y1 = y.take(j, axis=0), y.take(j + 1, axis=0)  # y[j], y[j + 1] (take: faster for 2-D y)
        slope = (y1 - y0) / (t1 - t0)
        out = slope * (x - t0) + y0
        # ends held (few points: fixed in place, by index, which costs less than a mask)
        before, after = np.flatnonzero(i < lo), np.flatnonzero(i >= last)
        if before.size:
            out[before] = y[lo[before]]
        if after.size:
            out[after] = y[last[after]]
        return out


def _interp_quat_segs(segs: _Segs, seg: np.ndarray, x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """:func:`runform.core.orientation.interp_quat` per stride: the two neighbours made
    sign-continuous (the overall sign is free: every use is quadratic or linear in q),
    interpolated component-wise, renormalised."""
    i = segs.search(seg, x, "right") - 1
    lo = segs.starts[seg]
    last = lo + segs.counts[seg] - 1
    j = np.minimum(np.maximum(i, lo), last - 1)
    # component planes (4, m) of q[j], q[j + 1] (orientation.planes: contiguous arithmetic)
    q0, q1 = take_rows(q, j).T, take_rows(q, j + 1).T
    if not q0.flags.c_contiguous:
        q0, q1 = np.ascontiguousarray(q0), np.ascontiguousarray(q1)
    # the sign test q0 . q1 < 0, summed as einsum("ij,ij->i") sums 4 components
    dot = q0[0] * q1[0]
    dot += q0[2] * q1[2]
    xz = q0[1] * q1[1]
    xz += q0[3] * q1[3]
    dot += xz
    neg = np.flatnonzero(dot < 0)  # few (by index: less than a mask costs)
    if neg.size:
        q1[:, neg] *= -1.0
    t0, t1 = segs.t[j], segs.t[j + 1]
    out = (q1 - q0) / (t1 - t0) * (x - t0) + q0
    # ends held (few points: fixed in place, by index, which costs less than a mask)
    before, after = np.flatnonzero(i < lo), np.flatnonzero(i >= last)
    if before.size:
        out[:, before] = take_rows(q, lo[before]).T
    if after.size:
        out[:, after] = q1[:, after]
    return qnormalize(out.T)


def _seg_max(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """max of ``x[lo_j:hi_j]`` per stride (-inf where empty), by ``maximum.reduceat``."""
    if lo.size == 0:
        return np.zeros(0)
    xp = np.append(x, -np.inf)
    m = np.maximum.reduceat(xp, np.ravel(np.column_stack([lo, hi])))[::2]
    return np.where(hi > lo, m, -np.inf)


def parabolic_peaks(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Peak of ``x[lo_j:hi_j]`` per window (-inf where empty), refined by the parabola through
    the largest sample and its two neighbours in the window: a sampled maximum underestimates a
    peak only a few samples wide (tibial impacts at 400 Hz on the virtual runner: by 1-3 %,
    p95 up to 6 %); the three-point parabolic estimate is the usual correction for the peak of
    a sampled, band-limited signal (e.g. Smith & Serra 1987, quadratic interpolation of
    spectral peaks). A flat top (two equal largest samples, as clipping makes) or a maximum at
    the window's edge keeps the sample; a stride with clipped samples is flagged and not valid
    anyway. Equally spaced samples (a gap ends a stride)."""
    out = np.full(lo.shape[0], -np.inf)
    for j, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
        if b > a:
            out[j] = parabolic_peak(x[a:b])
    return out


def parabolic_peak(x: np.ndarray) -> float:
    """:func:`parabolic_peaks` of one non-empty window ``x`` (the same arithmetic)."""
    i = int(x.argmax())
    y1 = float(x[i])
    if i < 1 or i + 1 >= x.shape[0]:
        return y1
    y0, y2 = float(x[i - 1]), float(x[i + 1])
    den = y0 - 2.0 * y1 + y2
    if y0 < y1 and y2 < y1 and den < 0.0:
        return y1 - 0.125 * (y0 - y2) ** 2 / den
    return y1


def _shock_peaks_segs(segs: _Segs, a: np.ndarray, threshold_g: float = 3.0, window_s: float = 0.375) -> np.ndarray:
    """:func:`runform.core.shank.tibial_shock_peaks` of each stride's part of ``a`` at once
    (global indices, ascending): the same rule, with the windows found within each stride."""
    cand = np.flatnonzero(a > threshold_g * STANDARD_GRAVITY_MPS2)
    if cand.size == 0:
        return cand
    sc = segs.seg[cand]
    tc = segs.t[cand]
    hi = segs.search(sc, tc + window_s, "right")
    lo = segs.search(sc, tc - window_s, "left")
    ap = np.append(a, -np.inf)
    win_max = np.maximum.reduceat(ap, np.ravel(np.column_stack([lo, hi])))[::2]
    before = np.maximum.reduceat(ap, np.ravel(np.column_stack([lo, cand])))[::2]
    before = np.where(lo < cand, before, -np.inf)
    va = a[cand]
    return cand[(va >= win_max) & (before < va)]


#: up to this many windows :func:`_stance_peaks` loops (argmax/max per window, the same numbers)
_PEAKS_LOOP_MAX = 4


def _stance_peaks(ev: np.ndarray, dvel: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window ``[lo_j, hi_j)`` of ``ev``: the largest value (the sample at), the global index of its first
    occurrence (``lo_j + argmax``) and the largest ``dvel`` in ``[lo_j, that index)`` (-inf where
    empty), by ``maximum.reduceat`` (exact) instead of a Python loop of argmax/max per window.
    A window holding NaN gives what ``argmax``/``max`` give (the first NaN). Windows may be
    empty (then index ``lo_j``, value -inf)."""
    if lo.shape[0] <= _PEAKS_LOOP_MAX:  # live (one stride): three calls per window cost less
        pk, at, vmax = np.full(lo.shape[0], -np.inf), lo.copy(), np.full(lo.shape[0], -np.inf)
        for j, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
            if b > a:
                kk = int(np.argmax(ev[a:b]))
                pk[j], at[j] = ev[a + kk], a + kk
                if kk >= 1:
                    vmax[j] = np.max(dvel[a : a + kk])
        return pk, at, vmax
    pk = _seg_max(ev, lo, hi)
    at = lo.copy()
    ok = hi > lo
    if ok.any():
        # first sample equal to its window's maximum, inside the window (windows do not overlap)
        seg_of = np.full(ev.shape[0], -1, np.intp)
        idx = np.repeat(np.flatnonzero(ok), (hi - lo)[ok])
        pos = positions_in_runs((hi - lo)[ok]) + lo[idx]
        seg_of[pos] = idx
        cand = pos[ev[pos] == pk[idx]]
        first = np.searchsorted(seg_of[cand], np.arange(lo.shape[0]), side="left")
        has = first < cand.shape[0]
        has[has] = seg_of[cand[first[has]]] == np.flatnonzero(has)
        at[has] = cand[first[has]]
        nan = ok & np.isnan(pk)
        for j in np.flatnonzero(nan).tolist():  # argmax returns the first NaN
            at[j] = lo[j] + int(np.argmax(ev[lo[j] : hi[j]]))
    cap = dvel.shape[0]  # an empty window may start at the end (lo = n): no velocity there
    vmax = _seg_max(dvel, np.minimum(lo, cap), np.minimum(at, cap))
    if ev.shape[0]:
        pk = np.where(ok, ev.take(np.minimum(at, ev.shape[0] - 1)), pk)  # the sample itself (as ev[argmax])
    return pk, at, vmax


def _unwrap_segs(p: np.ndarray, segs: _Segs) -> np.ndarray:
    """``np.unwrap`` of each stride's part of ``p`` (same arithmetic; only strides whose
    correction is non-zero are summed)."""
    up = p.copy()
    if p.size < 2:
        return up
    dd = np.diff(p)
    ddmod = np.mod(dd + np.pi, 2 * np.pi) - np.pi
    ddmod[(ddmod == -np.pi) & (dd > 0)] = np.pi
    corr = ddmod - dd
    corr[np.abs(dd) < np.pi] = 0
    corr[segs.starts[1:] - 1] = 0  # no correction across strides
    nz = np.flatnonzero(corr)
    for s in np.unique(segs.seg[nz + 1]).tolist():
        a, n = int(segs.starts[s]), int(segs.counts[s])
        up[a + 1 : a + n] = p[a + 1 : a + n] + np.cumsum(corr[a : a + n - 1])
    return up


def _curves(segs: _Segs, rows: np.ndarray, ic: np.ndarray, to: np.ndarray, series: list[np.ndarray]) -> list[list[list[float]]]:
    """:func:`stance_curve_deg` of each series for strides ``rows``: per series, per stride."""
    grid = _STEPS[None, :] * ((to - ic) / (CURVE_POINTS - 1))[:, None] + ic[:, None]
    grid[:, -1] = to
    seg = np.repeat(rows, CURVE_POINTS)
    out = []
    for y in series:
        out.append(np.round(np.degrees(segs.interp(seg, grid.ravel(), y)), 2).reshape(-1, CURVE_POINTS).tolist())
    return out


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
    """Compute one stride row (:func:`stride_metrics_batch` of one stride).

    foot: a ``runform.core.foot.FootStride`` (times s, quat_wxyz world-from-foot over IC..next IC).
    shank: the leg's :class:`ShankStride` or None (no shank sensor / no data).
    other_foot_ics_s: IC times (s) of the other foot (ascending), or None when there is no other foot.
    extra_flags: flags from calibration/processor (``calibration_bad``, ``no_shank``, ...).
    heading_offset_rad: the leg's mean foot-minus-shank heading over a stride (runform.core.heading;
    0 = as when standing).
    """
    return stride_metrics_batch([(leg, stride_index, foot, shank, other_foot_ics_s, extra_flags, heading_offset_rad)], params)[0]


def stride_metrics_batch(jobs: Sequence[MetricsJob], params: MetricsParams | None = None) -> list[StrideResult]:
    """The rows of many strides at once (the offline path batches the strides of a long block;
    live calls it with one): every per-sample step runs once over the strides' samples
    concatenated, per-stride values come from segment-wise searches and reductions, so each
    row is the same whatever else is in the batch. ``jobs``: :data:`MetricsJob` tuples."""
    return run_steps(stride_metrics_steps(jobs, params))


def stride_metrics_steps(jobs: Sequence[MetricsJob], params: MetricsParams | None = None) -> Generator[None, None, list[StrideResult]]:
    """:func:`stride_metrics_batch` in steps (a generator: each ``next`` runs one, the return
    value is the result): the shank's orientation at the foot's samples, the per-sample
    angles, then the per-stride values and rows.
    Live work runs one step per push."""
    p = params or MetricsParams()
    k = len(jobs)
    if k == 0:
        return []
    feet = [j[2] for j in jobs]
    fsegs = _Segs([np.asarray(f.time_s, float) for f in feet])
    ft = fsegs.t
    # quaternions component-major ((n, 4) views of (4, n): runform.core.orientation.planes)
    fq = np.concatenate([np.asarray(f.quat_wxyz, float).T for f in feet], axis=1).T
    ic = np.array([float(f.ic_time_s) for f in feet])
    to = np.array([float(f.to_time_s) for f in feet])
    nic = np.array([float(f.next_ic_time_s) for f in feet])
    rows_all = np.arange(k)
    sign = np.array([float(mirror_sign(j[0])) for j in jobs])
    sgn = sign[fsegs.seg]
    # foot strike angle: the foot's orientation at IC
    fsa_all = foot_sagittal_angle(qmatrix(_interp_quat_segs(fsegs, rows_all, ic, fq)))
    st_lo = fsegs.search(rows_all, ic, "left")  # stance: samples with ic <= t <= to
    st_hi = fsegs.search(rows_all, to, "right")
    st_n = st_hi - st_lo

    sh_rows = np.array([i for i, j in enumerate(jobs) if j[3] is not None], dtype=np.intp)
    ev = np.empty(ft.shape[0])
    no_sh = np.array([i for i, j in enumerate(jobs) if j[3] is None], dtype=np.intp)
    if no_sh.size:  # without a shank: the foot's frontal angle
        nosub = np.concatenate([np.arange(fsegs.starts[i], fsegs.starts[i] + fsegs.counts[i]) for i in no_sh.tolist()])
        ev[nosub] = segment_frontal_angle(qmatrix(fq[nosub]), "left") * sgn[nosub]
    shank_vals: dict[int, dict[str, Any]] = {}
    if sh_rows.size:
        shanks = [jobs[i][3] for i in sh_rows.tolist()]
        ssegs = _Segs([np.asarray(s.time_s, float) for s in shanks])
        sq = np.concatenate([np.asarray(s.quat_wxyz, float).T for s in shanks], axis=1).T
        sacc = np.concatenate([np.asarray(s.axial_acc_mps2, float) for s in shanks])
        # the foot samples of these strides, and their stride number among the shank strides
        every = sh_rows.size == k  # the usual batch: every stride has its shank
        if every:
            sub, local = np.arange(ft.shape[0]), fsegs.seg
        else:
            sub = np.concatenate([np.arange(fsegs.starts[i], fsegs.starts[i] + fsegs.counts[i]) for i in sh_rows.tolist()])
            local = np.repeat(np.arange(sh_rows.size), fsegs.counts[sh_rows])
        qs = _interp_quat_segs(ssegs, local, ft[sub], sq)
        # heading alignment: the shank's heading is arbitrary; turn it so that its mean heading
        # over the stride differs from the foot's by the leg's learned offset (0: as standing)
        fq_sub = fq if every else take_rows(fq, sub)  # fq[sub]
        dyaw = ml_axis_heading(fq_sub) - ml_axis_heading(qs)
        lo_sub = np.zeros(sh_rows.size, dtype=np.intp)
        np.cumsum(fsegs.counts[sh_rows][:-1], out=lo_sub[1:])
        cnt = fsegs.counts[sh_rows]
        ms = np.add.reduceat(np.sin(dyaw), lo_sub) / cnt
        mc = np.add.reduceat(np.cos(dyaw), lo_sub) / cnt
        offs = np.array([float(jobs[i][6]) for i in sh_rows.tolist()])
        yaw = np.arctan2(ms, mc) - offs
        h = np.zeros((4, sh_rows.size))
        h[0] = np.cos(0.5 * yaw)
        h[3] = np.sin(0.5 * yaw)
        qs = qmul(take_rows(h.T, local), qs)
        yield
        r_shank = qmatrix(qs)
        sg = sgn[sub]
        # rearfoot eversion (runform.anatomy.rearfoot_eversion: ev of R_shank^T R_foot = Ry Rx Rz)
        # needs one element of the relative rotation, (R_shank^T R_foot)[1, 2], written out: a
        # stacked 3x3 matmul costs ~25x more here
        # of R_foot only its third column (qmatrix's expressions for m[:, 0..2, 2])
        fw, fx, fy, fz = fq_sub.T
        rf_02 = 2 * (fx * fz + fw * fy)
        rf_12 = 2 * (fy * fz - fw * fx)
        rf_22 = 1 - 2 * (fx * fx + fy * fy)
        rel_12 = r_shank[:, 0, 1] * rf_02 + r_shank[:, 1, 1] * rf_12 + r_shank[:, 2, 1] * rf_22
        ev[sub] = np.arcsin(np.clip(-rel_12, -1.0, 1.0)) * sg
        fsegs_sub = fsegs if every else _Segs([ft[fsegs.starts[i] : fsegs.starts[i] + fsegs.counts[i]] for i in sh_rows.tolist()])
        # runform.anatomy's segment_frontal_angle (roll), segment_internal_rotation (-yaw) and
        # tibial_inclination (-pitch) of the left leg, mirrored by sg: one tait_bryan_zyx pass
        # instead of three (each computes all three angles)
        yaw_s, pitch_s, roll_s = tait_bryan_zyx(r_shank)
        frontal_all = roll_s * sg
        tir = _unwrap_segs(-yaw_s * sg, fsegs_sub)
        incl = -pitch_s
        yield
        icr, tor, nicr = ic[sh_rows], to[sh_rows], nic[sh_rows]
        loc_rows = np.arange(sh_rows.size)
        incl_ic = fsegs_sub.interp(loc_rows, icr, incl)
        tir_ic = fsegs_sub.interp(loc_rows, icr, tir)
        lo = fsegs_sub.search(loc_rows, icr, "left")
        hi = fsegs_sub.search(loc_rows, tor, "right")
        peak_frontal = _seg_max(frontal_all, lo, hi)
        tir_max = _seg_max(tir, lo, hi)
        # coupling: consecutive stance samples of each stride (ev of the shank strides' samples)
        ev_sub = ev[sub]
        d = np.zeros(sub.size + 1, np.intp)
        np.add.at(d, lo, 1)
        np.add.at(d, hi, -1)
        in_st = np.cumsum(d[:-1]) > 0
        pair = in_st[1:] & in_st[:-1] & (fsegs_sub.seg[1:] == fsegs_sub.seg[:-1])
        d_ev, d_tir = np.diff(ev_sub)[pair], np.diff(tir)[pair]
        moving = (np.abs(d_ev) + np.abs(d_tir)) > 0
        g = np.degrees(np.arctan2(d_tir[moving], d_ev[moving])) % 360.0
        sector = np.floor(((g + 22.5) % 360.0) / 45.0).astype(int)
        kind = _BIN_OF_SECTOR[sector]
        who = fsegs_sub.seg[1:][pair][moving]
        coupling = np.bincount(who * 4 + kind, minlength=4 * sh_rows.size).reshape(-1, 4)
        has_st = hi > lo
        cur = _curves(fsegs_sub, loc_rows[has_st], icr[has_st], tor[has_st], [frontal_all, tir - tir_ic[fsegs_sub.seg]])
        # shank-time stance for the peak axial acceleration
        s_lo = ssegs.search(loc_rows, icr, "left")
        s_hi = ssegs.search(loc_rows, tor, "right")
        peak_acc = parabolic_peaks(sacc, s_lo, s_hi)
        # tibial-shock peaks of every shank stride by the 375 ms rule, kept from IC to next IC
        pk = _shock_peaks_segs(ssegs, sacc)
        pk = pk[(ssegs.t[pk] >= icr[ssegs.seg[pk]]) & (ssegs.t[pk] < nicr[ssegs.seg[pk]])]
        shock_g = (sacc[pk] / STANDARD_GRAVITY_MPS2).tolist()
        shock_lo = np.searchsorted(ssegs.seg[pk], loc_rows, side="left").tolist()
        shock_hi = np.searchsorted(ssegs.seg[pk], loc_rows, side="right").tolist()
        ci = 0
        incl_l, pf_l, tmax_l, tic_l, pacc_l = incl_ic.tolist(), peak_frontal.tolist(), tir_max.tolist(), tir_ic.tolist(), peak_acc.tolist()
        has_l, sacc_ok = has_st.tolist(), (s_hi > s_lo).tolist()
        for r, i in enumerate(sh_rows.tolist()):
            v: dict[str, Any] = {"incl_ic": incl_l[r], "coupling": None, "curves": {}}
            if has_l[r]:
                v["peak_frontal"] = pf_l[r]
                v["tir_exc"] = tmax_l[r] - tic_l[r]
                v["coupling"] = coupling[r]
                v["curves"] = {"shank_frontal_curve_deg": cur[0][ci], "tibial_rotation_curve_deg": cur[1][ci]}
                ci += 1
            if sacc_ok[r]:
                v["peak_acc"] = pacc_l[r]
            v["shock"] = tuple(shock_g[shock_lo[r] : shock_hi[r]])
            shank_vals[i] = v

    # eversion over the stance of every stride
    ev_ic = fsegs.interp(rows_all, ic, ev)
    # rate between consecutive samples; where two strides' segments meet, the next segment can
    # start at the previous one's last time (dt 0): that pair is in no stance window, NaN there
    dt = np.diff(ft)
    dvel = np.divide(np.diff(ev), dt, out=np.full(dt.shape, np.nan), where=dt > 0)
    ev_rows = np.flatnonzero(st_n >= 2)
    ev_cur = _curves(fsegs, ev_rows, ic[ev_rows], to[ev_rows], [ev])[0] if ev_rows.size else []
    ev_cur_of = dict(zip(ev_rows.tolist(), ev_cur))
    # per stance (ic <= t <= to, >= 2 samples): the peak eversion (the first largest sample, as
    # argmax) and the largest eversion velocity before it, as segment reductions
    ev_pk, ev_pk_at, ev_vmax = _stance_peaks(ev, dvel, st_lo, st_hi)

    results = []
    # per-stride values as Python floats once (tolist: the same numbers as float(x[i]))
    ic_l, to_l, nic_l, fsa_l, stn_l = ic.tolist(), to.tolist(), nic.tolist(), fsa_all.tolist(), st_n.tolist()
    evic_l, evpk_l, evvmax_l = ev_ic.tolist(), ev_pk.tolist(), ev_vmax.tolist()
    kk_l = (ev_pk_at - st_lo).tolist()
    tpk_l = ft.take(np.minimum(ev_pk_at, max(ft.shape[0] - 1, 0))).tolist() if ft.shape[0] else [0.0] * k
    for i, job in enumerate(jobs):
        leg, stride_index, foot, shank, others, extra_flags, _ = job
        flags: list[str] = list(foot.flags) + list(extra_flags)
        row: dict[str, Any] = dict.fromkeys(STRIDE_COLUMNS)
        ic_i, to_i, nic_i = ic_l[i], to_l[i], nic_l[i]
        stride_s = nic_i - ic_i
        row.update(
            leg=leg,
            stride_index=int(stride_index),
            ic_time_s=ic_i,
            to_time_s=to_i,
            contact_time_ms=(to_i - ic_i) * MS_PER_S,
            stride_time_ms=stride_s * MS_PER_S,
            cadence_spm=2 * 60.0 / stride_s if stride_s > 0 else None,
            stride_length_m=_num(foot.stride_length_m),
            speed_mps=_num(foot.speed_mps),
        )
        # flight: the other foot's IC inside this stride minus this TO (negative = double support)
        if others is None:
            flags.append("no_other_foot")
        else:
            o = others[bisect.bisect_right(others, ic_i)] if len(others) and others[-1] > ic_i else None
            if o is not None and o < nic_i:
                row["flight_time_ms"] = (float(o) - to_i) * MS_PER_S
        fsa = _deg(fsa_l[i])
        row["foot_strike_angle_deg"] = fsa
        row["strike_pattern"] = strike_pattern_of(fsa) if fsa is not None else None
        coupling = None
        shock: tuple[float, ...] = ()
        curves: dict[str, list[float]] = {}
        if shank is not None:
            v = shank_vals[i]
            row["eversion_reference"] = "shank"
            if shank.flags:
                flags.extend(f for f in shank.flags if f not in flags)
            row["tibial_inclination_at_ic_deg"] = _deg(v["incl_ic"])
            if "peak_frontal" in v:
                row["peak_shank_frontal_angle_deg"] = _deg(v["peak_frontal"])
                row["tibial_internal_rotation_deg"] = _deg(v["tir_exc"])
            coupling = v["coupling"]
            curves.update(v["curves"])
            if "peak_acc" in v:
                row["peak_tibial_accel_g"] = v["peak_acc"] / STANDARD_GRAVITY_MPS2
            shock = v["shock"]
        else:
            row["eversion_reference"] = "standing"
            if "no_shank" not in flags:
                flags.append("no_shank")
        if stn_l[i] >= 2:
            kk = kk_l[i]
            e_ic = evic_l[i]
            e_pk = evpk_l[i]
            row["eversion_at_ic_deg"] = _deg(e_ic)
            row["peak_eversion_deg"] = _deg(e_pk)
            row["eversion_excursion_deg"] = _deg(e_pk - e_ic)
            row["time_to_peak_eversion_ms"] = (tpk_l[i] - ic_i) * MS_PER_S
            row["peak_eversion_velocity_dps"] = _deg(evvmax_l[i]) if kk >= 1 else 0.0
            curves["eversion_curve_deg"] = ev_cur_of[i]
            tir_deg = row["tibial_internal_rotation_deg"]
            exc = row["eversion_excursion_deg"]
            if tir_deg is not None and exc is not None and abs(tir_deg) >= p.min_tibial_rotation_for_ratio_deg:
                row["ev_tir_ratio"] = exc / tir_deg
        row["valid"] = int(bool(getattr(foot, "valid", True)) and not (_BAD & set(flags)))
        row["flags"] = ";".join(dict.fromkeys(flags))
        results.append(StrideResult(row, coupling, shock, curves or None))
    return results
