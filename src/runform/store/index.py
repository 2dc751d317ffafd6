"""The SQLite index of the data directory: sessions, annotations, strides.

The index is a cache of what the frame logs hold (plus annotations made after a session):
it can be rebuilt from ``sessions/*/frames.rfl``. Its schema is versioned with SQLite's
``PRAGMA user_version``; :data:`MIGRATIONS` are applied in order, each in one transaction, so
an index made by an older runform is upgraded when a newer one opens it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

INDEX_NAME = "index.sqlite"

#: schema migrations; index i brings the schema from version i to i + 1 (never edit old ones)
MIGRATIONS: tuple[str, ...] = (
    # 1: first schema
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        runner TEXT NOT NULL DEFAULT '',
        label TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT '',
        start_wall REAL,
        end_wall REAL,
        duration_s REAL,
        state TEXT NOT NULL,
        recovered INTEGER NOT NULL DEFAULT 0,
        sensors_json TEXT NOT NULL DEFAULT '[]',
        frame_counts_json TEXT NOT NULL DEFAULT '{}',
        strides INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        software_version TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        time_s REAL NOT NULL,
        text TEXT NOT NULL,
        created_wall REAL NOT NULL
    );
    CREATE TABLE strides (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        leg TEXT NOT NULL,
        stride_index INTEGER NOT NULL,
        ic_time_s REAL,
        valid INTEGER,
        row_json TEXT NOT NULL,
        PRIMARY KEY (session_id, leg, stride_index)
    );
    """,
    # 2: listing by start time and annotations by session stay fast with many sessions
    """
    CREATE INDEX sessions_by_start ON sessions(start_wall);
    CREATE INDEX annotations_by_session ON annotations(session_id, time_s);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

SESSION_FIELDS = (
    "id", "runner", "label", "source", "start_wall", "end_wall", "duration_s", "state", "recovered",
    "sensors_json", "frame_counts_json", "strides", "error", "software_version",
)


class IndexError_(RuntimeError):
    """The index is of a newer schema than this runform knows."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found before."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise IndexError_(f"the session index has schema version {found}; this runform knows up to {SCHEMA_VERSION} (upgrade runform)")
    for version in range(found, SCHEMA_VERSION):
        with conn:  # one transaction per migration
            conn.execute("BEGIN")
            for stmt in MIGRATIONS[version].split(";"):
                if stmt.strip():
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {version + 1}")
    return found


class SessionIndex:
    """The index file ``<data_dir>/index.sqlite``. Each call opens its own connection, so one
    object can be used from several threads (the server, the recorder)."""

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / INDEX_NAME
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            migrate(conn)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        try:
            yield conn
        finally:
            conn.close()

    # ------------------------------------------------------------------ sessions
    def upsert_session(self, **fields: Any) -> None:
        unknown = set(fields) - set(SESSION_FIELDS)
        if unknown:
            raise KeyError(f"unknown session fields: {sorted(unknown)}")
        fields = {k: _encode(k, v) for k, v in fields.items()}
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        updates = ", ".join(f"{k}=excluded.{k}" for k in fields if k != "id")
        with self.connect() as conn:
            conn.execute(f"INSERT INTO sessions ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}", tuple(fields.values()))

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else _decode(row)

    def list_sessions(self) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM sessions ORDER BY start_wall, id").fetchall()
        return [_decode(r) for r in rows]

    def find_session(self, key: str) -> dict[str, Any] | None:
        """A session by its id, a unique prefix of it, or ``latest``."""
        if key == "latest":
            rows = self.list_sessions()
            return rows[-1] if rows else None
        exact = self.get_session(key)
        if exact is not None:
            return exact
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM sessions WHERE id LIKE ? ORDER BY id", (key.replace("%", "") + "%",)).fetchall()
        return _decode(rows[0]) if len(rows) == 1 else None

    def delete_session(self, session_id: str) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # ------------------------------------------------------------------ annotations
    def add_annotation(self, session_id: str, time_s: float, text: str) -> int:
        with self.connect() as conn:
            cur = conn.execute("INSERT INTO annotations (session_id, time_s, text, created_wall) VALUES (?, ?, ?, ?)",
                               (session_id, float(time_s), str(text), time.time()))
            return int(cur.lastrowid)

    def annotations(self, session_id: str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT time_s, text FROM annotations WHERE session_id = ? ORDER BY time_s, id", (session_id,)).fetchall()
        return [dict(r) for r in rows]

    def replace_annotations(self, session_id: str, rows: list[dict[str, Any]]) -> None:
        with self.connect() as conn:
            conn.execute("BEGIN")
            conn.execute("DELETE FROM annotations WHERE session_id = ?", (session_id,))
            conn.executemany("INSERT INTO annotations (session_id, time_s, text, created_wall) VALUES (?, ?, ?, ?)",
                             [(session_id, float(r["time_s"]), str(r["text"]), time.time()) for r in rows])
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ strides
    def replace_strides(self, session_id: str, rows: list[dict[str, Any]]) -> None:
        """Store the strides of a session (rows keyed by STRIDE_COLUMNS), replacing older ones."""
        with self.connect() as conn:
            conn.execute("BEGIN")
            conn.execute("DELETE FROM strides WHERE session_id = ?", (session_id,))
            conn.executemany(
                "INSERT OR REPLACE INTO strides (session_id, leg, stride_index, ic_time_s, valid, row_json) VALUES (?, ?, ?, ?, ?, ?)",
                [(session_id, str(r.get("leg")), int(r.get("stride_index") or 0), r.get("ic_time_s"),
                  None if r.get("valid") is None else int(bool(r.get("valid"))), json.dumps(r, default=str)) for r in rows],
            )
            conn.execute("UPDATE sessions SET strides = ? WHERE id = ?", (len(rows), session_id))
            conn.execute("COMMIT")

    def strides(self, session_id: str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT row_json FROM strides WHERE session_id = ? ORDER BY ic_time_s, leg, stride_index", (session_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]


def _encode(key: str, value: Any) -> Any:
    if key.endswith("_json") and not isinstance(value, str):
        return json.dumps(value)
    if key == "recovered":
        return int(bool(value))
    return value


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["sensors"] = json.loads(d.pop("sensors_json") or "[]")
    d["frame_counts"] = json.loads(d.pop("frame_counts_json") or "{}")
    d["recovered"] = bool(d["recovered"])
    return d
