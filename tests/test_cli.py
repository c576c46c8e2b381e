"""The CLI: import, export, train, chat and serve, through the real commands."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from test_store_support import small_kb, write_kb
from veiviser.cli.chat import html_to_text
from veiviser.cli.main import cli
from veiviser.content import load_knowledge_base
from veiviser.content.yaml_io import dump_knowledge_base
from veiviser.demo import KB_PATH
from veiviser.errors import KnowledgeBaseError

# The installed command, as an operator runs it.
VEIVISER = str(Path(sys.executable).with_name("veiviser"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "VEIVISER_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'cli.db'}",
        "VEIVISER_ENCODER": "none",
        "VEIVISER_CACHE_DIR": str(tmp_path / "cache"),
        "VEIVISER_KB": str(write_kb(tmp_path)),
    }


def run(env: dict[str, str], *args: str, input: str | None = None):
    result = CliRunner().invoke(cli, list(args), env=env, input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_export_after_import_gives_back_the_same_knowledge_base(env, tmp_path):
    kb = small_kb(
        texts={"greeting": "Hei 👋 på deg – ærlig, ødslig, åpen"},
        decline_examples=["Hva er 🍕?", "Æ Ø Å æ ø å", "tabulator\there"],
    )
    source = tmp_path / "in.yaml"
    source.write_text(dump_knowledge_base(kb), encoding="utf-8")
    target = tmp_path / "out.yaml"

    run(env, "import", "--no-train", str(source))
    result = run(env, "export", str(target))

    assert result.exit_code == 0, result.output
    assert load_knowledge_base(target) == kb
    assert target.read_text(encoding="utf-8") == source.read_text(encoding="utf-8")


def test_demo_knowledge_base_survives_import_and_export(env, tmp_path):
    run(env, "import", "--no-train", str(KB_PATH))
    run(env, "export", str(tmp_path / "demo.yaml"))

    assert load_knowledge_base(tmp_path / "demo.yaml") == load_knowledge_base(KB_PATH)


def test_export_to_stdout(env):
    run(env, "import", "--no-train", env["VEIVISER_KB"])
    result = run(env, "export", "-")

    assert "Testforbundet" in result.output


def test_import_replaces_unless_merge_is_given(env, tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "intents:\n  - id: lonn\n    title: Lønn\n    phrases: [lønn]\n"
        "    answer: Lønn er viktig.\n",
        encoding="utf-8",
    )
    run(env, "import", "--no-train", env["VEIVISER_KB"])

    run(env, "import", "--no-train", "--merge", str(extra))
    merged = run(env, "export", "-").output
    run(env, "import", "--no-train", str(extra))
    replaced = run(env, "export", "-").output

    assert "id: lonn" in merged and "id: ferie" in merged
    assert "Testforbundet" in merged
    assert "id: lonn" in replaced and "id: ferie" not in replaced


LONN = """\
intents:
  - id: lonn
    title: Lønn
    group: arbeid
    phrases: [lønn, hva tjener jeg, lønnsoppgjør, når kommer lønna, lønnstrinn]
    answer: Lønn er viktig.
    buttons:
      - intent: ferie
"""


def test_merge_import_may_point_at_stored_intents_and_the_button_works(env, tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text(LONN, encoding="utf-8")
    run(env, "import", "--no-train", env["VEIVISER_KB"])

    result = run(env, "import", "--merge", str(extra))
    chat = run(env, "chat", input="lønnsoppgjør\n1\n/slutt\n")

    assert result.exit_code == 0, result.output
    assert "Lønn er viktig." in chat.output
    assert "[1] Ferie og feriepenger" in chat.output
    assert "25 virkedager" in chat.output


@pytest.mark.parametrize(
    ("text", "merge"),
    [
        pytest.param(LONN.replace("intent: ferie", "intent: nope"), True, id="merge"),
        pytest.param(LONN, False, id="replace"),
    ],
)
def test_import_of_a_button_to_nowhere_names_file_and_line(env, tmp_path, text, merge):
    # Merged, the file may point at stored intents; replacing, only at its own.
    extra = tmp_path / "extra.yaml"
    extra.write_text(text, encoding="utf-8")
    run(env, "import", "--no-train", env["VEIVISER_KB"])
    before = run(env, "export", "-").output

    with pytest.raises(KnowledgeBaseError) as raised:
        run(env, "import", "--no-train", *(["--merge"] if merge else []), str(extra))

    assert "extra.yaml:8: intents.0.buttons.0.intent" in raised.value.message
    assert run(env, "export", "-").output == before


def test_import_of_a_broken_file_names_file_and_line(env, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("intents:\n  - id: Ugyldig Id\n    title: x\n", encoding="utf-8")

    with pytest.raises(KnowledgeBaseError) as raised:
        run(env, "import", str(broken))
    assert "broken.yaml:2" in raised.value.message


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param("intents: []\n", "no active intents", id="no-intents"),
        pytest.param(
            "organisation:\n  name: Nytt\n", "no active intents", id="organisation"
        ),
        pytest.param("a: " + "[" * 5000, "nested too deeply", id="deep"),
    ],
)
def test_import_that_would_empty_the_knowledge_base_is_refused(
    env, tmp_path, text, problem
):
    source = tmp_path / "tom.yaml"
    source.write_text(text, encoding="utf-8")
    run(env, "import", "--no-train", env["VEIVISER_KB"])
    before = run(env, "export", "-").output

    with pytest.raises(KnowledgeBaseError) as raised:
        run(env, "import", "--no-train", str(source))

    assert "tom.yaml" in raised.value.message and problem in raised.value.message
    assert run(env, "export", "-").output == before


def test_import_then_train_stores_a_model(env):
    result = run(env, "import", env["VEIVISER_KB"])

    assert "Model 1 trained" in result.output
    assert "Model 2 trained" in run(env, "train").output


def test_export_of_an_empty_database_is_a_clear_error(env):
    completed = subprocess.run(
        [VEIVISER, "export", "-"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "no knowledge base" in completed.stderr


def test_chat_in_the_terminal_answers_and_presses_buttons_by_number(env):
    result = run(env, "chat", input="hvor mange feriedager har jeg\n1\n/slutt\n")

    assert result.exit_code == 0, result.output
    assert "Testforbundet" in result.output
    assert "25 virkedager" in result.output
    assert "[1] Kontingent" in result.output
    assert "1 % av lønnen" in result.output


def test_chat_says_on_stderr_that_it_waits_while_the_model_is_trained(env):
    first = run(env, "chat", input="/slutt\n")
    second = run(env, "chat", input="/slutt\n")

    waiting = "Venter på at modellen blir trent"
    assert waiting in first.stderr
    assert waiting not in first.stdout
    assert waiting not in second.stderr  # the model is ready now
    assert "Testforbundet" in second.stdout


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ('<p>Skriv til <a href="mailto:a@b.no">a@b.no</a>.</p>', "Skriv til a@b.no."),
        ('<p><a href="https://x.no/">https://x.no/</a></p>', "https://x.no/"),
        ('<p>Se <a href="https://x.no/">nettsiden</a>.</p>',
         "Se nettsiden (https://x.no/)."),
        ('<p><a href="mailto:a@b.no">e-post</a></p>', "e-post (a@b.no)"),
    ],
    ids=["address-as-text", "url-as-text", "named-link", "named-mail"],
)  # fmt: skip
def test_chat_shows_a_link_address_once(html, text):
    assert html_to_text(html) == text


def test_chat_shows_member_errors_in_norwegian(env):
    result = run(env, "chat", input="   \n" + "x" * 2001 + "\n")

    assert "Meldingen er for lang" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_creates_the_database_and_answers_over_http(env, tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [VEIVISER, "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        opened = httpx.post(f"{base}/api/v1/conversations").json()
        reply = httpx.post(
            f"{base}/api/v1/conversations/{opened['id']}/messages",
            json={"text": "ferie"},
            headers={"Authorization": f"Bearer {opened['token']}"},
        ).json()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert reply["intent"] == "ferie"
    assert (tmp_path / "var" / "cli.db").exists()
    assert "encoder in use: none" in output


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(server.communicate()[0])
        try:
            if httpx.get(f"{base}/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("veiviser serve did not start within 120 s")
