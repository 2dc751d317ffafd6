"""Dashboard APIs: annotations, thresholds, session label, recording control, review and compare.

Routes (all JSON; with a token, see :mod:`runform.server.auth`):

* ``POST /api/annotations`` ``{"text"}`` -> a time-stamped marker of the live session: published
  to the viewers as ``{"type": "annotation", "time_s", "text"}`` and handed to
  ``app.state.annotation_sink(time_s, text)`` when the app has one (the recorder / index).
  ``GET /api/annotations``: this live session's markers.
* ``GET|PUT /api/thresholds`` ``{metric: {"max": x, "min": y}}`` -> the therapist's targets,
  shared by every viewer (laptop and tablet), published as ``{"type": "thresholds"}``.
  Metrics: the numeric stride columns (docs/metrics.md), values in the column's unit.
* ``GET|PUT /api/session-meta`` ``{"label", "runner"}`` -> published as ``{"type": "session_meta"}``
  and handed to ``app.state.meta_sink(label=..., runner=...)`` when present.
* ``GET /api/recording``, ``POST /api/recording`` ``{"action": "start"|"stop", "label", "runner"}``
  -> ``app.state.recording_control`` (an object with ``start(label=, runner=)``, ``stop()`` and
  ``status()``, given by the part that records); 501 when the app has none.
* ``GET /api/review/sessions``: the live session (id ``live``) and the stored sessions of the
  index in ``app.state.data_dir`` (:class:`runform.store.index.SessionIndex`).
* ``GET /api/review/sessions/{id}``: the session, its strides, annotations and summary
  (symmetry, trends, fatigue drift: :class:`runform.core.summary.SessionSummary`).
* ``GET /api/compare?a=ID&b=ID[&a_from=s&a_to=s&b_from=s&b_to=s&valid_only=1]``: for each
  metric and leg, the two parts' means and SDs, the difference ``b - a`` and its uncertainty
  (Welch's standard error and 95 % interval; :func:`compare_rows`).
"""

from __future__ import annotations

import asyncio

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field

from ..core.schema import STRIDE_COLUMNS

#: stride columns with numbers (the ones that can be trended, compared and given a threshold)
NUMERIC_METRICS: tuple[str, ...] = tuple(
    c for c in STRIDE_COLUMNS
    if c not in ("leg", "stride_index", "ic_time_s", "to_time_s", "strike_pattern", "eversion_reference", "valid", "flags")
)
LIVE_ID = "live"
MAX_TEXT = 500
#: targets a therapist starts from (tibial-shock retraining: Crowell & Davis 2011 used ~8 g as
#: a starting target; the eversion excursion target is a clinical choice, not from a paper)
DEFAULT_THRESHOLDS: dict[str, dict[str, float]] = {"peak_tibial_accel_g": {"max": 8.0}}


class AnnotationIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class SessionMetaIn(BaseModel):
    label: str = Field(default="", max_length=200)
    runner: str = Field(default="", max_length=200)


class RecordingIn(BaseModel):
    action: str = Field(pattern="^(start|stop)$")
    label: str = Field(default="", max_length=200)
    runner: str = Field(default="", max_length=200)


# ---------------------------------------------------------------------------- statistics
def _values(rows: list[dict[str, Any]], metric: str, leg: str, valid_only: bool) -> np.ndarray:
    out = []
    for r in rows:
        if r.get("leg") != leg or (valid_only and str(r.get("valid")) not in ("1", "True", "true")):
            continue
        v = r.get(metric)
        if v is None or v == "":
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return np.asarray(out, float)


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def welch(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Difference of means ``b - a`` with Welch's standard error, degrees of freedom and 95 %
    interval (Welch 1947, Biometrika 34:28). Needs at least 2 values on each side.

    Strides of one run are not independent (drift, autocorrelation), so this interval is a lower
    bound of the real uncertainty; it answers "is the change larger than stride-to-stride noise"."""
    from scipy.stats import t as student_t

    na, nb = a.size, b.size
    res: dict[str, Any] = {"n_a": int(na), "n_b": int(nb),
                           "mean_a": _r(float(np.mean(a))) if na else None, "mean_b": _r(float(np.mean(b))) if nb else None,
                           "sd_a": _r(float(np.std(a, ddof=1))) if na > 1 else None,
                           "sd_b": _r(float(np.std(b, ddof=1))) if nb > 1 else None,
                           "diff": None, "se": None, "ci95": None, "df": None}
    if na < 2 or nb < 2:
        if na and nb:
            res["diff"] = _r(float(np.mean(b) - np.mean(a)))
        return res
    va, vb = np.var(a, ddof=1) / na, np.var(b, ddof=1) / nb
    se = math.sqrt(va + vb)
    diff = float(np.mean(b) - np.mean(a))
    res["diff"], res["se"] = _r(diff), _r(se)
    if se > 0:
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
        half = float(student_t.ppf(0.975, df)) * se
        res["df"], res["ci95"] = _r(df, 1), [_r(diff - half), _r(diff + half)]
    else:
        res["df"], res["ci95"] = None, [_r(diff), _r(diff)]
    return res


def window(rows: list[dict[str, Any]], t_from: float | None, t_to: float | None) -> list[dict[str, Any]]:
    """The strides whose IC lies in [t_from, t_to) (session time, s; None = open end)."""
    out = []
    for r in rows:
        try:
            t = float(r.get("ic_time_s"))
        except (TypeError, ValueError):
            continue
        if (t_from is None or t >= t_from) and (t_to is None or t < t_to):
            out.append(r)
    return out


def compare_rows(a: list[dict[str, Any]], b: list[dict[str, Any]], valid_only: bool = True) -> dict[str, Any]:
    """{metric: {leg: welch(a, b)}} for the numeric metrics present in either part."""
    out: dict[str, Any] = {}
    for m in NUMERIC_METRICS:
        per = {}
        for leg in ("left", "right"):
            va, vb = _values(a, m, leg, valid_only), _values(b, m, leg, valid_only)
            if va.size or vb.size:
                per[leg] = welch(va, vb)
        if per:
            out[m] = per
    return out


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Symmetry, trends and drift of stride rows, by the core's own definitions."""
    from ..core.summary import SessionSummary

    s = SessionSummary()
    for r in rows:
        if r.get("leg") not in ("left", "right"):
            continue
        s.add_row({k: _num(r.get(k)) if k in NUMERIC_METRICS or k in ("ic_time_s", "valid") else r.get(k) for k in r})
    d = s.to_dict()
    for leg in d["legs"].values():
        # stored rows carry neither per-sample coupling angles nor the 375 ms shock peaks:
        # leave those figures out rather than report empty counts as if measured
        leg.pop("coupling", None)
        leg.pop("tibial_shock_375ms", None)
    return d


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


# ---------------------------------------------------------------------------- sessions
def _index(app: FastAPI) -> Any | None:
    data_dir = getattr(app.state, "data_dir", None)
    if not data_dir:
        return None
    if not (Path(data_dir) / "index.sqlite").is_file():
        return None
    from ..store.index import SessionIndex

    return SessionIndex(data_dir)


def _live_entry(app: FastAPI) -> dict[str, Any] | None:
    session = app.state.session
    if session is None:
        return None
    meta = app.state.session_meta
    return {"id": LIVE_ID, "live": True, "label": meta["label"], "runner": meta["runner"],
            "start_wall": session.started_wall, "duration_s": round(session.now(), 1),
            "strides": session.stride_count, "state": "live",
            "sensors": [s.placement for s in session.sensors.values()]}


def _session_data(app: FastAPI, sid: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    if sid == LIVE_ID:
        entry = _live_entry(app)
        if entry is None:
            raise HTTPException(404, "no live session on this server")
        strides = [{k: v for k, v in m.items() if k != "type"} for m in list(app.state.session.strides)]
        return entry, strides, list(app.state.live_annotations)
    idx = _index(app)
    found = idx.find_session(sid) if idx is not None else None
    if found is None:
        raise HTTPException(404, f"no session {sid!r}")
    return found, idx.strides(found["id"]), idx.annotations(found["id"])


def _session_list(app: FastAPI) -> list[dict[str, Any]]:
    out = []
    live = _live_entry(app)
    if live is not None:
        out.append(live)
    idx = _index(app)
    if idx is not None:
        for s in reversed(idx.list_sessions()):  # newest first
            out.append({k: s.get(k) for k in ("id", "label", "runner", "start_wall", "duration_s", "strides", "state")}
                       | {"live": False, "sensors": [x.get("placement") if isinstance(x, dict) else x for x in s.get("sensors") or []]})
    return out


# ---------------------------------------------------------------------------- routes
def _publish(app: FastAPI, msg: dict[str, Any]) -> None:
    app.state.hub.publish(msg)


def install(app: FastAPI) -> None:
    st = app.state
    if not hasattr(st, "live_annotations"):
        st.live_annotations = []
    if not hasattr(st, "thresholds"):
        st.thresholds = {k: dict(v) for k, v in DEFAULT_THRESHOLDS.items()}
    if not hasattr(st, "session_meta"):
        st.session_meta = {"label": "", "runner": ""}
    r = APIRouter(tags=["dashboard"])

    @r.post("/api/annotations")
    async def add_annotation(body: AnnotationIn, request: Request) -> dict[str, Any]:
        """A time-stamped marker ("insoles on") in the live session."""
        session = request.app.state.session
        if session is None:
            raise HTTPException(409, "annotations are made on a live session")
        text = body.text.strip()
        if not text:
            raise HTTPException(422, "empty annotation")
        msg = {"type": "annotation", "time_s": round(session.now(), 3), "text": text, "wall": time.time()}
        sink = getattr(request.app.state, "annotation_sink", None)
        if sink is not None:
            sink(msg["time_s"], text)
        request.app.state.live_annotations.append(msg)
        _publish(request.app, msg)
        return msg

    @r.post("/api/recalibrate")
    async def recalibrate(request: Request, placement: str | None = None) -> dict[str, Any]:
        """Start calibration again (stand still, then a few strides), for every sensor or one."""
        session = request.app.state.session
        if session is None:
            raise HTTPException(409, "recalibration needs a live session")
        if placement is not None and placement not in {s.placement for s in session.sensors.values()}:
            raise HTTPException(422, f"no sensor at placement {placement!r}")
        try:
            await asyncio.wrap_future(session.recalibrate(placement))
        except RuntimeError as exc:
            raise HTTPException(409, str(exc)) from None
        msg = {"type": "recalibrate", "placement": placement, "time_s": round(session.now(), 3)}
        _publish(request.app, msg)
        return msg

    @r.get("/api/annotations")
    async def list_annotations(request: Request) -> dict[str, Any]:
        return {"annotations": list(request.app.state.live_annotations)}

    @r.get("/api/thresholds")
    async def get_thresholds(request: Request) -> dict[str, Any]:
        return {"thresholds": request.app.state.thresholds, "metrics": list(NUMERIC_METRICS)}

    @r.put("/api/thresholds")
    async def put_thresholds(body: dict[str, dict[str, float | None]], request: Request) -> dict[str, Any]:
        """Replace the targets: ``{metric: {"max": x, "min": y}}`` (units of the metric's column)."""
        clean: dict[str, dict[str, float]] = {}
        for metric, lim in body.items():
            if metric not in NUMERIC_METRICS:
                raise HTTPException(422, f"unknown metric {metric!r}; expected one of {', '.join(NUMERIC_METRICS)}")
            entry = {}
            for k, v in lim.items():
                if k not in ("min", "max"):
                    raise HTTPException(422, f"{metric}: limits are 'min' and 'max', not {k!r}")
                if v is not None:
                    if not math.isfinite(float(v)):
                        raise HTTPException(422, f"{metric}.{k} must be a finite number")
                    entry[k] = float(v)
            if entry:
                clean[metric] = entry
        request.app.state.thresholds = clean
        _publish(request.app, {"type": "thresholds", "thresholds": clean})
        return {"thresholds": clean}

    @r.get("/api/session-meta")
    async def get_meta(request: Request) -> dict[str, Any]:
        return dict(request.app.state.session_meta)

    @r.put("/api/session-meta")
    async def put_meta(body: SessionMetaIn, request: Request) -> dict[str, Any]:
        meta = {"label": body.label.strip(), "runner": body.runner.strip()}
        request.app.state.session_meta = meta
        sink = getattr(request.app.state, "meta_sink", None)
        if sink is not None:
            sink(**meta)
        _publish(request.app, {"type": "session_meta", **meta})
        return meta

    @r.get("/api/recording")
    async def recording_state(request: Request) -> dict[str, Any]:
        ctl = getattr(request.app.state, "recording_control", None)
        session = request.app.state.session
        rec = None if session is None else session.status().get("recording")
        return {"available": ctl is not None, "status": ctl.status() if ctl is not None else rec}

    @r.post("/api/recording")
    async def recording_action(body: RecordingIn, request: Request) -> dict[str, Any]:
        ctl = getattr(request.app.state, "recording_control", None)
        if ctl is None:
            raise HTTPException(501, "this server cannot start or stop recordings (no recording_control)")
        # closing a recording fsyncs and indexes its log: not on the event loop (BLE, viewers)
        if body.action == "start":
            await asyncio.to_thread(ctl.start, label=body.label.strip(), runner=body.runner.strip())
        else:
            await asyncio.to_thread(ctl.stop)
        status = ctl.status()
        _publish(request.app, {"type": "recording", **(status if isinstance(status, dict) else {"status": status})})
        return {"available": True, "status": status}

    @r.get("/api/review/sessions")
    async def review_sessions(request: Request) -> dict[str, Any]:
        return {"sessions": _session_list(request.app)}

    @r.get("/api/review/sessions/{sid}")
    async def review_session(sid: str, request: Request) -> dict[str, Any]:
        entry, strides, notes = _session_data(request.app, sid)
        return {"session": entry, "strides": strides, "annotations": notes, "summary": summarize(strides),
                "metrics": list(NUMERIC_METRICS)}

    @r.get("/api/compare")
    async def compare(request: Request, a: str, b: str, a_from: float | None = None, a_to: float | None = None,
                      b_from: float | None = None, b_to: float | None = None, valid_only: bool = True) -> dict[str, Any]:
        """Two sessions, or two parts of one (``a == b`` with time windows, e.g. before and after
        the "insoles on" marker): per metric and leg the difference ``b - a`` and its uncertainty."""
        ea, sa, _ = _session_data(request.app, a)
        eb, sb, _ = _session_data(request.app, b)
        pa, pb = window(sa, a_from, a_to), window(sb, b_from, b_to)
        return {"a": {"session": ea, "from_s": a_from, "to_s": a_to, "strides": len(pa)},
                "b": {"session": eb, "from_s": b_from, "to_s": b_to, "strides": len(pb)},
                "valid_only": valid_only, "metrics": compare_rows(pa, pb, valid_only),
                "method": "Welch: difference of means b - a, standard error sqrt(sa^2/na + sb^2/nb), 95 % t interval"}

    @r.get("/review", include_in_schema=False)
    async def review_page() -> Any:
        return _page("review.html")

    @r.get("/compare", include_in_schema=False)
    async def compare_page() -> Any:
        return _page("compare.html")

    app.include_router(r)


def _page(name: str) -> Any:
    from fastapi.responses import FileResponse

    from .paths import dashboards_dir

    return FileResponse(dashboards_dir() / name, headers={"Cache-Control": "no-store"})
