"""Knowledge-base problems in the editors' words, for the admin pages.

A ``KnowledgeBaseProblem`` carries a stable ``code`` and its values; its text
is ``kb_problem.<code>`` in ``texts_nb/kb_problems.yaml``, and ``{place}``
names where in the file the problem is ("intensjon nr. 4 (id «lonn»), feltet
«phrases»"). A code without a text of its own gets a general sentence that
still names the place, so a page never falls back to the English developer
text.
"""

from __future__ import annotations

import re
from typing import Any

from veiviser.errors import KnowledgeBaseProblem
from veiviser.web.admin.texts import admin_texts, t

# A value from the file is shown in full up to this many characters.
MAX_SHOWN_CHARS = 80

# What the items of each list in the format are called.
_ITEM_KINDS = {
    "groups": "group",
    "intents": "intent",
    "decline_examples": "decline",
    "phrases": "phrase",
    "buttons": "button",
}
_KINDS_WITH_ID = ("group", "intent")

# pydantic gives a literal's choices as "'active' or 'draft'".
_QUOTED = re.compile(r"'([^']*)'")


def describe(problem: KnowledgeBaseProblem) -> str:
    """The Norwegian text for ``problem``, without its file and line."""
    params = problem.params
    values = {
        name: _shown(name, value)
        for name, value in params.items()
        if name not in ("loc", "item_id")
    }
    loc = params.get("loc") or []
    # A problem with the id itself names the id in its own words.
    item_id = None if loc[-1:] == ["id"] else params.get("item_id")
    place = describe_place(loc, item_id)
    key = f"kb_problem.{problem.code}"
    if key not in admin_texts():
        key = "kb_problem.other"
    try:
        text = t(key, place=place, **values)
    except (KeyError, IndexError):
        # A parameter the text expects is missing (a problem made elsewhere
        # without it); the general sentence needs only the place.
        text = t("kb_problem.other", place=place)
    return text[:1].upper() + text[1:]


def describe_place(loc: list[Any], item_id: str | None = None) -> str:
    """Where ``loc`` (``["intents", 3, "phrases"]``) points, in words.

    Args:
        loc: the path in the knowledge base, as pydantic gives it.
        item_id: the id of the intent or group the path is in, when known.
    """
    names: list[str] = []
    for depth, part in enumerate(loc):
        parent = loc[depth - 1] if depth else None
        following = loc[depth + 1] if depth + 1 < len(loc) else None
        if depth == 0:
            name = _section_name(part, following)
        elif part in _ITEM_KINDS and isinstance(following, int):
            name = None  # named by the item that follows: "frase nr. 2"
        elif parent == "texts" and depth == 1:
            name = t("kb_problem.place.text", key=_shown("key", part))
        elif part == "[key]":
            # pydantic's mark for a mapping key that is itself wrong.
            if names:
                names.pop()
            name = t("kb_problem.place.key", key=_shown("key", parent))
        elif isinstance(part, int):
            name = _item_name(part, parent, item_id if depth == 1 else None)
        else:
            name = t("kb_problem.place.field", name=_shown("name", part))
        if name:
            names.append(name)
    return ", ".join(names) or t("kb_problem.place.whole")


def _section_name(section: Any, following: Any) -> str | None:
    # The section is named by the item or text that follows it.
    if section == "texts" and following is not None:
        return None
    if section in _ITEM_KINDS and isinstance(following, int):
        return None
    if section == "organisation":
        return t("kb_problem.place.organisation")
    return t("kb_problem.place.section", name=_shown("name", section))


def _item_name(index: int, parent: Any, item_id: str | None) -> str:
    kind = _ITEM_KINDS.get(parent, "item")
    if item_id and kind in _KINDS_WITH_ID:
        shown = _shown("id", item_id)
        return t(f"kb_problem.place.{kind}_id", number=index + 1, id=shown)
    return t(f"kb_problem.place.{kind}", number=index + 1)


def _shown(name: str, value: Any) -> str:
    if name == "expected" and isinstance(value, str) and _QUOTED.search(value):
        value = _QUOTED.findall(value)
    if isinstance(value, list):
        return ", ".join(f"«{_cut(str(part))}»" for part in value)
    return _cut(str(value))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "…"
