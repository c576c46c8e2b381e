"""The regression guard: questions that must keep reaching their intent.

An editor marks questions as "must keep working" with the intent they must
reach (the text is masked before it is stored). Every studio save that could
change answers is judged against them.

How a save is checked. Where the model the change would bring can be made
in memory within about a second, the guard judges the change *before* it is
saved (:func:`foresee`): adding phrases or creating an intent (the same
provisional model the studio's ``LiveTrainer`` would store, see
:func:`veiviser.service.training.provisional_model`) and archiving an intent
(the model in use with that intent's class switched off,
:func:`without_intent`). A question *breaks* when it reaches its intent with
the model in use and would not with the candidate; if any break, nothing is
saved until the editor confirms, having seen which (question, expected,
would become).

Every other edit (removing phrases, drafting an intent, answers, buttons)
is checked *after* it is live: the save records a :class:`GuardCheck`, and
as soon as a model of that revision (or newer) is in use in the process the
editor's page polls, :func:`run_pending` classifies every guard question
with it. There a question breaks when it reached its intent at the previous
check and does not now; a question that was already failing is not blamed
on this edit. If any break, the editor chooses: keep the change, or undo it
(:func:`decide`), which saves the intent as it was before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import Intent, KnowledgeBase
from veiviser.errors import InvalidInput, NotFound, VeiviserError
from veiviser.nlu import NluModel
from veiviser.service import editing
from veiviser.store.models import ModelVersion, utc_now
from veiviser.store.models_admin import ArchivedIntent
from veiviser.store.models_health import GuardCheck, GuardQuestion
from veiviser.text import clean_message, normalize
from veiviser.text.masking import mask_personal_data

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
MAX_QUESTIONS = 2_000
PENDING, CHECKING, PASSED, BROKEN = "pending", "checking", "passed", "broken"
KEPT, UNDONE = "kept", "undone"
ACTIONS = ("create", "save", "archive")


class GuardInvalid(InvalidInput):
    """A guard question is empty, too long, or names no known intent.

    ``reason`` is one of ``empty``, ``too_long``, ``unknown_intent``,
    ``too_many``; the admin page shows its own Norwegian text for it.
    """

    code = "guard_invalid"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


class UndoRefused(VeiviserError):
    """The edit cannot be undone: someone changed the intent since, or it is gone."""

    status = 409
    code = "undo_refused"


@dataclass(frozen=True)
class Outcome:
    """What the model does with one guard question now."""

    question_id: int
    text: str
    expected: str
    ok: bool
    kind: str
    answered: str | None
    confidence: float


@dataclass(frozen=True)
class QuestionView:
    """One guard question for the list page.

    ``state`` of the expected intent: ``active``, ``draft``, ``archived`` or
    ``missing``.
    """

    id: int
    text: str
    expected: str
    expected_title: str
    state: str
    last_ok: bool | None
    last_answer: str | None
    created_by: str


# --- Questions --------------------------------------------------------------------


def add_question(
    sessions: sessionmaker[Session],
    text: str,
    expected: str,
    actor: str,
    model: NluModel | None = None,
) -> int:
    """Guard a question (masked) with its expected intent; returns its id.

    The same (masked) question guarded again gets the new expected intent.
    With ``model``, the question's current outcome is recorded, so the first
    edit after it only flags it when it worked before.

    Raises:
        GuardInvalid: the text is empty or too long, the intent unknown, or
            there are already ``MAX_QUESTIONS``.
    """
    masked = _clean(text)
    kb = editing.knowledge_base(sessions)
    if expected not in {intent.id for intent in kb.intents}:
        raise GuardInvalid(f"No intent has the id {expected[:63]!r}.", "unknown_intent")
    outcome = _classify(model, masked, expected) if model is not None else None
    with sessions.begin() as session:
        row = session.scalars(
            select(GuardQuestion).where(GuardQuestion.text == masked)
        ).first()
        if row is None:
            if _count(session) >= MAX_QUESTIONS:
                raise GuardInvalid("There are too many guard questions.", "too_many")
            row = GuardQuestion(text=masked, expected_intent=expected, created_by=actor)
            session.add(row)
        row.expected_intent = expected
        if outcome is not None:
            row.last_ok, row.last_answer = outcome
        session.flush()
        question_id = row.id
    log.info("guard question %d set by %s", question_id, actor)
    return question_id


def _clean(text: str) -> str:
    try:
        cleaned = clean_message(text, MAX_QUESTION_CHARS)
    except InvalidInput as error:
        reason = "too_long" if error.code == "message_too_long" else "empty"
        raise GuardInvalid(error.message, reason) from None
    return mask_personal_data(cleaned).text[:MAX_QUESTION_CHARS]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(GuardQuestion)) or 0


def _classify(model: NluModel, text: str, expected: str) -> tuple[bool, str | None]:
    decision = model.classify(text)
    ok = decision.kind in ("answer", "multi") and expected in decision.intents
    return ok, decision.intents[0] if decision.intents else None


def remove_question(sessions: sessionmaker[Session], question_id: int) -> None:
    """Stop guarding a question.

    Raises:
        NotFound: no guard question has this id.
    """
    with sessions.begin() as session:
        removed = session.execute(
            delete(GuardQuestion).where(GuardQuestion.id == question_id)
        ).rowcount
    if not removed:
        raise NotFound(f"No guard question has the id {question_id}.")


def list_questions(sessions: sessionmaker[Session]) -> list[QuestionView]:
    """Every guard question, with the state of its expected intent."""
    kb = editing.knowledge_base(sessions)
    with sessions() as session:
        rows = session.scalars(select(GuardQuestion).order_by(GuardQuestion.id)).all()
        archived = dict(
            session.execute(
                select(ArchivedIntent.intent_id, ArchivedIntent.title)
            ).all()
        )
    intents = {intent.id: intent for intent in kb.intents}
    views = []
    for row in rows:
        intent = intents.get(row.expected_intent)
        if intent is not None:
            state, title = intent.status, intent.title
        elif row.expected_intent in archived:
            state, title = "archived", archived[row.expected_intent]
        else:
            state, title = "missing", row.expected_intent
        views.append(
            QuestionView(
                row.id,
                row.text,
                row.expected_intent,
                title,
                state,
                row.last_ok,
                row.last_answer,
                row.created_by,
            )
        )
    return views


# --- Classifying -------------------------------------------------------------------


def evaluate(
    model: NluModel, questions: Sequence[tuple[int, str, str]]
) -> list[Outcome]:
    """Classify guard questions ``(id, text, expected)`` with ``model``."""
    decisions = model.classify_many([text for _, text, _ in questions])
    outcomes = []
    for (question_id, text, expected), decision in zip(
        questions, decisions, strict=True
    ):
        ok = decision.kind in ("answer", "multi") and expected in decision.intents
        outcomes.append(
            Outcome(
                question_id,
                text,
                expected,
                ok,
                decision.kind,
                decision.intents[0] if decision.intents else None,
                decision.confidence,
            )
        )
    return outcomes


# --- Judging a change before it is saved ------------------------------------------


@dataclass(frozen=True)
class Foresight:
    """What a change would do to the guard questions, judged before saving.

    Attributes:
        broken: questions that work now and would not after the change, as
            dicts shaped like :attr:`GuardCheck.broken`.
        outcomes: every question's outcome with the candidate model, stored
            with :func:`settle` once the change is saved.
    """

    broken: list[dict[str, Any]]
    outcomes: list[Outcome]


def has_questions(sessions: sessionmaker[Session]) -> bool:
    """Whether any question is guarded (else a save needs no judging)."""
    with sessions() as session:
        return session.scalars(select(GuardQuestion.id).limit(1)).first() is not None


def foresee(
    sessions: sessionmaker[Session], current: NluModel, candidate: NluModel
) -> Foresight:
    """Which guard questions work with ``current`` and would not with ``candidate``."""
    questions = _questions(sessions)
    now = evaluate(current, questions)
    then = evaluate(candidate, questions)
    broken = [
        _broken_row(after)
        for before, after in zip(now, then, strict=True)
        if before.ok and not after.ok
    ]
    return Foresight(broken, then)


def with_phrases(
    kb: KnowledgeBase, intent_id: str, texts: Sequence[str]
) -> KnowledgeBase:
    """``kb`` as it would be with ``texts`` added to the intent (duplicates skipped).

    Mirrors :func:`veiviser.service.editing.add_phrases` without saving; an
    unknown intent leaves ``kb`` as it is (the save then says why).
    """
    intents = []
    for intent in kb.intents:
        if intent.id == intent_id:
            known = {normalize(p) for p in intent.phrases}
            new = []
            for text in (t.strip() for t in texts):
                if text and normalize(text) not in known:
                    new.append(text)
                    known.add(normalize(text))
            intent = intent.model_copy(update={"phrases": [*intent.phrases, *new]})
        intents.append(intent)
    return kb.model_copy(update={"intents": intents})


def with_intent(kb: KnowledgeBase, intent: Intent) -> KnowledgeBase:
    """``kb`` as it would be with ``intent`` saved (added or replacing its id)."""
    others = [i for i in kb.intents if i.id != intent.id]
    return kb.model_copy(update={"intents": [*others, intent]})


# Limitation: the archive is judged with the model in use minus one class, not
# with a model trained without it; a full training may rank the remaining
# intents slightly differently. The after-the-fact check of the next guarded
# save shows any difference.
def without_intent(model: NluModel, intent_id: str) -> NluModel:
    """``model`` as if ``intent_id`` were archived, without retraining.

    The class's bias is set to minus infinity, so its calibrated probability
    is zero and the rest share what it held: questions move to the intent
    the model ranks next, or are clarified or declined as the policy says.
    A full training without the intent may rank the rest slightly
    differently; this is the honest quick estimate.
    """
    if intent_id not in model.classes:
        return model
    bias = model.linear.bias.copy()
    bias[model.classes.index(intent_id)] = -np.inf
    return replace(model, linear=replace(model.linear, bias=bias))


def settle(sessions: sessionmaker[Session], outcomes: Sequence[Outcome]) -> None:
    """Store each question's outcome after a change judged beforehand was saved."""
    _store_outcomes(sessions, outcomes, None)


def _questions(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with sessions() as session:
        rows = session.scalars(select(GuardQuestion).order_by(GuardQuestion.id)).all()
        return [(r.id, r.text, r.expected_intent) for r in rows]


def _broken_row(outcome: Outcome) -> dict[str, Any]:
    return {
        "question_id": outcome.question_id,
        "text": outcome.text,
        "expected": outcome.expected,
        "kind": outcome.kind,
        "answered": outcome.answered,
        "confidence": round(outcome.confidence, 4),
    }


def _store_outcomes(
    sessions: sessionmaker[Session], outcomes: Sequence[Outcome], revision: int | None
) -> None:
    with sessions.begin() as session:
        for o in outcomes:
            values: dict[str, Any] = {"last_ok": o.ok, "last_answer": o.answered}
            if revision is not None:
                values["last_revision"] = revision
            session.execute(
                update(GuardQuestion)
                .where(GuardQuestion.id == o.question_id)
                .values(**values)
            )


# --- Checking edits after they are saved ---------------------------------------------


# Limitation: imports and rollbacks are not guarded (they change many
# intents at once; an undo would need the revision history); the list page
# shows their effect after the next guarded save.
def record_edit(
    sessions: sessionmaker[Session],
    saved_revision: int,
    intent_id: str,
    action: str,
    before: dict[str, Any] | None,
    version_after: int | None,
    actor: str,
) -> int | None:
    """Remember a saved edit for the guard to check; None when nothing is guarded.

    Args:
        saved_revision: the knowledge-base revision the save produced.
        intent_id: the intent that changed.
        action: ``create``, ``save`` or ``archive`` (what undo reverses).
        before: the intent as it was (``Intent.model_dump(mode="json")``),
            None for a new intent.
        version_after: the intent's version after the save, so an undo can
            tell whether someone changed it since.
        actor: who saved.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown guard action {action!r}")
    with sessions.begin() as session:
        if session.scalars(select(GuardQuestion.id).limit(1)).first() is None:
            return None
        row = GuardCheck(
            kb_revision=saved_revision,
            intent_id=intent_id,
            action=action,
            before={"intent": before, "version_after": version_after},
            actor=actor,
            status=PENDING,
            broken=[],
        )
        session.add(row)
        session.flush()
        return row.id


def check_for_revision(
    sessions: sessionmaker[Session], revision: int
) -> GuardCheck | None:
    """The newest guard check of the save that produced ``revision``."""
    with sessions() as session:
        return session.scalars(
            select(GuardCheck)
            .where(GuardCheck.kb_revision == revision)
            .order_by(GuardCheck.id.desc())
            .limit(1)
        ).first()


def load_check(sessions: sessionmaker[Session], check_id: int) -> GuardCheck:
    """A guard check by id.

    Raises:
        NotFound: no check has this id.
    """
    with sessions() as session:
        row = session.get(GuardCheck, check_id)
    if row is None:
        raise NotFound(f"No guard check has the id {check_id}.")
    return row


# Limitation: a second quick edit on top of a pending removal is stored with
# ``removed == 0`` and is judged before the full training; record pending
# removals in the model's stats to close that gap. If the full training fails,
# the check waits (the page's live status says why).
def can_judge(sessions: sessionmaker[Session], model_id: int) -> bool:
    """Whether a model shows the effect of the edits it was made for.

    A provisional model (see ``LiveTrainer``) only learns *added* phrases;
    when phrases were removed (or an intent drafted or archived) the guard
    waits for the full training, which forgets them.
    """
    with sessions() as session:
        row = session.get(ModelVersion, model_id)
    stats = row.stats if row is not None else {}
    return not (stats.get("provisional") and stats.get("removed", 0))


# Limitation: the edits judged here (removing phrases, drafting an intent,
# answers, buttons) are live for the seconds between the provisional model
# and the editor's choice, so members may meet them meanwhile: a provisional
# model cannot unlearn removed phrases (veiviser.nlu.model.update only adds),
# so their effect shows only after a full training. A hook in LiveTrainer
# between a full training and loading its model would retire this.
def run_pending(
    sessions: sessionmaker[Session], model: NluModel, model_id: int, revision: int
) -> int:
    """Evaluate the pending checks of saves up to ``revision`` with ``model``.

    Each check is claimed with a conditional update first, so when several
    processes poll at once only one evaluates it.

    Returns:
        How many checks were evaluated here.
    """
    claimed = _claim(sessions, revision)
    if not claimed:
        return 0
    with sessions() as session:
        rows = session.scalars(select(GuardQuestion).order_by(GuardQuestion.id)).all()
        questions = [(r.id, r.text, r.expected_intent, r.last_ok) for r in rows]
    outcomes = evaluate(model, [(i, t, e) for i, t, e, _ in questions]) if rows else []
    was_ok = {i: last_ok for i, _, _, last_ok in questions}
    broken = [
        _broken_row(o)
        for o in outcomes
        if not o.ok and was_ok.get(o.question_id) is not False
    ]
    _store_outcomes(sessions, outcomes, revision)
    with sessions.begin() as session:
        session.execute(
            update(GuardCheck)
            .where(GuardCheck.id.in_(claimed))
            .values(
                status=BROKEN if broken else PASSED, broken=broken, model_id=model_id
            )
        )
    log.info(
        "guard checked %d edit(s) with model %d: %d question(s) broke",
        len(claimed),
        model_id,
        len(broken),
    )
    return len(claimed)


def _claim(sessions: sessionmaker[Session], revision: int) -> list[int]:
    with sessions() as session:
        waiting = session.scalars(
            select(GuardCheck.id).where(
                GuardCheck.status == PENDING, GuardCheck.kb_revision <= revision
            )
        ).all()
    claimed = []
    for check_id in waiting:
        with sessions.begin() as session:
            taken = session.execute(
                update(GuardCheck)
                .where(GuardCheck.id == check_id, GuardCheck.status == PENDING)
                .values(status=CHECKING)
            ).rowcount
        if taken:
            claimed.append(check_id)
    return claimed


def decide(
    sessions: sessionmaker[Session], check_id: int, keep: bool, actor: str
) -> editing.Saved | None:
    """Keep a change the guard flagged, or undo it.

    Returns:
        The save that undid the change, or None when it was kept.

    Raises:
        NotFound: no check has this id.
        UndoRefused: the check is not waiting for a choice, someone changed
            the intent since, or the change cannot be reversed.
    """
    check = load_check(sessions, check_id)
    if check.status not in (BROKEN, PASSED):
        raise UndoRefused(f"Guard check {check_id} is {check.status}, not open.")
    saved = None if keep else _undo(sessions, check, actor)
    with sessions.begin() as session:
        session.execute(
            update(GuardCheck)
            .where(GuardCheck.id == check_id)
            .values(
                status=KEPT if keep else UNDONE, decided_by=actor, decided_at=utc_now()
            )
        )
    log.info("guard check %d: %s by %s", check_id, "kept" if keep else "undone", actor)
    return saved


def _undo(
    sessions: sessionmaker[Session], check: GuardCheck, actor: str
) -> editing.Saved:
    before = (check.before or {}).get("intent")
    version_after = (check.before or {}).get("version_after")
    try:
        if check.action == "create":
            revision = editing.archive_intent(sessions, check.intent_id, actor)
            return editing.Saved(check.intent_id, 0, revision)
        if before is None:
            raise UndoRefused("There is no earlier state to go back to.")
        if check.action == "archive":
            editing.restore_intent(sessions, check.intent_id, actor)
            version_after = None  # the restore made a fresh draft
        intent = editing.build_intent(before)
        return editing.save_intent(
            sessions,
            intent,
            expected_version=version_after,
            is_new=False,
            actor=actor,
        )
    except editing.EditConflict as error:
        raise UndoRefused(
            f"Intent {check.intent_id!r} was changed after this edit.",
            details=error.details,
        ) from None
    except (NotFound, InvalidInput, editing.IntentInUse) as error:
        raise UndoRefused(error.message, details=error.details) from None


def titles(kb: KnowledgeBase) -> dict[str, str]:
    """Intent titles by id, for showing checks."""
    return {intent.id: intent.title for intent in kb.intents}
