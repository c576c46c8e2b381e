"""Wiring one process together: database, knowledge base, model, chat.

On start the database is migrated, the knowledge base imported into an empty
database, a model trained when none is ready for the current knowledge-base
revision, and the model loaded. A watcher then keeps the model current as
other processes (``veiviser train``, another server) store newer ones.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from veiviser.members.access import MemberAccess
from veiviser.members.demo import ensure_demo_members
from veiviser.nlu import Encoder, load_encoder
from veiviser.service.chat import ChatService
from veiviser.service.handover import HandoverService
from veiviser.service.knowledge import import_if_empty
from veiviser.service.members import PersonalAnswers
from veiviser.service.runtime import (
    ModelHolder,
    ModelWatcher,
    encoder_label,
    load_runtime,
)
from veiviser.service.training import ensure_model
from veiviser.settings import Settings
from veiviser.store import create_engine_for, session_factory, upgrade_database

log = logging.getLogger(__name__)


class Assistant:
    """Everything a server or terminal process needs, built from settings."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        encoder: Encoder | None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.encoder = encoder
        self.models = ModelHolder()
        self.chat = ChatService(
            self.sessions,
            self.models,
            settings.max_message_chars,
            personal=PersonalAnswers(
                MemberAccess.from_settings(settings, self.sessions)
            ),
        )
        self.handover = HandoverService(
            self.sessions, settings, self.models, self.chat.authorise
        )
        self.chat.handover = self.handover
        self.watcher = ModelWatcher(
            self.models,
            self.sessions,
            encoder,
            settings.handover_intent,
            settings.model_poll_seconds,
        )

    @classmethod
    def open(
        cls,
        settings: Settings,
        encoder: Encoder | None = None,
        *,
        with_encoder: bool = True,
    ) -> Assistant:
        """Connect and migrate the database, and load the encoder.

        Args:
            settings: the settings to follow.
            encoder: an encoder already loaded (tests share one).
            with_encoder: False for work that needs no model (import, export).
        """
        engine = create_engine_for(settings.database_url)
        upgrade_database(engine)
        if encoder is None and with_encoder and settings.encoder != "none":
            encoder = load_encoder(settings.encoder, settings.cache_path)
        if with_encoder:
            log.info("encoder in use: %s", encoder_label(encoder))
        return cls(settings, engine, encoder)

    def prepare(self, kb: str | Path | None = None) -> None:
        """Import the knowledge base if the database is empty, train, load.

        Args:
            kb: the knowledge base for an empty database; defaults to the
                ``kb`` setting.
        """
        source = kb if kb is not None else self.settings.kb
        if import_if_empty(self.sessions, source):
            log.info("knowledge base imported from %s", source)
        demo_directory = self.settings.demo_mode and self.settings.member_directory
        if demo_directory == "tables" and ensure_demo_members(self.sessions):
            log.info("fictional demo members imported (demo mode)")
        model_id = ensure_model(self.sessions, self.encoder, self.settings.seed)
        self.models.current = load_runtime(
            self.sessions, model_id, self.encoder, self.settings.handover_intent
        )
        log.info("model %d in use", model_id)

    def close(self) -> None:
        """Stop watching for models and close the database connections."""
        self.watcher.stop()
        self.engine.dispose()
