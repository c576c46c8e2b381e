"""Knowledge-base files: loading, problems with file and line, export round trip."""

from __future__ import annotations

import json
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


def problems_of(text: str) -> list:
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_knowledge_base(text, "kb.yaml")
    return caught.value.problems


@pytest.mark.parametrize(
    ("broken", "code", "params"),
    [
        pytest.param(
            GOOD.replace("    title: Bli medlem\n", ""),
            "missing",
            {"loc": ["intents", 1, "title"], "item_id": "innmelding"},
            id="missing-field",
        ),
        pytest.param(
            GOOD.replace("    handover: true", "    handover: kanskje"),
            "bool_parsing",
            {"loc": ["intents", 1, "handover"], "item_id": "innmelding"},
            id="wrong-type",
        ),
        pytest.param(
            GOOD.replace("  - id: innmelding", "  - id: pris"),
            "duplicate_intent_id",
            {"loc": ["intents", 1, "id"], "id": "pris"},
            id="duplicate-id",
        ),
        pytest.param(
            GOOD.replace("      - intent: innmelding", "      - intent: nope"),
            "dangling_button",
            {"target": "nope", "item_id": "pris"},
            id="dangling-button",
        ),
        pytest.param(
            GOOD.replace("      - kontingent", "      - '  '"),
            "phrase_empty",
            {"loc": ["intents", 0, "phrases", 1]},
            id="empty-phrase",
        ),
        pytest.param(
            GOOD.replace("  - id: pris", "  - id: Pris!"),
            "intent_id_format",
            {"id": "Pris!"},
            id="bad-id",
        ),
        pytest.param("intents: [\n", "yaml_syntax", {}, id="broken-yaml"),
        pytest.param(GOOD + "extra: 1\n", "unknown_section", {"section": "extra"}),
    ],
)
def test_problem_carries_a_code_and_its_values(broken, code, params):
    [problem] = [p for p in problems_of(broken) if p.code == code]

    assert params.items() <= problem.params.items()
    assert problem.as_dict()["code"] == code


def test_references_and_fields_are_reported_together_in_line_order():
    # A dangling button (line 16) between a bad phrase (12) and a missing
    # title (17): all three, top to bottom, not references first.
    broken = (
        GOOD.replace("      - kontingent", "      - ''")
        .replace("      - intent: innmelding", "      - intent: nope")
        .replace("    title: Bli medlem\n", "")
    )

    problems = problems_of(broken)

    assert [(p.line, p.code) for p in problems] == [
        (12, "phrase_empty"),
        (16, "dangling_button"),
        (17, "missing"),
    ]


def test_problems_of_a_folder_follow_the_files_reading_order(tmp_path):
    head = GOOD.split("decline_examples:")[0]
    write(tmp_path, head.replace("    title: Bli medlem\n", ""), "10-intents.yaml")
    write(tmp_path, "decline_examples:\n  - ''\n", "90-declines.yaml")
    write(tmp_path, "groups:\n  - id: Ugyldig\n    title: G\n", "50-groups.yaml")

    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(tmp_path)

    files = [Path(p.file).name for p in caught.value.problems]
    assert files == ["10-intents.yaml", "50-groups.yaml", "90-declines.yaml"]


def test_an_id_repeated_with_spaces_is_reported_at_its_line():
    text = GOOD.replace("  - id: innmelding", "  - id: ' pris '")
    text = text.replace("      - intent: innmelding", "      - intent: 'pris '")

    [problem] = problems_of(text)

    assert (problem.line, problem.code) == (17, "duplicate_intent_id")


@pytest.mark.parametrize(
    "hostile_id", ["{a: 1}", "[1, 2]", "2024-01-01", "'<script>x</script>'"]
)
def test_an_id_that_is_no_text_is_a_problem_not_a_crash(hostile_id):
    text = GOOD.replace("  - id: innmelding", f"  - id: {hostile_id}")
    text = text.replace("      - intent: innmelding", f"      - intent: {hostile_id}")

    problems = problems_of(text)

    assert problems
    assert all(p.line for p in problems)


def test_problem_values_are_short_json_values():
    text = GOOD.replace("  - id: innmelding", "  - id: " + "x" * 5000)
    problems = problems_of(text)

    params = [p.params for p in problems]
    assert all(len(str(value)) <= 300 for ps in params for value in ps.values())
    json.dumps([p.as_dict() for p in problems])


def alias_bomb(levels: int) -> str:
    """Intents whose phrases list the previous list ten times, ``levels`` deep."""
    lines = ["intents:"]
    for level in range(levels):
        items = ", ".join([f"*a{level - 1}" if level else "x"] * 10)
        lines += [f"  - id: i{level}", "    title: T", "    answer: A"]
        lines.append(f"    phrases: &a{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_a_file_that_expands_through_aliases_is_refused_at_its_line():
    text = alias_bomb(7)  # under 1 kB standing for ten million phrases

    [problem] = problems_of(text)

    assert problem.code == "too_many_values"
    assert problem.line == 5
    assert problem.params["limit"] == len(text) + 1_000


def test_a_file_that_reuses_a_value_through_an_alias_still_loads():
    text = GOOD.replace("    title: Bli medlem", "    title: &same Bli medlem")
    copy = "  - id: kopi\n    title: *same\n    phrases: [kopi]\n    answer: Svar.\n"
    text = text.replace("decline_examples:", copy + "decline_examples:")

    kb = parse_knowledge_base(text, "kb.yaml")

    assert [i.title for i in kb.intents][-1] == "Bli medlem"


@pytest.mark.parametrize(
    "text", ["", "\n  \n", "# bare en kommentar\n"], ids=["empty", "blank", "comment"]
)
def test_an_empty_file_is_refused(tmp_path, text):
    source = tmp_path / "tom.yaml"
    source.write_text(text, encoding="utf-8")

    with pytest.raises(KnowledgeBaseError) as raised:
        load_knowledge_base(source)

    [problem] = raised.value.problems
    assert (problem.code, problem.file) == ("empty", str(source))


def test_values_nested_thousands_deep_are_a_problem_at_their_line():
    text = "organisation:\n  name: X\nintents: " + "[" * 5000 + "\n"

    [problem] = problems_of(text)

    assert problem.code == "too_deep"
    assert problem.line == 3


# --- A file to merge into a stored knowledge base ---------------------------------

STORED = parse_knowledge_base(GOOD, "lagret.yaml")

TO_MERGE = """\
intents:
  - id: utmelding
    title: Melde seg ut
    group: medlemskap
    phrases: [hvordan melder jeg meg ut]
    answer: Send oss en e-post.
    buttons:
      - intent: pris
"""


def test_a_file_to_merge_may_point_at_stored_intents_and_groups():
    kb = parse_knowledge_base(TO_MERGE, "opp.yaml", merge_into=STORED)

    assert [intent.id for intent in kb.intents] == ["utmelding"]
    assert kb.groups == []
    assert kb.intent("utmelding").buttons[0].intent == "pris"


def test_a_file_to_merge_with_a_button_to_nowhere_names_its_file_and_line():
    text = TO_MERGE.replace("intent: pris", "intent: nope")

    with pytest.raises(KnowledgeBaseError) as caught:
        parse_knowledge_base(text, "opp.yaml", merge_into=STORED)

    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.code) == (
        "opp.yaml",
        8,
        "dangling_button",
    )
    assert problem.params["target"] == "nope"


def test_a_file_to_merge_reports_its_own_problems_at_their_lines():
    text = TO_MERGE.replace("    title: Melde seg ut\n", "")
    text += "  - id: utmelding\n    title: T\n    answer: A\n"

    with pytest.raises(KnowledgeBaseError) as caught:
        parse_knowledge_base(text, "opp.yaml", merge_into=STORED)

    assert [(p.line, p.code) for p in caught.value.problems] == [
        (2, "missing"),
        (8, "duplicate_intent_id"),
    ]


def test_a_file_alone_may_not_point_at_intents_only_stored():
    problems = problems_of(TO_MERGE)

    assert [(p.line, p.code) for p in problems] == [
        (4, "unknown_group"),
        (8, "dangling_button"),
    ]


@pytest.mark.parametrize(
    "phrases", ["    phrases: []\n", ""], ids=["empty-list", "missing"]
)
@pytest.mark.parametrize("stored", [None, STORED], ids=["alone", "merge"])
def test_an_intent_without_phrases_loads_for_buttons_to_lead_to(phrases, stored):
    # Such an intent is never recognised in a message, but a button to it
    # gives its answer: a follow-up that members reach only by pressing.
    text = GOOD.replace("    phrases: [hvordan blir jeg medlem]\n", phrases)

    kb = parse_knowledge_base(text, "kb.yaml", merge_into=stored)

    assert kb.intent("innmelding").phrases == []
