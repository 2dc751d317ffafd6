"""Does the product path generalise to other mountings and sample rates? The real recordings of
../shared/data, remounted (rotated sensor) and resampled, through the product's own calibration.

    .venv-test/bin/python benchmarks/bench_generalise.py [--data ../shared/data]
        [--only gaitmap|pyshoe|hugadb] [--random 4] [--rates 60 100 200 400] [--hugadb 4] [--reclip] [--verbose]

A sensor mounted differently on the same segment measures ``a' = R a``, ``g' = R g`` (R the
sensor-from-old-sensor rotation); a sensor sampling at another rate measures the same motion,
anti-aliased (``scipy.signal.resample_poly``, Kaiser window, edges padded with a line so the
standing start is not pulled towards zero). Each variant of each recording goes through two
product paths and is compared with the unmodified recording and with the dataset's reference:

* ``core``: ``runform.core.calibration.calibrate`` + ``FootTracker`` exactly as
  ``bench_events.py --calibration core`` (``align_core``, ``run_tracker``), with the references
  of bench_events: gaitmap mocap IC/TO and foot orientation (sagittal / frontal RMSE in the
  calibration's own frame and in the marker frame), pyshoe Vicon stances (recall / precision)
  and Vicon stride length; hugadb has none.
* ``analyze``: ``runform.offline.analyze.run_core`` (what ``runform analyze`` runs: the
  SessionProcessor over every sensor of the session, shanks included, saturation found from
  the data) on the same samples; its strides.csv rows are matched to the unmodified run's by IC
  time and the calibration states of summary.json are compared.

Variants: the extreme remountings ``rx90``, ``ry90``, ``rz90``, ``upside_down`` (180 deg about
x), ``--random`` uniformly random rotations (fixed seeds; each sensor of a session its own), and
the original mounting resampled to each of ``--rates`` (hugadb, recorded at 58.8 Hz: only the
rates above 1.1 x 58.8 Hz, i.e. upsampled; every sensor of the session, shanks included).
Dropouts (all six channels exactly 0: hugadb subject 07) stay dropouts when resampled: filled
in before the filter and exactly 0 again on the new samples whose nearest old sample was one,
so the core drops them as gaps at any rate. By default the transformation is exact
(the method's invariance): the tracker's clip flags are carried over from the original samples
(resampled) and ``analyze`` runs with full scales beyond every sample (:data:`NO_CLIP`), on the
unmodified recording too, because which samples reach a full scale depends on the mounting. With
``--reclip`` the saturation is modelled instead, as a property of the sensor's own axes: the
samples are clipped again per axis at the sensor's full scale after the rotation or resampling
(gaitmap +-16 g, pyshoe +-8 g, hugadb +-2 g / +-2000 deg/s), the tracker's clip flags are
recomputed from them (a resampled flat top overshoots the full scale and is cut flat again;
pyshoe's gyro, which plateaus at 520-560 deg/s without a flat top, keeps
the original flags) and ``analyze`` finds the full scales in the data as ``runform analyze``
does -- what a remounted sensor of the same range would record, as far as the already clipped
originals allow. Results: docs/validation-generalise.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_events as be  # noqa: E402
from runform.units import DEG_PER_RAD, RAD_PER_DEG, STANDARD_GRAVITY_MPS2  # noqa: E402

HUGADB_ACC_RANGE_MPS2 = 2 * STANDARD_GRAVITY_MPS2
HUGADB_GYR_RANGE_RPS = 2000.0 * RAD_PER_DEG
#: gaitmap's vertical axis reaches 15.9-16.1 g at heel strikes: a +-16 g sensor (the core's default)
GAITMAP_ACC_RANGE_MPS2 = 16 * STANDARD_GRAVITY_MPS2
#: full scales given to ``analyze`` for the exact comparison: beyond any sample, so no sample
#: is flagged clipped (which samples reach a sensor's full scale depends on its mounting)
NO_CLIP = (1e9, 1e9)
#: pyshoe's gyro plateaus (no flat top) count as clipped from this rate on (bench_events)
EXTREMES = {
    "rx90": ([1, 0, 0], 90.0),
    "ry90": ([0, 1, 0], 90.0),
    "rz90": ([0, 0, 1], 90.0),
    "upside_down": ([1, 0, 0], 180.0),
}


# ---------------------------------------------------------------------------- variants
@dataclass(frozen=True)
class Variant:
    """One modification of a recording: ``rot`` (label or None) and ``rate_hz`` (None: original)."""

    label: str
    rot: str | None = None
    seed: int | None = None
    rate_hz: float | None = None


def rotation(v: Variant, sensor_index: int) -> np.ndarray:
    """(3, 3) sensor-from-old-sensor rotation of ``v`` for the session's ``sensor_index``-th sensor."""
    from scipy.spatial.transform import Rotation

    if v.rot is None:
        return np.eye(3)
    if v.rot in EXTREMES:
        axis, deg = EXTREMES[v.rot]
        return Rotation.from_rotvec(np.radians(deg) * np.asarray(axis, float)).as_matrix()
    return Rotation.random(random_state=1000 * int(v.seed) + sensor_index).as_matrix()


def variants(n_random: int, rates: list[float]) -> list[Variant]:
    out = [Variant(k, rot=k) for k in EXTREMES]
    out += [Variant(f"random{s}", rot="random", seed=s) for s in range(1, n_random + 1)]
    out += [Variant(f"{r:g}Hz", rate_hz=float(r)) for r in rates]
    return out


def resample(t: np.ndarray, x: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(t', x', actual rate): ``x`` (n, k) on the (nearly) uniform grid ``t`` resampled to about
    ``rate_hz``, anti-aliased; t' starts at t[0]."""
    from scipy.signal import resample_poly

    rate_in = (len(t) - 1) / (t[-1] - t[0])
    fr = Fraction(rate_hz / rate_in).limit_denominator(2000)
    y = resample_poly(x, fr.numerator, fr.denominator, axis=0, padtype="line")
    rate = rate_in * fr.numerator / fr.denominator
    return t[0] + np.arange(y.shape[0]) / rate, y, float(rate)


def nearest_flags(t_old: np.ndarray, flags: np.ndarray, t_new: np.ndarray) -> np.ndarray:
    """Per-sample flags on a new time base: set where the nearest old sample is flagged (an old
    sample's flag covers its own sample period, half a period either side)."""
    k = np.clip(np.searchsorted(t_old, t_new), 1, len(t_old) - 1)
    k -= (t_new - t_old[k - 1]) < (t_old[k] - t_new)
    return flags[k]


def resample_keeping_dropouts(t: np.ndarray, x: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`resample`, with dropouts (rows whose channels are all exactly 0, hugadb subject 07)
    resampled as dropouts: interpolated over before filtering (a zero run would ring through
    the filter and stop being exact zeros, i.e. turn from a gap the core drops into data) and
    set to exactly 0 again on the new samples whose nearest old sample was one."""
    drop = ~np.asarray(x).any(axis=1)
    if not drop.any() or drop.all():
        return resample(t, x, rate_hz)
    x = np.array(x, float)
    x[drop] = np.column_stack([np.interp(t[drop], t[~drop], x[~drop, j]) for j in range(x.shape[1])])
    t2, y, rate = resample(t, x, rate_hz)
    y[nearest_flags(t, drop, t2)] = 0.0
    return t2, y, rate


def transform(v: Variant, k: int, t, acc, gyr, acc_range=None, gyr_range=None):
    """(t, acc, gyr, rate) of sensor ``k`` under variant ``v``, re-clipped per axis at the
    given full scales (m/s^2, rad/s)."""
    r = rotation(v, k)
    a, g = acc @ r.T, gyr @ r.T
    rate = float(1.0 / np.median(np.diff(t)))
    if v.rate_hz is not None:
        t, ag, rate = resample_keeping_dropouts(t, np.column_stack([a, g]), v.rate_hz)
        a, g = ag[:, :3], ag[:, 3:]
    if acc_range is not None:
        a = np.clip(a, -acc_range, acc_range)
    if gyr_range is not None:
        g = np.clip(g, -gyr_range, gyr_range)
    return t, np.ascontiguousarray(a), np.ascontiguousarray(g), rate


def carry_flags(t_old: np.ndarray, flags: np.ndarray, t_new: np.ndarray) -> np.ndarray:
    """Original per-sample flags on a new time base: set where any old flagged sample is
    within half an old sample period."""
    if not flags.any():
        return np.zeros(len(t_new), bool)
    ft = t_old[flags]
    k = np.clip(np.searchsorted(ft, t_new), 1, len(ft) - 1)
    d = np.minimum(np.abs(ft[k] - t_new), np.abs(ft[k - 1] - t_new))
    return d <= 0.6 * float(np.median(np.diff(t_old)))


# ---------------------------------------------------------------------------- product paths
def run_core_path(placement, t, acc, gyr, rate, clip_acc=None, clip_gyr=None):
    """``align_core`` + ``run_tracker`` (bench_events ``--calibration core``): (events, strides,
    calibration, tracker's t, foot-frame acc)."""
    a_f, g_f, keep, cal = be.align_core(placement, t, acc, gyr, rate)
    if cal is None:
        return [], [], None, t[:0], np.zeros((0, 3))
    ev, st = be.run_tracker(t[keep], a_f, g_f, rate, clip_acc=None if clip_acc is None else clip_acc[keep],
                            clip_gyr=None if clip_gyr is None else clip_gyr[keep])
    return ev, st, cal, t[keep], a_f


def run_analyze_path(session: dict, ranges: dict | None = None) -> tuple[list[dict], dict]:
    """``runform analyze`` on an in-memory session {placement: (t, acc m/s^2, gyr rad/s)}:
    run_core on RawRecordings built as read_raw_csv builds them (rate from the time stamps,
    saturation found in the data), or with the given full scales ``ranges`` {placement: (acc
    m/s^2, gyr rad/s)} (:data:`NO_CLIP`: nothing flagged clipped)."""
    from runform.offline.analyze import run_core
    from runform.offline.raw import RawRecording, saturation_level

    recs = []
    for p, (t, a, g) in session.items():
        gs = saturation_level(g * DEG_PER_RAD)
        rng = (saturation_level(a), None if gs is None else gs * RAD_PER_DEG) if ranges is None else ranges[p]
        recs.append(RawRecording(Path(f"raw_{p}.csv"), p, t, a, g, float(1.0 / np.median(np.diff(t))), *rng))
    return run_core(recs)


def frame_change_deg(cal, cal0, r: np.ndarray) -> float:
    """Angle (deg) between the segment frame the variant's calibration found (expressed for the
    original sensor: ``cal.matrix @ r``) and the unmodified run's; NaN when either is missing."""
    if cal is None or cal0 is None:
        return float("nan")
    m = cal.matrix @ r
    c = np.clip((np.trace(m @ cal0.matrix.T) - 1) / 2, -1.0, 1.0)
    return float(np.degrees(np.arccos(c)))


def cal_label(cal) -> str:
    if cal is None:
        return "undecided"
    s = f"{'ready' if cal.ok else 'bad'}:{cal.method}/{cal.sign_rule}"
    return s + (f"({'+'.join(cal.reasons)})" if cal.reasons else "")


def event_shift_ms(ev, ev0, kind: str, tol_s: float = 0.1) -> tuple[float, float, int, int]:
    """(median |dt| ms, max |dt| ms, unmatched of the variant's, unmatched of the base's) of
    events ``kind`` against the unmodified run's."""
    a = np.array([e.time_s for e in ev if e.kind == kind])
    b = np.array([e.time_s for e in ev0 if e.kind == kind])
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), int(a.size), int(b.size)
    d = be.match(b, a, tol_s)
    lost = int(np.isnan(d).sum())
    extra = int(np.isnan(be.match(a, b, tol_s)).sum())
    d = np.abs(d[np.isfinite(d)]) * 1000
    return (float(np.median(d)), float(np.max(d)), extra, lost) if d.size else (float("nan"), float("nan"), extra, lost)


def rows_shift(rows, rows0, leg: str, tol_s: float = 0.1) -> dict:
    """analyze rows of ``leg`` vs the unmodified run's, matched by IC time: counts, max |d IC|,
    max |d TO| (ms), max |d stride length| (%), max |d foot strike angle| and |d peak eversion|
    (deg), valid counts."""
    a = [r for r in rows if r["leg"] == leg]
    b = [r for r in rows0 if r["leg"] == leg]
    f = lambda r, k: float(r[k]) if r.get(k) not in (None, "") else float("nan")  # noqa: E731
    bic = np.array([f(r, "ic_time_s") for r in b])
    d_ic, d_to, d_len, d_fsa, d_ev, n_match = [], [], [], [], [], 0
    for r in a:
        if bic.size == 0:
            break
        k = int(np.argmin(np.abs(bic - f(r, "ic_time_s"))))
        if abs(bic[k] - f(r, "ic_time_s")) > tol_s:
            continue
        n_match += 1
        r0 = b[k]
        d_ic.append(abs(f(r, "ic_time_s") - f(r0, "ic_time_s")) * 1000)
        d_to.append(abs(f(r, "to_time_s") - f(r0, "to_time_s")) * 1000)
        d_len.append(abs(f(r, "stride_length_m") / f(r0, "stride_length_m") - 1) * 100)
        d_fsa.append(abs(f(r, "foot_strike_angle_deg") - f(r0, "foot_strike_angle_deg")))
        d_ev.append(abs(f(r, "peak_eversion_deg") - f(r0, "peak_eversion_deg")))
    mx = lambda x: float(np.nanmax(x)) if np.isfinite(x).any() else float("nan")  # noqa: E731
    return dict(n=len(a), n0=len(b), matched=n_match, valid=sum(r["valid"] in ("1", 1, True) for r in a),
                valid0=sum(r["valid"] in ("1", 1, True) for r in b), ic_max_ms=mx(np.array(d_ic, float)),
                to_max_ms=mx(np.array(d_to, float)), len_max_pct=mx(np.array(d_len, float)),
                fsa_max_deg=mx(np.array(d_fsa, float)), ev_max_deg=mx(np.array(d_ev, float)))


def _cal_states(summary: dict) -> dict:
    return {p: f"{c['state']}:{(c.get('in_use') or {}).get('method', '-')}" for p, c in summary["calibration"].items()}


# ---------------------------------------------------------------------------- datasets
def gaitmap_eval(foot: str, t, acc, gyr, ev, st, cal, refs_raw) -> dict:
    """IC/TO vs mocap and foot angles (bench_events.bench_gaitmap's) of one run."""
    from runform.rotations import quat_conj, quat_mul

    d, ev_rows, ori, mk = refs_raw
    ic = np.array([e.time_s for e in ev if e.kind == "ic"])
    to = np.array([e.time_s for e in ev if e.kind == "to"])
    e_ic = be.match(d["ic"] / be.GAITMAP_FS, ic, 0.25) * 1000
    e_to = be.match(d["tc"] / be.GAITMAP_FS, to, 0.25) * 1000
    refs = []
    for _, k0, t_ref, q_ref, _ in be.marker_references(ev_rows, ori, mk, foot):
        refs.append((t_ref, q_ref, be.marker_deformation_m(mk[foot], k0, len(q_ref)) <= be.MARKER_RIGID_TOL_M))
    out = dict(n_ref=len(d["ic"]), strides=len(st), ic_missed=int(np.isnan(e_ic).sum()), to_missed=int(np.isnan(e_to).sum()),
               ic_ms=float(np.nanmedian(np.abs(e_ic))) if ic.size else float("nan"),
               to_ms=float(np.nanmedian(np.abs(e_to))) if to.size else float("nan"))
    if cal is None or not st:
        return out | dict(sag_own=float("nan"), fr_own_rigid=float("nan"), sag_marker=float("nan"), fr_marker=float("nan"))
    # the marker-to-IMU rotation is fitted to this variant's own (rotated / resampled) samples
    c_align = be.imu_to_marker_rotation(refs, t, gyr, acc)
    c_seg = quat_mul(c_align, quat_conj(np.asarray(cal.sensor_to_segment, float)))
    sag, fr, rig, _ = be._angle_errors(refs, st, c_seg)
    sag_m, fr_m, _, _ = be._angle_errors(refs, st, np.array([1.0, 0.0, 0.0, 0.0]))
    fr_r = fr[rig] if rig.any() else np.array([np.nan])
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    return out | dict(sag_own=rms(sag), fr_own_rigid=rms(fr_r), sag_marker=rms(sag_m), fr_marker=rms(fr_m))


def pyshoe_eval(ev, st, ref_raw) -> dict:
    """Stance recall / precision vs the Vicon foot speed and stride length vs the Vicon foot
    position (bench_events.bench_pyshoe's references, on the original Vicon time base)."""
    t0, ref, gait, pos = ref_raw
    tos = {e.stance_index: e.time_s for e in ev if e.kind == "to"}
    det = np.array([(e.time_s, tos[e.stance_index]) for e in ev if e.kind == "ic" and e.stance_index in tos]).reshape(-1, 2)
    recall, precision, _ = be._overlap_stats(det, ref, gait) if det.size else (0.0, float("nan"), None)
    rel = []
    for s in st:
        if np.isfinite(s.stride_length_m):
            p0 = np.array([np.interp(s.midstance_time_s, t0, pos[:, j]) for j in range(2)])
            p1 = np.array([np.interp(s.next_midstance_time_s, t0, pos[:, j]) for j in range(2)])
            L = float(np.hypot(*(p1 - p0)))
            rel.append((s.stride_length_m - L) / L)
    rel = np.array(rel)
    return dict(strides=len(st), recall=recall, precision=precision,
                len_pct=float(np.median(np.abs(rel)) * 100) if rel.size else float("nan"),
                len_bias_pct=float(np.median(rel) * 100) if rel.size else float("nan"))


def _fmt(v, nd=1):
    if isinstance(v, float):
        return "n/a" if not np.isfinite(v) else f"{v:.{nd}f}"
    return str(v)


def _common(v, rate, cal, cal0, k, ev, ev0, rows, rows0, leg) -> dict:
    """The fields every dataset reports for one run of one sensor (see :func:`report`)."""
    dic = event_shift_ms(ev, ev0, "ic")
    dto = event_shift_ms(ev, ev0, "to")
    rs = rows_shift(rows, rows0, leg)
    return dict(variant="original" if v is None else v.label,
                group="original" if v is None else ("remount" if v.rate_hz is None else v.label),
                rate=rate, cal=cal_label(cal), frame=frame_change_deg(cal, cal0, rotation(v, k) if v is not None else np.eye(3)),
                ic_med=dic[0], ic_max=dic[1], to_med=dto[0], to_max=dto[1], extra=dic[2], lost=dic[3],
                a_rows=rs["n"], a_rows0=rs["n0"], a_matched=rs["matched"], a_valid=rs["valid"], a_valid0=rs["valid0"],
                a_ic=rs["ic_max_ms"], a_to=rs["to_max_ms"], a_len=rs["len_max_pct"], a_fsa=rs["fsa_max_deg"], a_ev=rs["ev_max_deg"])


def _mx(recs: list[dict], key: str) -> str:
    """Largest finite value of ``key`` over the records (NaN-aware), formatted."""
    x = np.array([float(r[key]) for r in recs], float)
    return _fmt(float(np.nanmax(x))) if np.isfinite(x).any() else "n/a"


def _rng(recs: list[dict], key: str, nd: int = 1) -> str:
    """"lo..hi" of ``key`` over the records (one value when they agree), formatted."""
    x = np.array([float(r[key]) for r in recs], float)
    if not np.isfinite(x).any():
        return "n/a"
    lo, hi = _fmt(float(np.nanmin(x)), nd), _fmt(float(np.nanmax(x)), nd)
    return lo if lo == hi else f"{lo}..{hi}"


def _set(recs: list[dict], key: str) -> str:
    return " / ".join(dict.fromkeys(str(r[key]) for r in recs))


#: columns: (header, cell of a list of records: one run, or every remounting of one sensor)
COMMON_COLS = [
    ("calibration", lambda rs: _set(rs, "cal")),
    ("frame change deg", lambda rs: _mx(rs, "frame")),
]
SHIFT_COLS = [
    ("IC shift med / max ms (+extra -lost)", lambda rs: f"{_mx(rs, 'ic_med')} / {_mx(rs, 'ic_max')} (+{_rng(rs, 'extra', 0)} -{_rng(rs, 'lost', 0)})"),
    ("TO shift med / max ms", lambda rs: f"{_mx(rs, 'to_med')} / {_mx(rs, 'to_max')}"),
    ("analyze rows (base), valid (base)", lambda rs: f"{_rng(rs, 'a_rows', 0)} ({rs[0]['a_rows0']}), {_rng(rs, 'a_valid', 0)} ({rs[0]['a_valid0']})"),
    ("analyze max dIC / dTO ms", lambda rs: f"{_mx(rs, 'a_ic')} / {_mx(rs, 'a_to')}"),
    ("analyze max dLength %", lambda rs: _mx(rs, "a_len")),
    ("analyze max dFSA / dEversion deg", lambda rs: f"{_mx(rs, 'a_fsa')} / {_mx(rs, 'a_ev')}"),
]


def report(title: str, unit: str, recs: list[dict], cols: list, verbose: bool) -> None:
    """A markdown table: per unit (trial / foot) the original run, the remountings together
    (the worst value of each number over them; every one with ``verbose``) and each sample rate."""
    cols = [(unit, lambda rs: rs[0]["unit"]),
            ("variant", lambda rs: rs[0]["variant"] if len(rs) == 1 else f"{len(rs)} remountings"),
            ("Hz", lambda rs: _rng(rs, "rate"))] + cols
    print(f"\n### {title}\n")
    print("| " + " | ".join(c[0] for c in cols) + " |")
    print("|" + "---|" * len(cols))
    for u in dict.fromkeys(r["unit"] for r in recs):
        mine = [r for r in recs if r["unit"] == u]
        for g in dict.fromkeys(r["group"] for r in mine):
            grp = [r for r in mine if r["group"] == g]
            for rs in ([[r] for r in grp] if g != "remount" or verbose else [grp]):
                print("| " + " | ".join(f(rs) for _, f in cols) + " |")


def bench_gaitmap(data: Path, vs: list[Variant], reclip: bool = False, verbose: bool = False) -> list[dict]:
    import csv

    g = be.load_gaitmap(data)
    ori = be.load_gaitmap_orientation(data)
    mk = be.load_gaitmap_markers(data)
    with open(data / "gaitmap_walking" / "stride_events_sample.csv") as f:
        ev_rows = list(csv.DictReader(f))
    feet = ("left", "right")
    base_sess = {f"{ft}_foot": (g[ft]["t"], g[ft]["acc"], g[ft]["gyr"]) for ft in feet}
    ranges = None if reclip else {p: NO_CLIP for p in base_sess}
    rows0, _ = run_analyze_path(base_sess, ranges)
    base = {}
    out = []
    for v in [None, *vs]:
        sess = {}
        per_foot = {}
        for k, ft in enumerate(feet):
            d = g[ft]
            if v is None:
                t, a, w, rate = d["t"], d["acc"], d["gyr"], be.GAITMAP_FS
            else:
                t, a, w, rate = transform(v, k, d["t"], d["acc"], d["gyr"], GAITMAP_ACC_RANGE_MPS2 if reclip else None)
            sess[f"{ft}_foot"] = (t, a, w)
            ev, st, cal, _, _ = run_core_path(f"{ft}_foot", t, a, w, rate)
            per_foot[ft] = (t, a, w, rate, ev, st, cal)
        rows = rows0 if v is None else run_analyze_path(sess, ranges)[0]
        for k, ft in enumerate(feet):
            t, a, w, rate, ev, st, cal = per_foot[ft]
            r = gaitmap_eval(ft, t, a, w, ev, st, cal, (g[ft], ev_rows, ori, mk))
            if v is None:
                base[ft] = (ev, cal)
            out.append(dict(unit=ft, **_common(v, rate, cal, base[ft][1], k, ev, base[ft][0], rows, rows0, ft), **r))
    report("gaitmap_walking (mocap IC/TO and foot orientation; original 204.8 Hz)" + (", re-clipped" if reclip else ""), "foot", out, COMMON_COLS + [
        ("strides (IC / TO missed)", lambda rs: f"{_rng(rs, 'strides', 0)} ({_rng(rs, 'ic_missed', 0)} / {_rng(rs, 'to_missed', 0)})"),
        ("IC / TO med abs ms vs mocap", lambda rs: f"{_rng(rs, 'ic_ms')} / {_rng(rs, 'to_ms')}"),
        ("sagittal / frontal (rigid) RMSE own frame deg", lambda rs: f"{_rng(rs, 'sag_own')} / {_rng(rs, 'fr_own_rigid')}"),
        ("sagittal / frontal RMSE marker frame deg", lambda rs: f"{_rng(rs, 'sag_marker')} / {_rng(rs, 'fr_marker')}"),
    ] + SHIFT_COLS, verbose)
    return out


def bench_pyshoe(data: Path, vs: list[Variant], reclip: bool = False, verbose: bool = False) -> list[dict]:
    out = []
    for name in be.PYSHOE_RUNNING + be.PYSHOE_WALKING:
        d = be.load_pyshoe(name, data)
        t0 = d["t"]
        ref, gait, _ = be.vicon_speed_stances(d["gt"], t0)
        _, _, pos = be.vicon_speed(d["gt"], t0)
        clip_g0 = (np.abs(d["gyr"]) >= be.PYSHOE_GYR_CLIP_RPS).any(axis=1)
        rng = be.PYSHOE_ACC_RANGE_MPS2
        clip_a0 = (np.abs(d["acc"]) >= 0.98 * rng).any(axis=1)
        sess0 = {"right_foot": (t0, d["acc"], d["gyr"])}
        ranges = None if reclip else {"right_foot": NO_CLIP}
        rows0, summ0 = run_analyze_path(sess0, ranges)
        base = None
        for v in [None, *vs]:
            if v is None:
                t, a, w, rate = t0, d["acc"], d["gyr"], float(1.0 / np.median(np.diff(t0)))
                clip_a, clip_g = clip_a0, clip_g0
            else:
                t, a, w, rate = transform(v, 0, t0, d["acc"], d["gyr"], acc_range=rng if reclip else None)
                clip_g = carry_flags(t0, clip_g0, t)
                clip_a = (np.abs(a) >= 0.98 * rng).any(axis=1) if reclip else carry_flags(t0, clip_a0, t)
            ev, st, cal, _, _ = run_core_path("right_foot", t, a, w, rate, clip_a, clip_g)
            r = pyshoe_eval(ev, st, (t0, ref, gait, pos))
            if v is None:
                base = (ev, cal)
            rows = rows0 if v is None else run_analyze_path({"right_foot": (t, a, w)}, ranges)[0]
            unit = name + (" (walking)" if name in be.PYSHOE_WALKING else "")
            out.append(dict(unit=unit, **_common(v, rate, cal, base[1], 0, ev, base[0], rows, rows0, "right"), **r))
    report("pyshoe_dev (Vicon stances and stride length; original ~200 Hz)" + (", re-clipped" if reclip else ""), "trial", out,
           COMMON_COLS + [
               ("strides", lambda rs: _rng(rs, "strides", 0)),
               ("recall / precision vs Vicon", lambda rs: f"{_rng(rs, 'recall', 2)} / {_rng(rs, 'precision', 2)}"),
               ("length med abs % (bias) vs Vicon", lambda rs: f"{_rng(rs, 'len_pct')} ({_rng(rs, 'len_bias_pct')})"),
           ] + SHIFT_COLS, verbose)
    return out


#: hugadb is resampled only to rates above this multiple of its 58.8 Hz (upsampling): a 60 Hz
#: variant is the same rate re-interpolated, and below it a sensor has fewer samples per stance
#: than any the product is meant for, with nothing to compare a loss with (no reference)
HUGADB_MIN_UPSAMPLE = 1.1


def bench_hugadb(data: Path, vs: list[Variant], n_files: int, reclip: bool = False, verbose: bool = False) -> list[dict]:
    from runform.offline.public import load_hugadb

    out = []
    files = sorted((data / "hugadb_running").glob("HuGaDB_v1_*.txt"))
    # spread over the subjects: every k-th file
    files = files[:: max(1, len(files) // max(n_files, 1))][:n_files]
    skipped = [v.rate_hz for v in vs if v.rate_hz is not None and v.rate_hz <= HUGADB_MIN_UPSAMPLE * be.HUGADB_FS]
    vs = [v for v in vs if v.rate_hz is None or v.rate_hz > HUGADB_MIN_UPSAMPLE * be.HUGADB_FS]
    full = (HUGADB_ACC_RANGE_MPS2, HUGADB_GYR_RANGE_RPS)
    for path in files:
        sess0 = {p: (t, a, g * RAD_PER_DEG) for p, (t, a, g) in load_hugadb(path).items()}
        ranges = None if reclip else {p: NO_CLIP for p in sess0}
        rows0, summ0 = run_analyze_path(sess0, ranges)
        clip0 = {p: ((np.abs(a) >= 0.98 * full[0]).any(axis=1), (np.abs(g) >= 0.98 * full[1]).any(axis=1))
                 for p, (t, a, g) in sess0.items()}
        base = {}
        for v in [None, *vs]:
            sess, rate = {}, be.HUGADB_FS
            for k, (p, (t, a, g)) in enumerate(sess0.items()):
                if v is None:
                    sess[p] = (t, a, g)
                else:
                    t, a, g, rate = transform(v, k, t, a, g, *(full if reclip else (None, None)))
                    sess[p] = (t, a, g)
            rows, summ = (rows0, summ0) if v is None else run_analyze_path(sess, ranges)
            for k, p in enumerate(sess0):
                if not p.endswith("_foot"):
                    continue
                t, a, g = sess[p]
                if reclip or v is None:  # clipped where the new (re-clipped) axes are at full scale
                    clip_a = (np.abs(a) >= 0.98 * full[0]).any(axis=1)
                    clip_g = (np.abs(g) >= 0.98 * full[1]).any(axis=1)
                elif v.rate_hz is None:  # where the original sensor clipped
                    clip_a, clip_g = clip0[p]
                else:  # the original sensor's clipping on the new time base
                    clip_a, clip_g = (carry_flags(sess0[p][0], c, t) for c in clip0[p])
                ev, st, cal, _, _ = run_core_path(p, t, a, g, rate, clip_a, clip_g)
                if v is None:
                    base[p] = (ev, cal)
                st_s = np.array([s.stride_time_s for s in st])
                states = _cal_states(summ)
                out.append(dict(unit=f"{path.stem.replace('HuGaDB_v1_', '')} {p.split('_')[0]}",
                                **_common(v, rate, cal, base[p][1], k, ev, base[p][0], rows, rows0, p.split("_")[0]),
                                strides=len(st), st_med=float(np.median(st_s)) * 1000 if st_s.size else float("nan"),
                                a_cal=f"{states[p]}, {states[p.replace('foot', 'shank')]}"))
    note = f"; not resampled to {', '.join(f'{r:g}' for r in skipped)} Hz (upsampling only)" if skipped else ""
    report("hugadb_running (no reference; 58.8 Hz, +-2 g clipping" + note + ")" + (", re-clipped" if reclip else ""),
           "file foot", out,
           COMMON_COLS + [
               ("strides", lambda rs: _rng(rs, "strides", 0)),
               ("stride time med ms", lambda rs: _rng(rs, "st_med")),
               ("analyze calibration foot, shank", lambda rs: _set(rs, "a_cal")),
           ] + SHIFT_COLS, verbose)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=be.DATA)
    ap.add_argument("--only", choices=("gaitmap", "pyshoe", "hugadb"))
    ap.add_argument("--random", type=int, default=4, help="number of random remountings (seeds 1..N)")
    ap.add_argument("--rates", type=float, nargs="*", default=[60.0, 100.0, 200.0, 400.0],
                    help="sample rates (Hz) the original mounting is resampled to (hugadb: only those above "
                         "1.1 x its 58.8 Hz)")
    ap.add_argument("--verbose", action="store_true", help="one row per remounting instead of their worst case")
    ap.add_argument("--hugadb", type=int, default=4, help="number of hugadb files (spread over the subjects)")
    ap.add_argument("--reclip", action="store_true",
                    help="clip the remounted / resampled samples again per axis at the sensor's full scale "
                         "(gaitmap +-16 g, pyshoe +-8 g, hugadb +-2 g / +-2000 deg/s) and flag clipping from the new samples")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    vs = variants(args.random, args.rates)
    t_start = time.perf_counter()
    if args.only in (None, "gaitmap"):
        bench_gaitmap(args.data, vs, args.reclip, args.verbose)
    if args.only in (None, "pyshoe"):
        bench_pyshoe(args.data, vs, args.reclip, args.verbose)
    if args.only in (None, "hugadb"):
        bench_hugadb(args.data, vs, args.hugadb, args.reclip, args.verbose)
    print(f"\n({time.perf_counter() - t_start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
