"""Domain objects of a knowledge base: intents, phrases, answers and groups.

The same objects come from YAML files, from the database and from the admin
pages, so validation lives here once.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

INTENT_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_PHRASE_CHARS = 500
MAX_ANSWER_CHARS = 20_000

# Reserved label for messages the assistant must decline; never an intent id.
OUT_OF_SCOPE = "oos"


def _phrase(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("the text is empty")
    if len(value) > MAX_PHRASE_CHARS:
        raise ValueError(
            f"the text has {len(value)} characters; the limit is {MAX_PHRASE_CHARS}"
        )
    return value


# A training phrase or decline example: one non-empty line of text. Checked
# per item so that a problem is reported at the item's own line.
Phrase = Annotated[str, AfterValidator(_phrase)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Organisation(_Strict):
    """Who the assistant speaks for, shown in answers and the widget."""

    name: str = Field(min_length=1, max_length=200)
    assistant_name: str = Field(default="Veiviser", min_length=1, max_length=80)
    website: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    opening_hours: str | None = Field(default=None, max_length=500)


class Group(_Strict):
    """A topic group that intents belong to (for menus and statistics)."""

    id: str
    title: str = Field(min_length=1, max_length=200)

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not INTENT_ID.match(value):
            raise ValueError(
                f"group id {value!r} must be lower-case letters, digits and _"
            )
        return value


class Button(_Strict):
    """A follow-up button: pressing it asks for another intent's answer."""

    intent: str
    label: str | None = Field(default=None, max_length=120)


class Intent(_Strict):
    """One thing members ask about, with the phrases that teach it."""

    id: str
    title: str = Field(min_length=1, max_length=200)
    group: str | None = None
    status: Literal["active", "draft"] = "active"
    handover: bool = False
    phrases: list[Phrase] = Field(default_factory=list)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    buttons: list[Button] = Field(default_factory=list)
    personal_answer: str | None = Field(default=None, max_length=MAX_ANSWER_CHARS)

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if value == OUT_OF_SCOPE:
            raise ValueError(f"{OUT_OF_SCOPE!r} is reserved for decline examples")
        if not INTENT_ID.match(value):
            raise ValueError(
                f"intent id {value!r} must start with a letter and hold only "
                "lower-case letters, digits and _ (at most 63)"
            )
        return value

    @field_validator("personal_answer")
    @classmethod
    def _placeholders_are_known(cls, value: str | None) -> str | None:
        # The placeholder language belongs to the member features; importing
        # it here keeps one definition for YAML files and the admin editor.
        from veiviser.members.templates import PersonalTemplateError, check_template

        if value is None or not value.strip():
            return None
        try:
            check_template(value)
        except PersonalTemplateError as error:
            raise ValueError(error.message) from None
        return value


class KnowledgeBase(_Strict):
    """Everything the assistant knows: organisation, texts, intents, declines."""

    organisation: Organisation = Field(
        default_factory=lambda: Organisation(name="Organisasjonen")
    )
    texts: dict[str, str] = Field(default_factory=dict)
    groups: list[Group] = Field(default_factory=list)
    intents: list[Intent] = Field(default_factory=list)
    decline_examples: list[Phrase] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_resolve(self) -> KnowledgeBase:
        ids = [intent.id for intent in self.intents]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"intent ids used more than once: {duplicates}")
        known = set(ids)
        groups = {group.id for group in self.groups}
        for intent in self.intents:
            if intent.group is not None and intent.group not in groups:
                raise ValueError(
                    f"intent {intent.id!r} names group {intent.group!r}, "
                    f"which is not among the groups {sorted(groups)}"
                )
            for button in intent.buttons:
                if button.intent not in known:
                    raise ValueError(
                        f"intent {intent.id!r} has a button to {button.intent!r}, "
                        "which is not an intent in this knowledge base"
                    )
        return self

    def intent(self, intent_id: str) -> Intent:
        """Return the intent with this id.

        Raises:
            KeyError: no intent has that id.
        """
        for intent in self.intents:
            if intent.id == intent_id:
                return intent
        raise KeyError(intent_id)

    def active_intents(self) -> list[Intent]:
        """Intents members can get answers from (drafts excluded)."""
        return [intent for intent in self.intents if intent.status == "active"]
