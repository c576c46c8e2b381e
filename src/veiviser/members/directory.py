"""The member directory interface: a member's record by their id.

Two implementations exist: the built-in tables (``TableDirectory``) and an
HTTP connector to the union's own member system (``HttpDirectory``). Which
one is used is configuration (``VEIVISER_MEMBER_DIRECTORY``).
"""

from __future__ import annotations

from typing import Protocol

from veiviser.members.records import MemberRecord


class MemberDirectory(Protocol):
    """Where members' records come from."""

    def lookup(self, member_id: str) -> MemberRecord | None:
        """The member's record, or None when no member has this id.

        Raises:
            DirectoryUnavailable: the directory cannot answer right now.
        """
        ...
