"""What the dialogue needs from a knowledge base, prepared once per model."""

from __future__ import annotations

from functools import cached_property

from veiviser.content import Intent, KnowledgeBase
from veiviser.dialogue.rendering import render_markdown
from veiviser.dialogue.texts import Texts


class KnowledgeView:
    """Active intents with their answers rendered, and the fixed texts.

    Args:
        kb: the knowledge base.
        handover_intent: id of the intent that means "I want a person".
    """

    def __init__(
        self, kb: KnowledgeBase, handover_intent: str = "snakke_med_menneske"
    ) -> None:
        self.kb = kb
        self.handover_intent = handover_intent
        self.texts = Texts(kb.organisation, kb.texts)
        self._intents = {intent.id: intent for intent in kb.active_intents()}
        self._html: dict[str, str] = {}

    def intent(self, intent_id: str | None) -> Intent | None:
        """The active intent with this id; None for drafts and unknown ids."""
        if intent_id is None:
            return None
        return self._intents.get(intent_id)

    def answer_html(self, intent: Intent) -> str:
        """The intent's answer as sanitised HTML (rendered once, then reused)."""
        # The general answer; a personal one is rendered per request by
        # ``dialogue.personal`` for a logged-in member.
        html = self._html.get(intent.id)
        if html is None:
            html = self._html[intent.id] = render_markdown(intent.answer)
        return html

    def title(self, intent_id: str) -> str:
        """The title of an intent, or its id if it is not active."""
        intent = self._intents.get(intent_id)
        return intent.title if intent is not None else intent_id

    def text_html(self, key: str, **values: object) -> str:
        """A fixed text rendered like an answer."""
        return render_markdown(self.texts.get(key, **values))

    @cached_property
    def contact_html(self) -> str:
        """The organisation's contact details, for a handover."""
        return render_markdown(self._contact_markdown())

    def _contact_markdown(self) -> str:
        org = self.kb.organisation
        label = self.texts.get
        lines = []
        if org.phone:
            digits = "".join(c for c in org.phone if c.isdigit() or c == "+")
            lines.append(
                f"- **{label('handover_phone')}:** [{org.phone}](tel:{digits})"
            )
        if org.email:
            link = f"[{org.email}](mailto:{org.email})"
            lines.append(f"- **{label('handover_email')}:** {link}")
        if org.opening_hours:
            lines.append(f"- **{label('handover_hours')}:** {org.opening_hours}")
        if org.website:
            lines.append(f"- **{label('handover_website')}:** <{org.website}>")
        if not lines:
            return label("handover_no_contact")
        return label("handover") + "\n\n" + "\n".join(lines)
