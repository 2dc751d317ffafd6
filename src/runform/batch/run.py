"""Batch re-analysis: many sessions through the gait core, in parallel processes or on a Dask
cluster, with a progress bar and one summary table (issue 6 item 5).

Each session (a session directory, or loose raw CSV files together) is one task: read its
``raw_<placement>.csv`` files (:func:`runform.offline.stream.read_streaming`) and run the core
(:func:`runform.offline.analyze.run_core`) -- the same functions as ``runform analyze`` on one
input, so the strides are the same. A task returns its stride rows and summary; the caller
writes ``strides.csv`` and ``summary.json`` per session (atomically, as ``runform analyze``)
and ``summary.csv`` across sessions (:mod:`runform.batch.summary`). Workers therefore need
to read the inputs (a shared file system for a cluster) but never write.

A session with bad input does not stop the others: its error (file and line) is reported and
nothing is written for it.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .summary import summary_rows, table_csv


@dataclass(frozen=True)
class SessionJob:
    name: str
    files: tuple[str, ...]
    placement: str | None = None
    rate_hz: float | None = None
    imu_path: str | None = None


@dataclass
class SessionResult:
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    read_s: float = 0.0  # CSV parsing and checks (s, worker CPU wall)
    core_s: float = 0.0  # gait core (s)
    samples: int = 0


@dataclass
class BatchResult:
    results: list[SessionResult]
    written: dict[str, Path]
    table: list[dict[str, Any]]
    summary_csv: Path | None
    wall_s: float

    @property
    def failed(self) -> list[SessionResult]:
        return [r for r in self.results if r.error]

    def timing_text(self) -> str:
        ok = [r for r in self.results if not r.error]
        read = sum(r.read_s for r in ok)
        core = sum(r.core_s for r in ok)
        share = 100.0 * read / (read + core) if read + core > 0 else 0.0
        return (f"{len(ok)} sessions, {sum(r.samples for r in ok)} samples in {self.wall_s:.1f} s wall; "
                f"in the workers: reading CSV {read:.1f} s, core {core:.1f} s ({share:.0f} % reading)")


def plan(inputs: Iterable[str | os.PathLike], placement: str | None = None, rate_hz: float | None = None,
         imu_path: str | os.PathLike | None = None) -> list[SessionJob]:
    """One job per session, as ``runform analyze`` groups inputs; repeated names get ``_2``, ``_3``...
    An IMU calibration file that cannot be read is refused here (RawInputError), before any work."""
    from ..imu_file import ImuFileError, load_imu_option
    from ..offline.analyze import sessions_from_inputs
    from ..offline.raw import RawInputError

    try:
        load_imu_option(imu_path)
    except ImuFileError as e:
        raise RawInputError(str(e)) from None

    jobs, seen = [], {}
    for name, files in sessions_from_inputs(list(inputs), placement):
        seen[name] = seen.get(name, 0) + 1
        unique = name if seen[name] == 1 else f"{name}_{seen[name]}"
        jobs.append(SessionJob(unique, tuple(str(f) for f in files), placement, rate_hz, None if imu_path is None else str(imu_path)))
    return jobs


def analyze_session(job: SessionJob) -> SessionResult:
    """Read and analyse one session (runs in a worker; never writes)."""
    from ..offline.analyze import GAP_FACTOR, _span, imu_for_session, run_core
    from ..offline.raw import RawInputError, placement_from_name
    from ..offline.stream import close_recordings, read_streaming

    res = SessionResult(job.name)
    t0 = time.perf_counter()
    recs = []
    try:
        try:
            # the reader and checks of runform analyze (time_s in ms refused; a dead axis noted)
            for f in job.files:
                recs.append(read_streaming(Path(f), placement_from_name(Path(f)) or job.placement, job.rate_hz, GAP_FACTOR))
            seen = [r.placement for r in recs]
            if len(set(seen)) != len(seen):
                raise RawInputError(f"session {job.name}: the same placement twice: {seen}")
            imu = imu_for_session(recs, job.imu_path)  # refuses an IMU calibration of another sensor than this session's
        except (RawInputError, ValueError) as e:
            res.error = str(e)
            return res
        t1 = time.perf_counter()
        res.rows, res.summary = run_core(recs, imu=imu)
        res.core_s = time.perf_counter() - t1
        res.read_s = t1 - t0
        res.samples = sum(_span(r)[2] for r in recs)
        return res
    finally:
        close_recordings(recs)


def _inline(jobs: list[SessionJob]) -> Iterator[SessionResult]:
    for j in jobs:
        yield analyze_session(j)


def _processes(jobs: list[SessionJob], n: int) -> Iterator[SessionResult]:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as ex:
        futures = [ex.submit(analyze_session, j) for j in jobs]
        for f in as_completed(futures):
            yield f.result()


def _dask(jobs: list[SessionJob], address: str | None, client: Any = None) -> Iterator[SessionResult]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError as e:  # the optional extra
        raise RuntimeError("--dask needs the optional dependency: pip install 'runform[dask]'") from e
    own = client is None
    if own:
        client = Client(address)
    try:
        futures = client.map(analyze_session, jobs, pure=False)
        for f in dask_completed(futures):
            yield f.result()
    finally:
        if own:
            client.close()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run_batch(inputs: Iterable[str | os.PathLike], out_dir: str | os.PathLike, *, placement: str | None = None,
              rate_hz: float | None = None, imu_path: str | os.PathLike | None = None, jobs: int = 1, dask_address: str | None = None, client: Any = None,
              progress: bool = True, on_result: Callable[[SessionResult], None] | None = None) -> BatchResult:
    """Analyse every session of ``inputs`` with ``jobs`` processes (1: in this process), or on
    the Dask scheduler at ``dask_address`` (or an existing ``distributed.Client``); write each
    session's strides.csv and summary.json (``out_dir`` itself for one session, else
    ``out_dir/<name>``) and ``out_dir/summary.csv``. Raises RawInputError if an input does not
    exist or a directory has no raw files (before any work)."""
    from tqdm import tqdm

    from ..offline.analyze import write_strides_csv, write_summary

    t0 = time.perf_counter()
    out = Path(out_dir)
    todo = plan(inputs, placement, rate_hz, imu_path)
    if dask_address is not None or client is not None:
        it = _dask(todo, dask_address, client)
    elif jobs > 1 and len(todo) > 1:
        it = _processes(todo, min(jobs, len(todo)))
    else:
        it = _inline(todo)
    done: dict[str, SessionResult] = {}
    written: dict[str, Path] = {}
    with tqdm(total=len(todo), unit="session", desc="analyze", disable=not progress) as bar:
        for res in it:
            done[res.name] = res
            if not res.error:
                dest = out if len(todo) == 1 else out / res.name
                write_strides_csv(dest / "strides.csv", res.rows)
                write_summary(dest / "summary.json", res.summary)
                written[res.name] = dest
            if on_result is not None:
                on_result(res)
            bar.update(1)
            bar.set_postfix_str(res.name + (" FAILED" if res.error else ""), refresh=False)
    results = [done[j.name] for j in todo]
    table = [row for r in results if not r.error for row in summary_rows(r.name, r.summary)]
    summary_csv = None
    if written:
        summary_csv = out / "summary.csv"
        text = table_csv(table)
        _write_atomic(summary_csv, text)
    return BatchResult(results, written, table, summary_csv, time.perf_counter() - t0)
