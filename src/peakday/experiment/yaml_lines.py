"""Safe YAML parsing that also remembers the line of every key, so errors can point at it (pure).

`parse_yaml` turns text into plain Python data plus a map from key paths such as
("faults", 0, "toxic") to 1-based line numbers: the line of the key for a mapping entry, of the
item for a sequence item. Problems become SpecIssue items instead of exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from peakday.errors import SpecIssue

KeyPath = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
# An alias can repeat a subtree many times ("billion laughs"); stop long before that hurts.
MAX_VALUES = 20_000
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class ParsedYaml:
    """Data read from one YAML text. `data` is None when the text could not be read at all."""

    data: object
    lines: Mapping[KeyPath, int]
    issues: tuple[SpecIssue, ...] = ()


@dataclass(frozen=True)
class Locator:
    """Builds issues for one file, finding the closest known line for a key path."""

    file: str
    lines: Mapping[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        return line_for(self.lines, path)

    def issue(
        self, path: KeyPath, message: str, hint: str = "", line: int | None = None
    ) -> SpecIssue:
        """An issue at `path`, on `line` when given, else on the closest known line."""
        return SpecIssue(
            file=self.file,
            line=line if line is not None else self.line(path),
            key_path=format_key_path(path),
            message=message,
            hint=hint,
        )


def line_for(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of `path`, or of its nearest ancestor whose line is known."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def format_key_path(path: KeyPath) -> str:
    """("faults", 0, "attributes", "latency") -> 'faults[0].attributes.latency'."""
    text = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def parse_yaml(text: str, file: str) -> ParsedYaml:
    """Safe-load one YAML document whose top level must be a mapping."""
    try:
        return _parse(text, Locator(file))
    except yaml.YAMLError as error:
        return ParsedYaml(None, {}, (_syntax_issue(error, text, file),))
    except RecursionError:
        too_deep = SpecIssue(
            file,
            None,
            "",
            "The YAML is nested too deeply to read.",
            "An experiment needs only a few levels of nesting; check for runaway brackets.",
        )
        return ParsedYaml(None, {}, (too_deep,))


def _parse(text: str, locator: Locator) -> ParsedYaml:
    loader = yaml.SafeLoader(text)  # the reader rejects unprintable characters right here
    try:
        node = loader.get_single_node()
        if node is None:
            return ParsedYaml(None, {}, (_empty_issue(locator.file),))
        walk = _Walk(locator)
        walk.visit(node, ())
        if walk.fatal is not None:
            return ParsedYaml(None, walk.lines, (*walk.issues, walk.fatal))
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        not_mapping = locator.issue(
            (),
            f"The top level must be a mapping of keys, got {_kind(data)}.",
            "Start the file with keys such as 'name:', 'load:', 'faults:' and 'slos:'.",
            line=node.start_mark.line + 1,
        )
        return ParsedYaml(None, walk.lines, (*walk.issues, not_mapping))
    return ParsedYaml(data, walk.lines, tuple(walk.issues))


class _Walk:
    """Records the line of each key path and reports duplicate keys and recursive aliases."""

    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self.lines: dict[KeyPath, int] = {}
        self.issues: list[SpecIssue] = []
        self.fatal: SpecIssue | None = None
        self._keys = SafeConstructor()
        self._open: set[int] = set()
        self._count = 0

    def visit(self, node: Node, path: KeyPath) -> None:
        if self.fatal is not None:
            return
        self.lines.setdefault(path, node.start_mark.line + 1)
        self._count += 1
        if self._count > MAX_VALUES:
            # Report at the top-level key: the path inside the expansion means little to a reader.
            self.fatal = self.locator.issue(
                path[:1],
                f"The document expands to more than {MAX_VALUES} values.",
                "Aliases (*name) that repeat large blocks multiply its size; write it out plainly.",
                line=line_for(self.lines, path[:1]),
            )
            return
        if id(node) in self._open:
            self.fatal = self._located(
                node,
                path,
                "An alias refers to the block that contains it, which never ends.",
                "Point the alias (*name) at an anchor (&name) outside the block that uses it.",
            )
            return
        self._open.add(id(node))
        if isinstance(node, MappingNode):
            for key, key_node, value in self._entries(node, path):
                self.lines[(*path, key)] = key_node.start_mark.line + 1
                self.visit(value, (*path, key))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                self.visit(item, (*path, index))
        self._open.discard(id(node))

    def _entries(
        self, node: MappingNode, path: KeyPath, report: bool = True
    ) -> list[tuple[str | int, Node, Node]]:
        """Explicit entries, then keys merged in with '<<'; a repeated key keeps its last value.

        Duplicates are reported where a mapping is written, not again for each '<<' that uses it.
        """
        entries: dict[str | int, tuple[Node, Node]] = {}
        merges: list[Node] = []
        for key_node, value in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value)
                continue
            key = self._key(key_node)
            if key in entries and report:
                first, line = entries[key][0].start_mark.line + 1, key_node.start_mark.line + 1
                self.issues.append(
                    self.locator.issue(
                        (*path, key),
                        f"The key {key!r} appears twice, on lines {first} and {line}.",
                        "YAML would silently keep only the last one; remove or rename one of them.",
                        line=line,
                    )
                )
            entries[key] = (key_node, value)
        for source in merges:
            for mapping in source.value if isinstance(source, SequenceNode) else [source]:
                if not isinstance(mapping, MappingNode):
                    continue  # the constructor reports a bad merge with its own line
                for key, key_node, value in self._entries(mapping, path, report=False):
                    entries.setdefault(key, (key_node, value))
        return [(key, key_node, value) for key, (key_node, value) in entries.items()]

    def _key(self, key_node: Node) -> str | int:
        if isinstance(key_node, ScalarNode):
            try:
                key = self._keys.construct_object(key_node)
            except yaml.YAMLError:
                return str(key_node.value)
            return key if isinstance(key, str | int) else str(key)
        # A list or mapping used as a key; the constructor rejects it with its own line.
        return f"<{type(key_node).__name__} at line {key_node.start_mark.line + 1}>"

    def _located(self, node: Node, path: KeyPath, message: str, hint: str) -> SpecIssue:
        return self.locator.issue(path, message, hint, line=node.start_mark.line + 1)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"[:80]
    return f"{value!r}"[:80]


def _empty_issue(file: str) -> SpecIssue:
    return SpecIssue(
        file,
        None,
        "",
        "The file is empty; it holds no YAML document.",
        "An experiment needs at least 'name:' and 'load:' with users, spawn_rate and duration.",
    )


def _syntax_issue(error: yaml.YAMLError, text: str, file: str) -> SpecIssue:
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        return SpecIssue(
            file,
            line,
            "",
            f"The file contains the control character #x{error.character:04x}, "
            "which YAML does not allow.",
            "Remove it; it is often pasted in by accident from a terminal or a word processor.",
        )
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        mark_line = mark.line + 1 if mark is not None else None
        problem = error.problem or "the text is not valid YAML"
        context = f" ({error.context})" if error.context else ""
        return SpecIssue(
            file,
            mark_line,
            "",
            f"The YAML cannot be read: {problem}{context}.",
            _syntax_hint(problem),
        )
    return SpecIssue(file, None, "", f"The YAML cannot be read: {error}.", "")


def _syntax_hint(problem: str) -> str:
    if "chomping or indentation indicators" in problem:
        return "Quote values that start with '>' or '|', such as objective: \">= 99.5%\"."
    if "'\\t'" in problem:
        return "Indent with spaces, not tabs."
    if "mapping values are not allowed" in problem:
        return "Quote values that contain ': ', or check the indentation of this line."
    if "another document" in problem:
        return "Put each experiment in its own file; a file holds one document (no second '---')."
    if "undefined alias" in problem:
        return "Define the anchor (&name) before the alias (*name) that uses it."
    if "could not determine a constructor" in problem:
        return "peakday reads plain YAML only; remove the '!' tag."
    return "Check the indentation, brackets and quotes on this line and the one before it."
