"""Every Bokmål text of the admin pages, from one YAML file per feature.

The files in ``texts_nb/`` hold nested mappings; keys are flattened with dots
(``login.title``) and merged into one mapping. A key defined twice, in one
file or across files, is an error at start-up, so two features cannot
silently overwrite each other's words. A translation is a copy of the folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from veiviser.errors import VeiviserError

TEXTS_DIR = Path(__file__).parent / "texts_nb"


class AdminTextsError(VeiviserError):
    """The admin texts are malformed, define a key twice or lack a key."""

    status = 500
    code = "admin_texts_invalid"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key repeated within one mapping."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise AdminTextsError(
                f"{node.start_mark.name}:{key_node.start_mark.line + 1}: "
                f"the text key {key!r} is defined twice"
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping
)


def _flatten(data: Mapping[str, Any], prefix: str, into: dict[str, str], origin: str):
    for key, value in data.items():
        if not isinstance(key, str):
            # YAML reads bare yes/no/on/off as booleans; such a key is a slip.
            raise AdminTextsError(
                f"{origin}: the key {key!r} under {prefix!r} is not text"
            )
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", into, origin)
            continue
        if name in into:
            raise AdminTextsError(f"{origin}: the text key {name!r} is defined twice")
        into[name] = str(value).strip()


def load_texts(folder: Path = TEXTS_DIR) -> Mapping[str, str]:
    """Merge every ``*.yaml`` file of ``folder`` into one flat mapping.

    Raises:
        AdminTextsError: a file is not a mapping or a key is defined twice.
    """
    merged: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
        if not isinstance(data, Mapping):
            raise AdminTextsError(f"{path.name}: expected a mapping of text keys")
        _flatten(data, "", merged, path.name)
    return MappingProxyType(merged)


@cache
def admin_texts() -> Mapping[str, str]:
    """The admin texts of this installation, loaded once."""
    return load_texts()


def t(key: str, /, **values: object) -> str:
    """The text for ``key`` with ``{name}`` placeholders filled in.

    Raises:
        AdminTextsError: no text has this key (caught by the route tests,
            which render every page).
    """
    try:
        text = admin_texts()[key]
    except KeyError:
        raise AdminTextsError(f"no admin text has the key {key!r}") from None
    return text.format(**values) if values else text


def tn(key: str, count: int, /, **values: object) -> str:
    """The text for ``count`` of something, in the right number.

    ``key.one`` is used for exactly one and ``key.other`` for any other
    count (Bokmål has these two forms); ``{n}`` in the text is the count.

    Raises:
        AdminTextsError: one of the two texts is missing.
    """
    form = "one" if count == 1 else "other"
    return t(f"{key}.{form}", n=count, **values)
