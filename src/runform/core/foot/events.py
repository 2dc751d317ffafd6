"""Streaming IC / toe-off / mid-stance detection from the foot's sagittal angular velocity.

Signal: ``w`` = foot-frame ``gyr_y`` (rad/s; y to the left, so positive = toes going down).
One gait cycle of ``w``: large negative during swing (the foot rotates toes-up while it swings
forward), a rise through zero when the foot lands (initial contact: the rotation stops and the
heel rocker / foot slap begins), small around foot-flat, a positive peak at push-off (toe-off),
then negative again in the next swing.

Rules (Falbriard et al. 2018, Front Physiol 9:610, pitch-rate features of a
mid-swing-to-mid-swing cycle; Mariani et al. 2013, Gait Posture 37:229 for the walking-and-running
state machine; thresholds in :class:`FootParams`):

* swing entry ``S``: first sample with ``w < -swing_rate_rps``, at least ``min_contact_s``
  after the last IC, whose negative run of ``w`` turns the foot toes-up by at least
  ``swing_angle_rad`` (a heel drop after a forefoot landing does not);
* IC: first upward zero crossing of ``w`` after ``S`` (and at least ``min_swing_s`` after the
  last TO, or after the swing's entry when no stance is behind it), linearly interpolated between the two samples around it; decided when ``w`` reaches
  ``+ic_confirm_rate_rps`` or, if ``w`` has not left the band between the two confirmation
  rates by then, ``ic_confirm_max_s`` after the (interpolated) crossing (a bounded
  look-ahead); a crossing that falls back to ``-ic_confirm_rate_rps`` first is a late-swing
  wobble;
* IC by impact, when it comes first: in late swing (``w`` back above half of its swing minimum)
  the specific-force magnitude rising faster than ``impact_jerk_mps3`` (below 200 Hz the rise
  over ``impact_rise_s`` per sample interval, never below half of it: an impact that rises in
  5 ms is spread over one or two 10-ms intervals at 100 Hz). A forefoot strike lands
  while the foot still rotates toes-up and the heel then drops, so its pitch rate crosses zero
  only when the heel lands, 60-100 ms after contact; every strike pattern makes the impact
  (the ground stops the foot). Its onset is the last sample before the steepest rise of
  ``|f|`` whose rise rate was below 20 % of the rise (where the rise began); the rise is
  measured from the rate at which the rate's climb to the steepest began when ``|f|`` was
  falling there (the foot decelerating before contact: that trend is not the impact), from 0
  otherwise (``FootParams.impact_onset``); decided at the sample after the steepest rise (a
  few ms). In heel strikes the pitch rate crosses zero at
  contact, before the impact's steepest rise, so the zero crossing keeps deciding them.
  (Mitschke et al. 2017, Appl Sci 7:959: gyroscope features are late for forefoot strikers,
  acceleration features are not.)
* a short first step out of standing (no stance open) whose toes-up turn stays below
  ``swing_angle_rad`` (the foot lifted nearly flat, often while turning) still makes a stance
  when its negative run lasts ``min_swing_s`` and the foot lands with an impact within
  ``LANDING_S``: its IC is the impact's onset (the heel-drop guard needs an open stance),
  decided as soon as that impact is (it waited for the whole ``LANDING_S`` window before: 93 /
  110 ms after the first real steps of gaitmap and pyshoe in 8-sample pushes); not
  when the run starts at the first sample (a recording that starts in swing: nothing before it);
* a forefoot landing may be softer than ``impact_jerk_mps3``: the first one out of standing
  (the runner accelerating: on the virtual forefoot runner 2,787-3,551 m/s^3 against
  3,593-5,665 for the next strides) and the running strides of a softer forefoot runner (the
  forefoot profile with a 2 / 2.5 / 3 g tibial shock instead of 4.5: 26-37 / 4-8 / 0-1 % of its
  strides, seeds 1-3); its pitch rate then
  crosses zero only when the heel lands, 50-75 ms later. In every swing the first impact above half the threshold (its floor below 200 Hz:
  above the late swing's own ``|f|`` trend) is remembered, and when the zero crossing is
  confirmed (or an impact above the threshold comes first: the heel's own landing) the IC is
  that impact's onset if the foot turned toes-up by at least ``HEEL_DROP_RAD`` (1.6 deg: a
  forefoot strike lands at least that far toes-down, Altman & Davis 2012) from its steepest
  rise to the heel's landing (the heel dropping; a heel strike's crossing comes with its impact:
  0-0.05 deg in between), within ``LANDING_S`` (the heel lands 50-75 ms after the forefoot; a
  weaker |f| rise 0.36 s before a heel strike, a foot rocking in standing, is not its landing:
  pyshoe 2017-12-15-18-03-05's first step with the foot frame of the 0.25-0.67 swing window).
  Decided at the sample where that toes-up turn reaches ``HEEL_DROP_RAD`` while the pitch rate
  is still negative, no impact above the threshold has begun and the foot has not turned faster
  than the swing did before the impact (a heel drop is slower: 0.19-0.67 of the swing's fastest
  rate on the virtual forefoot runners; a toe-off's |f| ringing 5 ms into a walking swing, then
  the swing's own toes-up turn, reached 2.58 on pyshoe walking resampled to 400 Hz): 25-45 ms
  after the impact on the virtual forefoot runners, not when the heel lands (80-137 ms), as the
  live goal publishes an IC within 60 ms. Otherwise the heel's landing decides as before. Which of the two marks the heel's landing
  depends on the foot frame's heading (on the virtual forefoot runner 4 deg of heading moves the
  zero crossing past the heel's impact). At <= 100 Hz the threshold is its floor already (the
  rule changes nothing there);
* mid-stance: the stillest sample between IC and the start of the swing's negative run of ``w``
  (the run that reaches the swing entry; minimum of ``|gyr| + k * | |acc| - g |``);
* push-off peak: the maximum of ``w`` between mid-stance and the start of that run (the
  minimum of the pitch rate in Falbriard's sign convention, their most precise TC feature, but
  biased: on the Dorschky et al. 2019 mean running stride it precedes force-plate toe-off by
  19-22 ms, while the forefoot still pivots on the ground and ``w`` stays on a plateau);
* TO: the end of that pivot, the onset of the decline that takes ``w`` out of its push-off
  plateau (below ``pushoff_plateau_frac`` of the peak): the last sample before the steepest
  part of that decline declining at less than 20 % of its rate (the impact's onset rule); where
  ``w`` falls straight from its peak (walking) TO stays at the peak
  (``FootParams.to_feature = "pitch_peak"`` keeps the peak everywhere). TO and mid-stance are
  decided when the next swing is confirmed.

Every decision depends on the samples only, never on how they were split into blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...units import STANDARD_GRAVITY_MPS2
from ..schema import FOREFOOT_MAX_STRIKE_ANGLE_DEG
from .buffer import SampleBuffer
from .params import FootParams


def _first(mask: np.ndarray) -> int:
    """Index of the first True of a 1-D boolean array, -1 if none (no index array built)."""
    if not mask.size:
        return -1
    i = int(mask.argmax())
    return i if mask[i] else -1


def _diff(x: np.ndarray) -> np.ndarray:
    """numpy.diff of a 1-D array (the same subtraction) without its argument handling."""
    return x[1:] - x[:-1]


def _crossing_time(t: np.ndarray, w: np.ndarray, z: int) -> float:
    """When ``w`` crosses zero upwards between samples ``z - 1`` and ``z`` (s), linearly
    interpolated (the IC time, and where its confirmation window starts)."""
    w0, w1 = w[z - 1], w[z]
    frac = min(max((-w0) / (w1 - w0) if w1 != w0 else 1.0, 0.0), 1.0)
    return float(t[z - 1] + frac * (t[z] - t[z - 1]))


@dataclass
class Decision:
    """One decided event: kind, global sample index, time (s), global index when decided."""

    kind: str
    index: int
    time_s: float
    decided_index: int


class PitchRateEventDetector:
    """The state machine; call :meth:`advance` after each append, :meth:`reset` after a gap."""

    IMPACT_BACK_S = 0.03  # how far before the threshold crossing the impact's onset is sought
    # a short step out of standing lands this soon after its toes-up rotation ends (measured on
    # the two real first steps whose toes-up turn is below swing_angle_rad: 65 ms pyshoe
    # 2017-11-27-11-18-11, 85 ms gaitmap right foot)
    LANDING_S = 0.15
    # mid-stance is not sought this soon after IC: the pitch rate crosses zero at IC and the
    # other axes are small there too, while |f| swings through g as the impact begins, so one
    # sample there can look stiller than the foot-flat phase. Measured (bench_generalise.py):
    # pyshoe resampled to 100 / 400 Hz put mid-stance on the IC sample of 3 + 4 strides (stride
    # length off by up to 39 %, TO 380 ms early); at 200 Hz the IC sample scores 1.29 against
    # the foot-flat phase's 0.94 (virtual runner: mid-stance 90-115 ms after IC).
    MIDSTANCE_AFTER_IC_S = 0.02
    # a forefoot strike lands toes-down by more than 1.6 deg against standing (Altman & Davis
    # 2012), so its heel drops by at least that much before the heel lands
    HEEL_DROP_RAD = float(np.radians(-FOREFOOT_MAX_STRIKE_ANGLE_DEG))

    def __init__(self, params: FootParams, rate_hz: float = 400.0):
        self.p = params
        self._back_n = int(np.ceil(self.IMPACT_BACK_S * rate_hz)) + 1
        self._ms_skip = int(round(self.MIDSTANCE_AFTER_IC_S * rate_hz))
        # the rise-rate threshold for one sample interval (FootParams.impact_rise_s): an impact's
        # |f| rises within about impact_rise_s, so a longer interval sees only the rise over
        # impact_rise_s (in one interval or split over two); never below half of
        # impact_jerk_mps3, which the late swing's own |f| trend reaches. Unchanged at rate_hz
        # >= 1 / impact_rise_s (200 Hz)
        thr = params.impact_jerk_mps3
        self._jerk_thr = None if thr is None else thr * max(0.5, min(1.0, params.impact_rise_s * rate_hz))
        self._jerk_floor = None if thr is None else 0.5 * thr
        self._first_landing_rule = thr is not None and self._jerk_floor < self._jerk_thr  # not at <= 100 Hz
        self.reset()

    def reset(self) -> None:
        self.in_swing = False
        self.cursor: int | None = None  # next global index to examine
        self.ic_index: int | None = None  # open stance (IC seen, swing not yet)
        self.ic_time: float | None = None
        self.to_time: float | None = None
        self.swing_wmin = 0.0  # most negative pitch rate of the current swing so far (rad/s)
        self.swing_start: float | None = None  # time of the current swing's entry (s)
        # this swing: the first impact above the threshold's floor, (global
        # index and time of its onset, global index of its steepest rise, the swing's fastest
        # toes-up pitch rate up to that rise in rad/s); None: none yet; (): none any more
        # (LANDING_S passed without a heel landing)
        self.landing: tuple | None = None

    def oldest_needed(self) -> int | None:
        """Global index of the oldest sample the detector may still read."""
        if self.ic_index is not None and not self.in_swing:
            return self.ic_index - 1
        if self.cursor is None:
            return None
        old = self.cursor - 1 - (self._back_n if self.in_swing else 0)
        return min(old, self.landing[0] - 1) if self.landing else old

    def advance(self, buf: SampleBuffer) -> list[Decision]:
        out: list[Decision] = []
        if self.cursor is None:
            self.cursor = buf.base
        p = self.p
        t = buf.t
        w, ge0, neg = buf.pitch(-p.swing_rate_rps)  # w >= 0, w < -swing_rate_rps, once per sample
        while self.cursor < buf.end:
            lo = self.cursor - buf.base
            if not self.in_swing:
                if self.ic_time is not None:
                    lo = max(lo, int(t.searchsorted(self.ic_time + p.min_contact_s)))
                    if lo >= buf.n:
                        self.cursor = buf.end
                        break
                hit = _first(neg[lo:])
                if hit < 0:
                    self.cursor = buf.end
                    if self.ic_index is not None and t[-1] - self.ic_time > p.max_stance_s:
                        self.ic_index = None  # standing still: abandon this stance
                        self.ic_time = None
                    break
                s = lo + hit
                if self.ic_index is not None and t[s] - self.ic_time > p.max_stance_s:
                    # standing still: abandon this stance here as at the buffer's end above, whatever
                    # the block sizes (a short step out of standing needs no stance open)
                    self.ic_index = None
                    self.ic_time = None
                # confirm: the foot must turn toes-up by swing_angle_rad before w is back to >= 0
                conf = self._confirm_swing(t, w, s, ge0)
                if conf is None:  # not decidable yet: look again from s when more samples come
                    self.cursor = buf.base + s
                    break
                if conf < 0:  # a short toes-up rotation inside the stance (heel drop): skip it
                    if self.ic_index is None:  # ... unless no stance is open: a short step?
                        step = self._step_from_standing(buf, s, -conf)
                        if step == "wait":
                            self.cursor = buf.base + s
                            break
                        if step is not None:
                            i, t_ic, dec = step
                            out.append(Decision("ic", buf.base + i, t_ic, buf.base + dec))
                            self._enter_stance(buf.base + i, t_ic, buf.base + dec + 1)
                            continue
                    self.cursor = buf.base - conf
                    continue
                if self.ic_index is not None and t[s] - self.ic_time <= p.max_stance_s:
                    out.extend(self._close_stance(buf, self.ic_index - buf.base, s, conf))
                self.ic_index = None
                self.ic_time = None
                self.in_swing = True
                self.swing_wmin = float(w[s])
                self.swing_start = float(t[s])
                self.cursor = buf.base + s + 1
            else:
                lo = max(lo, 1)
                # no IC within min_swing_s of the toe-off or, for a swing with no stance behind
                # it (out of standing, after a gap), of the swing's entry: at 100 Hz a wobble of
                # the pitch rate 10-20 ms after a first step's toe-off looked like the end of a
                # swing and the toe-off's |f| ringing like its impact (pyshoe 18-03-05's first
                # step resampled, in the foot frame of the 0.25-0.67 swing window)
                ref = self.to_time if self.to_time is not None else self.swing_start
                if ref is not None:
                    lo = max(lo, int(t.searchsorted(ref + p.min_swing_s)))
                    if lo >= buf.n:
                        self.swing_wmin = min(self.swing_wmin, float(w[self.cursor - buf.base :].min()))
                        self.cursor = buf.end
                        break
                c0 = self.cursor - buf.base
                zc, zc_dec = self._zero_crossing(t, w, lo, ge0)
                t_zc = np.inf
                if zc is not None:
                    t_zc = _crossing_time(t, w, zc)
                imp = self._impact(buf, c0, lo, buf.n if zc is None else zc)
                if imp == "wait":
                    break  # decidable with more samples; the cursor stays
                if self.landing is None and self._first_landing_rule:
                    # a weaker impact may be the landing (the first out of standing, a soft
                    # forefoot runner's), if the heel then drops before it lands, by its crossing
                    # or by its own impact (_heel_landed)
                    soft = self._impact(buf, c0, lo, buf.n if zc is None else zc, self._jerk_floor)
                    if soft == "wait":
                        break
                    if soft is not None:
                        # the swing's fastest toes-up rate up to the impact's steepest rise (rad/s;
                        # from the swing's entry whatever the blocks: c0 <= lo <= the rise)
                        wsw = min(self.swing_wmin, float(w[c0 : soft[2]].min()))
                        self.landing = (buf.base + soft[0], soft[1], buf.base + soft[2] - 1, wsw)
                if self.landing:
                    # the heel dropping decides the weaker impact as soon as it has turned the foot
                    # toes-up by HEEL_DROP_RAD (the heel need not land first: bounded look-ahead)
                    kd = self._heel_drop_end(buf, self.landing)
                    if kd is not None:
                        strong = self._impact(buf, c0, lo, kd + 1)
                        if strong == "wait":
                            break
                        if strong is None:  # no stronger impact before it: the landing is decided
                            land = self.landing
                            out.append(Decision("ic", land[0], land[1], buf.base + kd))
                            self._enter_stance(land[0], land[1], buf.base + kd + 1)
                            continue
                if imp is not None and imp[1] < t_zc:
                    i, t_ic, dec = imp
                    i_ic = buf.base + i
                    land = self.landing
                    if land and land[1] < t_ic and self._heel_landed(buf, land, i, t_ic):
                        i_ic, t_ic = land[0], land[1]
                    out.append(Decision("ic", i_ic, t_ic, buf.base + dec))
                    self._enter_stance(i_ic, t_ic, buf.base + dec + 1)
                    continue
                if zc is None:
                    self.swing_wmin = min(self.swing_wmin, float(w[c0:].min()))
                    self.cursor = buf.end
                    if self.landing and t[-1] - self.landing[1] > self.LANDING_S:
                        self.landing = ()  # no heel came: keep no samples for it, seek no other
                    break
                if zc_dec is None:
                    break  # the crossing is not confirmed yet
                i_ic = buf.base + zc
                land = self.landing
                if land and self._heel_landed(buf, land, zc, t_zc):
                    i_ic, t_zc = land[0], land[1]
                out.append(Decision("ic", i_ic, t_zc, buf.base + zc_dec))
                self._enter_stance(i_ic, t_zc, buf.base + zc_dec + 1)
        return out

    def _zero_crossing(self, t: np.ndarray, w: np.ndarray, lo: int, ge0: np.ndarray | None = None) -> tuple[int | None, int | None]:
        """(local index of the first upward zero crossing of ``w`` from ``lo`` that is not a
        late-swing wobble, local index where it is confirmed or None while undecided); (None,
        None) when there is no such crossing yet. A crossing is confirmed when ``w`` reaches
        ``+ic_confirm_rate_rps`` (the heel-strike foot slap, the forefoot heel drop's end and the
        push-off all get there), or when ``ic_confirm_max_s`` has passed without ``w`` leaving
        the band between the two rates (a slow walking heel strike whose foot slap stays below
        the rate: the foot no longer swings); it is a wobble when ``w`` first falls back to
        ``-ic_confirm_rate_rps`` (the foot rotating toes-down for a moment in late swing, as
        forefoot strikers do before landing). ``ge0``: ``w >= 0`` if known."""
        if ge0 is None:
            ge0 = w >= 0.0
        conf = self.p.ic_confirm_rate_rps
        n = w.shape[0]
        pos = lo
        while True:
            hit = _first(ge0[pos:])
            if hit < 0:
                return None, None
            z = pos + hit
            # the first sample at least ic_confirm_max_s after the crossing, interpolated as the
            # IC time is (from the sample before it, a 100-Hz wobble that fell back to -1 rad/s
            # 47 ms after its crossing was confirmed as an IC); t rises strictly within the
            # buffer; n: not that far yet (z >= 1). Only the samples before it can confirm the
            # crossing or make it a wobble, so only they are searched.
            late = max(int(t.searchsorted(_crossing_time(t, w, z) + self.p.ic_confirm_max_s)) - z, 0)
            wz = w[z : z + late]
            up = _first(wz >= conf)
            dn = _first(wz <= -conf)
            if z + late < n and up < 0:
                up = late
            if dn >= 0 and (up < 0 or dn < up):
                pos = z + dn
                continue
            return z, (z + up if up >= 0 else None)

    def _enter_stance(self, ic_index: int, ic_time: float, cursor: int) -> None:
        self.landing = None
        self.ic_index = ic_index
        self.ic_time = ic_time
        self.in_swing = False
        self.to_time = None
        self.cursor = cursor

    def _impact(self, buf: SampleBuffer, c0: int, lo: int, stop: int, thr: float | None = None):
        """The first impact in late swing starting in local samples ``[lo, stop)``:
        ``(ic local index, ic time, decided local index)``, ``None`` (none) or ``"wait"`` (an
        impact has started, its steepest rise is not decidable yet). ``thr``: the rise-rate
        threshold (m/s^3), the detector's own when None."""
        if thr is None:
            thr = self._jerk_thr
        if thr is None:
            return None
        t, w = buf.t, buf.pitch(-self.p.swing_rate_rps)[0]
        lo = max(lo, 1)
        if stop <= lo:
            return None
        jk = buf.derived()[2]  # jk[k]: the rise rate of |f| from sample k-1 to k
        jerk = jk[lo:stop]
        wmin = np.minimum(self.swing_wmin, np.minimum.accumulate(w[c0:stop]))[lo - c0 :]
        late = w[lo:stop] >= 0.5 * wmin
        cand = _first((jerk > thr) & late)
        if cand < 0:
            return None
        k = lo + cand
        # steepest rise: the first local maximum of the jerk from k on (needs sample p + 1)
        j_all = jk[k:]
        down = _first(_diff(j_all) < 0)
        if down < 0:
            return "wait"
        p = k + down  # jerk[p] = (|f|[p] - |f|[p-1]) / dt is the steepest
        jp = j_all[p - k]
        # where the rise began: the last sample before p whose rise rate was below 20 % of the
        # rise, measured from the rate jb where the rate's climb to jp began (the last sample
        # before p whose rate did not exceed the previous one's) when |f| was falling there
        # (the late swing's own deceleration: ~ -1000 m/s^3 before a virtual forefoot contact),
        # from 0 otherwise (a flat |f| before a real one-sample shock: the rule unchanged)
        b0 = max(int(t.searchsorted(t[k] - self.IMPACT_BACK_S)), 1)
        jb = 0.0
        if self.p.impact_onset == "trend":
            flat = (_diff(jk[b0 : p + 1]) <= 0.0).nonzero()[0]
            jb = min(float(jk[b0 + int(flat[-1]) + 1 if flat.size else b0]), 0.0)
        low = (jk[b0:p] <= jb + 0.2 * (jp - jb)).nonzero()[0]
        m = b0 + int(low[-1]) if low.size else b0
        t_on = float(t[m])
        i = min(int(t.searchsorted(t_on)), p)
        return i, t_on, p + 1

    def _heel_landed(self, buf: SampleBuffer, land: tuple, k: int, t_k: float) -> bool:
        """Whether the heel landed at local sample ``k`` (time ``t_k``: the pitch rate's zero
        crossing or an impact above the threshold) after the weaker impact ``land`` (a
        ``self.landing``) was the forefoot's landing: within ``LANDING_S`` of it, and with the
        foot turned toes-up by at least ``HEEL_DROP_RAD`` from that impact's steepest rise to
        ``k`` (the heel dropping after a forefoot contact; a heel strike's crossing comes with its
        impact, nothing turns in between)."""
        p = land[2] - buf.base
        if t_k - land[1] > self.LANDING_S or p >= k:
            return False
        t, w = buf.t, buf.pitch(-self.p.swing_rate_rps)[0]
        return float((w[p:k] * _diff(t[p : k + 1])).sum()) <= -self.HEEL_DROP_RAD

    def _heel_drop_end(self, buf: SampleBuffer, land: tuple) -> int | None:
        """Local index of the sample at which the foot has turned toes-up by ``HEEL_DROP_RAD``
        since the steepest rise of the weaker impact ``land`` (a ``self.landing``), before the
        pitch rate has reached zero again and within ``LANDING_S`` of the impact, never faster
        than the swing before the impact turned; None while it has not (or cannot any more: then
        the heel's landing decides, :meth:`_heel_landed`)."""
        p = land[2] - buf.base
        t, w, ge0 = buf.t, *buf.pitch(-self.p.swing_rate_rps)[:2]
        stop = int(t.searchsorted(land[1] + self.LANDING_S, side="right"))
        up = _first(ge0[p:stop])
        m = min(up if up >= 0 else stop - 1 - p, buf.n - 1 - p)  # kd = p + m at the latest
        if m <= 0:
            return None
        turn = (w[p : p + m] * _diff(t[p : p + m + 1])).cumsum()
        i = _first(turn <= -self.HEEL_DROP_RAD)
        if i < 0:
            return None
        # a heel drop turns the foot more slowly than the swing did before the impact; a faster
        # toes-up rotation is the swing itself (a toe-off's ringing at the swing's start)
        if float(w[p : p + i + 2].min()) < land[3]:
            return None
        return p + i + 1

    def _step_from_standing(self, buf: SampleBuffer, s: int, e: int):
        """A short first step out of standing (no stance open): the negative run of ``w`` from
        local ``s`` to ``e`` turned the foot toes-up by less than ``swing_angle_rad`` (the foot
        is lifted nearly flat, often while turning), but it lasted at least ``min_swing_s`` and
        the foot lands with an impact (``|f|`` rising faster than ``impact_jerk_mps3``) within
        ``LANDING_S`` after the run: ``(ic local index, ic time, decided local index)`` at the
        impact's onset, None (no step) or ``"wait"`` (not decidable yet). A heel drop cannot be
        the case here (it needs an open stance); a standing sway has no impact."""
        p = self.p
        t = buf.t
        # s == 0: the run began before the first sample (the recording, or the samples after a
        # gap, start inside it): neither its angle nor a standing before it is known
        if p.impact_jerk_mps3 is None or s == 0 or t[e] - t[s] < p.min_swing_s:
            return None
        stop = int(t.searchsorted(t[e] + self.LANDING_S, side="right"))
        saved = self.swing_wmin
        self.swing_wmin = float(buf.gyr[s:e, 1].min())
        try:
            # the first impact in the window is decided as soon as it is found (the same with
            # more samples); no impact yet: wait until the window has passed
            imp = self._impact(buf, e, e, min(stop, buf.n))
        finally:
            self.swing_wmin = saved
        return "wait" if imp is None and stop >= buf.n else imp

    def _confirm_swing(self, t: np.ndarray, w: np.ndarray, s: int, ge0: np.ndarray | None = None) -> int | None:
        """Local index where the negative run of ``w`` starting at ``s`` has turned the foot by
        ``swing_angle_rad`` (a real swing); ``-(local index of the run's end)`` if the run ended
        before (a rotation within the stance); None if undecidable with the samples so far."""
        ws = w[s:]
        end = _first(ws >= 0.0 if ge0 is None else ge0[s:])
        stop = end if end >= 0 else ws.size
        ang = (ws[:stop] * _diff(t[s - 1 : s + stop]) if s > 0 else ws[:stop] * 0.0).cumsum()
        done = _first(ang <= -self.p.swing_angle_rad)
        if done >= 0:
            return s + done
        if end >= 0:
            return -(s + stop)
        return None

    def _push_off_end(self, t: np.ndarray, w: np.ndarray, i_pk: int, r0: int) -> int:
        """Local index of toe-off: the onset of the decline that takes the pitch rate out of its
        push-off plateau. While the forefoot pivots on the ground the pitch rate stays near its
        peak ``w[i_pk]``; when the toes leave, the pivot and the push-off end and the rotation
        decelerates sharply (Dorschky et al. 2019 mean running stride: within 3.3 % of the peak
        until force-plate toe-off, then 12.1 -> 9.7 -> 7.2 rad/s over the next two samples).
        The plateau ends where ``w`` first falls below ``pushoff_plateau_frac`` of the peak; TO
        is where the steepest decline up to that sample began, i.e. the last sample before it
        declining at less than 20 % of the steepest rate (the onset rule of the impact). Only
        that first decline is searched: the later, often steeper swing reversal (the pitch rate
        going negative) is not the end of the pivot. Where the pitch rate falls straight from
        its peak (walking), the onset is the peak itself."""
        if w[i_pk] <= 0.0 or r0 - i_pk < 2:
            return i_pk
        below = _first(w[i_pk:r0] < self.p.pushoff_plateau_frac * w[i_pk])
        end = min(i_pk + below + 1, r0) if below >= 0 else r0  # the crossing interval included
        if end - i_pk < 2:
            return i_pk
        rate = _diff(w[i_pk:end]) / _diff(t[i_pk:end])  # rate[k]: from i_pk + k to i_pk + k + 1
        j = int(rate.argmin())
        if rate[j] >= 0.0:
            return i_pk
        gentle = (rate[:j] > 0.2 * rate[j]).nonzero()[0]
        return i_pk + (int(gentle[-1]) + 1 if gentle.size else 0)

    def _close_stance(self, buf: SampleBuffer, i_ic: int, s: int, decided: int) -> list[Decision]:
        """Mid-stance and TO of the stance from local index ``i_ic`` to swing entry ``s``."""
        w, ge0, _ = buf.pitch(-self.p.swing_rate_rps)
        # the swing's toes-up rotation began where the negative run of w that reaches the swing
        # entry began (r0); the push-off (w > 0) and the whole stance lie before it. Searching
        # the stillest sample only up to r0 keeps mid-stance out of a slow start of swing (the
        # first strides from standing rotate at -0.5 rad/s for ~80 ms after toe-off, stiller
        # than a stance that still rings from the impact).
        pos = ge0[i_ic + 1 : s].nonzero()[0]
        r0 = i_ic + 2 + int(pos[-1]) if pos.size else s
        fn, gn, _ = buf.derived()
        j0 = i_ic + min(self._ms_skip, max(r0 - i_ic - 1, 0))  # keep at least one candidate
        still = gn[j0:r0] + self.p.midstance_acc_weight_s2 * np.abs(fn[j0:r0] - STANDARD_GRAVITY_MPS2)
        i_ms = j0 + int(still.argmin())
        i_pk = i_ms + int(w[i_ms:r0].argmax())
        t = buf.t
        i_to = i_pk if self.p.to_feature == "pitch_peak" else self._push_off_end(t, w, i_pk, r0)
        decided = buf.base + decided
        self.to_time = float(t[i_to])
        return [
            Decision("midstance", buf.base + i_ms, float(t[i_ms]), decided),
            Decision("to", buf.base + i_to, float(t[i_to]), decided),
        ]
