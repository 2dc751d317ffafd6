"""The SQLite index: migrations from older schemas, data-dir resolution, rebuild from the logs."""

from __future__ import annotations

import sqlite3

import pytest

from runform.store import Store, resolve_data_dir
from runform.store.index import MIGRATIONS, SCHEMA_VERSION, IndexError_, SessionIndex, migrate
from runform.store.virtual import record_virtual_session


def test_an_index_of_an_older_schema_is_migrated_keeping_its_rows(tmp_path):
    path = tmp_path / "index.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO sessions (id, state, label) VALUES ('old', 'finished', 'from v1')")
    conn.close()
    idx = SessionIndex(tmp_path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "sessions_by_start" in names
    assert idx.get_session("old")["label"] == "from v1"


def test_an_index_of_a_newer_schema_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "index.sqlite", isolation_level=None)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(IndexError_, match="upgrade runform"):
        migrate(conn)


def test_data_dir_argument_then_environment_then_user_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("RUNFORM_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_data_dir(None).name == "runform"


def test_a_lost_index_is_rebuilt_from_the_frame_logs(tmp_path):
    store = Store(tmp_path)
    sid = record_virtual_session(store, 6.0, seed=1, annotations=[(2.0, "start")])
    before = store.session(sid)
    (tmp_path / "index.sqlite").unlink()
    for extra in ("index.sqlite-wal", "index.sqlite-shm"):
        (tmp_path / extra).unlink(missing_ok=True)
    again = Store(tmp_path)
    row = again.session(sid)
    assert row["frame_counts"] == before["frame_counts"] and row["recovered"] is False and row["state"] == "finished"
    assert again.index.annotations(sid) == [{"time_s": 2.0, "text": "start"}]
