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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CI=true a skipped test fails the run: nothing may silently not run."""
    if os.environ.get("CI", "").lower() != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        reporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped; a skip fails the CI run.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the throwaway PostgreSQL server that scripts/test.sh starts."""
    url = os.environ.get("VEIVISER_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("VEIVISER_TEST_POSTGRES_URL is not set (run scripts/test.sh)")
    return url
