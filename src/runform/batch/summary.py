"""The summary table across sessions: one row per session, leg and metric.

Columns (:data:`SUMMARY_COLUMNS`): ``session``, ``leg``, ``metric`` (a numeric column of
strides.csv, unit in its name; or ``strides`` / ``valid_strides`` with only ``n``), ``n``
(valid strides with a value), ``mean``, ``sd`` (population SD; both over the valid strides,
as the core's summary), ``symmetry_index_pct`` (100 (L - R) / ((L + R) / 2) of the two legs'
means, the same on both legs' rows; empty when a leg is missing). Values come from the core's
session summary (:meth:`runform.core.SessionProcessor.summary`, runform.core.summary).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any, Iterable

SUMMARY_COLUMNS = ("session", "leg", "metric", "n", "mean", "sd", "symmetry_index_pct")


def summary_rows(session: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of one session from the core's summary dict."""
    sym = summary.get("symmetry_index_pct") or {}
    rows = []
    for leg in ("left", "right"):
        per = (summary.get("legs") or {}).get(leg)
        if not per:
            continue
        for count in ("strides", "valid_strides"):
            rows.append({"session": session, "leg": leg, "metric": count, "n": per.get(count), "mean": None, "sd": None,
                         "symmetry_index_pct": None})
        for name, m in (per.get("metrics") or {}).items():
            rows.append({"session": session, "leg": leg, "metric": name, "n": m.get("n"), "mean": m.get("mean"),
                         "sd": m.get("sd"), "symmetry_index_pct": sym.get(name)})
    return rows


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(round(v, 6))
    return str(v)


def table_csv(rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(SUMMARY_COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in SUMMARY_COLUMNS])
    return buf.getvalue()


def table_text(rows: list[dict[str, Any]]) -> str:
    """The table aligned for a terminal (numbers to 3 significant decimals)."""
    def fmt(v: Any) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return ""
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    cells = [list(SUMMARY_COLUMNS)] + [[fmt(r.get(c)) for c in SUMMARY_COLUMNS] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(SUMMARY_COLUMNS))]
    lines = []
    for row in cells:
        lines.append("  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    return "\n".join(lines) + "\n"
