"""The intent editor's fields as a form posts them, read in one place.

Creating, saving, previewing and merging an intent all post the same
fields; each route takes them as one :data:`IntentFields` dependency instead
of repeating the list, so a new field is added here once.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form

from veiviser.web.admin.pages import FormText

PERSONAL = "personal_answer"

FormList = Annotated[list[str], Form()]

# Format characters (U+200B, U+00AD, U+2060 ...) and separators show nothing,
# so a text made only of them would save as a blank title or answer.
_UNSEEN = ("Cc", "Cf", "Zs", "Zl", "Zp")


def visible(text: str) -> str:
    """``text`` unchanged, or "" when no character of it can be seen."""
    if all(unicodedata.category(char) in _UNSEEN for char in text):
        return ""
    return text


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
        # A row with a label but no target is kept, so the form shows it
        # again with its problem (see ``problems``) instead of losing it.
        buttons = [
            {"intent": target.strip(), "label": visible(label).strip() or None}
            for target, label in self._button_rows()
            if target.strip() or visible(label)
        ]
        personal = stored_personal
        if self.personal_field == "1":
            personal = visible(self.personal_answer) or None
        return {
            "id": intent_id.strip(),
            "title": visible(self.title),
            "group": self.group or None,
            "status": self.status if self.status in ("active", "draft") else "draft",
            "handover": self.handover == "on",
            "answer": visible(self.answer),
            "buttons": buttons,
            PERSONAL: personal,
        }

    def problems(self) -> dict[str, str]:
        """Problems the form itself shows before the intent is built.

        Returns:
            ``{"buttons": "no_target"}`` when a button row has a label but
            no target intent; otherwise an empty dict.
        """
        for target, label in self._button_rows():
            if visible(label) and not target.strip():
                return {"buttons": "no_target"}
        return {}

    def _button_rows(self) -> list[tuple[str, str]]:
        rows = max(len(self.button_intent), len(self.button_label))
        targets = [*self.button_intent, *[""] * rows][:rows]
        labels = [*self.button_label, *[""] * rows][:rows]
        return list(zip(targets, labels, strict=True))

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
