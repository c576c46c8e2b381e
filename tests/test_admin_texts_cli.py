"""Admin texts (one mapping from many files) and the ``veiviser users`` command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from veiviser.cli.main import cli
from veiviser.service import staff
from veiviser.store import create_engine_for, session_factory
from veiviser.web.admin.pages import TEMPLATES
from veiviser.web.admin.texts import AdminTextsError, admin_texts, load_texts, tn

_KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")


def test_texts_from_several_files_merge_into_one_mapping(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("login:\n  title: Logg inn\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "review:\n  title: Gjennomgang\n", encoding="utf-8"
    )

    texts = load_texts(tmp_path)

    assert texts == {"login.title": "Logg inn", "review.title": "Gjennomgang"}


def test_a_key_defined_in_two_files_is_an_error(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("login:\n  title: En\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("login:\n  title: To\n", encoding="utf-8")

    with pytest.raises(AdminTextsError, match=r"login\.title"):
        load_texts(tmp_path)


def test_a_key_repeated_in_one_file_is_an_error(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("tittel: En\ntittel: To\n", encoding="utf-8")

    with pytest.raises(AdminTextsError, match=r"a\.yaml:2"):
        load_texts(tmp_path)


def test_a_bare_yes_key_is_an_error(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("svar:\n  yes: Ja\n", encoding="utf-8")

    with pytest.raises(AdminTextsError, match="not text"):
        load_texts(tmp_path)


def test_every_text_key_a_template_names_exists():
    keys = set(admin_texts())
    missing = []
    for template in (TEMPLATES / "admin").rglob("*.html"):
        for key in _KEY_IN_TEMPLATE.findall(template.read_text(encoding="utf-8")):
            if key not in keys:
                missing.append(f"{template.name}: {key}")

    assert missing == []


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"VEIVISER_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'cli.db'}"}


def test_users_add_creates_an_account_that_can_log_in(env):
    result = CliRunner().invoke(
        cli,
        ["users", "add", "Kari", "--role", "trainer"],
        env=env,
        input="et-godt-passord\net-godt-passord\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created kari (trainer)." in result.output
    sessions = session_factory(create_engine_for(env["VEIVISER_DATABASE_URL"]))
    user = staff.authenticate(sessions, "kari", "et-godt-passord", "cli-test")
    assert user.role is staff.Role.TRAINER
    listed = CliRunner().invoke(cli, ["users", "list"], env=env)
    assert "kari\ttrainer" in listed.output


def test_users_add_refuses_a_short_password_with_a_message(env):
    result = CliRunner().invoke(
        cli, ["users", "add", "kari", "--password", "kort"], env=env
    )

    assert result.exit_code != 0
    assert "at least 10 characters" in str(result.exception or result.output)


def test_users_add_refuses_an_unknown_role(env):
    result = CliRunner().invoke(
        cli, ["users", "add", "kari", "--role", "sjef", "--password", "x" * 12], env=env
    )

    assert result.exit_code == 2
    assert "sjef" in result.output


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 treningsfraser"), (1, "1 treningsfrase"), (2, "2 treningsfraser")],
)
def test_a_counted_noun_takes_the_singular_only_for_one(count, expected):
    assert tn("review.erase.count.training_phrases", count) == expected
