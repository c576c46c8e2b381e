"""Storage on SQLite and PostgreSQL: migrations, knowledge base, models, turns."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from test_store_support import open_assistant, settings_for, small_kb, write_kb
from veiviser.content import Button, Intent, KnowledgeBase, load_knowledge_base
from veiviser.demo import KB_PATH
from veiviser.errors import KnowledgeBaseError, StorageUnavailable
from veiviser.service.knowledge import import_knowledge_base, merge_knowledge_bases
from veiviser.service.runtime import ModelWatcher
from veiviser.service.training import ensure_model, train_and_store
from veiviser.store import create_engine_for, session_factory, upgrade_database
from veiviser.store.knowledge import kb_revision, read_knowledge_base
from veiviser.store.models import Base, KbIntent, KbPhrase, Message, ModelVersion

pytest_plugins = ["test_store_support"]


@pytest.fixture
def engine(database_url):
    upgrade_database(database_url)
    engine = create_engine_for(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def test_migrations_create_exactly_the_models_tables(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert set(Base.metadata.tables) | {"alembic_version"} == tables


def test_upgrading_twice_changes_nothing(database_url, engine):
    upgrade_database(database_url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version"))


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url):
    engine = create_engine_for(sqlite_url)
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://x@localhost/db", "not a url", "oracle://u:p@h/d"]
)
def test_unsupported_database_url_is_a_named_error(url):
    with pytest.raises(StorageUnavailable):
        create_engine_for(url)


def test_demo_knowledge_base_round_trips_through_the_database(sessions):
    demo = load_knowledge_base(KB_PATH)

    import_knowledge_base(sessions, demo)

    with sessions() as session:
        assert read_knowledge_base(session) == demo


def test_unicode_round_trips_exactly(sessions):
    kb = small_kb(
        decline_examples=["Ærlig talt 🙂", "ÅØÆ åøæ", "e\u0301 é", "𝕳𝖊𝖎", "tab\there"]
    )
    import_knowledge_base(sessions, kb)

    with sessions() as session:
        assert read_knowledge_base(session).decline_examples == kb.decline_examples


def test_every_import_bumps_the_revision_and_only_changed_intents_version(sessions):
    kb = small_kb()
    assert import_knowledge_base(sessions, kb) == 1
    changed = kb.model_copy(deep=True)
    changed.intents[0].answer = "Nytt svar."

    assert import_knowledge_base(sessions, changed) == 2

    with sessions() as session:
        versions = dict(session.execute(select(KbIntent.id, KbIntent.version)).all())
        assert kb_revision(session) == 2
    assert versions["ferie"] == 2
    assert versions["kontingent"] == 1


def test_replacing_removes_intents_and_their_phrases(sessions):
    import_knowledge_base(sessions, small_kb())
    fewer = small_kb()
    fewer.intents = [i for i in fewer.intents if i.id != "innmelding"]

    import_knowledge_base(sessions, fewer)

    with sessions() as session:
        assert session.get(KbIntent, "innmelding") is None
        owners = set(session.scalars(select(KbPhrase.intent_id)))
    assert "innmelding" not in owners


def test_merge_adds_new_and_replaces_same_id_intents(sessions):
    import_knowledge_base(sessions, small_kb())
    extra = small_kb(
        intents=[
            Intent(id="ferie", title="Ferie", phrases=["ferie"], answer="Nytt."),
            Intent(id="lonn", title="Lønn", phrases=["lønn"], answer="Lønn."),
        ],
        decline_examples=["ny avvisning", "fortell meg en vits"],
    )
    extra = extra.model_construct(**{**dict(extra), "_fields_set": None})

    import_knowledge_base(sessions, extra, merge=True)

    with sessions() as session:
        merged = read_knowledge_base(session)
    ids = [intent.id for intent in merged.intents]
    assert ids[-1] == "lonn" and len(ids) == len(set(ids)) == 6
    assert merged.intent("ferie").answer == "Nytt."
    assert merged.decline_examples.count("fortell meg en vits") == 1
    assert "ny avvisning" in merged.decline_examples


def test_replacing_with_no_active_intents_is_refused_and_changes_nothing(sessions):
    import_knowledge_base(sessions, small_kb())
    drafts = small_kb()
    drafts.intents = [i.model_copy(update={"status": "draft"}) for i in drafts.intents]

    for kb in (small_kb(intents=[]), drafts):
        with pytest.raises(KnowledgeBaseError) as raised:
            import_knowledge_base(sessions, kb, source="tom.yaml")
        [problem] = raised.value.problems
        assert (problem.code, problem.file) == ("no_intents", "tom.yaml")

    with sessions() as session:
        assert read_knowledge_base(session) == small_kb()
        assert kb_revision(session) == 1


def test_merging_a_file_without_intents_keeps_the_stored_ones(sessions):
    import_knowledge_base(sessions, small_kb())
    organisation = {"name": "Nytt navn"}
    extra = KnowledgeBase.model_validate({"organisation": organisation})

    import_knowledge_base(sessions, extra, merge=True)

    with sessions() as session:
        merged = read_knowledge_base(session)
    assert merged.organisation.name == "Nytt navn"
    assert merged.intents == small_kb().intents


def test_merging_without_intents_into_an_empty_database_is_refused(sessions):
    with pytest.raises(KnowledgeBaseError):
        import_knowledge_base(sessions, small_kb(intents=[]), merge=True)

    with sessions() as session:
        assert read_knowledge_base(session) is None


def test_merge_that_breaks_a_reference_is_refused():
    base = small_kb()
    dangling = Intent(
        id="ferie",
        title="x",
        phrases=["x"],
        answer="x",
        buttons=[Button(intent="finnes_ikke")],
    )
    extra = small_kb(intents=[], groups=[], decline_examples=[])
    extra.intents.append(dangling)

    with pytest.raises(KnowledgeBaseError):
        from veiviser.service.knowledge import _validated_merge

        _validated_merge(base, extra)
    assert merge_knowledge_bases(base, small_kb()).intents == base.intents


def test_training_stores_a_ready_model_for_the_revision(sessions):
    import_knowledge_base(sessions, small_kb())

    model_id = ensure_model(sessions, None)

    assert ensure_model(sessions, None) == model_id
    with sessions() as session:
        row = session.get(ModelVersion, model_id)
    assert (row.status, row.kb_revision, row.encoder) == ("ready", 1, "none")
    assert row.stats["intents"] == 4 and row.data


def test_failed_training_is_recorded_and_the_last_good_model_kept(sessions):
    import_knowledge_base(sessions, small_kb())
    good = ensure_model(sessions, None)
    lonely = small_kb(
        intents=[Intent(id="alene", title="Alene", phrases=["x"], answer="x")],
        decline_examples=[],
        groups=[],
    )
    import_knowledge_base(sessions, lonely)

    assert ensure_model(sessions, None) == good

    with sessions() as session:
        failed = session.scalars(
            select(ModelVersion).where(ModelVersion.status == "failed")
        ).one()
    assert failed.kb_revision == 2 and "two classes" in failed.error


def test_a_newer_model_is_swapped_in_by_the_watcher(database_url, tmp_path):
    assistant = open_assistant(settings_for(database_url, write_kb(tmp_path)))
    try:
        before = assistant.models.current
        changed = small_kb()
        changed.intents[0].answer = "Nytt ferie-svar."
        import_knowledge_base(assistant.sessions, changed)
        newer = train_and_store(assistant.sessions, None)

        watcher = ModelWatcher(
            assistant.models, assistant.sessions, None, "snakke_med_menneske", 0.05
        )
        assert watcher.check() is True
        assert watcher.check() is False
    finally:
        assistant.close()

    after = assistant.models.current
    assert after is not before
    assert after.model_version_id == newer
    assert "Nytt ferie-svar." in after.view.answer_html(after.view.intent("ferie"))


def test_the_watcher_thread_loads_a_new_model_by_itself(database_url, tmp_path):
    assistant = open_assistant(settings_for(database_url, write_kb(tmp_path)))
    try:
        assistant.watcher.start()
        newer = train_and_store(assistant.sessions, None)
        for _ in range(200):
            if assistant.models.current.model_version_id == newer:
                break
            threading.Event().wait(0.05)
    finally:
        assistant.close()
    assert assistant.models.current.model_version_id == newer


def test_concurrent_turns_in_one_conversation_get_distinct_numbers(
    database_url, tmp_path
):
    assistant = open_assistant(settings_for(database_url, write_kb(tmp_path)))
    try:
        conversation = assistant.chat.start()
        errors: list[BaseException] = []

        def member() -> None:
            try:
                for _ in range(3):
                    assistant.chat.send(conversation.id, conversation.token, "ferie")
            except BaseException as error:  # collected and checked below
                errors.append(error)

        threads = [threading.Thread(target=member) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with assistant.sessions() as session:
            seqs = session.scalars(
                select(Message.seq).where(Message.conversation_id == conversation.id)
            ).all()
    finally:
        assistant.close()
    assert not errors
    assert sorted(seqs) == list(range(1, 26))
