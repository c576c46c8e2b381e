"""Conflict warnings while typing phrases: the pure check and the studio endpoint."""

from __future__ import annotations

import pytest

from test_admin_support import logged_in_client, post_form
from test_store_support import small_kb
from veiviser.nlu import examples_from_kb, train
from veiviser.service.conflicts import MAX_CHECKED, matching_form, phrase_conflicts
from veiviser.service.staff import Role

pytest_plugins = ["test_store_support", "test_admin_support"]

URL = "/admin/innhold/advarsler"


@pytest.fixture(scope="module")
def model():
    return train(examples_from_kb(small_kb()), None)


def test_matching_form_ignores_case_punctuation_and_aeoeaa_spelling():
    assert matching_form("Hvor mye er LØNNEN??") == matching_form("hvor mye er loennen")


def test_near_duplicate_in_another_intent_names_it_with_similarity():
    kb = small_kb()
    warnings = phrase_conflicts(
        ["hvor mange feriedager har du"], "kontingent", kb, None
    )

    assert len(warnings) == 1
    warning = warnings[0]
    assert warning.kind == "near_duplicate"
    assert warning.other_intent == "ferie"
    assert warning.other_phrase == "hvor mange feriedager har jeg"
    assert 85 <= warning.score < 100


def test_own_phrases_are_not_duplicates():
    kb = small_kb()
    assert phrase_conflicts(["hvor mange feriedager har jeg"], "ferie", kb, None) == []


def test_phrase_the_model_sends_elsewhere_names_intent_and_confidence(model):
    warnings = phrase_conflicts(["ferie i juli"], "innmelding", small_kb(), model)

    assert [(w.kind, w.other_intent) for w in warnings] == [
        ("model_elsewhere", "ferie")
    ]
    assert warnings[0].score >= 60


def test_fine_phrase_gets_no_warning(model):
    kb = small_kb()
    assert phrase_conflicts(["bli med i fagforeningen"], "innmelding", kb, model) == []
    assert phrase_conflicts(["hva er været"], "innmelding", kb, model) == []


def test_only_the_first_phrases_of_a_huge_paste_are_checked(model):
    phrases = ["ferie i juli"] * (MAX_CHECKED + 50)
    warnings = phrase_conflicts(phrases, "innmelding", small_kb(), model)
    assert len(warnings) == MAX_CHECKED


# --- The endpoint ---------------------------------------------------------------


def test_endpoint_flags_both_kinds_with_fix_and_link(assistant):
    client = logged_in_client(assistant, Role.TRAINER)
    response = post_form(
        client,
        URL,
        {"intent_id": "innmelding", "phrases": "hva koster medlemskap\nferie i juli"},
    )

    assert response.status_code == 200
    html = response.text
    assert "«hva koster medlemskap» ligner 95 % på «hva koster medlemskapet»" in html
    assert 'href="/admin/intents/kontingent"' in html
    assert "«ferie i juli» sendes nå til intensjonen" in html
    assert 'href="/admin/intents/ferie"' in html
    assert "slå sammen intensjonene" in html
    assert "data-announce" in html


def test_endpoint_says_when_nothing_conflicts(assistant):
    client = logged_in_client(assistant, Role.EDITOR)
    response = post_form(
        client, URL, {"intent_id": "innmelding", "phrases": "bli med i fagforeningen"}
    )
    assert response.status_code == 200
    assert "Ingen konflikter funnet." in response.text


@pytest.mark.parametrize(
    "phrases",
    [
        "",
        "   \n\n  ",
        '<script>alert("x")</script>',
        "'; DROP TABLE kb_phrase; --",
        "x" * 50_000,
        "\n".join(["ferie i juli"] * 2_000),
        "我想请假 пожалуйста ferie 🏖️",
        "\x00\u202e\u200b",
    ],
    ids=["empty", "blank", "xss", "sql", "huge", "many", "foreign", "control"],
)
def test_endpoint_survives_hostile_input(assistant, phrases):
    client = logged_in_client(assistant, Role.EDITOR)
    response = post_form(client, URL, {"intent_id": "<b>x</b>", "phrases": phrases})

    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "<b>x</b>" not in response.text
    with assistant.sessions() as session:
        from veiviser.store.knowledge import read_knowledge_base

        assert read_knowledge_base(session).intent("ferie").phrases  # untouched


def test_endpoint_refuses_analyst_and_needs_csrf(assistant):
    analyst = logged_in_client(assistant, Role.ANALYST)
    assert post_form(analyst, URL, {"phrases": "ferie"}).status_code == 403
    editor = logged_in_client(assistant, Role.EDITOR)
    response = editor.post(URL, data={"phrases": "ferie"}, follow_redirects=False)
    assert response.status_code in (400, 403)


def test_studio_phrase_fields_ask_for_warnings(admin_client):
    html = admin_client.get("/admin/intents/ferie").text
    assert 'data-check="/admin/innhold/advarsler"' in html
    assert 'data-check-intent="ferie"' in html
    new = admin_client.get("/admin/intents/new").text
    assert 'data-check-target="#new-phrase-warnings"' in new


# --- In the browser -----------------------------------------------------------------


@pytest.mark.browser
def test_typing_a_near_duplicate_shows_and_announces_the_warning(tmp_path):
    import os

    from servers import CHROMIUM, chromium_args, veiviser_server
    from test_admin_browser import KB, _setup_link

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    (tmp_path / "kb.yaml").write_text(KB, encoding="utf-8")
    with (
        veiviser_server(tmp_path, kb=tmp_path / "kb.yaml") as app,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        page = browser.new_page(locale="nb-NO")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(_setup_link(app))
        page.get_by_label("Brukernavn").fill("sjefen")
        page.get_by_label("Passord", exact=True).fill("et-godt-passord")
        page.get_by_label("Gjenta passordet").fill("et-godt-passord")
        page.get_by_role("button", name="Opprett administrator").click()
        page.get_by_role("heading", name="Start").wait_for()

        page.goto(app.url + "/admin/intents/innmelding")
        field = page.get_by_label("Nye fraser")
        field.focus()
        page.keyboard.type("hva koster medlemskapet?")

        warning = page.locator("#phrase-warnings")
        warning.get_by_text("ligner", exact=False).wait_for(timeout=30_000)
        # Both kinds: the near duplicate and the model's other intent.
        assert warning.get_by_role("link", name="Kontingent").count() == 2
        assert warning.get_by_text("sendes nå til", exact=False).count() == 1
        page.wait_for_function(
            "document.getElementById('live').textContent.includes('advarsler')",
            timeout=10_000,
        )
        # Warnings are advice: the phrase can still be saved.
        page.get_by_role("button", name="Legg til fraser").click()
        page.get_by_text("hva koster medlemskapet?").first.wait_for()
        browser.close()
    assert errors == []
