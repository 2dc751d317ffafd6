"""The streaming foot processor: samples in (foot segment frame), events and strides out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generator

import numpy as np

from .buffer import SampleBuffer
from .events import Decision, PitchRateEventDetector
from .outputs import FootEvent, FootOutput, FootStride
from ..orientation import qmatrix_planes
from .params import FootParams
from .strapdown import integrate_strides_steps, run_steps


@dataclass
class _Stance:
    index: int
    ic_index: int
    ic_time: float
    ms_index: int = -1
    ms_time: float = float("nan")
    to_index: int = -1
    to_time: float = float("nan")
    ms_lo: int = -1  # window [ms_lo, ms_hi] for the mid-stance specific force
    ms_hi: int = -1
    f_ms: np.ndarray | None = field(default=None, repr=False)


@dataclass
class PendingStride:
    """A decided stride whose strapdown integration has not run yet: its stance times are
    known (``ic_time_s``, ``to_time_s``, ``next_ic_time_s``), ``build()`` integrates it (or
    :func:`build_strides` many at once). Returned by a tracker with ``defer_strides``."""

    index: int
    a: _Stance
    b: _Stance
    t: np.ndarray = field(repr=False)
    acc: np.ndarray = field(repr=False)
    gyr: np.ndarray = field(repr=False)
    fl: np.ndarray = field(repr=False)
    start: int
    have_ms1: bool
    gap: bool
    params: FootParams = field(repr=False)
    push_serial: int
    recording_end: bool = False  # the next stance ended with the recording: no length
    #: a stride with length fills this box with the world's up direction in the foot frame at
    #: its second mid-stance (velocity-corrected tilt); a stride without length that starts at
    #: that mid-stance reads it as its tilt (see :meth:`_args`)
    up_box: list = field(default_factory=list, repr=False)
    up_from: list | None = field(default=None, repr=False)

    def waits(self) -> bool:
        """A stride without length whose tilt comes from a stride not integrated yet."""
        return self.up_from is not None and not self.up_from

    @property
    def ic_time_s(self) -> float:
        return self.a.ic_time

    @property
    def to_time_s(self) -> float:
        return self.a.to_time

    @property
    def next_ic_time_s(self) -> float:
        return self.b.ic_time

    def build(self) -> FootStride:
        return build_strides([self])[0]

    def _args(self) -> tuple:
        i_ms0 = self.a.ms_index - self.start
        if self.have_ms1:
            return (self.t, self.acc, self.gyr, i_ms0, self.b.ms_index - self.start, self.a.f_ms, self.b.f_ms, self.params.tilt_method,
                    self.params.sensor_height_m)
        # orientation only: integrate to the next IC without a tilt correction at its end. Its
        # tilt: the previous stride's velocity-corrected tilt at this mid-stance when there is
        # one; gravity from the mid-stance's mean specific force otherwise (in running the foot
        # is not still there: tens of degrees off on the virtual runner)
        f0 = self.up_from[0] if self.up_from else self.a.f_ms
        return (self.t, self.acc, self.gyr, i_ms0, max(len(self.t) - 1, i_ms0), f0, f0, "none")

    def _record(self, quat: np.ndarray, disp: np.ndarray, heading: float) -> FootStride:
        a, b = self.a, self.b
        i_ic1 = b.ic_index - self.start
        if self.have_ms1:
            length = float(np.hypot(disp[0], disp[1]))
            # at the second mid-stance: the world's z axis in the body frame (R's third row)
            self.up_box[:] = [qmatrix_planes(*quat[-1])[2]]
        else:
            disp = np.full(3, np.nan)
            length = float("nan")
            heading = float("nan")
        stride_time = b.ic_time - a.ic_time
        flags: list[str] = []
        if self.gap:
            flags.append("gap")
        if self.recording_end:
            flags.append("recording_end")
        if self.fl.any():  # usually no sample is flagged: one reduction instead of two masks
            if np.any(self.fl & SampleBuffer.CLIP_ACC):
                flags.append("clipped_acc")
            if np.any(self.fl & SampleBuffer.CLIP_GYR):
                flags.append("clipped_gyr")
        if math.isfinite(heading) and abs(heading) > self.params.turn_threshold_rad:
            flags.append("turn")
        valid = not ({"gap", "recording_end", "clipped_acc", "clipped_gyr"} & set(flags))
        return FootStride(
            stride_index=self.index,
            ic_time_s=a.ic_time,
            ic_sample_index=a.ic_index,
            to_time_s=a.to_time,
            to_sample_index=a.to_index,
            midstance_time_s=a.ms_time,
            midstance_sample_index=a.ms_index,
            next_ic_time_s=b.ic_time,
            next_ic_sample_index=b.ic_index,
            next_midstance_time_s=b.ms_time if self.have_ms1 else float("nan"),
            stride_time_s=stride_time,
            contact_time_s=a.to_time - a.ic_time,
            stride_length_m=length,
            speed_mps=length / stride_time if stride_time > 0 else float("nan"),
            heading_change_rad=heading,
            displacement_m=disp,
            time_s=self.t[: i_ic1 + 1].copy(),
            quat_wxyz=quat[: i_ic1 + 1].copy(),
            flags=tuple(flags),
            valid=valid,
        )


def build_strides(pending: list[PendingStride]) -> list[FootStride]:
    """The strapdown integration of many decided strides in one batched call
    (:func:`runform.core.foot.strapdown.integrate_strides`) and their records."""
    return run_steps(build_strides_steps(pending))


def build_strides_steps(pending: list[PendingStride]) -> Generator[None, None, list[FootStride]]:
    """:func:`build_strides` one step per ``next`` (see ``integrate_strides_steps``). A stride
    without length whose tilt comes from a stride of the same batch is integrated after it."""
    first = [p for p in pending if not p.waits()]
    res = yield from integrate_strides_steps([p._args() for p in first])
    done = {id(p): p._record(*r) for p, r in zip(first, res)}
    later = [p for p in pending if id(p) not in done]
    if later:
        res = yield from integrate_strides_steps([p._args() for p in later])
        done.update({id(p): p._record(*r) for p, r in zip(later, res)})
    return [done[id(p)] for p in pending]


class FootTracker:
    """Streaming processor of one foot IMU.

    ``push(time_s (n,), acc_mps2 (n, 3), gyr_rps (n, 3), gap_before=False)`` takes samples
    already in the foot SEGMENT frame (x anterior/toe, y left, z up when standing; gyroscope
    bias removed), in blocks of any size, and returns the :class:`FootEvent` s and
    :class:`FootStride` s decided by them, in order; ``finish()`` returns what is still pending
    and the last stride if its next IC was seen (without length, flagged ``recording_end``);
    a stride whose next IC never came is dropped (nothing is invented). The outputs do not depend on how the
    samples were split into blocks.

    Packet gaps: ``gap_before=True``, a time step above ``params.gap_factor / rate_hz``, a
    non-increasing time or a non-finite sample all break the stride chain: no stride spans a
    gap; a stride whose next IC was seen before the gap but whose next mid-stance was not is
    published without length, flagged ``gap`` and invalid.

    Optional per-sample booleans ``clipped_acc``/``clipped_gyr`` (n,) mark samples clipped in
    the sensor frame (the caller knows the sensor's range; after rotation into the segment frame
    clipping is no longer visible per axis). Without them, ``params.acc_range_mps2`` /
    ``gyr_range_rps`` flag samples whose vector norm reaches the range.

    Live pushes (fewer than ``LIVE_PUSH`` samples, e.g. one BLE frame) do not pay for a stride's
    strapdown integration (~0.5 ms) in the push that decides it: the stride (with everything
    decided after it) is returned by the next push, which computes it (at most one per push). The
    sequence of outputs is the same for every partition; only a live stride comes one frame later.

    ``defer_strides=True``: decided strides are returned unintegrated, as :class:`PendingStride`
    (the caller integrates them, many at once, with :func:`build_strides`; the offline path).
    """

    #: pushes of fewer samples defer a decided stride to the next push
    LIVE_PUSH = 64

    def __init__(self, rate_hz: float, params: FootParams | None = None, defer_strides: bool = False):
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz!r}")
        self.rate_hz = float(rate_hz)
        self.params = params or FootParams()
        self.defer_strides = bool(defer_strides)
        self._buf = SampleBuffer(capacity=max(1024, int(8 * self.rate_hz)))
        self._det = PitchRateEventDetector(self.params, self.rate_hz)
        self._h = int(round(self.params.midstance_window_s * self.rate_hz))
        self._max_dt = self.params.gap_factor / self.rate_hz
        self._n_seen = 0  # global index of the next sample pushed
        self._last_t: float | None = None
        self._stance_count = 0
        self._stride_count = 0
        self._prev: _Stance | None = None  # stance with MS decided, waiting for the next one
        self._open: _Stance | None = None  # stance with IC decided, MS not yet
        self.gap_count = 0
        self._pending_break = False
        self.dropped_samples = 0
        self._queue: list = []  # outputs decided but not yet returned (behind a deferred stride)
        self._push_serial = 0
        self._up_box: tuple[int, list] | None = None  # (stance index, box) of the last stride with length

    # ------------------------------------------------------------------ public API
    def push(
        self,
        time_s: np.ndarray,
        acc_mps2: np.ndarray,
        gyr_rps: np.ndarray,
        gap_before: bool = False,
        clipped_acc: np.ndarray | None = None,
        clipped_gyr: np.ndarray | None = None,
    ) -> list[FootOutput]:
        t = np.asarray(time_s, dtype=float).reshape(-1)
        acc = np.asarray(acc_mps2, dtype=float).reshape(-1, 3)
        gyr = np.asarray(gyr_rps, dtype=float).reshape(-1, 3)
        n = t.shape[0]
        if acc.shape[0] != n or gyr.shape[0] != n:
            raise ValueError(f"time_s ({n}), acc_mps2 ({acc.shape[0]}) and gyr_rps ({gyr.shape[0]}) differ in length")
        out: list[FootOutput] = []
        self._push_serial += 1
        if n == 0:
            self._pending_break |= bool(gap_before)
            return self._release(out, live=True)
        flags = self._clip_flags(acc, gyr, clipped_acc, clipped_gyr, n)
        if np.isfinite(t).all() and np.isfinite(acc).all() and np.isfinite(gyr).all():
            d = np.diff(t)
            if n == 1 or (d.min() > 0 and d.max() <= self._max_dt):
                # the usual block: every sample finite, no break inside (the rule below, in one piece)
                first_break = False
                if self._last_t is not None:
                    dt0 = float(t[0]) - self._last_t
                    first_break = dt0 <= 0 or dt0 > self._max_dt or bool(gap_before) or self._pending_break
                self._pending_break = False
                if first_break:
                    out.extend(self._gap())
                out.extend(self._append(t, acc, gyr, flags, self._n_seen))
                self._last_t = float(t[-1])
                self._n_seen += n
                return self._release(out, live=n < self.LIVE_PUSH)
        finite = np.isfinite(t) & np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
        idx = np.flatnonzero(finite)
        self.dropped_samples += n - idx.size
        if idx.size == 0:
            self._pending_break = True
            self._n_seen += n
            return self._release(out, live=n < self.LIVE_PUSH)
        tk = t[idx]
        prev_t = np.empty(idx.size)
        prev_t[0] = self._last_t if self._last_t is not None else -np.inf
        prev_t[1:] = tk[:-1]
        dt = tk - prev_t
        brk = (dt <= 0) | (dt > self._max_dt)
        brk[1:] |= np.diff(idx) > 1  # dropped (non-finite) samples in between
        brk[0] = self._last_t is not None and (bool(brk[0]) or gap_before or idx[0] > 0 or self._pending_break)
        self._pending_break = bool(idx[-1] < n - 1)
        bounds = np.flatnonzero(brk)
        if bounds.size == 0 or bounds[0] != 0:
            bounds = np.r_[0, bounds]
        for k, s in enumerate(bounds):
            e = bounds[k + 1] if k + 1 < bounds.size else idx.size
            if brk[s]:
                out.extend(self._gap())
            sel = idx[s:e]
            out.extend(self._append(t[sel], acc[sel], gyr[sel], flags[sel], self._n_seen + int(sel[0])))
            self._last_t = float(t[sel[-1]])
        self._n_seen += n
        return self._release(out, live=n < self.LIVE_PUSH)

    def finish(self) -> list[FootOutput]:
        """End of the recording: publish the strides already decided (a live push may have
        deferred one) and the last stride, whose next IC was seen but whose next stance the
        recording cut off before its mid-stance: its times and stance are known, its length is
        not (published without length, flagged ``recording_end``, invalid, as at a gap); nothing
        invented beyond that; forget the pending state."""
        out: list[FootOutput] = []
        a, b = self._prev, self._open
        if a is not None and b is not None and b.ic_time - a.ic_time <= self.params.max_stride_s:
            s = self._stride(a, b, with_length=False, gap=False, recording_end=True)
            if s is not None:
                out.append(s)
        self._det.reset()
        self._prev = None
        self._open = None
        self._buf.drop_before(self._buf.end)
        return self._release(out, live=False)

    def _release(self, new: list, live: bool) -> list[FootOutput]:
        """Outputs to return now, in decision order: everything for a large push; for a live
        push up to the first stride not yet integrated, integrating at most one stride that
        was decided in an earlier push."""
        q = self._queue
        q.extend(new)
        if self.defer_strides:
            out = list(q)
            q.clear()
            return out
        out: list[FootOutput] = []
        i = 0
        if not live:  # everything, the strides integrated in one batched call
            lazy = [o for o in q if isinstance(o, PendingStride)]
            built = dict(zip(map(id, lazy), build_strides(lazy))) if lazy else {}
            out = [built.get(id(o), o) for o in q]
            q.clear()
            return out
        built_one = False
        while i < len(q):
            o = q[i]
            if isinstance(o, PendingStride):
                if built_one or o.push_serial == self._push_serial:
                    break
                o = o.build()
                built_one = True
            out.append(o)
            i += 1
        del q[:i]
        return out

    # ------------------------------------------------------------------ internals
    def _clip_flags(self, acc, gyr, clipped_acc, clipped_gyr, n) -> np.ndarray:
        p = self.params
        flags = np.zeros(n, dtype=np.uint8)
        ca = np.zeros(n, dtype=bool) if clipped_acc is None else np.asarray(clipped_acc, dtype=bool).reshape(-1)
        cg = np.zeros(n, dtype=bool) if clipped_gyr is None else np.asarray(clipped_gyr, dtype=bool).reshape(-1)
        if p.acc_range_mps2 is not None:
            ca = ca | (np.linalg.norm(acc, axis=1) >= p.clip_fraction * p.acc_range_mps2)
        if p.gyr_range_rps is not None:
            cg = cg | (np.linalg.norm(gyr, axis=1) >= p.clip_fraction * p.gyr_range_rps)
        flags[ca] |= SampleBuffer.CLIP_ACC
        flags[cg] |= SampleBuffer.CLIP_GYR
        return flags

    def _gap(self) -> list[FootOutput]:
        """Break the chain: publish the stride that only lacks its length, forget the rest."""
        out: list[FootOutput] = []
        self.gap_count += 1
        if self._prev is not None and self._open is not None:
            s = self._stride(self._prev, self._open, with_length=False, gap=True)
            if s is not None:
                out.append(s)
        self._prev = None
        self._open = None
        self._det.reset()
        self._buf.drop_before(self._buf.end)
        return out

    def _append(self, t, acc, gyr, flags, first_index: int) -> list[FootOutput]:
        buf = self._buf
        if buf.n == 0:
            buf.base = first_index
        buf.append(t, acc, gyr, flags)
        out: list[FootOutput] = []
        for d in self._det.advance(buf):
            out.extend(self._on_decision(d))
        self._trim()
        return out

    def _event(self, d: Decision, stance_index: int) -> FootEvent:
        buf = self._buf
        return FootEvent(
            kind=d.kind,  # type: ignore[arg-type]
            time_s=d.time_s,
            sample_index=d.index,
            decided_time_s=float(buf._t[d.decided_index - buf.base]),
            decided_sample_index=d.decided_index,
            stance_index=stance_index,
        )

    def _on_decision(self, d: Decision) -> list[FootOutput]:
        out: list[FootOutput] = []
        if d.kind == "ic":
            st = _Stance(index=self._stance_count, ic_index=d.index, ic_time=d.time_s)
            self._stance_count += 1
            if self._open is not None:
                # the previous IC never reached mid-stance (abandoned): the chain restarts
                self._prev = None
            self._open = st
            out.append(self._event(d, st.index))
            return out
        st = self._open
        if st is None:  # cannot happen: MS/TO only follow an IC
            return out
        if d.kind == "midstance":
            st.ms_index, st.ms_time = d.index, d.time_s
            st.ms_lo = max(d.index - self._h, st.ic_index)
            st.ms_hi = min(d.index + self._h, d.decided_index - 1)
            buf = self._buf
            # the mean as numpy.mean computes it (the column sums divided by the count)
            st.f_ms = np.add.reduce(buf._acc[st.ms_lo - buf.base : st.ms_hi + 1 - buf.base], axis=0) / (st.ms_hi + 1 - st.ms_lo)
            out.append(self._event(d, st.index))
        elif d.kind == "to":
            st.to_index, st.to_time = d.index, d.time_s
            out.append(self._event(d, st.index))
            prev = self._prev
            if prev is not None and st.ic_time - prev.ic_time <= self.params.max_stride_s:
                s = self._stride(prev, st, with_length=True, gap=False)
                if s is not None:
                    out.append(s)
            self._prev = st
            self._open = None
        return out

    def _stride(self, a: _Stance, b: _Stance, with_length: bool, gap: bool, recording_end: bool = False) -> PendingStride | None:
        """Stride from stance ``a`` (complete) to the next IC of stance ``b``."""
        buf = self._buf
        start = a.ic_index - 1
        if start < buf.base or a.ms_index < 0:
            return None
        have_ms1 = with_length and b.ms_index >= 0 and b.f_ms is not None
        stop = max(b.ms_index, b.ic_index) if have_ms1 else b.ic_index
        i0, i1 = start - buf.base, min(stop + 1 - buf.base, buf.n)
        # copies: the buffer moves on before a deferred stride is integrated
        t, acc, gyr, fl = buf._t[i0:i1].copy(), buf._acc[i0:i1].copy(), buf._gyr[i0:i1].copy(), buf._flags[i0:i1].copy()
        index = self._stride_count
        self._stride_count += 1
        s = PendingStride(index, a, b, t, acc, gyr, fl, start, have_ms1, gap, self.params, self._push_serial, recording_end)
        if have_ms1:
            self._up_box = (b.index, s.up_box)
        elif self._up_box is not None and self._up_box[0] == a.index:
            s.up_from = self._up_box[1]
        return s

    def _trim(self) -> None:
        """Forget samples nobody needs any more (memory stays bounded)."""
        buf = self._buf
        keep = buf.end
        need = self._det.oldest_needed()
        if need is not None:
            keep = min(keep, need)
        now = buf.t[-1] if buf.n else 0.0
        horizon = self.params.max_stride_s + self.params.max_stance_s
        if self._prev is not None and now - self._prev.ic_time > horizon:
            self._prev = None
        for st in (self._prev, self._open):
            if st is not None:
                keep = min(keep, st.ic_index - 1)
        buf.drop_before(keep)
