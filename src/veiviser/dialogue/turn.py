"""One turn of a conversation: a masked message in, a reply and new state out.

The rules, in the order they apply:

1. Text equal to a button the assistant offered in this conversation does
   what the button does, so pressing a button and typing its text give the
   same reply.
2. A confident intent is answered; the "person" intent is a handover; an
   intent with the handover mark is answered and a person is offered.
3. Close candidates are offered as two or three buttons (clarify).
4. Two questions are both answered, or the first answered and the second
   offered when both answers together would be too long to read.
5. Anything else is declined with related suggestions and the tip to ask one
   short question at a time; two declines in a row offer a person.
6. After a thumbs down, a wish for help (the "person" intent, or a message
   the assistant cannot answer) goes straight to a person.

A ``handover`` reply carries why a person was offered (``asked``, ``offer``,
``declines``, ``thumbs_down``); the service layer replaces its text with what
is possible right now (a live advisor, or a message left for later).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from veiviser.content import Intent
from veiviser.dialogue.view import KnowledgeView
from veiviser.nlu.decision import Candidate, Decision
from veiviser.text import normalize

Outcome = Literal["greeting", "answer", "clarify", "multi", "fallback", "handover"]
Classify = Callable[[str], Decision]

HANDOVER_ACTION = "handover"
# Why a person was offered; the action of a person button names it.
ASKED = "asked"
OFFER = "offer"
DECLINES = "declines"
THUMBS_DOWN = "thumbs_down"
INTENT_ACTION = "intent:"
# Above this many characters two answers are too much for one chat bubble.
MULTI_MAX_CHARS = 1400
# Suggestions after a decline must be at least this likely to be related.
SUGGESTION_FLOOR = 0.05
MAX_SUGGESTIONS = 3
MAX_CLARIFY = 3
# Buttons remembered per conversation; older ones fall back to understanding.
MAX_OFFERS = 30
DECLINES_BEFORE_PERSON = 2


@dataclass(frozen=True)
class Button:
    """A button under a reply.

    Attributes:
        label: what the member sees.
        payload: the text sent when the button is pressed; typing the same
            text gives the same reply.
        action: what the button does (``intent:<id>`` or ``handover``); kept
            in the conversation state, never shown.
    """

    label: str
    payload: str
    action: str


@dataclass(frozen=True)
class Reply:
    """What the assistant answers, and the decision behind it."""

    outcome: Outcome
    html: str
    intent: str | None = None
    intents: tuple[str, ...] = ()
    confidence: float | None = None
    buttons: tuple[Button, ...] = ()
    alternatives: tuple[Candidate, ...] = ()
    handover_reason: str | None = None


@dataclass(frozen=True)
class ConversationState:
    """What the dialogue remembers between turns (stored as JSON).

    Attributes:
        declines_in_row: fallbacks since the last reply that was not one.
        offers: normalised button text to action, for the buttons offered so
            far (the newest ``MAX_OFFERS``).
        disliked: the member's last rating was a thumbs down and nothing was
            asked since.
        handover_reason: why a person was last offered, for the handover.
    """

    declines_in_row: int = 0
    offers: dict[str, str] = field(default_factory=dict)
    disliked: bool = False
    handover_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The state as plain JSON data."""
        return {
            "declines_in_row": self.declines_in_row,
            "offers": dict(self.offers),
            "disliked": self.disliked,
            "handover_reason": self.handover_reason,
        }

    @classmethod
    def from_json(cls, data: Any) -> ConversationState:
        """Read stored state; anything malformed is treated as a fresh start."""
        if not isinstance(data, dict):
            return cls()
        declines = data.get("declines_in_row")
        offers = data.get("offers")
        reason = data.get("handover_reason")
        return cls(
            declines_in_row=declines if isinstance(declines, int) else 0,
            offers={str(k): str(v) for k, v in offers.items() if isinstance(v, str)}
            if isinstance(offers, dict)
            else {},
            disliked=data.get("disliked") is True,
            handover_reason=reason if isinstance(reason, str) else None,
        )


def greeting(view: KnowledgeView) -> Reply:
    """The reply that opens a conversation."""
    return Reply("greeting", view.text_html("greeting"))


def take_turn(
    state: ConversationState, text: str, classify: Classify, view: KnowledgeView
) -> tuple[Reply, ConversationState]:
    """Decide the reply to one (masked, cleaned) member message.

    Args:
        state: the conversation's state before this message.
        text: the member's message, cleaned and with personal data masked.
        classify: the model's classify function.
        view: the knowledge base the model was trained on.

    Returns:
        The reply and the conversation's new state.
    """
    action = state.offers.get(normalize(text))
    if action is not None:
        reply = _act(action, view)
    else:
        reply = _reply_to(classify(text), view)
    if state.disliked and reply.outcome in ("fallback", "handover"):
        # A thumbs down and then a wish for help: no second attempt.
        reply = _handover(view, THUMBS_DOWN)

    declines = state.declines_in_row + 1 if reply.outcome == "fallback" else 0
    if declines >= DECLINES_BEFORE_PERSON:
        reply = _with_person_offer(reply, view)

    offers = _remember(state.offers, reply.buttons)
    new_state = ConversationState(
        declines_in_row=declines,
        offers=offers,
        handover_reason=reply.handover_reason or state.handover_reason,
    )
    return reply, new_state


def remember_buttons(state: ConversationState, reply: Reply) -> ConversationState:
    """The state after showing ``reply`` without a member message (greeting)."""
    return replace(state, offers=_remember(state.offers, reply.buttons))


def after_thumbs_down(
    state: ConversationState, view: KnowledgeView
) -> ConversationState:
    """The state after a thumbs down: a wish for help now reaches a person.

    The person button's text is remembered too, so a browser that offers it
    after the rating gets a person whatever the model makes of the words.
    """
    person = _person_button(view, THUMBS_DOWN)
    return replace(state, disliked=True, offers=_remember(state.offers, (person,)))


def _remember(offers: dict[str, str], buttons: tuple[Button, ...]) -> dict[str, str]:
    remembered = dict(offers)
    for button in buttons:
        key = normalize(button.payload)
        # Re-inserting moves the key to the end, so the newest offers survive.
        remembered.pop(key, None)
        remembered[key] = button.action
    while len(remembered) > MAX_OFFERS:
        del remembered[next(iter(remembered))]
    return remembered


def _act(action: str, view: KnowledgeView) -> Reply:
    if action == HANDOVER_ACTION or action.startswith(HANDOVER_ACTION + ":"):
        reason = action.partition(":")[2] or OFFER
        return _handover(view, reason)
    intent = view.intent(action.removeprefix(INTENT_ACTION))
    if intent is None:
        # The button's intent was removed since it was offered.
        return _fallback(Decision("decline", (), 0.0), view)
    return _answer(intent, view, confidence=1.0)


def _reply_to(decision: Decision, view: KnowledgeView) -> Reply:
    if decision.kind == "answer":
        intent = view.intent(decision.intent)
        if intent is not None:
            return _answer(intent, view, decision.confidence, decision.alternatives)
    if decision.kind == "multi":
        return _multi(decision, view)
    if decision.kind == "clarify":
        return _clarify(decision, view)
    return _fallback(decision, view)


def _answer(
    intent: Intent,
    view: KnowledgeView,
    confidence: float,
    alternatives: tuple[Candidate, ...] = (),
) -> Reply:
    outcome: Outcome = "handover" if intent.id == view.handover_intent else "answer"
    buttons = _followups(intent, view)
    # A follow-up to the "person" intent already offers a person.
    offers_person = any(
        b.action == INTENT_ACTION + view.handover_intent for b in buttons
    )
    if intent.handover and outcome == "answer" and not offers_person:
        buttons = (_person_button(view), *buttons)
    return Reply(
        outcome,
        view.answer_html(intent),
        intent=intent.id,
        intents=(intent.id,),
        confidence=confidence,
        buttons=buttons,
        alternatives=alternatives,
        handover_reason=ASKED if outcome == "handover" else None,
    )


def _followups(intent: Intent, view: KnowledgeView) -> tuple[Button, ...]:
    buttons = []
    for button in intent.buttons:
        target = view.intent(button.intent)
        if target is not None:
            buttons.append(_intent_button(target, view, button.label))
    return tuple(buttons)


def _intent_button(
    intent: Intent, view: KnowledgeView, label: str | None = None
) -> Button:
    text = label or intent.title
    return Button(text, text, INTENT_ACTION + intent.id)


def _person_button(view: KnowledgeView, reason: str = OFFER) -> Button:
    text = view.texts.get("person_button")
    action = HANDOVER_ACTION if reason == OFFER else f"{HANDOVER_ACTION}:{reason}"
    return Button(text, text, action)


def _handover(view: KnowledgeView, reason: str) -> Reply:
    # The contact details stand in for the live flow where there is none
    # (the terminal chat); the service layer replaces them with what is
    # possible right now.
    person = view.intent(view.handover_intent)
    return Reply(
        "handover",
        view.contact_html,
        intent=person.id if person is not None else None,
        intents=(person.id,) if person is not None else (),
        confidence=1.0,
        handover_reason=reason,
    )


def _multi(decision: Decision, view: KnowledgeView) -> Reply:
    found = [view.intent(intent_id) for intent_id in decision.intents]
    first, second = [*found, None, None][:2]
    if first is None or second is None:
        single = first or second
        if single is None:
            return _fallback(decision, view)
        return _answer(single, view, decision.confidence, decision.alternatives)
    both = multi_shows_both(first, second)
    person = (_person_button(view),) if first.handover or second.handover else ()
    second_html = view.answer_html(second) if both else None
    html = multi_html(view, view.answer_html(first), second_html)
    buttons = person if both else (_intent_button(second, view), *person)
    return Reply(
        "multi",
        html,
        intent=first.id,
        intents=(first.id, second.id),
        confidence=decision.confidence,
        buttons=buttons,
        alternatives=decision.alternatives,
    )


def multi_shows_both(first: Intent, second: Intent) -> bool:
    """Whether two answers fit one reply; if not, the second is offered."""
    return len(first.answer) + len(second.answer) <= MULTI_MAX_CHARS


def multi_html(view: KnowledgeView, first_html: str, second_html: str | None) -> str:
    """The text of a two-question reply.

    Personal answers (``dialogue.personal``) rebuild a stored multi reply
    with this, so both layouts are written in one place.

    Args:
        view: the knowledge base's texts.
        first_html: the first answer as shown.
        second_html: the second answer as shown; None when it is offered
            with a button instead.
    """
    if second_html is None:
        return view.text_html("multi_offer") + "\n" + first_html
    return "\n".join([view.text_html("multi_intro"), first_html, "<hr>", second_html])


def _clarify(decision: Decision, view: KnowledgeView) -> Reply:
    offered = _active(decision.intents, view)[:MAX_CLARIFY]
    if len(offered) < 2:
        # The policy may name only one close candidate; the runner-up makes two.
        ranked = _active([c.intent for c in decision.alternatives], view)
        offered = (offered + [i for i in ranked if i not in offered])[:2]
    if len(offered) < 2:
        return _fallback(decision, view)
    return Reply(
        "clarify",
        view.text_html("clarify"),
        intents=tuple(intent.id for intent in offered),
        confidence=decision.confidence,
        buttons=tuple(_intent_button(intent, view) for intent in offered),
        alternatives=decision.alternatives,
    )


def _active(intent_ids: Sequence[str], view: KnowledgeView) -> list[Intent]:
    found: list[Intent] = []
    for intent_id in intent_ids:
        intent = view.intent(intent_id)
        if intent is not None and intent not in found:
            found.append(intent)
    return found


def _fallback(decision: Decision, view: KnowledgeView) -> Reply:
    suggestions = []
    for candidate in decision.alternatives:
        intent = view.intent(candidate.intent)
        if intent is not None and candidate.confidence >= SUGGESTION_FLOOR:
            suggestions.append(intent)
        if len(suggestions) == MAX_SUGGESTIONS:
            break
    parts = [view.text_html("fallback"), view.text_html("fallback_tip")]
    if suggestions:
        parts.append(view.text_html("fallback_suggestions"))
    return Reply(
        "fallback",
        "\n".join(parts),
        confidence=decision.confidence,
        buttons=tuple(_intent_button(intent, view) for intent in suggestions),
        alternatives=decision.alternatives,
    )


def _with_person_offer(reply: Reply, view: KnowledgeView) -> Reply:
    person = _person_button(view, DECLINES)
    if any(button.label == person.label for button in reply.buttons):
        return reply
    return replace(
        reply,
        html=reply.html + "\n" + view.text_html("offer_person"),
        buttons=(*reply.buttons, person),
    )
