"""The member directory: CSV import, built-in tables, the HTTP connector, templates."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from test_members_support import TODAY
from veiviser.cli.main import cli
from veiviser.dialogue import Texts, render_markdown
from veiviser.members.csv_import import import_members
from veiviser.members.demo import DEMO_MEMBERS
from veiviser.members.errors import (
    DirectoryUnavailable,
    MemberImportError,
    PersonalTemplateError,
)
from veiviser.members.http_directory import CircuitBreaker, HttpDirectory
from veiviser.members.records import MemberRecord, Representative
from veiviser.members.tables import TableDirectory
from veiviser.members.templates import check_template, fill_template
from veiviser.store import create_engine_for, session_factory, upgrade_database
from veiviser.store.models_members import Member

# database_url (SQLite and PostgreSQL) and the fake member system.
pytest_plugins = ["test_store_support", "test_members_support"]


@pytest.fixture
def sessions(database_url):
    engine = create_engine_for(database_url)
    upgrade_database(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the demo member files to spoil."""
    target = tmp_path / "members"
    shutil.copytree(DEMO_MEMBERS, target)
    return target


def member_count(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Member))


# --- CSV import ---------------------------------------------------------------


def test_demo_files_import_and_read_back_as_records(sessions):
    summary = import_members(sessions, DEMO_MEMBERS)

    assert summary.counts["members"] == 3
    kari = TableDirectory(sessions).lookup("demo-kari")
    assert kari is not None
    assert (kari.first_name, kari.member_number) == ("Kari", "DEMO-10001")
    assert kari.employer == "Nordlys sykehjem (fiktivt)"
    assert [r.name for r in kari.representatives] == ["Per Tillitsvik"]
    assert [e.status for e in kari.enrolments] == [
        "completed",
        "enrolled",
        "waitlisted",
    ]
    assert kari.invoices[0].number == "D-2027-0101"  # newest first
    assert kari.invoices[0].amount == Decimal("520.00")
    assert TableDirectory(sessions).lookup("nobody") is None


def test_reimport_replaces_the_whole_directory(sessions, folder):
    import_members(sessions, DEMO_MEMBERS)
    (folder / "members.csv").write_text(
        "id,member_number,first_name,last_name,joined_on,employer_id\n"
        "solo,DEMO-1,Solveig,Solo,,\n",
        encoding="utf-8",
    )
    for name in ("enrolments.csv", "invoices.csv"):
        lines = (folder / name).read_text(encoding="utf-8").splitlines()
        (folder / name).write_text(lines[0] + "\n", encoding="utf-8")

    import_members(sessions, folder)

    assert member_count(sessions) == 1
    assert TableDirectory(sessions).lookup("demo-kari") is None


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("members.csv", "", "is empty"),
        ("members.csv", "id,name\nx,y\n", "unknown columns"),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "demo-kari,1,Kari,D,2020-02-30,\n",
            "column joined_on",
        ),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "demo-kari,1,,D,,\n",
            "column first_name: is empty",
        ),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "demo-kari,1,Kari,D,,nowhere\n",
            "'nowhere' is not in employers.csv",
        ),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "demo-kari,1,Kari,D,,\ndemo-kari,2,Kari,E,,\n",
            "already on line 2",
        ),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "demo-kari,77,Kari,D,,\ndemo-ola,77,Ola,E,,\n",
            "member_number '77' is already on line 2",
        ),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "'; DROP TABLE member; --,1,Kari,D,,\n",
            "column id",
        ),
        (
            "members.csv",
            "id,member_number,first_name,last_name,joined_on,employer_id\n"
            "a,1,Kari,D,\n",
            "has 5 cells",
        ),
        (
            "invoices.csv",
            "number,member_id,period,amount,due_on,paid_on\n"
            "X1,demo-kari,2027-13,12.5,2027-01-20,\n",
            "column period",
        ),
        (
            "invoices.csv",
            "number,member_id,period,amount,due_on,paid_on\n"
            "X1,demo-kari,2027-01,-5,2027-01-20,\n",
            "column amount",
        ),
        (
            "enrolments.csv",
            "member_id,course_id,status\ndemo-kari,grunnkurs-1,maybe\n",
            "column status",
        ),
        (
            "representatives.csv",
            "id,employer_id,name,role,email,phone\n"
            "r1,nordlys,<script>x</script>,,not-an-email,\n",
            "column email",
        ),
        (
            "employers.csv",
            "id,name\nnordlys," + "N" * 300 + "\ntestby,T\n",
            "at most 200",
        ),
    ],
    ids=[
        "empty-file",
        "wrong-header",
        "bad-date",
        "empty-required",
        "unknown-reference",
        "duplicate-id",
        "duplicate-member-number",
        "sql-ish-id",
        "short-row",
        "bad-period",
        "negative-amount",
        "bad-status",
        "bad-email",
        "huge-name",
    ],
)
def test_a_bad_row_is_reported_by_file_and_line_and_nothing_is_imported(
    sessions, folder, file, content, expected
):
    import_members(sessions, DEMO_MEMBERS)
    (folder / file).write_text(content, encoding="utf-8")

    with pytest.raises(MemberImportError) as error:
        import_members(sessions, folder)

    assert expected in str(error.value)
    assert all(p.file for p in error.value.problems)
    assert member_count(sessions) == 3  # the earlier import is untouched


def test_missing_file_and_non_utf8_file_are_reported(sessions, folder):
    (folder / "courses.csv").unlink()
    (folder / "members.csv").write_bytes(
        b"id,member_number,first_name,last_name,joined_on,employer_id\n"
        + b"a,1,K\xe5ri,D,,\n"
    )
    with pytest.raises(MemberImportError) as error:
        import_members(sessions, folder)
    problems = {(p.file, p.line): p.problem for p in error.value.problems}
    assert "is missing" in problems[("courses.csv", None)]
    assert problems[("members.csv", 2)] == "is not UTF-8 text"
    assert member_count(sessions) == 0


def test_non_norwegian_text_and_bom_are_kept_exactly(sessions, folder):
    (folder / "members.csv").write_text(
        "\ufeffid,member_number,first_name,last_name,joined_on,employer_id\n"
        "demo-kari,DEMO-1,Zoë,Łukasiewicz-Ødegård,,\n"
        "demo-ola,DEMO-2,Мария,李,,\n"
        "demo-aisha,DEMO-3,عائشة,Eksempel,,\n",
        encoding="utf-8",
    )
    import_members(sessions, folder)
    ola = TableDirectory(sessions).lookup("demo-ola")
    assert ola is not None and (ola.first_name, ola.last_name) == ("Мария", "李")


def test_cli_imports_and_reports_problems(tmp_path, folder):
    runner = CliRunner()
    env = {"VEIVISER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    checked = runner.invoke(cli, ["members", "import", "--check", str(folder)], env=env)
    imported = runner.invoke(cli, ["members", "import", str(folder)], env=env)
    status = runner.invoke(cli, ["members", "status"], env=env)
    (folder / "members.csv").write_text("nonsense\n", encoding="utf-8")
    broken = runner.invoke(cli, ["members", "import", str(folder)], env=env)

    assert checked.exit_code == 0 and "Nothing was changed" in checked.output
    assert imported.exit_code == 0 and "members: 3" in imported.output
    assert "members in the built-in tables: 3" in status.output
    assert "Kari" not in status.output  # counts only, never a member's data
    assert broken.exit_code != 0
    assert "members.csv:1" in str(broken.exception or "") + broken.output


# --- The HTTP connector -------------------------------------------------------


def connector(system, **changes) -> HttpDirectory:
    values = {
        "timeout_seconds": 0.3,
        "retries": 2,
        "backoff_seconds": 0.01,
        "breaker": CircuitBreaker(3, 60.0),
        "sleep": lambda seconds: None,
    }
    return HttpDirectory(system.url, system.token, **{**values, **changes})


def test_connector_reads_a_record_with_the_bearer_token(member_system):
    record = connector(member_system).lookup("demo-ola")

    assert record is not None and record.last_name == "Prøvesen"
    assert len(record.representatives) == 2
    assert member_system.calls[0]["auth"] == f"Bearer {member_system.token}"
    # The member's id travels in the body, never in a URL that gets logged.
    assert "demo-ola" not in member_system.calls[0]["path"]


def test_connector_unknown_member_is_none(member_system):
    assert connector(member_system).lookup("nobody") is None


@pytest.mark.parametrize("mode", ["slow", "error", "reset"])
def test_slow_or_failing_system_is_retried_then_unavailable(member_system, mode):
    member_system.mode = mode
    directory = connector(member_system)

    with pytest.raises(DirectoryUnavailable):
        directory.lookup("demo-kari")

    assert len(member_system.calls) == 3  # the first attempt and two retries


def test_retries_wait_longer_each_time(member_system):
    member_system.mode = "error"
    pauses: list[float] = []
    directory = connector(
        member_system, retries=3, backoff_seconds=0.05, sleep=pauses.append
    )

    with pytest.raises(DirectoryUnavailable):
        directory.lookup("demo-kari")

    assert pauses == [0.05, 0.1, 0.2]  # doubled before each further attempt
    assert len(member_system.calls) == 4


@pytest.mark.parametrize("mode", ["garbage", "refuse"])
def test_wrong_answers_are_unavailable_without_retrying(member_system, mode):
    member_system.mode = mode
    with pytest.raises(DirectoryUnavailable):
        connector(member_system).lookup("demo-kari")
    assert len(member_system.calls) == 1


def test_breaker_stops_calling_a_failing_system_and_tries_again_later(
    member_system,
):
    now = [0.0]
    breaker = CircuitBreaker(2, 30.0, clock=lambda: now[0])
    directory = connector(member_system, retries=0, breaker=breaker)
    member_system.mode = "error"

    for _ in range(2):
        with pytest.raises(DirectoryUnavailable):
            directory.lookup("demo-kari")
    calls = len(member_system.calls)
    with pytest.raises(DirectoryUnavailable):
        directory.lookup("demo-kari")
    assert len(member_system.calls) == calls  # open: not even tried

    member_system.mode = "ok"
    now[0] = 31.0
    assert directory.lookup("demo-kari") is not None  # half-open trial works
    assert not breaker.is_open


def test_unreachable_system_is_unavailable():
    directory = HttpDirectory(
        "http://127.0.0.1:9/api", "t", timeout_seconds=0.3, retries=1, sleep=print
    )
    with pytest.raises(DirectoryUnavailable):
        directory.lookup("demo-kari")


# --- Templates ----------------------------------------------------------------

WORDS = Texts().get
RECORD = MemberRecord(
    member_number="DEMO-7",
    first_name="Kari *fet* <script>alert(1)</script>",
    last_name="[lenke](javascript:alert(1))",
    representatives=(Representative("Per", email="per@x.example"),),
)


def test_values_are_escaped_so_markup_in_data_shows_as_text():
    html = render_markdown(
        fill_template("Hei {fornavn} {etternavn}!", RECORD, WORDS, TODAY)
    )
    assert "<script>" not in html and "<em>" not in html
    assert "href" not in html  # "[lenke](javascript:...)" made no link
    assert "&lt;script&gt;" in html
    assert "*fet*" in html


def test_lists_render_and_missing_values_say_so():
    html = render_markdown(
        fill_template(
            "Kurs:\n\n{kurs:liste}\n\nFaktura: {faktura.siste.status}",
            RECORD,
            WORDS,
            TODAY,
        )
    )
    assert "ikke påmeldt noen kurs" in html
    assert "ikke registrert" in html


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("Hei {navnet}", "{navnet}"),
        ("Hei {fornavn.__class__}", "{fornavn.__class__}"),
        ("{__import__('os')}", "__import__"),
        ("Kurs: {kurs:liste}", "{kurs:liste} must stand on a line of its own"),
        ("Hei {fornavn", "lone '{'"),
        ("{{ok}} {ukjent}", "{ukjent}"),
    ],
)
def test_unknown_placeholders_are_named_in_the_error(template, named):
    with pytest.raises(PersonalTemplateError) as error:
        check_template(template)
    assert named in error.value.message


def test_literal_braces_and_every_placeholder_are_accepted():
    from veiviser.members.templates import PLACEHOLDERS, VALUES

    check_template("{{ikke en plassholder}}")
    values = " ".join("{" + name + "}" for name in VALUES)
    lists = "\n".join("{" + name + "}" for name in PLACEHOLDERS if name not in VALUES)
    filled = fill_template(values + "\n" + lists, RECORD, WORDS, date(2027, 1, 1))
    assert "{" not in filled.replace("\\{", "")


def test_knowledge_base_refuses_an_unknown_placeholder_naming_it():
    from veiviser.content import KnowledgeBase

    with pytest.raises(ValueError, match=r"\{medlemsnr\}"):
        KnowledgeBase.model_validate(
            {
                "intents": [
                    {
                        "id": "kurs",
                        "title": "Kurs",
                        "answer": "Generelt.",
                        "personal_answer": "Ditt nummer: {medlemsnr}",
                    }
                ]
            }
        )
