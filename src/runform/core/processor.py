"""``SessionProcessor``: the gait core's entry point, live and offline.

Raw sensor-frame samples (SI) of up to four placements arrive in blocks of any size; out come
events, strides and calibration updates, each with ``to_message()`` (JSON-able, ``"type"`` key).

Per placement: a :class:`~runform.core.calibration.SegmentCalibrator` runs on the raw samples;
until it is decided the raw samples wait in a bounded buffer; then they (and every later
sample) are turned into the segment frame and go to the leg's
:class:`runform.core.foot.FootTracker` (foot) or into a ring buffer (shank). When a foot
stride is complete the processor waits (bounded) until the same leg's shank stream and the
other foot's stream have passed the stride's end, then computes the row
(:func:`runform.core.metrics.stride_metrics`). Foot and shank streams of one leg may arrive
with different time bases and delays: they are matched by session time, never by sample count.

Everything is decided from sample content and time stamps, not from block boundaries, so the
strides are the same for any partition into blocks (tests/test_core_processor.py).
"""

from __future__ import annotations

import inspect
import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Generator, Union

import numpy as np

from ..rotations import matrix_to_quat
from ..placements import check_placement, leg_of, placement_for, segment_of
from ..units import RAD_PER_DEG, STANDARD_GRAVITY_MPS2
from .calibration import SegmentCalibration, SegmentCalibrator
from .foot.strapdown import run_steps
from .foot.tracker import PendingStride, build_strides, build_strides_steps
from .heading import HeadingLearner, heading_offset
from .metrics import parabolic_peak, stride_metrics_batch, stride_metrics_steps
from .params import CoreParams, SensorSpec
from .shank import CLIP_ACC, CLIP_GYR, GAP, RingBuffer, shank_strides, shank_strides_steps
from .summary import SessionSummary


@dataclass(frozen=True)
class EventOutput:
    """An initial contact or toe-off, published as soon as the foot tracker decides it.
    ``lookahead_s``: time from the event to the newest sample needed to decide it (the
    algorithmic part of the detection latency; transport and processing come on top)."""

    leg: str
    kind: str
    time_s: float
    decided_time_s: float
    lookahead_s: float

    def to_message(self) -> dict[str, Any]:
        return {"type": "event", "leg": self.leg, "kind": self.kind, "time_s": self.time_s,
                "decided_time_s": self.decided_time_s, "lookahead_ms": self.lookahead_s * 1000.0}


@dataclass(frozen=True)
class StrideOutput:
    """One finished stride row (STRIDE_COLUMNS -> value, None = empty)."""

    row: dict[str, Any]
    #: stance curves for the dashboard (runform.core.metrics.StrideResult.curves), or None
    curves: dict[str, list[float]] | None = None

    def to_message(self) -> dict[str, Any]:
        return {"type": "stride", **self.row, **(self.curves or {})}


@dataclass(frozen=True)
class CalibrationOutput:
    """A calibration state change of one placement: ``standing``, ``moving``, ``ready``, ``bad``."""

    placement: str
    state: str
    quality: dict[str, Any] | None = None

    def to_message(self) -> dict[str, Any]:
        return {"type": "calibration", "placement": self.placement, "state": self.state, "quality": self.quality}


@dataclass(frozen=True)
class ShockOutput:
    """Peak tibial acceleration (g) of a stance, published as soon as its toe-off is decided (a
    stride row comes only after the next IC): the same-stride cue of tibial-shock gait
    retraining (Crowell & Davis 2011). Same definition as ``peak_tibial_accel_g``."""

    leg: str
    ic_time_s: float
    to_time_s: float
    peak_tibial_accel_g: float
    #: the shank is sampled below ``MetricsParams.min_shock_rate_hz``: the peak reads low (the
    #: stride row's flag ``pta_undersampled``)
    undersampled: bool = False

    def to_message(self) -> dict[str, Any]:
        return {"type": "shock", "leg": self.leg, "ic_time_s": self.ic_time_s, "to_time_s": self.to_time_s,
                "peak_tibial_accel_g": self.peak_tibial_accel_g, "undersampled": self.undersampled}


CoreOutput = Union[EventOutput, StrideOutput, CalibrationOutput, ShockOutput]

#: how long (s of shank time past a toe-off) a stance waits for its shank samples
SHOCK_WAIT_S = 2.0

_TODO = object()  # marks a queued stride whose shank orientation is not computed yet


@dataclass
class _Channel:
    placement: str
    spec: SensorSpec
    calibrator: SegmentCalibrator
    calibration: SegmentCalibration | None = None
    pending_raw: deque = field(default_factory=deque)  # (t, acc, gyr, flags, gap) blocks before calibration
    pending_n: int = 0
    last_state: str = "standing"
    last_time_s: float = -np.inf
    fed_time_s: float = -np.inf  # newest sample given to the tracker / ring (calibrated)
    tracker: Any = None
    ring: RingBuffer | None = None  # recent RAW sensor-frame samples (shank: for strides; foot: for the shank sign)
    checked: Any = None  # shank: the calibration whose y sign was checked against the foot
    learner: HeadingLearner | None = None  # raw samples after standing, for the heading offset
    clipped_samples: int = 0
    dropout_samples: int = 0  # dropped: non-finite, or all six channels exactly 0 (push)
    gap_pending: bool = False  # the last push ended in dropped samples: the next one follows a gap
    cal_gap_pending: bool = False  # a gap the caller announced on a push whose samples were all dropped
    gap_count: int = 0
    samples: int = 0


def _clip_flags(spec: SensorSpec, acc: np.ndarray, gyr: np.ndarray, ext: tuple[float, float, float, float]) -> np.ndarray:
    """Per-sample clip flags; ``ext`` = (acc min, acc max, gyr min, gyr max) of the block."""
    a_lim = spec.clip_fraction * spec.accel_range_g * STANDARD_GRAVITY_MPS2
    g_lim = spec.clip_fraction * spec.gyro_range_dps * RAD_PER_DEG
    a_min, a_max, g_min, g_max = ext
    if -a_lim < a_min and a_max < a_lim and -g_lim < g_min and g_max < g_lim:
        return np.zeros(acc.shape[0], np.uint8)  # the usual block: nothing near full scale
    f = np.where(np.any(np.abs(acc) >= a_lim, axis=1), CLIP_ACC, 0)
    f |= np.where(np.any(np.abs(gyr) >= g_lim, axis=1), CLIP_GYR, 0)
    return f.astype(np.uint8)


def _apply(cal: SegmentCalibration, a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``cal.apply``, a one-sample block as two rows: numpy's matmul takes BLAS gemv for one row
    and gemm for more, which round differently (1 ulp), and the strides must not depend on how
    the samples were split into pushes."""
    if a.shape[0] == 1:
        a2, g2 = cal.apply(np.repeat(a, 2, axis=0), np.repeat(g, 2, axis=0))
        return a2[:1], g2[:1]
    return cal.apply(a, g)


class SessionProcessor:
    """The streaming gait core for one session.

    A finished stride costs ~1.5 ms alone (foot strapdown, shank orientation, metrics); in
    pushes of fewer than ``LIVE_BLOCK`` samples (live frames) that work is spread over the
    following pushes, one step of ~0.1-0.3 ms each (seven steps, none in a push whose foot
    tracker decided events), so stride rows come a few frames later but no frame pays for a
    whole stride.

    sensors: placement -> :class:`SensorSpec` (only the placements that exist).
    params: :class:`CoreParams`.
    batch_strides: in pushes of at least ``LIVE_BLOCK`` samples, finished strides are queued
    until this many are waiting and then computed together (foot integration, shank
    orientation, metrics, each one batched call: per-call numpy overhead is what a stride
    costs); ``finish()`` computes the rest. 1 (default, live): every ready stride at once. The
    rows do not depend on it (each batched kernel computes a stride the same whatever else is
    in the batch), only when they come out; the offline path (``runform analyze``) uses 64.
    """

    #: pushes of at least this many samples finish every ready stride at once
    LIVE_BLOCK = 64

    def __init__(self, sensors: dict[str, SensorSpec], params: CoreParams | None = None, batch_strides: int = 1):
        self.params = params or CoreParams()
        self.batch_strides = max(1, int(batch_strides))
        self.sensors = {check_placement(p): s for p, s in sensors.items()}
        self._ch: dict[str, _Channel] = {}
        for p, spec in self.sensors.items():
            self._ch[p] = _Channel(p, spec, SegmentCalibrator(p, spec.rate_hz, self.params.calibration))
        #: (leg, segment) -> channel or None: the lookups of every stride's dependencies
        self._seg: dict[tuple[str, str], _Channel | None] = {
            (leg, seg): self._ch.get(placement_for(leg, seg)) for leg in ("left", "right") for seg in ("foot", "shank")
        }
        self._pending: dict[str, deque] = {"left": deque(), "right": deque()}
        self._ics: dict[str, deque] = {"left": deque(maxlen=256), "right": deque(maxlen=256)}
        #: stances (IC, TO) whose toe-off is decided and whose tibial shock is not yet published
        self._shock_pending: dict[str, deque] = {"left": deque(), "right": deque()}
        self._event_time: dict[str, float] = {"left": -np.inf, "right": -np.inf}
        self._stride_counter = {"left": 0, "right": 0}
        self._summary = SessionSummary()
        self._leg_flags: dict[str, tuple[str, ...]] = {"left": (), "right": ()}  # see mark_leg
        self._finished = False
        self._work: deque = deque()  # strides being finished, in order (see _flush_strides)
        self._late_out: list[CoreOutput] = []
        self._heading: dict[str, tuple] = {}  # leg -> (foot cal, shank cal, offset rad or None)
        self._push_n = 0
        self._heavy = False  # this push's foot tracker decided something (its own work was not light)
        #: offline: every stream has been pushed up to this time (advance()); live: None
        self._clock_s: float | None = None

    # ------------------------------------------------------------------ public API
    def push(self, placement: str, time_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, gap_before: bool = False) -> list[CoreOutput]:
        """Feed raw sensor-frame samples of one placement: time_s (n,) session time in s,
        acc_mps2 (n, 3) specific force m/s^2, gyr_rps (n, 3) rad/s. ``gap_before``: samples are
        missing before this block. Samples that are not finite, or whose six channels are all
        exactly 0 (dropouts), are dropped, counted (``dropout_samples`` in
        :meth:`calibration_status`) and break the foot's stride chain as a gap. Returns the
        outputs decided by these samples."""
        ch = self._ch.get(placement)
        if ch is None:
            raise KeyError(f"placement {placement!r} was not declared; declared: {', '.join(self._ch)}")
        t = np.asarray(time_s, float).reshape(-1)
        a = np.asarray(acc_mps2, float).reshape(-1, 3)
        g = np.asarray(gyr_rps, float).reshape(-1, 3)
        if not (t.shape[0] == a.shape[0] == g.shape[0]):
            raise ValueError(f"{placement}: time_s, acc_mps2 and gyr_rps must have the same number of rows")
        if t.shape[0] == 0:
            return []
        cal_gap = gap_before or ch.cal_gap_pending
        ch.cal_gap_pending = False
        if ch.gap_pending:
            gap_before, ch.gap_pending = True, False
        # min and max are finite exactly when every value is (NaN propagates through them), and the
        # clip check needs the same extremes: 6 reductions instead of 3 finiteness passes + 4
        ext = (float(a.min()), float(a.max()), float(g.min()), float(g.max()))
        finite = all(map(math.isfinite, (float(t.min()), float(t.max()), *ext)))
        # a sample whose six channels are all exactly 0 is a dropout, not data (|f| = 0 is free
        # fall, never a sensor on a body; hugadb subject 07's left foot has 28-97 per file, inside
        # strides). A block without an exact 0 in its accelerometer has none: one count (~0.3 us
        # on a live frame) before the per-sample test
        keep = None
        if not finite or np.count_nonzero(a) < a.size:
            keep = a.any(axis=1) | g.any(axis=1)
            if not finite:
                keep &= np.isfinite(t) & np.isfinite(a).all(axis=1) & np.isfinite(g).all(axis=1)
        if keep is None or keep.all():
            return self._push_clean(ch, t, a, g, ext, gap_before, cal_gap)
        # drop non-finite samples and dropouts (counted) and treat them as a gap: the foot
        # tracker's chain breaks there (a stride across it is published without length, flagged
        # gap, invalid), the shank's samples are flagged; the calibrator only loses the samples
        # (a restart at every dropout would never collect hugadb 07's moving_only window)
        ch.dropout_samples += int(keep.size - np.count_nonzero(keep))
        gap_mark = np.zeros(t.shape[0], bool)
        gap_mark[1:] = keep[1:] & ~keep[:-1]
        gap_before = gap_before or not keep[0]
        t, a, g = t[keep], a[keep], g[keep]
        gap_mark = gap_mark[keep]
        out: list[CoreOutput] = []
        bounds = [0, *np.flatnonzero(gap_mark).tolist(), t.shape[0]]
        for k in range(len(bounds) - 1):
            s0, s1 = bounds[k], bounds[k + 1]
            if s1 > s0:
                tk, ak, gk = t[s0:s1], a[s0:s1], g[s0:s1]
                ext = (float(ak.min()), float(ak.max()), float(gk.min()), float(gk.max()))
                out += self._push_clean(ch, tk, ak, gk, ext, gap_before or k > 0, cal_gap)
                cal_gap = False  # the announced gap restarts the calibrator once, at the first samples kept
        # samples dropped at the end of this block (a whole live frame of them too): the next
        # block follows a gap, as when the blocks are pushed as one
        ch.gap_pending = not bool(keep[-1])
        ch.cal_gap_pending = cal_gap  # the block was all dropouts: the next samples follow the announced gap
        return out

    def _push_clean(self, ch: _Channel, t, a, g, ext, gap_before: bool, cal_gap: bool) -> list[CoreOutput]:
        """:meth:`push` of samples that are all finite data; ``ext`` their (acc min, acc max, gyr
        min, gyr max); ``cal_gap``: the calibrator restarts (a gap the caller announced)."""
        placement = ch.placement
        self._push_n = t.shape[0]
        self._heavy = False
        flags = _clip_flags(ch.spec, a, g, ext)
        if ch.spec.imu is not None:  # the sensor's own calibration, after the clip test on the raw readings
            a, g = ch.spec.imu.apply(a, g)
        if segment_of(placement) == "foot":  # raw history for the shank's sign check
            if ch.ring is None:
                ch.ring = RingBuffer(self.params.shank.buffer_s, ch.spec.rate_hz)
            ch.ring.append(t, a, g, flags)
        if ch.learner is not None and not ch.learner.complete:
            ch.learner.add(t, g)
        if gap_before:
            ch.gap_count += 1
        ch.samples += t.shape[0]
        ch.clipped_samples += int(np.count_nonzero(flags))
        ch.last_time_s = float(t[-1])
        out = []
        if ch.calibration is None or ch.calibrator.state not in ("ready", "bad"):
            res = ch.calibrator.push(t, a, g, cal_gap)
            if ch.calibrator.state != ch.last_state and res is None:
                ch.last_state = ch.calibrator.state
                out.append(CalibrationOutput(placement, ch.last_state, ch.calibrator.status()))
            if ch.calibration is None:
                ch.pending_raw.append((t, a, g, flags, gap_before))
                ch.pending_n += t.shape[0]
                self._trim_pending(ch)
                if res is None:
                    return out + self._flush()
            if res is not None:
                waited = bool(ch.pending_raw)  # this block is among them (first calibration)
                out += self._calibrated(ch, res)
                if waited:
                    return out + self._flush()
        out += self._feed(ch, t, a, g, flags, gap_before)
        return out + self._flush()

    def _calibrated(self, ch: _Channel, res: SegmentCalibration) -> list[CoreOutput]:
        """A calibration was decided: use it, and feed the samples that waited for it."""
        ch.calibration = res
        ch.last_state = ch.calibrator.state
        self._start_learning(ch, res)
        out: list[CoreOutput] = [CalibrationOutput(ch.placement, ch.last_state, res.to_dict())]
        blocks = list(ch.pending_raw)
        ch.pending_raw.clear()
        ch.pending_n = 0
        for bt, ba, bg, bf, bgap in blocks:
            out += self._feed(ch, bt, ba, bg, bf, bgap)
        return out

    def mark_leg(self, leg: str, flag: str) -> None:
        """From now on every stride of ``leg`` carries ``flag``; one of
        ``runform.core.metrics``' invalidating flags (e.g. ``dead_channel``: runform analyze found
        a channel of the leg's foot or shank file constant while it moved, which the core cannot
        see sample by sample) makes them not valid, in the rows and in the summary alike."""
        if leg not in self._leg_flags:
            raise ValueError(f"leg: {leg!r}, expected 'left' or 'right'")
        if flag not in self._leg_flags[leg]:
            self._leg_flags[leg] = (*self._leg_flags[leg], flag)

    def advance(self, time_s: float) -> list[CoreOutput]:
        """Offline: every stream has now been pushed up to ``time_s`` (the driver's block edge;
        runform analyze pushes each sensor in long blocks, one after the other). From the first
        call on, a stride gives up waiting for its shank or the other foot after
        ``max_wait_s`` of this clock (and of its own foot's time, the live rule) instead of its
        own foot's time alone: a foot pushed one block ahead of the other streams is not a
        silent sensor. Returns the outputs this makes ready."""
        self._clock_s = float(time_s) if self._clock_s is None else max(self._clock_s, float(time_s))
        self._push_n = self.LIVE_BLOCK  # an offline call: queued strides are computed in batches
        self._heavy = False
        return self._flush()

    def finish(self) -> list[CoreOutput]:
        """End of the session: flush the foot trackers and every pending stride."""
        out: list[CoreOutput] = []
        # a sensor whose calibration the recording ended before (a short recording): decided
        # from what it has, flagged when that is less motion than the calibration asks for
        # (its strides then say calibration_bad), never left without strides; feet first (a
        # shank's sign is checked against its foot)
        for ch in sorted(self._ch.values(), key=lambda c: segment_of(c.placement) != "foot"):
            if ch.calibration is None and ch.pending_raw:
                res = ch.calibrator.decide_at_end(ch.last_time_s)
                if res is not None:
                    out += self._calibrated(ch, res)
        for ch in self._ch.values():
            if ch.tracker is not None:
                out += self._foot_outputs(ch, ch.tracker.finish())
        self._finished = True
        out += self._flush_shocks()
        for pending in self._shock_pending.values():
            pending.clear()  # the shank will send nothing more
        out += self._flush_strides(final=True)
        return out

    def recalibrate(self, placement: str | None = None) -> list[CoreOutput]:
        """Start a new calibration (stand still, then move) of one or all placements; the old
        calibration stays in use until the new one is decided."""
        out: list[CoreOutput] = []
        for p, ch in self._ch.items():
            if placement is None or p == placement:
                ch.calibrator.reset()
                ch.last_state = "standing"
                out.append(CalibrationOutput(p, "standing", ch.calibrator.status()))
        return out

    def calibration_status(self) -> dict[str, Any]:
        """placement -> state and quality numbers (JSON-able)."""
        out = {}
        for p, ch in self._ch.items():
            st = ch.calibrator.status()
            cal = ch.calibration
            if cal is not None:
                st["in_use"] = cal.to_dict()
                if cal.sign_rule == "foot_correlation" and st["state"] in ("ready", "bad"):
                    # the foot's check replaced the calibrator's decision (_check_shank_sign):
                    # the state is the one in use; the calibrator's own is kept beside it
                    st["state_before_foot_check"] = st["state"]
                    st["state"] = "ready" if cal.ok else "bad"
            st["samples"] = ch.samples
            st["clipped_samples"] = ch.clipped_samples
            st["dropout_samples"] = ch.dropout_samples
            st["gaps"] = ch.gap_count
            st["imu_correction"] = None if ch.spec.imu is None else ch.spec.imu.to_dict()
            out[p] = st
        return out

    def summary(self) -> dict[str, Any]:
        """Session summary: symmetry, trends, coupling (runform.core.summary)."""
        s = self._summary.to_dict()
        s["calibration"] = self.calibration_status()
        # per leg with foot and shank: the learned foot-minus-shank heading offset (heading.py)
        s["heading_offset_deg"] = {leg: float(np.degrees(v[2])) for leg, v in self._heading.items() if v[2] is not None}
        s["params"] = self.params.to_dict()
        return s

    # ------------------------------------------------------------------ internals
    def _trim_pending(self, ch: _Channel) -> None:
        limit = int(self.params.calibration.max_buffer_s * ch.spec.rate_hz)
        while ch.pending_n > limit and len(ch.pending_raw) > 1:
            blk = ch.pending_raw.popleft()
            ch.pending_n -= blk[0].shape[0]

    def _make_tracker(self, ch: _Channel) -> Any:
        from .foot import FootTracker, FootParams  # the foot engineer's package

        fp = dict(self.params.foot)
        # strides come unintegrated: the integration is a step of the stride's work (_run_jobs, _job_steps),
        # batched offline, one step of its own per live push
        tracker = FootTracker(ch.spec.rate_hz, FootParams(**fp) if fp else None, defer_strides=True)
        try:
            self._push_takes_flags = "clipped_acc" in inspect.signature(tracker.push).parameters
        except (TypeError, ValueError):
            self._push_takes_flags = False
        return tracker

    def _feed(self, ch: _Channel, t, a, g, flags, gap_before) -> list[CoreOutput]:
        cal = ch.calibration
        assert cal is not None
        ch.fed_time_s = float(t[-1])
        if segment_of(ch.placement) == "foot":
            a_s, g_s = _apply(cal, a, g)
            if ch.tracker is None:
                ch.tracker = self._make_tracker(ch)
            if self._push_takes_flags:
                res = ch.tracker.push(t, a_s, g_s, gap_before=gap_before, clipped_acc=(flags & CLIP_ACC) != 0, clipped_gyr=(flags & CLIP_GYR) != 0)
            else:
                res = ch.tracker.push(t, a_s, g_s, gap_before=gap_before)
            return self._foot_outputs(ch, res)
        if ch.ring is None:
            ch.ring = RingBuffer(self.params.shank.buffer_s, ch.spec.rate_hz)
        f = flags.copy()
        if gap_before:
            f[0] |= GAP
        ch.ring.append(t, a, g, f)  # raw: the calibration is applied per stride window
        return []

    def _foot_outputs(self, ch: _Channel, results: list) -> list[CoreOutput]:
        leg = leg_of(ch.placement)
        out: list[CoreOutput] = []
        self._heavy = self._heavy or bool(results)
        for r in results:
            kind = getattr(r, "kind", None)
            if kind is not None:
                self._event_time[leg] = max(self._event_time[leg], float(r.time_s))
                if kind == "ic":
                    self._ics[leg].append(float(r.time_s))
                if kind in ("ic", "to"):
                    out.append(EventOutput(leg, kind, float(r.time_s), float(r.decided_time_s), float(r.decided_time_s - r.time_s)))
                if kind == "to":
                    to_s = float(r.time_s)
                    # the stance's IC: the last IC before this TO (ICs come in time order)
                    ic_s = next((t for t in reversed(self._ics[leg]) if t < to_s), None)
                    if ic_s is not None:
                        self._shock_pending[leg].append((ic_s, to_s))
            else:
                flags = []
                if ch.calibration is not None and not ch.calibration.ok:
                    flags.append("calibration_bad")
                if ch.calibration is not None and ch.calibration.method == "moving_only":
                    flags.append("no_standing")
                self._pending[leg].append((r, flags))
        return out

    def _flush(self) -> list[CoreOutput]:
        return self._flush_shocks() + self._flush_strides()

    def _flush_shocks(self) -> list[CoreOutput]:
        """Publish the tibial shock of each stance whose toe-off is decided, as soon as the leg's
        shank samples of that stance are in (streams arrive separately); give up on a stance the
        shank will not cover (no calibrated shank, or it is more than ``SHOCK_WAIT_S`` past)."""
        out: list[CoreOutput] = []
        for leg, pending in self._shock_pending.items():
            if not pending:
                continue
            shank_ch = self._seg[leg, "shank"]
            if shank_ch is None:
                pending.clear()
                continue
            while pending:
                ic_s, to_s = pending[0]
                ring = shank_ch.ring
                if ring is None or shank_ch.calibration is None or ring.last_time < to_s:
                    if shank_ch.last_time_s > to_s + SHOCK_WAIT_S or len(pending) > 8:
                        pending.popleft()
                        continue
                    break
                pending.popleft()
                if ring.first_time > ic_s:
                    continue
                wa = ring.acc_window(ic_s, to_s)
                if len(wa):
                    # the tibia's axis: +z, whatever the ML sign (the acc half of calibration.apply, same product)
                    axial = (wa @ shank_ch.calibration.matrix.T)[:, 2]
                    # the same peak estimate as the stride row's peak_tibial_accel_g (metrics.parabolic_peaks)
                    peak = parabolic_peak(axial)
                    out.append(ShockOutput(leg, ic_s, to_s, peak / STANDARD_GRAVITY_MPS2,
                                           shank_ch.spec.rate_hz < self.params.metrics.min_shock_rate_hz))
        return out

    def _ready(self, leg: str, stride: Any, final: bool) -> bool:
        if final:
            return True
        end = float(stride.next_ic_time_s)
        waited = self._seg[leg, "foot"].last_time_s - end
        if self._clock_s is not None:  # offline (advance): the streams' common time, not a foot's lead
            waited = min(waited, self._clock_s - end)
        other = "right" if leg == "left" else "left"
        shank, ofoot = self._seg[leg, "shank"], self._seg[other, "foot"]
        deps = [shank, ofoot]
        p = self.params
        if self._heading_offset(leg) is None and waited <= p.metrics.max_wait_s + p.shank.heading_learn_delay_s + p.shank.heading_learn_s + 2.0:
            return False  # the leg's heading offset is still being learned (a few s after standing)
        if waited > p.metrics.max_wait_s and not any(c is not None and self._calibrating(c) for c in deps):
            return True
        if shank is not None and shank.fed_time_s < end + 0.05:
            return False
        if ofoot is not None and ofoot.fed_time_s < end + 0.5:
            return False
        return True

    def _calibrating(self, ch: _Channel) -> bool:
        """A channel without a calibration yet that is young enough to get one soon (its samples
        are buffered and will be replayed): strides that need it wait for it."""
        p = self.params.calibration
        young_s = p.max_standing_s + p.fallback_after_s + p.window_s
        return ch.calibration is None and ch.samples < young_s * ch.spec.rate_hz

    def _flush_strides(self, final: bool = False) -> list[CoreOutput]:
        """Move ready strides to the work queue, then do queued work: everything at the end, for
        a large block (offline / catching up) or a long queue; otherwise one step per push, so a
        live frame never pays for a whole stride (the foot tracker's part comes on top)."""
        for leg in ("left", "right"):
            q = self._pending[leg]
            while q and self._ready(leg, q[0][0], final):
                stride, flags = q.popleft()
                self._work.append(self._start_stride(leg, stride, flags))
        out: list[CoreOutput] = self._late_out
        self._late_out = []
        if final or len(self._work) > max(4, self.batch_strides) or (self._push_n >= self.LIVE_BLOCK and len(self._work) >= self.batch_strides):
            jobs = list(self._work)
            self._work.clear()
            out += self._run_jobs(jobs)
        elif self._work and self._push_n < self.LIVE_BLOCK and not self._heavy:
            # live: one step per push (foot orientation, foot velocity and length, shank scan,
            # shank tilt, shank at the foot's samples, per-sample angles, row), each a few
            # tenths of a ms, none in a push whose foot tracker decided events
            job = self._work[0]
            if job[7] is None:
                job[7] = self._job_steps(job)
            try:
                next(job[7])
            except StopIteration as done:
                self._work.popleft()
                out += done.value
        return out

    def _job_steps(self, job: list) -> Generator[None, None, list[CoreOutput]]:
        """The work of one queued stride, one step per ``next`` (live)."""
        if isinstance(job[1], PendingStride):
            job[1] = (yield from build_strides_steps([job[1]]))[0]
            yield
        if job[3] is _TODO:
            job[3] = (yield from shank_strides_steps([job[4]], params=self.params.shank))[0]
            job[4] = None
            yield
        results = yield from stride_metrics_steps(self._row_inputs([job]), self.params.metrics)
        return self._rows_out(results)

    def _shank_step(self, jobs: list) -> None:
        """The shank orientation of the jobs that still need it, in one batched call."""
        todo = [j for j in jobs if j[3] is _TODO]
        if todo:
            for j, sh in zip(todo, shank_strides([j[4] for j in todo], params=self.params.shank)):
                j[3], j[4] = sh, None

    def _run_jobs(self, jobs: list) -> list[CoreOutput]:
        """All the work of queued strides, in order: the foot integration, shank orientation
        and rows each one batched call (a live job already under way is finished first)."""
        out: list[CoreOutput] = []
        while jobs and jobs[0][7] is not None:
            out += run_steps(jobs.pop(0)[7])
        pending = [j for j in jobs if isinstance(j[1], PendingStride)]
        if pending:
            for j, stride in zip(pending, build_strides([j[1] for j in pending])):
                j[1] = stride
        self._shank_step(jobs)
        return out + self._rows_out(stride_metrics_batch(self._row_inputs(jobs), self.params.metrics))

    def _start_stride(self, leg: str, stride: Any, flags: list[str]) -> list:
        """Step 0 (cheap): the shank samples of the stride and the flags; [leg, stride, flags,
        shank result (_TODO until step 1), shank window, other foot's ICs]."""
        other = "right" if leg == "left" else "left"
        shank_ch = self._seg[leg, "shank"]
        flags = list(flags)
        window = None
        if shank_ch is not None and shank_ch.ring is not None and shank_ch.calibration is not None:
            t0, t1 = float(stride.ic_time_s), float(stride.next_ic_time_s)
            if shank_ch.ring.first_time <= t0 and shank_ch.ring.last_time >= t1:
                cal = self._check_shank_sign(leg, shank_ch)
                wt, wa, wg, wf = shank_ch.ring.window(t0, t1, copy_ag=False)  # apply makes new arrays
                window = (wt, *cal.apply(wa, wg), wf)
                if not cal.ok and "calibration_bad" not in flags:
                    flags.append("calibration_bad")
                if cal.method == "moving_only" and "no_standing" not in flags:
                    flags.append("no_standing")
                if shank_ch.spec.rate_hz < self.params.metrics.min_shock_rate_hz and "pta_undersampled" not in flags:
                    flags.append("pta_undersampled")
        others = None
        if self._seg[other, "foot"] is not None:
            # the other foot's ICs after this IC (ascending; the row needs the first inside the stride)
            t_ic = float(stride.ic_time_s)
            others = []
            for t in reversed(self._ics[other]):
                if t <= t_ic:
                    break
                others.append(t)
            others.reverse()
        c = self._heading_offset(leg) if window is not None else 0.0
        return [leg, stride, flags, _TODO if window is not None else None, window, others, 0.0 if c is None else c, None]

    def _start_learning(self, ch: _Channel, cal: SegmentCalibration) -> None:
        """After a calibration with standing, collect the raw samples that follow it (from the
        buffered ones on) for the leg's heading offset (runform.core.heading)."""
        leg = leg_of(ch.placement)
        if placement_for(leg, "foot") not in self._ch or placement_for(leg, "shank") not in self._ch:
            return
        if cal.method != "standing+moving" or not np.isfinite(cal.standing_end_s):
            ch.learner = None
            return
        p = self.params.shank
        # 2 s of margin: the other sensor's standing may end a little later
        ch.learner = HeadingLearner(cal.standing_end_s, cal.standing_end_s + p.heading_learn_delay_s + p.heading_learn_s + 2.0)
        for bt, _, bg, _, _ in ch.pending_raw:
            ch.learner.add(bt, bg)

    def _heading_offset(self, leg: str) -> float | None:
        """The leg's foot-minus-shank heading offset (rad): 0 without a shank, without standing
        or when learning failed; None while it is being learned."""
        foot, shank = self._seg[leg, "foot"], self._seg[leg, "shank"]
        if foot is None or shank is None or foot.calibration is None or shank.calibration is None:
            return 0.0
        cached = self._heading.get(leg)
        if cached is not None and cached[0] is foot.calibration and cached[1] is shank.calibration:
            return cached[2]
        if foot.learner is None or shank.learner is None:
            c = cached[2] if cached is not None else 0.0  # keep a learned value after a recalibration
        else:
            if not (foot.learner.complete and shank.learner.complete):
                return None
            if shank.ring is not None:
                self._check_shank_sign(leg, shank)  # learn in the shank frame that will be used
            p = self.params.shank
            t_lo = max(foot.learner.t_start, shank.learner.t_start) + p.heading_learn_delay_s
            learned = heading_offset(foot.learner, foot.calibration, shank.learner, shank.calibration, t_lo, t_lo + p.heading_learn_s)
            c = learned if learned is not None else (cached[2] if cached is not None else 0.0)
            foot.learner.blocks.clear()
            shank.learner.blocks.clear()
        self._heading[leg] = (foot.calibration, shank.calibration, c)
        return c

    def _check_shank_sign(self, leg: str, shank_ch: _Channel) -> SegmentCalibration:
        """The shank's y axis (left) checked against the same leg's foot: their sagittal angular
        velocities move together through the gait cycle (correlation 0.5-0.9 on the synthetic and
        virtual runners, |r| 0.57-0.81 on hugadb), so a negative correlation means the shank's
        sign is wrong (the gait-asymmetry rule is weak without standing). Needs an ``ok`` foot
        calibration and |r| >= ``min_sign_margin``; the shank calibration is then replaced
        (``sign_rule = "foot_correlation"``, ``sign_margin = |r|``) and a ``calibration`` message
        says so. Done once per shank calibration, on the raw samples both rings hold."""
        cal = shank_ch.calibration
        assert cal is not None
        if shank_ch.checked is cal:
            return cal
        foot = self._ch.get(placement_for(leg, "foot"))
        if foot is None or foot.calibration is None or not foot.calibration.ok or foot.ring is None or shank_ch.ring is None:
            return cal
        shank_ch.checked = cal
        st, _, sg, _ = shank_ch.ring.window(-np.inf, np.inf)
        ft, _, fg, _ = foot.ring.window(-np.inf, np.inf)
        sel = (st >= ft[0]) & (st <= ft[-1])
        if np.count_nonzero(sel) < 2 * shank_ch.spec.rate_hz:
            return cal
        ws = (sg[sel] - cal.gyro_bias_rps) @ cal.ml_axis_sensor
        wf = np.interp(st[sel], ft, (fg - foot.calibration.gyro_bias_rps) @ foot.calibration.ml_axis_sensor)
        if np.std(ws) == 0 or np.std(wf) == 0:
            return cal
        r = float(np.corrcoef(ws, wf)[0, 1])
        if abs(r) < self.params.calibration.min_sign_margin:
            return cal
        m = cal.matrix * (np.array([[-1.0], [-1.0], [1.0]]) if r < 0 else 1.0)
        reasons = tuple(x for x in cal.reasons if x != "ambiguous_direction")
        new = replace(cal, sensor_to_segment=matrix_to_quat(m), ml_axis_sensor=m[1].copy(), sign_margin=abs(r),
                      sign_rule="foot_correlation", reasons=reasons, ok=not reasons)
        shank_ch.calibration = new
        shank_ch.checked = new
        if new.ok != cal.ok or r < 0:
            self._late_out.append(CalibrationOutput(shank_ch.placement, "ready" if new.ok else "bad", new.to_dict()))
        return new

    def _row_inputs(self, jobs: list) -> list[tuple]:
        """The metrics inputs of queued strides (runform.core.metrics.MetricsJob), numbering
        each leg's strides in queue order."""
        batch = []
        for leg, stride, flags, sh, _window, others, c, _steps in jobs:
            if self._seg[leg, "shank"] is not None and sh is None:
                flags = [*flags, "gap"]  # the leg has a shank sensor but no data for this stride
            if self._leg_flags[leg]:
                flags = [*flags, *(f for f in self._leg_flags[leg] if f not in flags)]
            batch.append((leg, self._stride_counter[leg], stride, sh, others, flags, c))
            self._stride_counter[leg] += 1
        return batch

    def _rows_out(self, results: list) -> list[CoreOutput]:
        """Rows into the session summary and out."""
        self._summary.add_many(results)
        return [StrideOutput(res.row, res.curves) for res in results]
