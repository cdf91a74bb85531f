"""A YAML content file read once: its Python value and the line of every key and value.

The bot's content is edited by people who do not read Python, so every problem must name the
file and the line. :func:`read` composes the YAML node tree (with libyaml when it is there),
builds the Python value from it and keeps, for every path into the value -- a tuple such as
``("contacts", 3, "number")`` -- the line of its key and of its value. Problems of the file
itself (missing, not UTF-8, YAML syntax, an empty file, a key written twice) are reported here;
what the value must look like is the models' business (:mod:`bot.content_model.models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content_model.errors import ContentError, display

Loc = tuple[str | int, ...]

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_constructor = yaml.SafeLoader("")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value sits: the line it starts on, the line of its key, and its style."""

    line: int
    key_line: int | None = None
    literal: bool = False  # a '|' block: each line of the text is a line of the file


@dataclass
class Document:
    """One content file: its path, the name shown in messages, its value and the lines."""

    path: Path
    name: str
    data: Any = None  # None when the file could not be read
    places: dict[Loc, Place] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.data is not None

    def line(self, loc: Loc) -> int:
        """The line to name for ``loc``: its key's line for a mapping entry, else its value's.
        A path that is not in the file (a missing key) gets the line of its nearest parent."""
        for end in range(len(loc), -1, -1):
            place = self.places.get(loc[:end])
            if place is not None:
                return place.key_line or place.line
        return 1

    def value_line(self, loc: Loc) -> int:
        place = self.places.get(loc)
        return place.line if place is not None else self.line(loc)

    def literal(self, loc: Loc) -> bool:
        place = self.places.get(loc)
        return place is not None and place.literal

    def error(self, loc: Loc | int, message: str) -> ContentError:
        line = loc if isinstance(loc, int) else self.line(loc)
        return ContentError(self.name, line, message)


def read(path: Path, errors: list[ContentError]) -> Document:
    """Reads ``path``; problems go to ``errors`` and leave ``data`` None (or, for a key written
    twice, the first of them in place)."""
    doc = Document(path, display(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        errors.append(doc.error(1, "file is missing"))
        return doc
    except UnicodeDecodeError as exc:
        errors.append(doc.error(1, f"file is not UTF-8 text ({exc.reason})"))
        return doc
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        errors.append(doc.error(mark.line + 1 if mark else 1, f"YAML syntax error: {problem or exc}"))
        return doc
    except yaml.YAMLError as exc:
        errors.append(doc.error(1, f"YAML error: {exc}"))
        return doc
    if root is None:
        errors.append(doc.error(1, "file is empty"))
        return doc
    doc.places[()] = _place(root)
    doc.data = _Builder(doc, errors).value(root, ())
    return doc


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _place(node: yaml.Node, key: yaml.Node | None = None) -> Place:
    literal = isinstance(node, yaml.ScalarNode) and node.style == "|"
    return Place(_line(node), _line(key) if key is not None else None, literal)


class _Builder:
    """Builds the Python value of a node tree and records the place of every part."""

    def __init__(self, doc: Document, errors: list[ContentError]) -> None:
        self.doc = doc
        self.errors = errors
        self.open: set[int] = set()  # nodes being built (an alias of its own parent is an error)

    def value(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            try:
                return _scalar(node)
            except yaml.YAMLError as exc:
                self.errors.append(self.doc.error(_line(node), f"YAML error: {exc}"))
                return None
        if id(node) in self.open:
            self.errors.append(self.doc.error(_line(node), "an alias refers to its own parent"))
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, loc)
            return self._mapping(node, loc)
        finally:
            self.open.discard(id(node))

    def _sequence(self, node: yaml.SequenceNode, loc: Loc) -> list[Any]:
        out: list[Any] = []
        for i, item in enumerate(node.value):
            self.doc.places[(*loc, i)] = _place(item)
            out.append(self.value(item, (*loc, i)))
        return out

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(self.doc.error(_line(key_node), "keys must be plain text"))
                continue
            key = key_node.value  # as written: "no" stays "no", "1" stays "1"
            if key in first:
                message = f"duplicate key '{key}' (first at line {first[key]})"
                self.errors.append(self.doc.error(_line(key_node), message))
                continue
            first[key] = _line(key_node)
            self.doc.places[(*loc, key)] = _place(value_node, key_node)
            out[key] = self.value(value_node, (*loc, key))
        return out


def _scalar(node: yaml.ScalarNode) -> Any:
    """The value YAML gives a non-string scalar (int, bool, None, float, date...)."""
    try:
        return _constructor.construct_object(node)
    finally:
        _constructor.constructed_objects.clear()
        _constructor.recursive_objects.clear()
