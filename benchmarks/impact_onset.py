"""How the foot sensor's |specific force| behaves in the first milliseconds after contact, on
real recordings with an independent contact reference and on the virtual runner (truth IC).

    .venv-test/bin/python benchmarks/impact_onset.py            # every dataset (~20 s)

Per stride, relative to the reference contact (ms, medians and quartiles over strides):
* ``|f| +5/+10/+15``: change of |f| (m/s^2) from the reference to 5, 10, 15 ms after it
  (linear interpolation between samples);
* ``zc``: upward zero crossing of the foot pitch rate nearest the reference (the heel-strike IC
  rule of runform.core.foot.events, but not necessarily the crossing that decided the IC: on
  pyshoe the nearest crossing to the Vicon landing is the one after the foot slap's rebound,
  50-90 ms after the IC; sixth shift);
* ``ic``: the IC of the foot tracker itself (runform.core.foot, as bench_events runs it) nearest
  the reference, from 150 ms before to 50 ms after it;
* ``steep``: the steepest |f| rise (sample pair) from 30 ms before to 80 ms after the reference;
* ``onset20``: the IC-by-impact rule of ``events.py`` until the eighth shift (last sample
  before the steepest rise whose rise rate is below 20 % of it, searched 30 ms back;
  ``FootParams.impact_onset = "rule20"``);
* ``trend``: the rule of ``events.py`` since the eighth shift (``impact_onset = "trend"``): 20 %
  of the rise measured from the rate where the rate's climb to the steepest began, when that
  rate is negative (|f| falling before the impact), from 0 otherwise;
* ``tangent``: the steepest rise's tangent extended back to the |f| level before the impact
  (median |f| of the 20 ms before ``onset20``);
* ``pre/steep``: the rise rate one sample before the steepest, as a fraction of it (0: the
  rise starts within one sample; about 0.5-0.8: a smooth onset spread over several samples).

References: gaitmap_walking mocap ``ic`` (204.8 Hz), Dorschky et al. 2019 mean strides
(force plate, vertical GRF crossing 0.05 BW; the mean stride smooths), pyshoe (Vicon foot speed
falling through 1 m/s before the stance: a coarse landing reference), the virtual runner's true
IC at 400 Hz and every second sample (200 Hz).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_events import (  # noqa: E402
    GAITMAP_FS, align_offline, load_dorschky, load_gaitmap, load_pyshoe, run_tracker, standing_gyro_bias,
    vicon_speed_stances,
)

BACK_S = 0.03  # the detector's IMPACT_BACK_S
PYSHOE = ("2017-11-22-11-22-03", "2017-11-27-11-13-41", "2017-11-27-11-18-11", "2017-12-15-18-03-05")


def detector_ics(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
    """The foot tracker's IC times (s) on foot-frame samples."""
    ev, _ = run_tracker(t, acc, gyr, 1.0 / float(np.median(np.diff(t))))
    return np.array([e.time_s for e in ev if e.kind == "ic"])


def per_stride(t: np.ndarray, acc: np.ndarray, w: np.ndarray | None, refs: np.ndarray,
               pre_s: float = 0.03, post_s: float = 0.08, ics: np.ndarray | None = None) -> dict:
    """Onset features (s relative to each reference, |f| changes in m/s^2) per stride."""
    f = np.linalg.norm(acc, axis=1)
    dt = float(np.median(np.diff(t)))
    j = np.r_[np.nan, np.diff(f) / dt]  # j[k]: rise rate from sample k-1 to k
    back = int(np.ceil(BACK_S / dt)) + 1
    out: dict = {k: [] for k in ("d5", "d10", "d15", "zc", "ic", "steep", "onset20", "trend", "tangent", "pre")}
    for ref in refs:
        a, b = int(np.searchsorted(t, ref - pre_s)), int(np.searchsorted(t, ref + post_s))
        if a < back + 2 or b > len(t) - 2:
            continue
        p = a + int(np.nanargmax(j[a:b]))
        jp = j[p]
        b0 = max(p - back, 1)
        low = np.flatnonzero(j[b0:p] <= 0.2 * jp)
        m = b0 + int(low[-1]) if low.size else b0
        flat = np.flatnonzero(np.diff(j[b0 : p + 1]) <= 0)
        jb = min(float(j[b0 + int(flat[-1]) + 1 if flat.size else b0]), 0.0)
        low = np.flatnonzero(j[b0:p] <= jb + 0.2 * (jp - jb))
        m_trend = b0 + int(low[-1]) if low.size else b0
        base = float(np.median(f[max(m - int(round(0.02 / dt)), 0): m + 1]))
        t_tan = t[p - 1] + (base - f[p - 1]) / jp
        fr = np.interp(ref + np.array([0.0, 0.005, 0.010, 0.015]), t, f)
        zc = np.nan
        if w is not None:
            k = a - back + np.flatnonzero((w[a - back : b - 1] < 0) & (w[a - back + 1 : b] >= 0))
            if k.size:
                tz = t[k] + (-w[k]) / (w[k + 1] - w[k]) * dt
                zc = float(tz[np.argmin(np.abs(tz - ref))] - ref)
        ic = np.nan
        if ics is not None:
            near = ics[(ics >= ref - 0.15) & (ics <= ref + 0.05)]
            if near.size:
                ic = float(near[np.argmin(np.abs(near - ref))] - ref)
        for key, v in (("d5", fr[1] - fr[0]), ("d10", fr[2] - fr[0]), ("d15", fr[3] - fr[0]), ("zc", zc), ("ic", ic),
                       ("steep", t[p] - ref), ("onset20", t[m] - ref), ("trend", t[m_trend] - ref),
                       ("tangent", t_tan - ref),
                       ("pre", j[p - 1] / jp)):
            out[key].append(float(v))
    return {k: np.array(v) for k, v in out.items()}


def show(name: str, r: dict) -> None:
    def q(x, scale=1.0):
        x = x[np.isfinite(x)] * scale
        if not x.size:
            return "   -"
        a, b, c = np.percentile(x, [50, 25, 75])
        return f"{a:+6.1f} [{b:+.1f}, {c:+.1f}]"

    n = r["steep"].size
    print(f"{name}  (n={n})")
    print(f"    |f| +5/+10/+15 ms (m/s^2): {q(r['d5'])}  {q(r['d10'])}  {q(r['d15'])}")
    print(f"    zc {q(r['zc'], 1e3)} | ic {q(r['ic'], 1e3)} | steep {q(r['steep'], 1e3)} | onset20 {q(r['onset20'], 1e3)} | "
          f"trend {q(r['trend'], 1e3)} | tangent {q(r['tangent'], 1e3)} ms | pre/steep {q(r['pre'])}")


def main() -> int:
    g = load_gaitmap()
    for foot in ("left", "right"):
        d = g[foot]
        show(f"gaitmap {foot} (mocap IC, 204.8 Hz)", per_stride(d["t"], d["acc"], d["gyr"][:, 1], d["ic"] / GAITMAP_FS,
                                                               ics=detector_ics(d["t"], d["acc"], d["gyr"])))
    for kind in ("running", "walking"):
        d = load_dorschky(kind)
        dt = d["t"][1] - d["t"][0]
        show(f"dorschky {kind} (force plate IC, mean stride, {1e3 * dt:.1f} ms/sample)",
             per_stride(d["t"], d["acc"], d["gyr"][:, 1], d["ic"][1:-1], ics=detector_ics(d["t"], d["acc"], d["gyr"])))
    for name in PYSHOE:
        d = load_pyshoe(name)
        t = d["t"] - d["t"][0]
        rate = 1.0 / float(np.median(np.diff(t)))
        r = align_offline(d["acc"], d["gyr"], rate)
        _, gait, landing = vicon_speed_stances(d["gt"], t)
        gyr = d["gyr"] - standing_gyro_bias(t, d["gyr"])  # as bench_events.bench_pyshoe runs the tracker
        r_b = align_offline(d["acc"], gyr, rate)
        show(f"pyshoe {name} (Vicon landing, ~200 Hz)",
             per_stride(t, d["acc"], (d["gyr"] @ r.T)[:, 1], landing[gait & np.isfinite(landing)],
                        ics=detector_ics(t, d["acc"] @ r_b.T, gyr @ r_b.T)))
    from runform.sim import VirtualRunner

    dur = 40.0
    for prof in ("forefoot", "neutral", "walker"):
        runner = VirtualRunner.from_profile(prof, seed=1, placements=("left_foot",))
        t = np.arange(0.0, dur, 1 / 400)
        acc, gyr = runner.imu_ideal("left_foot", t)
        ic = runner.events("left", dur)["ic"]
        ic = ic[(ic > 3.0) & (ic < dur - 0.2)]
        show(f"sim {prof} 400 Hz (true IC)", per_stride(t, acc, gyr[:, 1], ic))
        show(f"sim {prof} 200 Hz (true IC)", per_stride(t[::2], acc[::2], gyr[::2, 1], ic))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
