"""The web layer: FastAPI app, public API, chat page. No business rules here."""

from veiviser.web.app import create_app

__all__ = ["create_app"]
