"""Problems in content files, said so that the person editing the file can act on them.

:class:`ContentError` is one problem at a file and line. :func:`from_validation` turns the
errors pydantic finds in a file into such problems: pydantic's location (a tuple such as
``("contacts", 3, "number")``) is looked up in the file's line map, and its wording is
replaced by plain words, e.g. ``contact 'police'.number must be text, got the number 102
(put it in quotes)`` or ``title: missing language 'en'``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, RootModel, ValidationError

from bot.domain import LANGUAGES

if TYPE_CHECKING:
    from bot.content_model.yamlsource import Document, Loc


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem in a content file, at a 1-based line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def display(path: Path) -> str:
    """The path as a person would type it: relative to the working directory if possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------
# Where in a file: ("versions", "teen", "en", 1) -> "versions.teen.en message 2"
# ---------------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# lists whose items have an id are named by it: ("contacts", 3) -> "contact 'police'"
_ITEM_NAMES = {"contacts": "contact", "topics": "topic", "forbidden": "rule", "required": "rule"}


def describe(data: Any, loc: Loc) -> str:
    """A path into a file's value, as an editor would name it."""
    parts: list[str] = []
    value = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            item = value[part] if isinstance(value, list) and 0 <= part < len(value) else None
            owner = loc[i - 1] if i else ""
            ident = item.get("id") if isinstance(item, dict) else None
            if isinstance(ident, str) and owner in _ITEM_NAMES and parts:
                parts[-1] = f"{_ITEM_NAMES[str(owner)]} '{ident}'"
            else:
                noun = "message" if i >= 3 and loc[i - 3] == "versions" else "item"
                label = f"{noun} {part + 1}"
                parts[-1:] = [f"{parts[-1]} {label}" if parts else label]
            value = item
        else:
            parts.append(part if _PLAIN_KEY.match(part) else f"'{part}'")
            value = value.get(part) if isinstance(value, dict) else None
    return ".".join(parts)


# ---------------------------------------------------------------------------------------
# pydantic's errors in plain words
# ---------------------------------------------------------------------------------------


def from_validation(doc: Document, model: type[BaseModel], exc: ValidationError) -> list[ContentError]:
    """The errors of validating ``doc.data`` against ``model``, at their lines in ``doc``."""
    out: list[ContentError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path, at_key = _data_path(doc.data, loc)
        out.append(doc.error(path, _message(err, model, doc.data, path, at_key)))
    return out


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Loc, bool]:
    """The part of pydantic's ``loc`` that is in the file (union tags and a missing key are
    not), and whether the error is about a mapping's key rather than its value."""
    path: list[str | int] = []
    value = data
    for part in loc:
        if part == "[key]":
            return tuple(path), True
        if isinstance(value, dict) and isinstance(part, str) and part in value:
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            continue
        path.append(part)
    return tuple(path), False


def _message(err: Any, model: type[BaseModel], data: Any, path: Loc, at_key: bool) -> str:
    kind: str = err["type"]
    loc = tuple(err["loc"])
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden" or at_key:
        path = path[:-1]
    where = describe(data, path)
    prefix = f"{where}: " if where else ""
    subject = where or "the file"
    if kind == "missing":
        key = str(loc[-1])
        if key in LANGUAGES:
            return f"{prefix}missing language '{key}'"
        owner = _model_at(model, loc[:-1])
        field = owner.model_fields.get(key) if owner else None
        hint = f" ({field.description})" if field is not None and field.description else ""
        return f"{prefix}missing '{key}'{hint}"
    if kind == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(model, loc[:-1])
        names = list(owner.model_fields) if owner else []
        if names and set(names) <= set(LANGUAGES):
            return f"{prefix}unknown language '{key}' (expected {', '.join(names)})"
        expected = f" (expected {', '.join(names)})" if names else ""
        return f"{prefix}unknown key '{key}'{expected}"
    if kind == "literal_error":
        if at_key:
            return f"{prefix}unknown key '{value}' (expected {ctx.get('expected')})"
        return f"{subject} must be {ctx.get('expected')}, got {_shown(value)}"
    if kind == "string_type":
        if value is None:
            return f"{subject} is empty"
        if isinstance(value, dict | list):
            return f"{subject} must be text, not {_shown(value)}"
        return f"{subject} must be text, got {_shown(value)} (put it in quotes)"
    if kind == "empty":
        return f"{subject} is empty"
    if kind == "bool_type":
        return f"{subject} must be true or false, got {_shown(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"{subject} must be a mapping (key: value), got {_shown(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"{subject} must be a list, got {_shown(value)}"
    if kind == "pattern_type":
        return f"{subject} must be a regular expression in quotes, got {_shown(value)}"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        if kind == "too_short" and ctx.get("actual_length") == 0:
            return f"{subject} is empty; it needs at least {limit} entry" + ("" if limit == 1 else "s")
        bound = "at least" if kind == "too_short" else "at most"
        return f"{subject} has {ctx.get('actual_length')} entries; it needs {bound} {limit}"
    return f"{prefix}{err['msg']}"


def _shown(value: Any) -> str:
    """A value as the YAML file shows it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping (key: value)"
    if isinstance(value, list):
        return "a list"
    return repr(value)


# ---------------------------------------------------------------------------------------
# The model at a location (for its field names and descriptions)
# ---------------------------------------------------------------------------------------


def _model_at(model: Any, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    tp = model
    for part in loc:
        tp = _step(_unwrap(tp), part)
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unwrap(tp: Any) -> Any:
    """Strips Annotated, Optional and RootModel down to the type that holds the next step."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif isinstance(tp, type) and issubclass(tp, RootModel):
            tp = tp.model_fields["root"].annotation
        elif origin in (Union, UnionType) and len([a for a in get_args(tp) if a is not type(None)]) == 1:
            tp = next(a for a in get_args(tp) if a is not type(None))
        else:
            return tp


def _step(tp: Any, part: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    origin, args = get_origin(tp), get_args(tp)
    if origin is dict:
        return args[0] if part == "[key]" else args[1]
    if origin in (list, tuple):
        return args[0]
    if origin in (Union, UnionType):  # a tagged union: the step is the tag
        for member in args:
            if get_origin(member) is Annotated and any(
                getattr(meta, "tag", None) == part for meta in get_args(member)[1:]
            ):
                return member
    return None
