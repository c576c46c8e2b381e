"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VEIVISER_SHARED_DIR", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only shared folder beside the checkout (eval and datasets)."""
    if not SHARED.is_dir():
        pytest.fail(f"the shared folder is missing at {SHARED}")
    return SHARED
