"""The dialogue rules, each on a small knowledge base with a real model."""

from __future__ import annotations

import pytest

from test_store_support import SMALL_KB, small_kb
from veiviser.content import KnowledgeBase
from veiviser.dialogue import ConversationState, KnowledgeView, greeting, take_turn
from veiviser.dialogue.turn import MAX_OFFERS, Reply
from veiviser.nlu import NluModel, examples_from_kb, train


class Conversation:
    """A conversation with the dialogue alone: no storage, no HTTP."""

    def __init__(self, kb: KnowledgeBase, model: NluModel) -> None:
        self.view = KnowledgeView(kb)
        self.model = model
        self.state = ConversationState()

    def say(self, text: str) -> Reply:
        reply, self.state = take_turn(self.state, text, self.model.classify, self.view)
        return reply


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return small_kb()


@pytest.fixture(scope="module")
def model(kb: KnowledgeBase) -> NluModel:
    return train(examples_from_kb(kb), None)


@pytest.fixture
def chat(kb, model) -> Conversation:
    return Conversation(kb, model)


def labels(reply: Reply) -> list[str]:
    return [button.label for button in reply.buttons]


def test_greeting_names_the_assistant_and_the_organisation(kb):
    reply = greeting(KnowledgeView(kb))

    assert reply.outcome == "greeting"
    assert "Veiviser" in reply.html and "Testforbundet" in reply.html


def test_confident_question_is_answered_with_its_follow_ups(chat):
    reply = chat.say("hvor mange feriedager har jeg")

    assert reply.outcome == "answer"
    assert reply.intent == "ferie"
    assert "<strong>25 virkedager</strong>" in reply.html
    assert labels(reply) == ["Kontingent"]


def test_follow_up_uses_its_own_label_when_given(chat):
    assert labels(chat.say("hva koster medlemskapet")) == ["Ferie?"]


def test_button_and_typed_text_give_the_same_reply(kb, model):
    pressed_chat, typed_chat = Conversation(kb, model), Conversation(kb, model)
    button = pressed_chat.say("kontingent").buttons[0]
    typed_chat.say("kontingent")

    pressed = pressed_chat.say(button.payload)
    typed = typed_chat.say("  FERIE?? ")

    assert pressed == typed
    assert pressed.intent == "ferie"


def test_close_candidates_are_offered_as_two_or_three_buttons(model):
    data = SMALL_KB | {
        "intents": [
            *SMALL_KB["intents"],
            {
                "id": "feriepenger",
                "title": "Feriepenger",
                "phrases": SMALL_KB["intents"][0]["phrases"],
                "answer": "Feriepenger er 12 %.",
            },
        ]
    }
    twin_kb = KnowledgeBase.model_validate(data)
    chat = Conversation(twin_kb, train(examples_from_kb(twin_kb), None))

    reply = chat.say("ferie")

    assert reply.outcome == "clarify"
    assert 2 <= len(reply.buttons) <= 3
    assert set(labels(reply)) >= {"Ferie og feriepenger", "Feriepenger"}
    chosen = chat.say("Feriepenger")
    assert (chosen.outcome, chosen.intent) == ("answer", "feriepenger")


def test_two_questions_in_one_message_are_both_answered(chat):
    reply = chat.say("hvor mange feriedager har jeg? hva koster medlemskapet?")

    assert reply.outcome == "multi"
    assert reply.intents == ("ferie", "kontingent")
    assert "25 virkedager" in reply.html and "1 % av lønnen" in reply.html


def test_two_long_answers_answer_the_first_and_offer_the_second(kb):
    long_kb = kb.model_copy(deep=True)
    for intent in long_kb.intents:
        intent.answer = intent.answer + "\n\n" + "Mer tekst. " * 90
    chat = Conversation(long_kb, train(examples_from_kb(long_kb), None))

    reply = chat.say("hvor mange feriedager har jeg? hva koster medlemskapet?")

    assert reply.outcome == "multi"
    assert "25 virkedager" in reply.html and "1 % av lønnen" not in reply.html
    assert labels(reply)[0] == "Kontingent"
    assert chat.say("Kontingent").intent == "kontingent"


def test_decline_is_polite_with_the_tip_and_related_suggestions(chat):
    reply = chat.say("hva slags dekk bør jeg ha på bilen om vinteren")

    assert reply.outcome == "fallback"
    assert reply.intent is None
    assert "Beklager" in reply.html
    assert "ett kort spørsmål om gangen" in reply.html
    assert "Snakk med en person" not in labels(reply)


def test_two_declines_in_a_row_offer_a_person(chat):
    chat.say("hvem vant fotballkampen")
    second = chat.say("oppskrift på vafler")

    assert second.outcome == "fallback"
    assert "Snakk med en person" in labels(second)
    assert "snakke med en person" in second.html
    handover = chat.say("Snakk med en person")
    assert handover.outcome == "handover"
    assert "tel:22334455" in handover.html


def test_an_answer_between_declines_resets_the_count(chat):
    chat.say("hvem vant fotballkampen")
    chat.say("ferie")
    reply = chat.say("oppskrift på vafler")

    assert reply.outcome == "fallback"
    assert "Snakk med en person" not in labels(reply)
    assert chat.state.declines_in_row == 1


def test_handover_marked_intent_is_answered_and_a_person_offered(chat):
    reply = chat.say("jeg vil bli medlem")

    assert (reply.outcome, reply.intent) == ("answer", "innmelding")
    assert "Meld deg inn" in reply.html
    assert labels(reply)[0] == "Snakk med en person"


def test_accepting_the_person_gives_contact_details_and_opening_hours(chat):
    chat.say("jeg vil bli medlem")
    reply = chat.say("snakk med en person")

    assert reply.outcome == "handover"
    assert "mailto:post@testforbundet.example" in reply.html
    assert "Hverdager 09–15" in reply.html


def test_asking_for_a_person_is_a_handover(chat):
    reply = chat.say("jeg vil snakke med et menneske")

    assert (reply.outcome, reply.intent) == ("handover", "snakke_med_menneske")


def test_draft_intents_are_never_answered(kb, model):
    view = KnowledgeView(kb)

    assert view.intent("utkast") is None
    assert (
        "Skal aldri vises" not in Conversation(kb, model).say("dette er et utkast").html
    )


def test_handover_without_contact_details_still_helps(model):
    bare = small_kb(organisation={"name": "Lite forbund"})
    chat = Conversation(bare, model)
    chat.say("jeg vil bli medlem")

    reply = chat.say("Snakk med en person")

    assert reply.outcome == "handover"
    assert "Lite forbund" in reply.html


def test_broken_stored_state_starts_afresh():
    for stored in [None, [], "x", {"declines_in_row": "7", "offers": [1]}]:
        assert ConversationState.from_json(stored) == ConversationState()


def test_remembered_buttons_are_bounded(chat):
    for _ in range(MAX_OFFERS):
        chat.say("ferie")
        chat.say("kontingent")
        chat.say("jeg vil bli medlem")
    assert len(chat.state.offers) <= MAX_OFFERS


def test_texts_from_the_knowledge_base_override_and_fill_placeholders(model):
    kb = small_kb(
        texts={"fallback": "Nei, {organisation} vet ikke {ukjent}.", "extra": "x"}
    )
    reply = Conversation(kb, model).say("hvem vant fotballkampen")

    assert "Nei, Testforbundet vet ikke {ukjent}." in reply.html


def test_state_round_trips_through_json(chat):
    chat.say("ferie")
    assert ConversationState.from_json(chat.state.to_json()) == chat.state
