"""The public API fuzzed against its own OpenAPI schema with schemathesis.

Generated requests (valid and invalid bodies, headers, ids and numbers) are
sent through the ASGI app; every response must be in the schema: no 5xx, a
documented status, a body of the documented shape. The seed is fixed and the
number of examples bounded, so the run is the same each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from test_store_support import open_assistant, settings_for, write_kb
from veiviser.web import create_app

pytest_plugins = ["test_store_support"]

EXAMPLES = 40


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    ready = settings_for(f"sqlite:///{folder / 'fuzz.db'}", write_kb(folder))
    # The fuzzer is one client sending thousands of requests a minute.
    assistant = open_assistant(replace(ready, rate_limit_per_minute=0))
    app = create_app(assistant.settings, assistant)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    assistant.close()


def test_api_answers_every_generated_request_within_its_schema(api_schema):
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        fuzz_operation(operation)
        checked.append(operation.label)

    assert len(checked) >= 5, checked


def fuzz_operation(operation) -> None:
    """Run one operation's generated cases, stopping at the first failure."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        case.call_and_validate()

    check()
