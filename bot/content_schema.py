"""Validation of the bot's content files (everything under ``bot/content/``).

The helpline edits the YAML files in ``bot/content/`` without touching code. This module
checks them when the bot starts and in the tests, and names the file and line of every
problem, so that a mistake in a text file stops the start with a message a non-programmer
can act on, e.g. ``bot/content/strings/ru.yaml:41: key 'menu.start' is missing``.

Public API:

* :func:`validate_content` -- structure of strings, self-help articles, contacts,
  taxonomy and the safe-messaging rules (returns a list of :class:`ContentError`).
* :func:`scan_safe_messaging` -- checks every user-facing text against the rules in
  ``safe_messaging.yaml`` (no method details, no minimising or sensational wording, and
  the required elements of crisis texts).
* :func:`check_address_forms` -- a style check for Azerbaijani texts: "sən" to teenagers,
  "Siz" to adults. Used by the tests, not at start-up (a style slip must not stop the bot).

Line numbers come from PyYAML's node marks (``yaml.compose``), so errors point at the
exact key or list item. YAML parse errors carry the parser's own line.
"""

from __future__ import annotations

import fnmatch
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.domain import LANGUAGES, Category

# Self-help articles: limits agreed with the self-help flow.
MAX_MESSAGE_CHARS = 700
MIN_MESSAGES = 3
MAX_MESSAGES = 7
ARTICLE_VERSIONS = ("teen", "parent")
ARTICLE_KEYS = {"id", "topics", "title", "sources", "versions"}
# Topic codes that are answered by the flows themselves, not by a self-help article.
TOPICS_WITHOUT_ARTICLE = frozenset({"service_info"})

# UI strings: audience variants.
STRING_VARIANTS = ("teen", "adult")
KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# Contacts.
CONTACT_KINDS = ("phone", "email", "web", "app")
CONTACT_TARGET_FIELD = {"phone": "number", "email": "address", "web": "url", "app": "url"}
CONTACT_KEYS = {
    "id",
    "kind",
    "number",
    "address",
    "url",
    "name",
    "hours",
    "when",
    "free",
    "emergency",
    "verify",
    "topics",
}
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{1,19}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_RE = re.compile(r"^https?://\S+$")
REQUIRED_NUMBERS = ("116111", "112")

# Plain text only: these look like Markdown/HTML and would show as raw symbols in a chat.
MARKUP_RE = re.compile(r"\*\*|__|`|^\s*#{1,6}\s|\[[^\]]+\]\([^)]+\)|</?[a-zA-Z][^>]*>", re.MULTILINE)


@dataclass(frozen=True, order=True)
class ContentError:
    """One problem in a content file, at a 1-based line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


# ---------------------------------------------------------------------------------------
# YAML nodes with line numbers
# ---------------------------------------------------------------------------------------

_constructor = yaml.SafeLoader("")


def _scalar_value(node: yaml.ScalarNode) -> object:
    """The Python value YAML gives a scalar (str, int, bool, None...), without caching nodes."""
    try:
        return _constructor.construct_object(node)
    finally:
        _constructor.constructed_objects.clear()
        _constructor.recursive_objects.clear()


def _display(path: Path) -> str:
    """The path as a person would type it: relative to the working directory if possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _line(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 1


class _File:
    """One YAML file: its composed node tree and the errors found in it."""

    def __init__(self, path: Path, errors: list[ContentError]):
        self.path = path
        self.name = _display(path)
        self.errors = errors
        self.root: yaml.Node | None = None
        self._load()

    def err(self, where: yaml.Node | int | None, message: str) -> None:
        line = where if isinstance(where, int) else _line(where)
        self.errors.append(ContentError(self.name, line, message))

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.err(1, "file is missing")
            return
        except UnicodeDecodeError as exc:
            self.err(1, f"file is not UTF-8 text ({exc.reason})")
            return
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
            self.err(line, f"YAML syntax error: {problem or exc}")
            return
        except yaml.YAMLError as exc:
            self.err(1, f"YAML error: {exc}")
            return
        if root is None:
            self.err(1, "file is empty")
            return
        self.root = root

    # -- typed access -------------------------------------------------------------------

    def mapping(self, node: yaml.Node | None, what: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """Items of a mapping node as (key, key_node, value_node); reports duplicate keys."""
        if node is None:
            return None
        if not isinstance(node, yaml.MappingNode):
            self.err(node, f"{what} must be a mapping (key: value)")
            return None
        items: list[tuple[str, yaml.Node, yaml.Node]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.err(key_node, f"{what}: keys must be plain text")
                continue
            key = key_node.value
            if key in seen:
                self.err(key_node, f"{what}: duplicate key '{key}' (first at line {seen[key]})")
                continue
            seen[key] = _line(key_node)
            items.append((key, key_node, value_node))
        return items

    def sequence(self, node: yaml.Node | None, what: str) -> list[yaml.Node] | None:
        if node is None:
            return None
        if not isinstance(node, yaml.SequenceNode):
            self.err(node, f"{what} must be a list")
            return None
        return list(node.value)

    def text(self, node: yaml.Node | None, what: str, *, allow_empty: bool = False) -> str | None:
        """A string scalar; numbers, booleans and nulls are reported (quote them)."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.err(node, f"{what} must be text")
            return None
        value = _scalar_value(node)
        if not isinstance(value, str):
            kind = type(value).__name__
            self.err(node, f"{what} must be text, got {kind} {node.value!r} (put it in quotes)")
            return None
        if not allow_empty and not value.strip():
            self.err(node, f"{what} is empty")
            return None
        return value

    def boolean(self, node: yaml.Node | None, what: str) -> bool | None:
        if node is None:
            return None
        value = _scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.err(node, f"{what} must be true or false")
            return None
        return value

    def languages(self, node: yaml.Node | None, what: str) -> dict[str, tuple[str, yaml.Node]]:
        """A {az, ru, en} mapping of non-empty texts."""
        out: dict[str, tuple[str, yaml.Node]] = {}
        items = self.mapping(node, what)
        if items is None:
            return out
        for key, key_node, value_node in items:
            if key not in LANGUAGES:
                self.err(key_node, f"{what}: unknown language '{key}' (expected {', '.join(LANGUAGES)})")
                continue
            value = self.text(value_node, f"{what}.{key}")
            if value is not None:
                out[key] = (value, value_node)
        for lang in LANGUAGES:
            if lang not in {k for k, _, _ in items}:
                self.err(node, f"{what}: missing language '{lang}'")
        return out


def _get(items: list[tuple[str, yaml.Node, yaml.Node]] | None, key: str) -> yaml.Node | None:
    for k, _, value in items or ():
        if k == key:
            return value
    return None


def _placeholders(text: str) -> set[str]:
    """Names used as {name} in a str.format template; raises ValueError on broken braces."""
    names: set[str] = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is None:
            continue
        base = re.split(r"[.\[]", field, maxsplit=1)[0]
        if not base or base.isdigit():
            raise ValueError("use named placeholders like {name}, not {} or {0}")
        names.add(base)
    return names


# ---------------------------------------------------------------------------------------
# Taxonomy
# ---------------------------------------------------------------------------------------


def _validate_taxonomy(content_dir: Path, errors: list[ContentError]) -> set[str]:
    """Returns the topic codes (empty if the file is unusable)."""
    f = _File(content_dir / "taxonomy.yaml", errors)
    top = f.mapping(f.root, "taxonomy")
    if top is None:
        return set()
    categories_node = _get(top, "categories")
    topics_node = _get(top, "topics")
    if categories_node is None:
        f.err(f.root, "missing 'categories'")
    if topics_node is None:
        f.err(f.root, "missing 'topics'")
    expected = {c.value for c in Category}
    found_categories: set[str] = set()
    for code, key_node, value_node in f.mapping(categories_node, "categories") or ():
        if code not in expected:
            f.err(key_node, f"unknown category '{code}' (expected: {', '.join(sorted(expected))})")
        found_categories.add(code)
        items = f.mapping(value_node, f"category '{code}'")
        for lang in LANGUAGES:
            node = _get(items, lang)
            if node is None:
                f.err(value_node, f"category '{code}': missing label '{lang}'")
            else:
                f.text(node, f"category '{code}'.{lang}")
    if categories_node is not None:
        for code in sorted(expected - found_categories):
            f.err(categories_node, f"category '{code}' is missing")
    topics: set[str] = set()
    for code, key_node, value_node in f.mapping(topics_node, "topics") or ():
        if not CODE_RE.match(code):
            f.err(key_node, f"topic code '{code}' must be lower_case_with_underscores")
        topics.add(code)
        items = f.mapping(value_node, f"topic '{code}'")
        if items is None:
            continue
        category = f.text(_get(items, "category"), f"topic '{code}'.category")
        if _get(items, "category") is None:
            f.err(value_node, f"topic '{code}': missing 'category'")
        elif category is not None and category not in expected:
            f.err(_get(items, "category"), f"topic '{code}': unknown category '{category}'")
        for lang in LANGUAGES:
            node = _get(items, lang)
            if node is None:
                f.err(value_node, f"topic '{code}': missing label '{lang}'")
            else:
                f.text(node, f"topic '{code}'.{lang}")
    for key, key_node, _ in top:
        if key not in ("categories", "topics", "specificity"):
            f.err(key_node, f"unknown key '{key}' (expected categories, topics, specificity)")
    for node in f.sequence(_get(top, "specificity"), "specificity") or ():
        code = f.text(node, "specificity")
        if code is not None and code not in topics:
            f.err(node, f"specificity: unknown topic '{code}'")
    return topics


# ---------------------------------------------------------------------------------------
# UI strings
# ---------------------------------------------------------------------------------------


@dataclass
class _StringEntry:
    key: str
    file: _File
    line: int
    # variant ("" for a plain string, else teen/adult) -> (text, node)
    variants: dict[str, tuple[str, yaml.Node]]
    placeholders: set[str] | None  # None when a template is broken


def string_files(strings_dir: Path, lang: str) -> list[Path]:
    """``<lang>.yaml`` and any ``<part>.<lang>.yaml`` beside it (same rule as the loader)."""
    return [strings_dir / f"{lang}.yaml", *sorted(strings_dir.glob(f"*.{lang}.yaml"))]


def _string_entries(f: _File, lang: str) -> Iterator[_StringEntry]:
    for key, key_node, value_node in f.mapping(f.root, f"strings ({lang})") or ():
        if not KEY_RE.match(key):
            f.err(key_node, f"key '{key}': use letters, digits, '_', '.' or '-' only")
        variants: dict[str, tuple[str, yaml.Node]] = {}
        if isinstance(value_node, yaml.MappingNode):
            items = f.mapping(value_node, f"'{key}'") or []
            for variant, vkey_node, vnode in items:
                if variant not in STRING_VARIANTS:
                    f.err(vkey_node, f"'{key}': unknown audience '{variant}' (use teen and adult)")
                    continue
                text = f.text(vnode, f"'{key}'.{variant}")
                if text is not None:
                    variants[variant] = (text, vnode)
            names = {v for v, _, _ in items}
            for variant in STRING_VARIANTS:
                if variant not in names:
                    f.err(
                        value_node,
                        f"'{key}': audience variants need both teen and adult; '{variant}' is missing",
                    )
        else:
            text = f.text(value_node, f"'{key}'")
            if text is not None:
                variants[""] = (text, value_node)
        placeholders: set[str] | None = None
        for variant, (text, vnode) in variants.items():
            label = f"'{key}'" + (f".{variant}" if variant else "")
            try:
                names = _placeholders(text)
            except ValueError as exc:
                f.err(vnode, f"{label}: broken placeholder: {exc} (write a literal brace as {{{{ or }}}})")
                placeholders = None
                break
            if placeholders is None:
                placeholders = names
            elif names != placeholders:
                f.err(
                    vnode,
                    f"{label}: placeholders {sorted(names)} differ from the other variant's "
                    f"{sorted(placeholders)}",
                )
        yield _StringEntry(key, f, _line(key_node), variants, placeholders)


_LoadedStrings = dict[str, tuple[_File, dict[str, _StringEntry]]]


def _load_strings(content_dir: Path, errors: list[ContentError]) -> _LoadedStrings:
    """Per language: the main file and the merged entries of all its files."""
    out: dict[str, tuple[_File, dict[str, _StringEntry]]] = {}
    for lang in LANGUAGES:
        files = [_File(path, errors) for path in string_files(content_dir / "strings", lang)]
        entries: dict[str, _StringEntry] = {}
        for f in files:
            for entry in _string_entries(f, lang):
                first = entries.get(entry.key)
                if first is not None:
                    f.err(
                        entry.line, f"key '{entry.key}' is already defined in {first.file.name}:{first.line}"
                    )
                    continue
                entries[entry.key] = entry
        out[lang] = (files[0], entries)
    return out


def _validate_strings(content_dir: Path, errors: list[ContentError]) -> None:
    loaded = _load_strings(content_dir, errors)
    for lang in LANGUAGES:
        f, entries = loaded[lang]
        if f.root is None:
            continue
        for other in LANGUAGES:
            if other == lang:
                continue
            of, other_entries = loaded[other]
            if of.root is None:
                continue
            for key, entry in other_entries.items():
                if key not in entries:
                    f.err(1, f"key '{key}' is missing (it is in {entry.file.name}:{entry.line})")
        if lang == LANGUAGES[0]:
            continue
        _, base = loaded[LANGUAGES[0]]
        for key, entry in entries.items():
            ref = base.get(key)
            if ref is None or ref.placeholders is None or entry.placeholders is None:
                continue
            if entry.placeholders != ref.placeholders:
                entry.file.err(
                    entry.line,
                    f"'{key}': placeholders {sorted(entry.placeholders)} differ from "
                    f"{sorted(ref.placeholders)} in {ref.file.name}:{ref.line}",
                )


# ---------------------------------------------------------------------------------------
# Self-help articles
# ---------------------------------------------------------------------------------------


def _article_files(content_dir: Path) -> list[Path]:
    folder = content_dir / "selfhelp"
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _validate_article(
    path: Path, topics: set[str], errors: list[ContentError], owner: dict[str, tuple[str, int]]
) -> None:
    f = _File(path, errors)
    items = f.mapping(f.root, "article")
    if items is None:
        return
    for key, key_node, _ in items:
        if key not in ARTICLE_KEYS:
            f.err(key_node, f"unknown field '{key}' (expected {', '.join(sorted(ARTICLE_KEYS))})")
    for key in sorted(ARTICLE_KEYS):
        if _get(items, key) is None:
            f.err(f.root, f"missing field '{key}'")

    article_id = f.text(_get(items, "id"), "id")
    if article_id is not None and article_id != path.stem:
        f.err(_get(items, "id"), f"id '{article_id}' must equal the file name '{path.stem}'")

    topic_nodes = f.sequence(_get(items, "topics"), "topics")
    if topic_nodes is not None and not topic_nodes:
        f.err(_get(items, "topics"), "topics must list at least one topic code")
    for node in topic_nodes or ():
        code = f.text(node, "topic")
        if code is None:
            continue
        if topics and code not in topics:
            f.err(node, f"unknown topic '{code}' (topic codes are defined in taxonomy.yaml)")
        elif code in owner and owner[code][0] != f.name:
            f.err(
                node,
                f"topic '{code}' is already answered by {owner[code][0]}:{owner[code][1]}; "
                "a topic belongs to one article",
            )
        else:
            owner[code] = (f.name, _line(node))

    f.languages(_get(items, "title"), "title")

    source_nodes = f.sequence(_get(items, "sources"), "sources")
    if source_nodes is not None and not source_nodes:
        f.err(_get(items, "sources"), "sources must name at least one source")
    for node in source_nodes or ():
        f.text(node, "source")

    versions_node = _get(items, "versions")
    versions = f.mapping(versions_node, "versions")
    if versions is not None and not versions:
        f.err(versions_node, "versions needs 'teen' and/or 'parent'")
    for version, vkey_node, vnode in versions or ():
        if version not in ARTICLE_VERSIONS:
            f.err(vkey_node, f"unknown version '{version}' (use teen and/or parent)")
            continue
        langs = f.mapping(vnode, f"versions.{version}")
        if langs is None:
            continue
        counts: dict[str, tuple[int, yaml.Node]] = {}
        for lang, lkey_node, lnode in langs:
            if lang not in LANGUAGES:
                f.err(lkey_node, f"versions.{version}: unknown language '{lang}'")
                continue
            messages = f.sequence(lnode, f"versions.{version}.{lang}")
            if messages is None:
                continue
            counts[lang] = (len(messages), lkey_node)
            where = f"versions.{version}.{lang}"
            if not MIN_MESSAGES <= len(messages) <= MAX_MESSAGES:
                f.err(
                    lkey_node,
                    f"{where}: {len(messages)} messages; an article has {MIN_MESSAGES} to {MAX_MESSAGES}",
                )
            for i, mnode in enumerate(messages, 1):
                text = f.text(mnode, f"{where} message {i}")
                if text is None:
                    continue
                if len(text) > MAX_MESSAGE_CHARS:
                    f.err(
                        mnode,
                        f"{where} message {i} has {len(text)} characters; the limit is "
                        f"{MAX_MESSAGE_CHARS} (split it)",
                    )
                if MARKUP_RE.search(text):
                    f.err(mnode, f"{where} message {i}: plain text only, no Markdown or HTML")
                if i == len(messages) and "116111" not in text:
                    f.err(
                        mnode, f"{where}: the last message must invite them to a counsellor and name 116111"
                    )
        for lang in LANGUAGES:
            if lang not in counts:
                f.err(vnode, f"versions.{version}: missing language '{lang}'")
        if len({n for n, _ in counts.values()}) > 1:
            base_lang = LANGUAGES[0] if LANGUAGES[0] in counts else next(iter(counts))
            base_count = counts[base_lang][0]
            for lang, (n, lnode) in counts.items():
                if n != base_count:
                    f.err(
                        lnode,
                        f"versions.{version}.{lang} has {n} messages but {base_lang} has "
                        f"{base_count}; every language needs the same number",
                    )


def _validate_articles(content_dir: Path, topics: set[str], errors: list[ContentError]) -> None:
    folder = content_dir / "selfhelp"
    files = _article_files(content_dir)
    for stray in sorted(folder.glob("*.yml")) if folder.is_dir() else ():
        errors.append(ContentError(_display(stray), 1, "rename to .yaml: only *.yaml articles are loaded"))
    if not files:
        errors.append(ContentError(_display(folder), 1, "no self-help articles found"))
        return
    owner: dict[str, tuple[str, int]] = {}
    for path in files:
        _validate_article(path, topics, errors, owner)
    for code in sorted(topics - set(owner) - TOPICS_WITHOUT_ARTICLE):
        errors.append(
            ContentError(
                _display(folder),
                1,
                f"topic '{code}' from taxonomy.yaml has no self-help article; "
                "add it to the 'topics' of the closest article",
            )
        )


# ---------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------


def _validate_contacts(content_dir: Path, topics: set[str], errors: list[ContentError]) -> None:
    f = _File(content_dir / "contacts.yaml", errors)
    top = f.mapping(f.root, "contacts file")
    if top is None:
        return
    for key, key_node, _ in top:
        if key != "contacts":
            f.err(key_node, f"unknown field '{key}' (the file has one list: contacts)")
    nodes = f.sequence(_get(top, "contacts"), "contacts")
    if nodes is None:
        if _get(top, "contacts") is None:
            f.err(f.root, "missing 'contacts'")
        return
    seen: dict[str, int] = {}
    numbers: set[str] = set()
    for node in nodes:
        items = f.mapping(node, "contact")
        if items is None:
            continue
        cid = f.text(_get(items, "id"), "id")
        label = f"contact '{cid}'" if cid else "contact"
        if _get(items, "id") is None:
            f.err(node, "contact: missing 'id'")
        elif cid is not None:
            if not CODE_RE.match(cid):
                f.err(_get(items, "id"), f"{label}: id must be lower_case_with_underscores")
            if cid in seen:
                f.err(_get(items, "id"), f"{label}: duplicate id (first at line {seen[cid]})")
            seen[cid] = _line(_get(items, "id"))
        for key, key_node, _ in items:
            if key not in CONTACT_KEYS:
                f.err(key_node, f"{label}: unknown field '{key}'")
        kind = f.text(_get(items, "kind"), f"{label}.kind")
        if _get(items, "kind") is None:
            f.err(node, f"{label}: missing 'kind' ({'|'.join(CONTACT_KINDS)})")
        elif kind is not None and kind not in CONTACT_KINDS:
            f.err(_get(items, "kind"), f"{label}: kind must be one of {', '.join(CONTACT_KINDS)}")
            kind = None
        if kind is not None:
            field = CONTACT_TARGET_FIELD[kind]
            target_node = _get(items, field)
            if target_node is None:
                f.err(node, f"{label}: a {kind} contact needs '{field}'")
            else:
                value = f.text(target_node, f"{label}.{field}")
                pattern = {"number": PHONE_RE, "address": EMAIL_RE, "url": URL_RE}[field]
                if value is not None and not pattern.match(value.strip()):
                    f.err(target_node, f"{label}: '{value}' does not look like a valid {field}")
                elif value is not None and field == "number":
                    numbers.add(re.sub(r"\D", "", value))
            for other in ("number", "address", "url"):
                if other != field and _get(items, other) is not None:
                    f.err(_get(items, other), f"{label}: a {kind} contact uses '{field}', not '{other}'")
        for field in ("name", "hours", "when"):
            if _get(items, field) is None:
                f.err(node, f"{label}: missing '{field}' (az, ru, en)")
            else:
                f.languages(_get(items, field), f"{label}.{field}")
        for field in ("free", "emergency"):
            if _get(items, field) is None:
                f.err(node, f"{label}: missing '{field}' (true or false)")
            else:
                f.boolean(_get(items, field), f"{label}.{field}")
        if _get(items, "verify") is not None:
            f.boolean(_get(items, "verify"), f"{label}.verify")
        for tnode in f.sequence(_get(items, "topics"), f"{label}.topics") or ():
            code = f.text(tnode, f"{label} topic")
            if code is not None and topics and code not in topics:
                f.err(tnode, f"{label}: unknown topic '{code}'")
    for number in REQUIRED_NUMBERS:
        if number not in numbers:
            f.err(f.root, f"the phone number {number} must be listed (crisis texts rely on it)")


# ---------------------------------------------------------------------------------------
# Safe-messaging rules
# ---------------------------------------------------------------------------------------


@dataclass
class _Rule:
    rule_id: str
    what: str
    scope: str  # "all" | "crisis"  (forbidden rules)
    applies_to: tuple[str, ...]  # "strings" | "articles"  (required rules)
    patterns: list[tuple[str, re.Pattern[str]]]  # (language, compiled)


@dataclass
class _SafeRules:
    forbidden: list[_Rule]
    required: list[_Rule]
    crisis_keys: list[str]
    crisis_articles: list[str]


def _load_safe_rules(content_dir: Path, errors: list[ContentError]) -> _SafeRules | None:
    f = _File(content_dir / "safe_messaging.yaml", errors)
    top = f.mapping(f.root, "safe_messaging")
    if top is None:
        return None
    for key, key_node, _ in top:
        if key not in ("forbidden", "required", "crisis"):
            f.err(key_node, f"unknown field '{key}' (expected forbidden, required, crisis)")
    start = len(errors)
    rules = _SafeRules([], [], [], [])
    for section in ("forbidden", "required"):
        snode = _get(top, section)
        if snode is None:
            f.err(f.root, f"missing '{section}'")
            continue
        seen: set[str] = set()
        for rnode in f.sequence(snode, section) or ():
            items = f.mapping(rnode, f"{section} rule")
            if items is None:
                continue
            rid = f.text(_get(items, "id"), "id") or "?"
            if _get(items, "id") is None:
                f.err(rnode, f"{section} rule: missing 'id'")
            if rid in seen:
                f.err(_get(items, "id"), f"duplicate rule id '{rid}'")
            seen.add(rid)
            what = f.text(_get(items, "what"), f"rule '{rid}'.what") or ""
            if _get(items, "what") is None:
                f.err(rnode, f"rule '{rid}': missing 'what' (say what the rule is for)")
            scope = "all"
            applies: tuple[str, ...] = ()
            if section == "forbidden":
                scope = f.text(_get(items, "scope"), f"rule '{rid}'.scope") or "all"
                if scope not in ("all", "crisis"):
                    f.err(_get(items, "scope"), f"rule '{rid}': scope must be all or crisis")
            else:
                anodes = f.sequence(_get(items, "applies_to"), f"rule '{rid}'.applies_to")
                if anodes is None:
                    f.err(rnode, f"rule '{rid}': missing 'applies_to' (strings and/or articles)")
                applies = tuple(t for t in (f.text(n, "applies_to") for n in anodes or ()) if t)
                for n in anodes or ():
                    if n.value not in ("strings", "articles"):
                        f.err(n, f"rule '{rid}': applies_to takes strings and/or articles")
            patterns: list[tuple[str, re.Pattern[str]]] = []
            pnode = _get(items, "patterns")
            if pnode is None:
                f.err(rnode, f"rule '{rid}': missing 'patterns'")
            for lang, lkey_node, lnode in f.mapping(pnode, f"rule '{rid}'.patterns") or ():
                if lang not in LANGUAGES:
                    f.err(lkey_node, f"rule '{rid}': unknown language '{lang}'")
                    continue
                for node in f.sequence(lnode, f"rule '{rid}'.patterns.{lang}") or ():
                    source = f.text(node, "pattern")
                    if source is None:
                        continue
                    try:
                        patterns.append((lang, re.compile(source, re.IGNORECASE)))
                    except re.error as exc:
                        f.err(node, f"rule '{rid}': bad regular expression {source!r}: {exc}")
            if section == "required":
                langs = {lang for lang, _ in patterns}
                for lang in LANGUAGES:
                    if lang not in langs:
                        f.err(rnode, f"rule '{rid}': required elements need patterns for '{lang}'")
            rule = _Rule(rid, what, scope, applies, patterns)
            (rules.forbidden if section == "forbidden" else rules.required).append(rule)
    crisis = f.mapping(_get(top, "crisis"), "crisis")
    if crisis is None:
        if _get(top, "crisis") is None:
            f.err(f.root, "missing 'crisis' (string_keys and articles)")
    else:
        for field, target in (("string_keys", rules.crisis_keys), ("articles", rules.crisis_articles)):
            nodes = f.sequence(_get(crisis, field), f"crisis.{field}")
            if nodes is None:
                f.err(_get(top, "crisis"), f"crisis: missing '{field}'")
            for node in nodes or ():
                value = f.text(node, f"crisis.{field}")
                if value:
                    target.append(value)
    return None if len(errors) > start else rules


@dataclass
class _Text:
    """One user-facing text, where it lives, and whether crisis rules apply to it."""

    file: str
    line: int
    where: str  # e.g. "'crisis.ask'.teen (az)" or "versions.teen.ru message 2"
    language: str
    text: str
    crisis: bool
    group: tuple[str, str, str] | None = None  # (kind, name, language/variant) for required checks
    literal: bool = False  # a '|' block: each line of the text is a line of the file

    def line_at(self, pos: int) -> int:
        """The file line of character ``pos`` of the text (exact for '|' blocks)."""
        return self.line + 1 + self.text.count("\n", 0, pos) if self.literal else self.line


def _strings_texts(content_dir: Path, crisis_globs: list[str], errors: list[ContentError]) -> Iterator[_Text]:
    loaded = _load_strings(content_dir, errors)
    for lang in LANGUAGES:
        _, entries = loaded[lang]
        for key, entry in entries.items():
            f = entry.file
            crisis = any(fnmatch.fnmatchcase(key, g) for g in crisis_globs)
            for variant, (text, node) in entry.variants.items():
                label = f"'{key}'" + (f".{variant}" if variant else "")
                audiences = (variant,) if variant else STRING_VARIANTS
                for audience in audiences:
                    group = ("strings", "crisis texts", f"{lang}/{audience}") if crisis else None
                    yield _Text(f.name, _line(node), label, lang, text, crisis, group, node.style == "|")


def _article_texts(
    content_dir: Path, crisis_articles: list[str], errors: list[ContentError]
) -> Iterator[_Text]:
    for path in _article_files(content_dir):
        f = _File(path, errors)
        items = f.mapping(f.root, "article")
        if items is None:
            continue
        crisis = path.stem in crisis_articles
        title = _get(items, "title")
        title_items = f.mapping(title, "title") if isinstance(title, yaml.MappingNode) else None
        for lang, _, node in title_items or ():
            if isinstance(node, yaml.ScalarNode):
                yield _Text(f.name, _line(node), f"title.{lang}", lang, str(node.value), crisis)
        versions = _get(items, "versions")
        if not isinstance(versions, yaml.MappingNode):
            continue
        for version, _, vnode in f.mapping(versions, "versions") or ():
            if not isinstance(vnode, yaml.MappingNode):
                continue
            for lang, _, lnode in f.mapping(vnode, version) or ():
                if not isinstance(lnode, yaml.SequenceNode):
                    continue
                group = ("articles", path.stem, f"{version}/{lang}") if crisis else None
                for i, mnode in enumerate(lnode.value, 1):
                    if isinstance(mnode, yaml.ScalarNode):
                        yield _Text(
                            f.name,
                            _line(mnode),
                            f"versions.{version}.{lang} message {i}",
                            lang,
                            str(mnode.value),
                            crisis,
                            group,
                            mnode.style == "|",
                        )


def _contact_texts(content_dir: Path, errors: list[ContentError]) -> Iterator[_Text]:
    path = content_dir / "contacts.yaml"
    if not path.exists():
        return
    f = _File(path, errors)
    top = f.mapping(f.root, "contacts file")
    for node in (f.sequence(_get(top, "contacts"), "contacts") if top else None) or ():
        items = f.mapping(node, "contact") if isinstance(node, yaml.MappingNode) else None
        for field in ("name", "hours", "when"):
            fnode = _get(items, field)
            if not isinstance(fnode, yaml.MappingNode):
                continue
            for lang, _, lnode in f.mapping(fnode, field) or ():
                if isinstance(lnode, yaml.ScalarNode):
                    yield _Text(
                        f.name, _line(lnode), f"contact {field}.{lang}", lang, str(lnode.value), False
                    )


def _helpline_texts(content_dir: Path, errors: list[ContentError]) -> Iterator[_Text]:
    path = content_dir / "helpline.yaml"
    if not path.exists():
        return
    f = _File(path, errors)
    top = f.mapping(f.root, "helpline file")
    for node in (f.sequence(_get(top, "topics"), "topics") if top else None) or ():
        items = f.mapping(node, "topic") if isinstance(node, yaml.MappingNode) else None
        answer = _get(items, "answer")
        if not isinstance(answer, yaml.MappingNode):
            continue
        for lang, _, lnode in f.mapping(answer, "answer") or ():
            if isinstance(lnode, yaml.ScalarNode):
                yield _Text(f.name, _line(lnode), f"helpline answer.{lang}", lang, str(lnode.value), False)


def _excerpt(text: str, match: re.Match[str]) -> str:
    start, end = max(0, match.start() - 20), min(len(text), match.end() + 20)
    return " ".join(text[start:end].split())


def scan_safe_messaging(content_dir: Path) -> list[ContentError]:
    """Checks every user-facing text against ``safe_messaging.yaml``.

    * ``forbidden`` rules: a match anywhere (scope ``all``) or in crisis texts (scope
      ``crisis``: strings whose keys match ``crisis.string_keys`` and the articles in
      ``crisis.articles``) is an error at the text's line. Patterns of every language
      are applied to every text, so a phrase pasted into the wrong file is still caught.
    * ``required`` rules: the crisis texts of each language and audience, taken together,
      must match at least one pattern of that language (e.g. a bot disclosure, a direct
      question about safety, 112 and 116111); likewise each version of a crisis article.
    """
    content_dir = Path(content_dir)
    errors: list[ContentError] = []
    rules = _load_safe_rules(content_dir, errors)
    if rules is None:
        return errors
    parse_errors: list[ContentError] = []  # structure errors are validate_content's job
    texts = [
        *_strings_texts(content_dir, rules.crisis_keys, parse_errors),
        *_article_texts(content_dir, rules.crisis_articles, parse_errors),
        *_contact_texts(content_dir, parse_errors),
        *_helpline_texts(content_dir, parse_errors),
    ]
    groups: dict[tuple[str, str, str], list[_Text]] = {}
    for t in texts:
        for rule in rules.forbidden:
            if rule.scope == "crisis" and not t.crisis:
                continue
            for _, pattern in rule.patterns:
                m = pattern.search(t.text)
                if m:
                    errors.append(
                        ContentError(
                            t.file,
                            t.line_at(m.start()),
                            f"{t.where}: {rule.rule_id} ({rule.what}): '{_excerpt(t.text, m)}'",
                        )
                    )
                    break
        if t.group is not None:
            groups.setdefault(t.group, []).append(t)

    strings_file = _display(content_dir / "strings" / f"{LANGUAGES[0]}.yaml")
    if rules.crisis_keys and not any(g[0] == "strings" for g in groups):
        message = (
            f"no crisis texts found: no key matches {rules.crisis_keys} "
            "(safe_messaging.yaml crisis.string_keys)"
        )
        errors.append(ContentError(strings_file, 1, message))
    for name in rules.crisis_articles:
        if not any(g[0] == "articles" and g[1] == name for g in groups):
            errors.append(
                ContentError(
                    _display(content_dir / "selfhelp" / f"{name}.yaml"),
                    1,
                    f"crisis article '{name}' not found or has no messages",
                )
            )
    for (kind, name, part), members in sorted(groups.items()):
        lang = part.split("/")[1] if kind == "articles" else part.split("/")[0]
        combined = "\n".join(m.text for m in members)
        for rule in rules.required:
            if kind not in rule.applies_to:
                continue
            if not any(p.search(combined) for plang, p in rule.patterns if plang == lang):
                first = members[0]
                errors.append(
                    ContentError(
                        first.file,
                        first.line,
                        f"{name} ({part}) lack a required element: {rule.rule_id} ({rule.what})",
                    )
                )
    return sorted(set(errors), key=lambda e: (e.file, e.line, e.message))


# ---------------------------------------------------------------------------------------
# Azerbaijani address forms (style check for the tests)
# ---------------------------------------------------------------------------------------

_SEN = re.compile(r"(?<!\w)sən(in|inlə|ə|i|də|dən|lə)?(?!\w)", re.IGNORECASE)
_SIZ = re.compile(r"(?<!\w)siz(in|inlə|ə|i|də|dən|lə)?(?!\w)", re.IGNORECASE)
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|\"[^\"]*\"|„[^“”]*[“”]")


def check_address_forms(content_dir: Path) -> list[ContentError]:
    """Azerbaijani texts must say "sən" to teenagers and "Siz" to adults.

    Teen versions of articles and ``teen`` string variants must not use the pronoun
    siz/sizin/sizə...; parent versions and ``adult`` variants must not use sən/sənin/sənə...
    Text in quotes is skipped (an article for parents may quote what to say to a child).
    """
    content_dir = Path(content_dir)
    errors: list[ContentError] = []
    parse_errors: list[ContentError] = []
    texts: list[tuple[_Text, str]] = []
    for t in _strings_texts(content_dir, [], parse_errors):
        if t.language == "az" and t.where.endswith((".teen", ".adult")):
            texts.append((t, "teen" if t.where.endswith(".teen") else "adult"))
    for t in _article_texts(content_dir, [], parse_errors):
        if t.where.startswith("versions.") and t.language == "az":
            texts.append((t, "teen" if t.where.startswith("versions.teen") else "adult"))
    for t, audience in texts:
        unquoted = _QUOTED.sub(lambda q: re.sub(r"[^\n]", " ", q.group(0)), t.text)  # keep positions
        pattern, wrong, right = (_SIZ, "Siz", "sən") if audience == "teen" else (_SEN, "sən", "Siz")
        m = pattern.search(unquoted)
        if m:
            errors.append(
                ContentError(
                    t.file,
                    t.line_at(m.start()),
                    f"{t.where}: '{m.group(0)}' — write to "
                    f"{'teenagers' if audience == 'teen' else 'adults'} "
                    f"with '{right}', not '{wrong}'",
                )
            )
    return errors


def _validate_intents(content_dir: Path, errors: list[ContentError]) -> None:
    """``intents.yaml`` (optional): ``intents: {name: [regular expression, ...]}``."""
    path = content_dir / "intents.yaml"
    if not path.exists():
        return
    f = _File(path, errors)
    top = f.mapping(f.root, "intents file")
    if top is None:
        return
    node = _get(top, "intents")
    if node is None:
        f.err(f.root, "missing 'intents'")
    for name, _, lnode in f.mapping(node, "intents") or ():
        for pnode in f.sequence(lnode, f"intent '{name}'") or ():
            source = f.text(pnode, f"intent '{name}' pattern")
            if source is None:
                continue
            try:
                re.compile(source)
            except re.error as exc:
                f.err(pnode, f"intent '{name}': bad regular expression {source!r}: {exc}")


def _patterns(f: _File, node: yaml.Node | None, what: str) -> None:
    for pnode in f.sequence(node, what) or ():
        source = f.text(pnode, f"{what} pattern")
        if source is None:
            continue
        try:
            re.compile(source)
        except re.error as exc:
            f.err(pnode, f"{what}: bad regular expression {source!r}: {exc}")


def _languages(f: _File, node: yaml.Node | None, what: str, limit: int | None = None) -> None:
    items = f.mapping(node, what) or []
    found = {key for key, _, _ in items}
    for lang in LANGUAGES:
        if lang not in found:
            f.err(node, f"{what}: missing language '{lang}'")
    for key, knode, vnode in items:
        if key not in LANGUAGES:
            f.err(knode, f"{what}: unknown language '{key}'")
            continue
        text = f.text(vnode, f"{what} ({key})")
        if text is not None and limit is not None and len(text) > limit:
            f.err(vnode, f"{what} ({key}): {len(text)} characters, at most {limit}")


def _validate_helpline(content_dir: Path, errors: list[ContentError]) -> None:
    """``helpline.yaml``: what the bot knows about the helpline (``source``, ``topics``)."""
    f = _File(content_dir / "helpline.yaml", errors)
    top = f.mapping(f.root, "helpline file")
    if top is None:
        return
    for key, knode, _ in top:
        if key not in ("source", "topics"):
            f.err(knode, f"unknown key '{key}' (expected source, topics)")
    _languages(f, _get(top, "source"), "source")
    seen: set[str] = set()
    for tnode in f.sequence(_get(top, "topics"), "topics") or ():
        items = f.mapping(tnode, "topic") or []
        keys = {k for k, _, _ in items}
        for key, knode, _ in items:
            if key not in ("id", "patterns", "answer"):
                f.err(knode, f"unknown key '{key}' (expected id, patterns, answer)")
        for needed in ("id", "patterns", "answer"):
            if needed not in keys:
                f.err(tnode, f"topic: missing '{needed}'")
        topic_id = f.text(_get(items, "id"), "topic id") or "?"
        if topic_id in seen:
            f.err(_get(items, "id"), f"topic '{topic_id}' is defined twice")
        seen.add(topic_id)
        _patterns(f, _get(items, "patterns"), f"topic '{topic_id}'")
        _languages(f, _get(items, "answer"), f"topic '{topic_id}' answer", limit=MAX_MESSAGE_CHARS + 200)


def _validate_profile(content_dir: Path, errors: list[ContentError]) -> None:
    """``profile.yaml``: patterns that tell who is writing (``child``, ``adult``, ``gender``)."""
    f = _File(content_dir / "profile.yaml", errors)
    top = f.mapping(f.root, "profile file")
    if top is None:
        return
    for key, knode, vnode in top:
        if key in ("child", "adult"):
            _patterns(f, vnode, key)
        elif key == "gender":
            for gkey, gknode, gvnode in f.mapping(vnode, "gender") or ():
                if gkey not in ("female", "male"):
                    f.err(gknode, f"gender: unknown key '{gkey}' (expected female, male)")
                _patterns(f, gvnode, f"gender {gkey}")
        else:
            f.err(knode, f"unknown key '{key}' (expected child, adult, gender)")


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------


def validate_content(content_dir: Path) -> list[ContentError]:
    """Validates every content file; returns the problems found (empty when all is well)."""
    content_dir = Path(content_dir)
    errors: list[ContentError] = []
    topics = _validate_taxonomy(content_dir, errors)
    _validate_strings(content_dir, errors)
    _validate_articles(content_dir, topics, errors)
    _validate_contacts(content_dir, topics, errors)
    _load_safe_rules(content_dir, errors)
    _validate_intents(content_dir, errors)
    _validate_helpline(content_dir, errors)
    _validate_profile(content_dir, errors)
    unique = sorted(set(errors), key=lambda e: (e.file, e.line, e.message))
    return unique


__all__ = ["ContentError", "check_address_forms", "scan_safe_messaging", "validate_content"]
