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
from pydantic_core import PydanticCustomError

INTENT_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_PHRASE_CHARS = 500
MAX_ANSWER_CHARS = 20_000

# Reserved label for messages the assistant must decline; never an intent id.
OUT_OF_SCOPE = "oos"

# The rules below raise PydanticCustomError rather than ValueError: its type
# is a stable code and its context the values, so an admin page can say the
# same in Norwegian (web/admin/kb_problems.py) while the message stays English.


def _phrase(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("phrase_empty", "the text is empty")
    if len(value) > MAX_PHRASE_CHARS:
        raise PydanticCustomError(
            "phrase_too_long",
            "the text has {length} characters; the limit is {limit}",
            {"length": len(value), "limit": MAX_PHRASE_CHARS},
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
            raise PydanticCustomError(
                "group_id_format",
                "group id '{id}' must be lower-case letters, digits and _",
                {"id": value},
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
            raise PydanticCustomError(
                "intent_id_reserved",
                "'{id}' is reserved for decline examples",
                {"id": value},
            )
        if not INTENT_ID.match(value):
            raise PydanticCustomError(
                "intent_id_format",
                "intent id '{id}' must start with a letter and hold only "
                "lower-case letters, digits and _ (at most 63)",
                {"id": value},
            )
        return value

    @field_validator("personal_answer")
    @classmethod
    def _placeholders_are_known(cls, value: str | None) -> str | None:
        # The placeholder language belongs to the member features; importing
        # it here keeps one definition for YAML files and the admin editor.
        from veiviser.members.templates import (
            PersonalTemplateError,
            check_template,
            template_problems,
        )

        if value is None or not value.strip():
            return None
        try:
            check_template(value)
        except PersonalTemplateError as error:
            raise PydanticCustomError(
                "personal_template",
                "{message}",
                {
                    "message": error.message,
                    "tokens": [problem.token for problem in template_problems(value)],
                },
            ) from None
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
            raise PydanticCustomError(
                "duplicate_intent_id",
                "intent ids used more than once: {ids}",
                {"id": duplicates[0], "ids": duplicates},
            )
        known = set(ids)
        groups = {group.id for group in self.groups}
        for intent in self.intents:
            if intent.group is not None and intent.group not in groups:
                raise PydanticCustomError(
                    "unknown_group",
                    "intent '{intent}' names group '{group}', "
                    "which is not among the groups {groups}",
                    {
                        "intent": intent.id,
                        "group": intent.group,
                        "groups": sorted(groups),
                    },
                )
            for button in intent.buttons:
                if button.intent not in known:
                    raise PydanticCustomError(
                        "dangling_button",
                        "intent '{intent}' has a button to '{target}', "
                        "which is not an intent in this knowledge base",
                        {"intent": intent.id, "target": button.intent},
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
