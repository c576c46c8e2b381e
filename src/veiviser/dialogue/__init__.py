"""The conversation: one turn's decision, fixed texts and answer rendering."""

from veiviser.dialogue.rendering import render_markdown, sanitize_html
from veiviser.dialogue.texts import Texts, default_texts
from veiviser.dialogue.turn import (
    Button,
    ConversationState,
    Outcome,
    Reply,
    greeting,
    take_turn,
)
from veiviser.dialogue.view import KnowledgeView

__all__ = [
    "Button",
    "ConversationState",
    "KnowledgeView",
    "Outcome",
    "Reply",
    "Texts",
    "default_texts",
    "greeting",
    "render_markdown",
    "sanitize_html",
    "take_turn",
]
