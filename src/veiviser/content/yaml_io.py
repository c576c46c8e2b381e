"""Read and write the knowledge-base YAML format.

A knowledge base is one YAML file or a folder of them (read in name order and
merged). Every problem is reported with its file and line, so an editor can
fix a hand-written file without guessing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from veiviser.content.model import KnowledgeBase
from veiviser.errors import KnowledgeBaseError, KnowledgeBaseProblem

YAML_SUFFIXES = (".yaml", ".yml")
LIST_SECTIONS = ("groups", "intents", "decline_examples")
MAPPING_SECTIONS = ("organisation", "texts")
MAX_FILE_BYTES = 20 * 1024 * 1024

Path_ = tuple[Any, ...]


def load_knowledge_base(source: str | Path) -> KnowledgeBase:
    """Load and validate a knowledge base from a YAML file or folder.

    Args:
        source: a ``.yaml`` file, or a folder whose ``.yaml`` files are merged.

    Returns:
        The validated knowledge base.

    Raises:
        KnowledgeBaseError: the source is missing or malformed; every problem
            found carries its file and line.
    """
    path = Path(source)
    files = _yaml_files(path)
    merged: dict[str, Any] = {}
    origins: dict[Path_, tuple[str, int]] = {}
    problems: list[KnowledgeBaseProblem] = []
    for file in files:
        try:
            data, lines = _read_with_lines(file)
        except KnowledgeBaseError as error:
            problems.extend(error.problems)
            continue
        _merge(merged, origins, data, lines, str(file), problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return _validate(merged, origins, str(path))


def parse_knowledge_base(text: str, name: str = "<upload>") -> KnowledgeBase:
    """Validate a knowledge base given as YAML text (for uploads).

    Raises:
        KnowledgeBaseError: the text is malformed.
    """
    data, lines = _parse_with_lines(text, name)
    merged: dict[str, Any] = {}
    origins: dict[Path_, tuple[str, int]] = {}
    problems: list[KnowledgeBaseProblem] = []
    _merge(merged, origins, data, lines, name, problems)
    if problems:
        raise KnowledgeBaseError(problems)
    return _validate(merged, origins, name)


def dump_knowledge_base(kb: KnowledgeBase) -> str:
    """Serialise a knowledge base to YAML that loads back to an equal one."""
    data = kb.model_dump(mode="json", exclude_defaults=False)
    for intent in data["intents"]:
        if intent.get("personal_answer") is None:
            intent.pop("personal_answer", None)
        for button in intent["buttons"]:
            if button.get("label") is None:
                button.pop("label")
    return yaml.dump(
        data,
        Dumper=_BlockDumper,
        allow_unicode=True,
        sort_keys=False,
        width=88,
    )


def write_knowledge_base(kb: KnowledgeBase, target: str | Path) -> None:
    """Write a knowledge base to one YAML file (UTF-8)."""
    Path(target).write_text(dump_knowledge_base(kb), encoding="utf-8")


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks so answers stay readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # A literal block cannot hold trailing spaces or some control characters
    # exactly; fall back to a quoted scalar then, so the round trip is exact.
    if "\n" in value and not any(line.endswith(" ") for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _represent_str)


def _yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in YAML_SUFFIXES)
        if not files:
            problem = "the folder holds no .yaml files"
            raise KnowledgeBaseError([KnowledgeBaseProblem(str(path), None, problem)])
        return files
    if not path.exists():
        problem = "no such file or folder"
        raise KnowledgeBaseError([KnowledgeBaseProblem(str(path), None, problem)])
    return [path]


def _read_with_lines(file: Path) -> tuple[Any, dict[Path_, int]]:
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        problem = f"the file has {size} bytes; the limit is {MAX_FILE_BYTES}"
        raise KnowledgeBaseError([KnowledgeBaseProblem(str(file), None, problem)])
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problem = f"not UTF-8 text (byte {error.start})"
        raise KnowledgeBaseError(
            [KnowledgeBaseProblem(str(file), None, problem)]
        ) from error
    return _parse_with_lines(text, str(file))


def _parse_with_lines(text: str, name: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML and remember the line every value starts on."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        lines: dict[Path_, int] = {}
        data = _construct(loader, node, (), lines, name)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise KnowledgeBaseError(
            [KnowledgeBaseProblem(name, line, f"not valid YAML: {problem}")]
        ) from error
    finally:
        loader.dispose()
    return data, lines


def _construct(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    name: str,
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                line = key_node.start_mark.line + 1
                problem = f"the key {key!r} appears twice in the same mapping"
                raise KnowledgeBaseError([KnowledgeBaseProblem(name, line, problem)])
            result[key] = _construct(loader, value_node, (*path, key), lines, name)
            # Point at the key, not at where its value happens to start.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, index), lines, name)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _merge(
    merged: dict[str, Any],
    origins: dict[Path_, tuple[str, int]],
    data: Any,
    lines: dict[Path_, int],
    file: str,
    problems: list[KnowledgeBaseProblem],
) -> None:
    """Add one file's sections to the merged knowledge base."""
    if not isinstance(data, dict):
        problem = "the top level must be a mapping of sections"
        problems.append(KnowledgeBaseProblem(file, lines.get((), 1), problem))
        return
    known = (*LIST_SECTIONS, *MAPPING_SECTIONS)
    for section, value in data.items():
        line = lines.get((section,))
        if section not in known:
            problem = f"unknown section {section!r}; expected one of {list(known)}"
            problems.append(KnowledgeBaseProblem(file, line, problem))
            continue
        if section in LIST_SECTIONS:
            if not isinstance(value, list):
                problem = f"section {section!r} must be a list"
                problems.append(KnowledgeBaseProblem(file, line, problem))
                continue
            target = merged.setdefault(section, [])
            offset = len(target)
            target.extend(value)
            for sub_path, sub_line in lines.items():
                if sub_path[:1] == (section,) and len(sub_path) > 1:
                    index = sub_path[1]
                    if isinstance(index, int):
                        new_path = (section, offset + index, *sub_path[2:])
                        origins[new_path] = (file, sub_line)
            continue
        if section in merged:
            first_file = origins[(section,)][0]
            problem = f"section {section!r} is already given in {first_file}"
            problems.append(KnowledgeBaseProblem(file, line, problem))
            continue
        merged[section] = value
        for sub_path, sub_line in lines.items():
            if sub_path[:1] == (section,):
                origins[sub_path] = (file, sub_line)
    origins.setdefault((), (file, 1))


def _validate(
    merged: dict[str, Any], origins: dict[Path_, tuple[str, int]], name: str
) -> KnowledgeBase:
    problems = list(_reference_problems(merged, origins, name))
    if problems:
        raise KnowledgeBaseError(problems)
    try:
        return KnowledgeBase.model_validate(merged)
    except ValidationError as error:
        problems = [_problem_from(item, origins, name) for item in error.errors()]
        raise KnowledgeBaseError(problems) from None


def _problem_from(
    item: dict[str, Any], origins: dict[Path_, tuple[str, int]], name: str
) -> KnowledgeBaseProblem:
    loc = tuple(item["loc"])
    # The closest enclosing value that has a known line; a missing field is
    # reported at the mapping that lacks it.
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in origins:
            file, line = origins[loc[:cut]]
            break
    else:
        file, line = name, None
    where = ".".join(str(part) for part in loc) or "top level"
    message = item["msg"].removeprefix("Value error, ")
    return KnowledgeBaseProblem(file, line, f"{where}: {message}")


def _reference_problems(
    merged: dict[str, Any], origins: dict[Path_, tuple[str, int]], name: str
) -> list[KnowledgeBaseProblem]:
    """Find duplicate ids and dangling references with their lines.

    The model checks the same rules, but only once every field is valid and
    without line numbers; doing it here first gives editors the exact place.
    """
    intents = [i for i in merged.get("intents", []) if isinstance(i, dict)]
    groups = {g.get("id") for g in merged.get("groups", []) if isinstance(g, dict)}
    known = {intent.get("id") for intent in intents}
    seen: set[Any] = set()
    problems: list[KnowledgeBaseProblem] = []

    def report(path: Path_, problem: str) -> None:
        file, line = origins.get(path, (name, None))
        where = ".".join(str(part) for part in path)
        problems.append(KnowledgeBaseProblem(file, line, f"{where}: {problem}"))

    for index, intent in enumerate(merged.get("intents", [])):
        if not isinstance(intent, dict):
            continue
        intent_id = intent.get("id")
        if intent_id in seen:
            report(("intents", index, "id"), f"intent id {intent_id!r} is used twice")
        seen.add(intent_id)
        group = intent.get("group")
        if group is not None and group not in groups:
            report(("intents", index, "group"), f"no group has the id {group!r}")
        buttons = intent.get("buttons") or []
        for b_index, button in enumerate(buttons if isinstance(buttons, list) else []):
            target = button.get("intent") if isinstance(button, dict) else None
            if target is not None and target not in known:
                path = ("intents", index, "buttons", b_index, "intent")
                report(path, f"the button points to {target!r}, which is no intent")
    return problems
