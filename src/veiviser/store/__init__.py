"""Storage: SQLAlchemy models, the engine, migrations and repositories.

Everything one server process needs from another lives here, in the
database: the knowledge base, trained models, conversations and feedback.
"""

from veiviser.store.engine import create_engine_for, session_factory
from veiviser.store.migrate import upgrade_database

__all__ = ["create_engine_for", "session_factory", "upgrade_database"]
