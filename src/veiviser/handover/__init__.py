"""Handover to a person: opening hours, the advisor queue, live events, tickets.

Knows nothing of language understanding or HTTP; ``veiviser.service.handover``
wires it to conversations and the web layer calls that.
"""

from veiviser.handover.hours import DayException, Interval, OpeningHours, OpenState

__all__ = ["DayException", "Interval", "OpenState", "OpeningHours"]
