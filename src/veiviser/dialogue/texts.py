"""The assistant's fixed texts: Bokmål defaults, overridden by the knowledge base."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import yaml

from veiviser.content import Organisation

log = logging.getLogger(__name__)

TEXTS_FILE = Path(__file__).parent / "texts_nb.yaml"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def default_texts() -> Mapping[str, str]:
    """The built-in Bokmål texts, by key."""
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return MappingProxyType({key: str(value).strip() for key, value in data.items()})


class Texts:
    """Fixed texts with the organisation's details filled in."""

    def __init__(
        self,
        organisation: Organisation | None = None,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        organisation = organisation or Organisation(name="Organisasjonen")
        self.organisation = organisation
        self._texts = dict(default_texts())
        for key, value in (overrides or {}).items():
            if key not in self._texts:
                # Kept anyway: a later version may know the key.
                log.debug("knowledge base overrides unknown text key %s", key)
            self._texts[key] = value.strip()
        self._values = {
            "organisation": organisation.name,
            "assistant_name": organisation.assistant_name,
            "phone": organisation.phone or "",
            "email": organisation.email or "",
            "website": organisation.website or "",
            "opening_hours": organisation.opening_hours or "",
        }

    def get(self, key: str, **values: object) -> str:
        """The text for ``key`` with placeholders filled in.

        Placeholders are filled by name only; anything else in braces stays
        as written, so an operator's text can never break the assistant.
        """
        template = self._texts.get(key) or default_texts().get(key, key)
        known = {**self._values, **{k: str(v) for k, v in values.items()}}
        return _PLACEHOLDER.sub(
            lambda match: known.get(match.group(1), match.group(0)), template
        )

    def __contains__(self, key: object) -> bool:
        return key in self._texts

    def keys(self) -> list[str]:
        """Every text key known, built-in or from the knowledge base."""
        return sorted(self._texts)
