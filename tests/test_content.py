"""Knowledge-base files: loading, problems with file and line, export round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from veiviser.content import dump_knowledge_base, load_knowledge_base
from veiviser.content.yaml_io import parse_knowledge_base
from veiviser.errors import KnowledgeBaseError

GOOD = """\
organisation:
  name: Testforbundet
groups:
  - id: medlemskap
    title: Medlemskap
intents:
  - id: pris
    title: Hva koster det
    group: medlemskap
    phrases:
      - hva koster medlemskap
      - kontingent
    answer: |
      Det koster **1 %** av lønna.
    buttons:
      - intent: innmelding
  - id: innmelding
    title: Bli medlem
    handover: true
    phrases: [hvordan blir jeg medlem]
    answer: Meld deg inn på nett.
decline_examples:
  - hva blir været
"""


def write(tmp_path: Path, text: str, name: str = "kb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problem_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(write(tmp_path, text))
    return str(caught.value)


def test_good_file_loads(tmp_path):
    kb = load_knowledge_base(write(tmp_path, GOOD))
    assert [i.id for i in kb.intents] == ["pris", "innmelding"]
    assert kb.intent("innmelding").handover is True
    assert kb.decline_examples == ["hva blir været"]


def test_folder_merges_files_in_name_order(tmp_path):
    head, tail = GOOD.split("decline_examples:")
    write(tmp_path, head, "10-intents.yaml")
    write(tmp_path, "decline_examples:" + tail, "90-declines.yaml")
    kb = load_knowledge_base(tmp_path)
    assert len(kb.intents) == 2
    assert kb.decline_examples == ["hva blir været"]


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        pytest.param(
            GOOD.replace("  - id: pris", "  - id: Pris!"), 7, "intent id", id="bad-id"
        ),
        pytest.param(
            GOOD.replace("      - kontingent", "      - ''"),
            12,
            "empty",
            id="empty-phrase",
        ),
        pytest.param(
            GOOD.replace("    phrases:\n      - hva", "    phrase:\n      - hva"),
            10,
            "phrase",
            id="typo-key",
        ),
        pytest.param(
            GOOD.replace("      - intent: innmelding", "      - intent: nope"),
            16,
            "nope",
            id="dangling-button",
        ),
        pytest.param(
            GOOD.replace("    group: medlemskap", "    group: ukjent"),
            9,
            "ukjent",
            id="unknown-group",
        ),
        pytest.param(
            GOOD.replace("  - id: innmelding", "  - id: pris"),
            17,
            "twice",
            id="duplicate-id",
        ),
        pytest.param(
            GOOD.replace("    title: Bli medlem\n", ""), 17, "title", id="missing-title"
        ),
        pytest.param(GOOD + "extra: 1\n", 24, "unknown section", id="unknown-section"),
        pytest.param(
            GOOD.replace(
                "  - id: pris\n    title:", "  - id: pris\n    id: x\n    title:"
            ),
            8,
            "twice",
            id="duplicate-key",
        ),
        pytest.param("intents: [\n  - id: a\n", 2, "YAML", id="broken-yaml"),
        pytest.param("- just\n- a list\n", 1, "mapping", id="top-level-list"),
    ],
)
def test_malformed_file_reports_file_line_and_problem(tmp_path, broken, line, words):
    message = problem_of(tmp_path, broken)
    assert f"kb.yaml:{line}:" in message
    assert words in message


def test_missing_source_is_reported(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="no such file"):
        load_knowledge_base(tmp_path / "nothing.yaml")


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "kb.yaml"
    path.write_bytes("organisation:\n  name: Forbund\xe6t\n".encode("latin-1"))
    with pytest.raises(KnowledgeBaseError, match="not UTF-8"):
        load_knowledge_base(path)


def test_export_round_trips_exactly(tmp_path):
    text = GOOD.replace(
        "hva koster medlemskap", "hva koster 🧾 medlemskap i Ærø/Øst/Å?"
    )
    text = text.replace("Meld deg inn på nett.", "'Linje én  \\nlinje to\\t😀 '")
    kb = load_knowledge_base(write(tmp_path, text))
    again = parse_knowledge_base(dump_knowledge_base(kb))
    assert again == kb
    assert "🧾" in dump_knowledge_base(kb)
