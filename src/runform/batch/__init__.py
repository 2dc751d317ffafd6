"""Batch re-analysis of many sessions (``runform analyze DIR... --jobs N`` / ``--dask ADDRESS``).

Public API: :func:`run_batch` (see :mod:`runform.batch.run`), :func:`analyze_session`,
:data:`SUMMARY_COLUMNS` and :func:`summary_rows` (:mod:`runform.batch.summary`).
"""

from __future__ import annotations

from .run import BatchResult, SessionJob, SessionResult, analyze_session, plan, run_batch
from .summary import SUMMARY_COLUMNS, summary_rows, table_csv, table_text

__all__ = ["BatchResult", "SessionJob", "SessionResult", "SUMMARY_COLUMNS", "analyze_session", "plan", "run_batch",
           "summary_rows", "table_csv", "table_text"]
