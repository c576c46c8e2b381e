"""Knowledge-base problems from pydantic's errors, as codes with parameters.

pydantic names every error with a stable ``type`` (``missing``,
``string_too_short``, or one of the model's own rules such as
``phrase_empty``) and gives its values in ``ctx``. Both are kept on the
problem, so a staff page can word it in its own language; the English
message stays for the CLI and logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from veiviser.errors import KnowledgeBaseProblem

# Parameters end up in JSON error details and on pages; a hostile file could
# hold a megabyte-long id, so each value is cut to this many characters.
MAX_PARAM_CHARS = 200
MAX_PARAM_ITEMS = 30

# Sections whose items have an id worth naming next to their number.
_ITEMS_WITH_ID = ("intents", "groups")


def validation_problem(
    item: Mapping[str, Any], file: str, line: int | None, data: Any = None
) -> KnowledgeBaseProblem:
    """One problem from one entry of ``ValidationError.errors()``.

    Args:
        item: the pydantic error entry (``type``, ``loc``, ``msg``, ``ctx``).
        file: the file the value came from.
        line: its line, when known.
        data: the validated data, to name the intent or group the value is in.

    Returns:
        The problem with ``code`` the pydantic type and ``params`` holding
        ``loc``, the values of ``ctx`` and ``item_id`` (the enclosing intent's
        or group's id) when there is one.
    """
    loc = tuple(item["loc"])
    where = ".".join(str(part) for part in loc) or "top level"
    message = item["msg"].removeprefix("Value error, ")
    params: dict[str, Any] = {"loc": plain(list(loc))}
    for name, value in (item.get("ctx") or {}).items():
        if name != "error":
            params[name] = plain(value)
    item_id = _enclosing_id(data, loc)
    if item_id is not None:
        params["item_id"] = item_id
    return KnowledgeBaseProblem(
        file, line, f"{where}: {message}", code=item["type"], params=params
    )


def plain(value: Any) -> Any:
    """``value`` as a short JSON value; YAML can also give dates, bytes and maps."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [plain(part) for part in value[:MAX_PARAM_ITEMS]]
    return str(value)[:MAX_PARAM_CHARS]


def _enclosing_id(data: Any, loc: tuple[Any, ...]) -> str | None:
    if len(loc) < 2 or loc[0] not in _ITEMS_WITH_ID or not isinstance(loc[1], int):
        return None
    items = data.get(loc[0]) if isinstance(data, Mapping) else None
    if not isinstance(items, list) or not 0 <= loc[1] < len(items):
        return None
    found = items[loc[1]]
    item_id = found.get("id") if isinstance(found, Mapping) else None
    return plain(item_id) if isinstance(item_id, str) and item_id.strip() else None
