"""Per-session summary from the stride rows: symmetry, trends (fatigue drift) and coupling.

Definitions (docs/metrics.md, "Per session"):

* Symmetry index per metric ``SI = 100 (L - R) / (0.5 (L + R))`` of the per-leg means of the
  valid strides (Robinson et al. 1987, J Manipulative Physiol Ther 10:172).
* Trend per metric and leg: least-squares slope of the valid strides' values against time
  (unit per minute), and ``drift`` = mean of the last 20 % minus mean of the first 20 % of
  valid strides.
* Tibial shock by the 375 ms rule of the feedback studies (Crowell & Davis 2011): peaks above
  3 g with no larger value in the next 375 ms, per leg: count and mean (valid strides).
* Coupling: EV/TIR per stride (mean, median) and the vector-coding coupling-angle
  distribution over all stances (share of samples in each bin; Chang et al. 2008).

Memory: one float32 per numeric column and stride (a 3-hour session is ~30,000 strides).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .metrics import COUPLING_BINS, StrideResult

NUMERIC = (
    "contact_time_ms", "flight_time_ms", "stride_time_ms", "cadence_spm", "foot_strike_angle_deg",
    "eversion_at_ic_deg", "peak_eversion_deg", "eversion_excursion_deg", "peak_eversion_velocity_dps",
    "time_to_peak_eversion_ms", "tibial_inclination_at_ic_deg", "peak_shank_frontal_angle_deg",
    "tibial_internal_rotation_deg", "ev_tir_ratio", "peak_tibial_accel_g", "stride_length_m", "speed_mps",
)


#: the columns each leg keeps per stride: the numeric ones, then ic_time_s and valid
_KEYS = (*NUMERIC, "ic_time_s", "valid")


class _Columns:
    def __init__(self) -> None:
        self.n = 0
        self.data = np.full((256, len(NUMERIC) + 2), np.nan, np.float64)  # + ic_time_s, valid

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """Rows in one array assignment (the offline path adds a batch of strides at once)."""
        while self.n + len(rows) > self.data.shape[0]:
            new = np.full((2 * self.data.shape[0], self.data.shape[1]), np.nan)
            new[: self.n] = self.data[: self.n]
            self.data = new
        nan = np.nan
        self.data[self.n : self.n + len(rows)] = [
            [nan if v is None else float(v) for v in [row.get(c) for c in _KEYS]] for row in rows
        ]
        self.n += len(rows)

    def col(self, name: str, valid_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
        d = self.data[: self.n]
        m = np.ones(self.n, bool) if not valid_only else d[:, -1] == 1
        v = d[m, NUMERIC.index(name)]
        t = d[m, -2]
        ok = np.isfinite(v)
        return t[ok], v[ok]


def _r(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 4)


class SessionSummary:
    """Accumulates stride results; :meth:`to_dict` gives the JSON-able summary."""

    def __init__(self) -> None:
        self._legs = {"left": _Columns(), "right": _Columns()}
        self._coupling = {"left": np.zeros(4, np.int64), "right": np.zeros(4, np.int64)}
        self._flags: dict[str, dict[str, int]] = {"left": {}, "right": {}}
        # 375 ms rule (valid strides with a shank): [strides, peaks, sum of peaks in g]
        self._shock = {"left": [0, 0, 0.0], "right": [0, 0, 0.0]}

    def add(self, res: StrideResult) -> None:
        """A stride computed from samples: its row, coupling histogram and 375 ms shock peaks."""
        self.add_many([res])

    def add_many(self, results: list[StrideResult]) -> None:
        """:meth:`add` of several results (their rows in one array assignment per leg)."""
        self.add_rows([r.row for r in results])
        for res in results:
            leg, row = res.row["leg"], res.row
            if res.coupling_counts is not None and row.get("valid") == 1:
                self._coupling[leg] += res.coupling_counts
            if row.get("valid") == 1 and row.get("eversion_reference") == "shank":
                s = self._shock[leg]
                s[0] += 1
                s[1] += len(res.shock_peaks_g)
                s[2] += float(sum(res.shock_peaks_g))

    def add_row(self, row: dict[str, Any]) -> None:
        """A stride row alone (e.g. read back from strides.csv or the index): means, trends,
        symmetry and flags; no coupling or 375 ms shock figures, which need the samples."""
        self.add_rows([row])

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        """:meth:`add_row` of several rows (one array assignment per leg)."""
        for leg in ("left", "right"):
            sel = [row for row in rows if row["leg"] == leg]
            if sel:
                self._legs[leg].add_rows(sel)
        for row in rows:
            flags = self._flags[row["leg"]]
            for f in filter(None, (row.get("flags") or "").split(";")):
                flags[f] = flags.get(f, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        legs: dict[str, Any] = {}
        means: dict[str, dict[str, float]] = {"left": {}, "right": {}}
        for leg, cols in self._legs.items():
            d = cols.data[: cols.n]
            per: dict[str, Any] = {"strides": int(cols.n), "valid_strides": int(np.sum(d[:, -1] == 1)) if cols.n else 0,
                                   "flags": dict(self._flags[leg]), "metrics": {}}
            for name in NUMERIC:
                t, v = cols.col(name)
                if v.size == 0:
                    continue
                m = float(np.mean(v))
                means[leg][name] = m
                entry: dict[str, Any] = {"n": int(v.size), "mean": _r(m), "sd": _r(float(np.std(v))), "median": _r(float(np.median(v)))}
                if v.size >= 5 and np.ptp(t) > 0:
                    slope = np.polyfit(t / 60.0, v, 1)[0]
                    k = max(1, int(round(0.2 * v.size)))
                    entry["trend_per_min"] = _r(float(slope))
                    entry["drift_last_minus_first_20pct"] = _r(float(np.mean(v[-k:]) - np.mean(v[:k])))
                per["metrics"][name] = entry
            c = self._coupling[leg]
            total = int(c.sum())
            per["coupling"] = {
                "samples": total,
                "share": {b: (_r(float(c[i]) / total) if total else None) for i, b in enumerate(COUPLING_BINS)},
            }
            n_st, n_pk, sum_pk = self._shock[leg]
            per["tibial_shock_375ms"] = {"strides": n_st, "peaks": n_pk,
                                         "mean_peak_g": _r(sum_pk / n_pk) if n_pk else None}
            legs[leg] = per
        sym = {}
        for name in NUMERIC:
            if name in means["left"] and name in means["right"]:
                l, r = means["left"][name], means["right"][name]
                den = 0.5 * (l + r)
                sym[name] = _r(100.0 * (l - r) / den) if abs(den) > 1e-9 else None
        return {"legs": legs, "symmetry_index_pct": sym}
