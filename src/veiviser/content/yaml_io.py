"""Read and write the knowledge-base YAML format.

A knowledge base is one YAML file or a folder of them (read in name order and
merged). Every problem is reported with its file and line, in file and line
order, so an editor can fix a hand-written file from top to bottom without
guessing. Each problem also carries a code and its values (see
``KnowledgeBaseProblem``) for pages that speak the editor's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from veiviser.content.model import KnowledgeBase
from veiviser.content.problems import plain, validation_problem
from veiviser.errors import KnowledgeBaseError, KnowledgeBaseProblem

YAML_SUFFIXES = (".yaml", ".yml")
LIST_SECTIONS = ("groups", "intents", "decline_examples")
MAPPING_SECTIONS = ("organisation", "texts")
MAX_FILE_BYTES = 20 * 1024 * 1024
# YAML aliases let a file of a few hundred bytes stand for millions of values
# ("phrases: [*a, *a, ...]" nested a few levels), enough to fill the server's
# memory. A file without aliases holds at most about one value per two bytes,
# so one that expands past its own length plus a margin is refused, and no
# file may hold more values than a very large knowledge base needs.
MAX_VALUES = 500_000
VALUES_MARGIN = 1_000

Path_ = tuple[Any, ...]


def load_knowledge_base(
    source: str | Path, merge_into: KnowledgeBase | None = None
) -> KnowledgeBase:
    """Load and validate a knowledge base from a YAML file or folder.

    Args:
        source: a ``.yaml`` file, or a folder whose ``.yaml`` files are merged.
        merge_into: the stored knowledge base the source will be merged into;
            buttons and groups may then point at its intents and groups.

    Returns:
        The validated knowledge base. With ``merge_into`` it holds only the
        source's own intents and groups, so it is whole once merged.

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
    order = [str(file) for file in files]
    if problems:
        raise KnowledgeBaseError(_in_file_order(problems, order))
    return _validate(merged, origins, str(path), order, merge_into)


def parse_knowledge_base(
    text: str, name: str = "<upload>", merge_into: KnowledgeBase | None = None
) -> KnowledgeBase:
    """Validate a knowledge base given as YAML text (for uploads).

    Args:
        text: the YAML text.
        name: the file name problems are reported with.
        merge_into: as for :func:`load_knowledge_base`.

    Raises:
        KnowledgeBaseError: the text is malformed.
    """
    data, lines = _parse_with_lines(text, name)
    merged: dict[str, Any] = {}
    origins: dict[Path_, tuple[str, int]] = {}
    problems: list[KnowledgeBaseProblem] = []
    _merge(merged, origins, data, lines, name, problems)
    if problems:
        raise KnowledgeBaseError(_in_file_order(problems, [name]))
    return _validate(merged, origins, name, [name], merge_into)


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
            raise _error(str(path), None, problem, "folder_empty")
        return files
    if not path.exists():
        raise _error(str(path), None, "no such file or folder", "not_found")
    return [path]


def _error(
    file: str, line: int | None, problem: str, code: str, **params: Any
) -> KnowledgeBaseError:
    return KnowledgeBaseError(
        [KnowledgeBaseProblem(file, line, problem, code, _plain_params(params))]
    )


def _plain_params(params: dict[str, Any]) -> dict[str, Any]:
    return {name: plain(value) for name, value in params.items()}


def _read_with_lines(file: Path) -> tuple[Any, dict[Path_, int]]:
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        problem = f"the file has {size} bytes; the limit is {MAX_FILE_BYTES}"
        raise _error(
            str(file), None, problem, "file_too_large", size=size, limit=MAX_FILE_BYTES
        )
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problem = f"not UTF-8 text (byte {error.start})"
        raise _error(str(file), None, problem, "not_utf8", byte=error.start) from error
    return _parse_with_lines(text, str(file))


def _parse_with_lines(text: str, name: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML and remember the line every value starts on."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            # Nothing but blanks and comments: storing it would replace the
            # knowledge base with an empty one.
            raise _error(name, None, "the file is empty", "empty")
        lines: dict[Path_, int] = {}
        limit = min(MAX_VALUES, len(text) + VALUES_MARGIN)
        data = _construct(loader, node, (), lines, name, limit)
    except RecursionError:
        # Thousands of nested brackets exhaust Python's stack while parsing.
        # The reader's line is where the parser gave up, inside the brackets.
        line = loader.line + 1
        problem = "the values are nested too deeply"
        raise _error(name, line, problem, "too_deep") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise _error(
            name, line, f"not valid YAML: {problem}", "yaml_syntax", column=column
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
    limit: int,
) -> Any:
    if len(lines) >= limit:
        line = node.start_mark.line + 1
        problem = f"the file expands to more than {limit} values (YAML aliases?)"
        raise _error(name, line, problem, "too_many_values", limit=limit)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                line = key_node.start_mark.line + 1
                problem = f"the key {key!r} appears twice in the same mapping"
                raise _error(name, line, problem, "duplicate_key", key=key)
            result[key] = _construct(
                loader, value_node, (*path, key), lines, name, limit
            )
            # Point at the key, not at where its value happens to start.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, index), lines, name, limit)
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
        problems.append(
            KnowledgeBaseProblem(file, lines.get((), 1), problem, "top_level")
        )
        return
    known = (*LIST_SECTIONS, *MAPPING_SECTIONS)
    for section, value in data.items():
        line = lines.get((section,))
        params = _plain_params({"section": section})
        if section not in known:
            problem = f"unknown section {section!r}; expected one of {list(known)}"
            params["expected"] = list(known)
            problems.append(
                KnowledgeBaseProblem(file, line, problem, "unknown_section", params)
            )
            continue
        if section in LIST_SECTIONS:
            if not isinstance(value, list):
                problem = f"section {section!r} must be a list"
                problems.append(
                    KnowledgeBaseProblem(
                        file, line, problem, "section_not_list", params
                    )
                )
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
            params["first_file"] = first_file
            problems.append(
                KnowledgeBaseProblem(file, line, problem, "section_repeated", params)
            )
            continue
        merged[section] = value
        for sub_path, sub_line in lines.items():
            if sub_path[:1] == (section,):
                origins[sub_path] = (file, sub_line)
    origins.setdefault((), (file, 1))


def _validate(
    merged: dict[str, Any],
    origins: dict[Path_, tuple[str, int]],
    name: str,
    files: list[str],
    merge_into: KnowledgeBase | None = None,
) -> KnowledgeBase:
    problems = _reference_problems(merged, origins, name, merge_into)
    references_found = bool(problems)
    try:
        kb = KnowledgeBase.model_validate(_with_stored(merged, merge_into))
    except ValidationError as error:
        for item in error.errors():
            # The model repeats a reference problem found above, without a
            # line; keep only the one that names the place.
            if references_found and item["type"] in REFERENCE_CODES:
                continue
            problems.append(_problem_from(item, merged, origins, name))
    if problems:
        raise KnowledgeBaseError(_in_file_order(problems, files))
    return _without_stored(kb, merged) if merge_into is not None else kb


def _with_stored(
    merged: dict[str, Any], stored: KnowledgeBase | None
) -> dict[str, Any]:
    """``merged`` followed by the stored intents and groups it does not replace.

    The model then checks references against the result of the merge. The
    stored items come last, so a problem's index still points into the files.
    """
    if stored is None:
        return merged
    data = dict(merged)
    for section in ("groups", "intents"):
        own = merged.get(section, [])
        ids = {_text(item.get("id")) for item in own if isinstance(item, dict)}
        kept = [item for item in getattr(stored, section) if item.id not in ids]
        data[section] = [*own, *kept]
    return data


def _without_stored(kb: KnowledgeBase, merged: dict[str, Any]) -> KnowledgeBase:
    """``kb`` with only the groups and intents the files gave."""
    groups = kb.groups[: len(merged.get("groups", []))]
    intents = kb.intents[: len(merged.get("intents", []))]
    return kb.model_copy(update={"groups": groups, "intents": intents})


def _in_file_order(
    problems: list[KnowledgeBaseProblem], files: list[str]
) -> list[KnowledgeBaseProblem]:
    """Sort problems by file (in reading order), then line; a whole-file one first."""
    rank = {file: index for index, file in enumerate(files)}
    return sorted(problems, key=lambda p: (rank.get(p.file, -1), p.line or 0))


def _problem_from(
    item: dict[str, Any],
    merged: dict[str, Any],
    origins: dict[Path_, tuple[str, int]],
    name: str,
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
    return validation_problem(item, file, line, merged)


# The rules _reference_problems checks with lines; the model checks them too.
REFERENCE_CODES = ("duplicate_intent_id", "unknown_group", "dangling_button")


def _reference_problems(
    merged: dict[str, Any],
    origins: dict[Path_, tuple[str, int]],
    name: str,
    stored: KnowledgeBase | None = None,
) -> list[KnowledgeBaseProblem]:
    """Find duplicate ids and dangling references with their lines.

    The model checks the same rules, but only once every field is valid and
    without line numbers; doing it here as well gives editors the exact place.
    Ids are compared as the model compares them, stripped; a value that is
    not text is left to the model's type check. References may also point
    into ``stored``, the knowledge base the files will be merged into.
    """
    intents = [i for i in merged.get("intents", []) if isinstance(i, dict)]
    groups = {
        _text(g.get("id")) for g in merged.get("groups", []) if isinstance(g, dict)
    }
    known = {_text(intent.get("id")) for intent in intents}
    if stored is not None:
        groups |= {group.id for group in stored.groups}
        known |= {intent.id for intent in stored.intents}
    seen: set[str] = set()
    problems: list[KnowledgeBaseProblem] = []

    def report(path: Path_, problem: str, code: str, **params: Any) -> None:
        file, line = origins.get(path, (name, None))
        where = ".".join(str(part) for part in path)
        params = _plain_params({"loc": list(path), **params})
        problems.append(
            KnowledgeBaseProblem(file, line, f"{where}: {problem}", code, params)
        )

    for index, intent in enumerate(merged.get("intents", [])):
        if not isinstance(intent, dict):
            continue
        intent_id = _text(intent.get("id"))
        here = {"item_id": intent_id} if intent_id else {}
        if intent_id in seen:
            problem = f"intent id {intent_id!r} is used twice"
            path = ("intents", index, "id")
            report(path, problem, "duplicate_intent_id", id=intent_id)
        if intent_id is not None:
            seen.add(intent_id)
        group = _text(intent.get("group"))
        if group is not None and group not in groups:
            problem = f"no group has the id {group!r}"
            path = ("intents", index, "group")
            report(path, problem, "unknown_group", group=group, **here)
        buttons = intent.get("buttons") or []
        for b_index, button in enumerate(buttons if isinstance(buttons, list) else []):
            target = _text(button.get("intent")) if isinstance(button, dict) else None
            if target is not None and target not in known:
                problem = f"the button points to {target!r}, which is no intent"
                path = ("intents", index, "buttons", b_index, "intent")
                report(path, problem, "dangling_button", target=target, **here)
    return problems


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) else None
