"""Storage: SQLAlchemy models, the engine, migrations and repositories.

Everything one server process needs from another lives here, in the
database: the knowledge base, trained models, conversations and feedback.
"""

# Every table module is imported here so that the metadata is complete for
# migrations and for relationships between modules.
from veiviser.store import (  # noqa: F401
    models,
    models_admin,
    models_handover,
    models_health,
    models_insight,
    models_members,
    models_revisions,
    models_trainer,
)
from veiviser.store.engine import create_engine_for, session_factory
from veiviser.store.migrate import upgrade_database

__all__ = ["create_engine_for", "session_factory", "upgrade_database"]
