"""The intent editor's fields as a form posts them, read in one place.

Creating, saving, previewing and merging an intent all post the same
fields; each route takes them as one :data:`IntentFields` dependency instead
of repeating the list, so a new field is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form

from veiviser.web.admin.pages import FormText

PERSONAL = "personal_answer"

FormList = Annotated[list[str], Form()]


@dataclass(frozen=True)
class IntentForm:
    """The posted fields of the intent editor, as typed."""

    title: str
    group: str
    status: str
    handover: str
    answer: str
    personal_answer: str
    personal_field: str
    button_intent: list[str]
    button_label: list[str]

    def values(self, intent_id: str, stored_personal: str | None = None) -> dict:
        """The intent as a dict for validation or for showing the form again.

        Args:
            intent_id: the intent's id (from the path or the form).
            stored_personal: the stored personal template, kept when the
                form did not show that field (its hidden marker
                ``personal_field``), so a page without it cannot erase it.
        """
        buttons = [
            {"intent": target, "label": label.strip() or None}
            for target, label in zip(
                self.button_intent, self.button_label, strict=False
            )
            if target.strip()
        ]
        personal = stored_personal
        if self.personal_field == "1":
            personal = self.personal_answer if self.personal_answer.strip() else None
        return {
            "id": intent_id.strip(),
            "title": self.title,
            "group": self.group or None,
            "status": self.status if self.status in ("active", "draft") else "draft",
            "handover": self.handover == "on",
            "answer": self.answer,
            "buttons": buttons,
            PERSONAL: personal,
        }

    def pairs(self) -> list[tuple[str, str]]:
        """The fields as (name, value) pairs, to post them again unchanged."""
        return [
            ("title", self.title),
            ("group", self.group),
            ("status", self.status),
            ("handover", self.handover),
            ("answer", self.answer),
            ("personal_answer", self.personal_answer),
            ("personal_field", self.personal_field),
            *(("button_intent", value) for value in self.button_intent),
            *(("button_label", value) for value in self.button_label),
        ]


def _read_form(
    title: FormText = "",
    group: FormText = "",
    status: FormText = "",
    handover: FormText = "",
    answer: FormText = "",
    personal_answer: FormText = "",
    personal_field: FormText = "",
    button_intent: FormList = [],  # noqa: B006 - FastAPI copies defaults
    button_label: FormList = [],  # noqa: B006
) -> IntentForm:
    return IntentForm(
        title,
        group,
        status,
        handover,
        answer,
        personal_answer,
        personal_field,
        button_intent,
        button_label,
    )


IntentFields = Annotated[IntentForm, Depends(_read_form)]
