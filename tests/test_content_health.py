"""Intent health: figures on a hand-made base, background recomputation, the page."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from test_admin_support import add_staff, logged_in_client, login
from test_store_support import SMALL_KB, open_assistant
from veiviser.content import KnowledgeBase
from veiviser.nlu import Example
from veiviser.service import editing
from veiviser.service.health import (
    HealthWorker,
    _confused_pairs,
    _per_intent,
    compute_health,
    health_lease,
    read_health,
    refresh_health,
)
from veiviser.service.staff import Role
from veiviser.web import create_app

pytest_plugins = ["test_store_support", "test_admin_support"]

SALARY = [
    "hva er minstelønnen",
    "når får jeg lønn",
    "lønn for deltid",
    "hvor mye tjener en lærling",
    "lønnsslipp forklaring",
    "feil lønn utbetalt",
    "lønnstillegg for kveld",
    "overtidsbetaling",
]
HOLIDAY = [
    "hvor mange feriedager har jeg",
    "hvor mange feriedager har jeg?",
    "når kan jeg ta ferie",
    "feriepenger utbetaling",
    "ferie i juli",
    "kan sjefen nekte meg ferie",
    "ferie og sykdom",
    "overføre ferie til neste år",
]


def _intent(intent_id: str, phrases: list[str]) -> dict:
    return {"id": intent_id, "title": intent_id.title(), "phrases": phrases,
            "answer": "Svar."}  # fmt: skip


def hand_made_kb() -> KnowledgeBase:
    """Two intents sharing most phrases, one thin intent, one with a duplicate."""
    bargaining = [*SALARY[:6], "tariffoppgjøret i år", "lønnsoppgjør resultat"]
    return KnowledgeBase.model_validate(
        {
            "organisation": SMALL_KB["organisation"],
            "intents": [
                _intent("lonn", SALARY),
                _intent("lonnsoppgjor", bargaining),
                _intent("ferie", HOLIDAY),
                _intent("tynn", ["pensjon", "AFP", "tjenestepensjon"]),
            ],
            "decline_examples": SMALL_KB["decline_examples"],
        }
    )


@pytest.fixture(scope="module")
def report() -> dict:
    return compute_health(hand_made_kb(), None)


def test_intent_with_three_phrases_is_listed_as_too_few(report):
    counts = {row["id"]: row["phrases"] for row in report["too_few"]}
    # Every intent here has fewer than 25 phrases; "tynn" has exactly 3.
    assert counts == {"lonn": 8, "lonnsoppgjor": 8, "ferie": 8, "tynn": 3}


def test_intents_sharing_phrases_are_the_top_confused_pair(report):
    top = report["confused"][0]
    assert (top["a"], top["b"]) == ("lonn", "lonnsoppgjor")
    assert top["examples"]
    assert {e["intent"] for e in top["examples"]} <= {"lonn", "lonnsoppgjor"}


def test_heavily_overlapping_intents_are_flagged(report):
    overlap = report["overlaps"][0]
    assert (overlap["a"], overlap["b"]) == ("lonn", "lonnsoppgjor")
    # 6 of 8 phrases of each have an exact twin in the other: 12 of 16.
    assert overlap["share"] == pytest.approx(0.75)


def test_near_duplicates_within_an_intent_are_listed(report):
    pairs = {(d["intent"], d["a"], d["b"]) for d in report["near_duplicates"]}
    assert ("ferie", HOLIDAY[0], HOLIDAY[1]) in pairs


def test_distinct_intent_is_learnt_well(report):
    rows = {row["id"]: row for row in report["intents"]}
    assert rows["ferie"]["recall"] >= 0.75
    assert rows["lonn"]["recall"] < 1.0 or rows["lonnsoppgjor"]["recall"] < 1.0
    assert report["method"] == {
        "folds": 5,
        "max_iter": 150,
        "phrases": 27 + len(SMALL_KB["decline_examples"]),
        "reduced": False,
        "encoder": "none",
    }


def test_precision_and_recall_follow_their_definitions():
    examples = [Example("a1", "a"), Example("a2", "a"), Example("b1", "b"),
                Example("b2", "b"), Example("x", "oos")]  # fmt: skip
    predicted = ["a", "b", "b", "b", "a"]
    intents = [type("I", (), {"id": i, "phrases": [1, 2]})() for i in ("a", "b")]

    rows = {r["id"]: r for r in _per_intent(intents, examples, predicted)}

    # a: 1 right of 2 own phrases; 1 right of 2 answered "a" (one was oos).
    assert (rows["a"]["recall"], rows["a"]["precision"]) == (0.5, 0.5)
    # b: 2 of 2 own; 2 right of 3 answered "b".
    assert (rows["b"]["recall"], rows["b"]["precision"]) == (1.0, 0.6667)
    confused = _confused_pairs(examples, predicted)
    assert [(c["a"], c["b"], c["count"]) for c in confused] == [("a", "b", 1)]


# --- Stored results and the background worker ------------------------------------


def test_result_is_stored_and_an_edit_makes_it_pending_until_recomputed(assistant):
    sessions = assistant.sessions
    assert read_health(sessions, "none").pending
    assert refresh_health(sessions, None)
    first = read_health(sessions, "none")
    assert not first.pending and first.report is not None

    editing.add_phrases(sessions, "ferie", ["ferie i påsken"], "redaktor")
    stale = read_health(sessions, "none")
    assert stale.pending
    assert stale.report_revision == first.report_revision  # stale shown meanwhile

    worker = HealthWorker(sessions, None, debounce=0, retry=0.05)
    worker.request()
    assert worker.wait_idle(120)
    worker.stop()
    fresh = read_health(sessions, "none")
    assert not fresh.pending
    assert fresh.report_revision == stale.current_revision
    ferie = next(r for r in fresh.report["intents"] if r["id"] == "ferie")
    assert ferie["phrases"] == 7


def test_an_answer_edit_carries_the_figures_over(assistant):
    sessions = assistant.sessions
    refresh_health(sessions, None)
    before = read_health(sessions, "none")
    found = editing.load_intent(sessions, "ferie")
    changed = editing.build_intent(
        {**found.intent.model_dump(), "answer": "Nytt svar om ferie."}
    )
    editing.save_intent(
        sessions, changed, expected_version=None, is_new=False, actor="redaktor"
    )

    assert refresh_health(sessions, None)
    after = read_health(sessions, "none")
    assert after.report_revision == before.report_revision + 1
    assert after.report == before.report


def test_only_one_process_computes_at_a_time(assistant):
    with health_lease(assistant.sessions) as taken:
        assert taken
        # Another holder (another process, here another connection) is refused.
        assert refresh_health(assistant.sessions, None) is False
    assert refresh_health(assistant.sessions, None) is True


def test_drafted_intents_leave_the_figures(assistant):
    sessions = assistant.sessions
    for intent_id in ("kontingent", "innmelding", "snakke_med_menneske"):
        found = editing.load_intent(sessions, intent_id)
        draft = editing.build_intent({**found.intent.model_dump(), "status": "draft"})
        editing.save_intent(
            sessions, draft, expected_version=None, is_new=False, actor="r"
        )
    # One active intent and the declines: training still works (oos is a class);
    # the figures list the one intent.
    assert refresh_health(sessions, None)
    view = read_health(sessions, "none")
    assert not view.pending
    assert view.error is None and [r["id"] for r in view.report["intents"]] == ["ferie"]


# --- The page --------------------------------------------------------------------


def test_page_says_pending_then_shows_figures_for_readers(assistant):
    client = logged_in_client(assistant, Role.ANALYST)
    client.app.state.health_debounce = 3600  # the page must not wait for it
    pending = client.get("/admin/innhold/helse")
    assert pending.status_code == 200
    assert (
        "Beregnes" in pending.text
        and 'data-poll="/admin/innhold/helse"' in pending.text
    )

    refresh_health(assistant.sessions, None)
    page = client.get("/admin/innhold/helse").text
    assert "Beregnes" not in page
    assert "Presisjon og treff per intensjon" in page
    assert 'data-too-few="ferie"' in page
    assert 'href="/admin/intents/ferie"' not in page  # analysts cannot open it
    assert "kunnskapsbasens versjon" in page
    fragment = client.get("/admin/innhold/helse", headers={"X-Admin-Fragment": "1"})
    assert "Nye tall er klare." in fragment.text
    client.app.state.health_worker.stop()


@pytest.mark.parametrize("role", [Role.EDITOR, Role.TRAINER])
def test_editors_and_trainers_may_read_the_page(assistant, role):
    client = logged_in_client(assistant, role)
    client.app.state.health_debounce = 3600
    assert client.get("/admin/innhold/helse").status_code == 200
    client.app.state.health_worker.stop()


def test_advisor_may_not_read_the_page(assistant):
    client = logged_in_client(assistant, Role.ADVISOR)
    assert client.get("/admin/innhold/helse").status_code == 403


def test_another_process_shows_the_stored_figures(assistant):
    # A second assistant on the same database stands for a second process.
    other = open_assistant(assistant.settings)
    try:
        refresh_health(assistant.sessions, None)
        client = TestClient(create_app(other.settings, other))
        name = add_staff(other, Role.ANALYST, "annen-prosess")
        assert login(client, name).status_code == 303
        page = client.get("/admin/innhold/helse").text
        revision = read_health(assistant.sessions, "none").report_revision
        assert f"kunnskapsbasens versjon {revision}" in page
        assert "Beregnes" not in page
    finally:
        other.close()


def test_closing_the_database_ends_the_worker(assistant):
    worker = HealthWorker(assistant.sessions, None, debounce=3600)
    worker.request()
    assert worker.running
    assistant.engine.dispose()  # what Assistant.close does at shutdown
    deadline = time.monotonic() + 30
    while worker.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not worker.running
    assert read_health(assistant.sessions, "none").report is None  # never ran
