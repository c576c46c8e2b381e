"""Application services: the chat, the model lifecycle, knowledge import/export.

The web app and the CLI call these; they call the domain packages and the
store. See docs/architecture.md for the flow of one message.
"""

from veiviser.service.assistant import Assistant
from veiviser.service.chat import ChatService, Exchange, MessageView, NewConversation

__all__ = ["Assistant", "ChatService", "Exchange", "MessageView", "NewConversation"]
