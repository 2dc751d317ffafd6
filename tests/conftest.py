"""Shared test fixtures.

Tests that need ``../shared/data`` or a browser skip on a user's machine without them, but
fail when ``CI`` is set (CI must run them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false, or fail in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real recordings, ``../shared/data``."""
    require(SHARED_DATA.is_dir(), f"real recordings not found at {SHARED_DATA} (see ../shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    """Sessions recorded by a test without --data-dir (runform run, demo) go to a temporary
    directory (RUNFORM_DATA_DIR, inherited by subprocesses), never to the user's data directory."""
    monkeypatch.setenv("RUNFORM_DATA_DIR", str(tmp_path_factory.mktemp("runform-data")))
