"""Content files: schema validation, safe messaging, languages, and no user text in code.

The real files in bot/content/ must pass; broken copies (written to a temporary folder)
must be reported with the file and the line of the mistake.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.content_schema import (
    MAX_MESSAGE_CHARS,
    ContentError,
    check_address_forms,
    scan_safe_messaging,
    validate_content,
)
from bot.domain import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
CONTENT = BOT / "content"

REQUIRED_ARTICLES = {
    # article id -> versions it must have
    "loneliness": {"teen", "parent"},
    "puberty": {"teen", "parent"},
    "exam_stress": {"teen", "parent"},
    "bullying": {"teen", "parent"},
    "cyberbullying": {"teen", "parent"},
    "family_conflict": {"teen", "parent"},
    "grief": {"teen", "parent"},
    "anxiety": {"teen", "parent"},
    "low_mood": {"teen", "parent"},
    "self_harm": {"teen", "parent"},
    "parenting": {"parent"},
    "legal_help": {"teen", "parent"},
    "social_support": {"teen", "parent"},
    "health": {"teen", "parent"},
    "school": {"teen", "parent"},
}


def _articles() -> dict[str, dict]:
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((CONTENT / "selfhelp").glob("*.yaml"))
    }


def _show(errors: list[ContentError]) -> str:
    return "\n".join(str(e) for e in errors[:30])


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of bot/content (without the large triage corpus)."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target, ignore=shutil.ignore_patterns("triage", "__pycache__"))
    return target


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _errors_for(errors: list[ContentError], path: Path) -> list[ContentError]:
    return [e for e in errors if e.file.endswith(str(Path(path.parent.name) / path.name))]


# ---------------------------------------------------------------------------------------------
# The real content
# ---------------------------------------------------------------------------------------------


def test_real_content_is_valid() -> None:
    errors = validate_content(CONTENT)
    assert errors == [], _show(errors)


def test_real_content_passes_safe_messaging_scan() -> None:
    errors = scan_safe_messaging(CONTENT)
    assert errors == [], _show(errors)


def test_azerbaijani_says_sen_to_teenagers_and_siz_to_adults() -> None:
    errors = check_address_forms(CONTENT)
    assert errors == [], _show(errors)


def test_required_articles_exist_with_their_versions() -> None:
    articles = _articles()
    for article_id, versions in REQUIRED_ARTICLES.items():
        assert article_id in articles, f"missing article {article_id}"
        assert set(articles[article_id]["versions"]) >= versions, article_id


def test_every_article_has_sources_and_equal_chat_sized_messages() -> None:
    for article_id, article in _articles().items():
        assert article["id"] == article_id
        assert article["sources"] and all(isinstance(s, str) and s.strip() for s in article["sources"]), (
            article_id
        )
        assert set(article["title"]) == set(LANGUAGES), article_id
        for version, by_lang in article["versions"].items():
            assert set(by_lang) == set(LANGUAGES), (article_id, version)
            counts = {lang: len(messages) for lang, messages in by_lang.items()}
            assert len(set(counts.values())) == 1, (article_id, version, counts)
            assert 3 <= counts["az"] <= 7, (article_id, version, counts)
            for lang, messages in by_lang.items():
                for i, message in enumerate(messages, 1):
                    assert 0 < len(message) <= MAX_MESSAGE_CHARS, (article_id, version, lang, i, len(message))
                    assert "**" not in message and "](" not in message, (article_id, version, lang, i)
                assert "116111" in messages[-1], (article_id, version, lang)


def test_every_topic_leads_to_one_article() -> None:
    taxonomy = yaml.safe_load((CONTENT / "taxonomy.yaml").read_text(encoding="utf-8"))
    owners: dict[str, list[str]] = {}
    for article_id, article in _articles().items():
        for topic in article["topics"]:
            owners.setdefault(topic, []).append(article_id)
    for topic in taxonomy["topics"]:
        if topic == "service_info":
            continue
        assert len(owners.get(topic, [])) == 1, (topic, owners.get(topic))
    # the "done when" topics of the issue lead to their own articles
    expected = {
        "loneliness": "loneliness",
        "exam_stress": "exam_stress",
        "bullying": "bullying",
        "puberty": "puberty",
        "parenting": "parenting",
        "anxiety": "anxiety",
        "sextortion": "cyberbullying",
        "parents_divorce": "family_conflict",
        "suicide": "self_harm",
    }
    for topic, article_id in expected.items():
        assert owners[topic] == [article_id], topic


def test_anxiety_article_walks_through_grounding_step_by_step() -> None:
    teen = _articles()["anxiety"]["versions"]["teen"]
    for lang, messages in teen.items():
        steps = [m for m in messages if re.match(r"^(\d-(ci|cü|cı|cu) addım|Шаг \d|Step \d)", m)]
        assert len(steps) >= 4, (lang, [m[:20] for m in messages])
        joined = "\n".join(messages)
        for count in ("5", "4", "3", "2", "1"):
            assert count in joined


def test_cyberbullying_article_gives_sextortion_advice() -> None:
    teen = _articles()["cyberbullying"]["versions"]["teen"]
    needles = {
        "az": ["Ödəmə", "silmə", "böyüyə de", "şikayət"],
        "ru": ["Не плати", "Не удаляй", "взрослому", "пожалуйся"],
        "en": ["Don't pay", "Don't delete", "Tell an adult", "report"],
    }
    for lang, words in needles.items():
        joined = "\n".join(teen[lang])
        for word in words:
            assert word.lower() in joined.lower(), (lang, word)


def test_contacts_hold_the_numbers_the_crisis_texts_use() -> None:
    contacts = yaml.safe_load((CONTENT / "contacts.yaml").read_text(encoding="utf-8"))["contacts"]
    by_number = {c.get("number"): c for c in contacts if c["kind"] == "phone"}
    for number in ("116111", "112", "102", "103"):
        assert number in by_number, number
    assert by_number["116111"]["free"] is True
    assert by_number["112"]["emergency"] is True
    for contact in contacts:
        for field in ("name", "hours", "when"):
            assert set(contact[field]) == set(LANGUAGES), (contact["id"], field)


# ---------------------------------------------------------------------------------------------
# Broken copies are reported with file and line
# ---------------------------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_and_line(content: Path) -> None:
    path = content / "selfhelp" / "grief.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    bad_line = _line_of(path, "sources:") + 1
    lines[bad_line - 1] = '  - "WHO: unterminated'
    lines.insert(bad_line, "   broken: [indentation")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = _errors_for(validate_content(content), path)
    assert errors, "a YAML syntax error must be reported"
    assert "YAML syntax error" in errors[0].message
    assert bad_line <= errors[0].line <= bad_line + 2, str(errors[0])
    assert str(errors[0]).startswith(f"{errors[0].file}:{errors[0].line}: ")


def test_string_key_missing_in_a_language_is_named(content: Path) -> None:
    az = content / "strings" / "az.yaml"
    with az.open("a", encoding="utf-8") as fh:
        fh.write('\ntest.only_in_az: "Salam"\n')
    line = _line_of(az, "test.only_in_az")
    errors = validate_content(content)
    missing = [e for e in errors if "test.only_in_az" in e.message]
    assert {Path(e.file).name for e in missing} == {"ru.yaml", "en.yaml"}, _show(errors)
    assert all(f"az.yaml:{line}" in e.message for e in missing)


def test_string_placeholders_must_match_across_languages(content: Path) -> None:
    for lang, text in (("az", "Salam, {name}!"), ("ru", "Привет, {nam}!"), ("en", "Hello, {name}!")):
        with (content / "strings" / f"{lang}.yaml").open("a", encoding="utf-8") as fh:
            fh.write(f'\ntest.placeholder: "{text}"\n')
    ru = content / "strings" / "ru.yaml"
    errors = [e for e in validate_content(content) if "test.placeholder" in e.message]
    assert len(errors) == 1, _show(errors)
    assert errors[0].file.endswith("ru.yaml") and errors[0].line == _line_of(ru, "test.placeholder")


def test_string_audience_variants_need_teen_and_adult(content: Path) -> None:
    for lang in LANGUAGES:
        with (content / "strings" / f"{lang}.yaml").open("a", encoding="utf-8") as fh:
            fh.write('\ntest.variant:\n  teen: "Salam"\n')
    errors = [e for e in validate_content(content) if "test.variant" in e.message]
    assert len(errors) == 3 and all("adult" in e.message for e in errors), _show(errors)


def test_string_broken_placeholder_and_duplicate_key(content: Path) -> None:
    for lang in LANGUAGES:
        with (content / "strings" / f"{lang}.yaml").open("a", encoding="utf-8") as fh:
            fh.write('\ntest.brace: "Salam {name"\ntest.twice: "a"\ntest.twice: "b"\n')
    en = content / "strings" / "en.yaml"
    errors = _errors_for(validate_content(content), en)
    brace = [e for e in errors if "test.brace" in e.message]
    twice = [e for e in errors if "test.twice" in e.message and "duplicate" in e.message]
    assert brace and brace[0].line == _line_of(en, "test.brace"), _show(errors)
    assert twice and twice[0].line == _line_of(en, 'test.twice: "b"'), _show(errors)


ARTICLE = """\
id: planted
topics: [no_such_topic]
title: {az: "Başlıq", ru: "Заголовок"}
sources: []
versions:
  teen:
    az:
      - "Bir"
      - "İki"
      - "Üç, 116111"
    ru:
      - "Один"
      - "Два, 116111"
    en:
      - "One"
      - "TOO_LONG"
      - "Three"
"""


def test_article_mistakes_are_reported_at_their_lines(content: Path) -> None:
    path = content / "selfhelp" / "wrong_name.yaml"
    path.write_text(ARTICLE.replace("TOO_LONG", "x" * (MAX_MESSAGE_CHARS + 1)), encoding="utf-8")
    errors = _errors_for(validate_content(content), path)
    messages = "\n".join(f"{e.line}: {e.message}" for e in errors)
    assert any(e.line == 1 and "file name" in e.message for e in errors), messages  # id != file name
    assert any(e.line == 2 and "no_such_topic" in e.message for e in errors), messages
    assert any(e.line == 3 and "missing language 'en'" in e.message for e in errors), messages
    assert any(e.line == 4 and "sources" in e.message for e in errors), messages
    assert any(e.line == 11 and "3" in e.message and "2 messages" in e.message for e in errors), messages
    assert any(e.line == 16 and "characters" in e.message for e in errors), messages
    assert any(e.line == 17 and "116111" in e.message for e in errors), messages  # en: last message


def test_topic_left_without_article_is_reported(content: Path) -> None:
    path = content / "selfhelp" / "grief.yaml"
    text = path.read_text(encoding="utf-8").replace("topics: [grief]", "topics: [low_mood]")
    path.write_text(text, encoding="utf-8")
    messages = [str(e) for e in validate_content(content)]
    assert any("topic 'grief'" in m and "no self-help article" in m for m in messages), messages
    assert any("low_mood" in m and "already answered" in m for m in messages), messages


def test_contact_mistakes_are_reported(content: Path) -> None:
    path = content / "contacts.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace('number: "112"', "number: 112").replace('number: "103"', 'number: "one-oh-three"')
    text = text.replace(
        "    emergency: true\n    topics: [suicide", "    emergency: maybe\n    topics: [suicide"
    )
    path.write_text(text, encoding="utf-8")
    errors = _errors_for(validate_content(content), path)
    messages = "\n".join(str(e) for e in errors)
    assert any(e.line == _line_of(path, "number: 112") and "quotes" in e.message for e in errors), messages
    assert any(e.line == _line_of(path, "one-oh-three") for e in errors), messages
    assert any(e.line == _line_of(path, "emergency: maybe") for e in errors), messages
    assert any("112 must be listed" in e.message for e in errors), messages


def test_taxonomy_missing_category_is_reported(content: Path) -> None:
    path = content / "taxonomy.yaml"
    data = path.read_text(encoding="utf-8").replace("  health:\n", "  healthy:\n", 1)
    path.write_text(data, encoding="utf-8")
    messages = [str(e) for e in validate_content(content)]
    assert any("unknown category 'healthy'" in m for m in messages), messages
    assert any("category 'health' is missing" in m for m in messages), messages


def test_missing_file_stops_validation(content: Path) -> None:
    (content / "strings" / "ru.yaml").unlink()
    errors = validate_content(content)
    assert any(e.file.endswith("ru.yaml") and "missing" in e.message for e in errors)


# ---------------------------------------------------------------------------------------------
# Safe messaging
# ---------------------------------------------------------------------------------------------

PLANTED = [
    ("en", "He committed suicide last year."),
    ("en", "Don't be silly, it will pass."),
    ("en", "Some take 30 pills."),
    ("az", "Bu, uğurlu intihar idi."),
    ("az", "Dostum intihar etdi."),
    ("az", "20 həb içmək"),
    ("az", "Boş şeydir, keçər."),
    ("ru", "Боже, это же глупости!"),
    ("ru", "Он совершил самоубийство."),
    ("ru", "Возьми себя в руки."),
]


@pytest.mark.parametrize(("lang", "phrase"), PLANTED)
def test_scan_catches_planted_phrases(content: Path, lang: str, phrase: str) -> None:
    path = content / "selfhelp" / "grief.yaml"
    text = path.read_text(encoding="utf-8")
    marker = {"az": "Yas dalğa-dalğa gəlir.", "ru": "Горе приходит волнами.", "en": "Grief comes in waves."}[
        lang
    ]
    path.write_text(text.replace(marker, f"{phrase} {marker}", 1), encoding="utf-8")
    errors = scan_safe_messaging(content)
    assert len(errors) == 1, _show(errors)
    assert errors[0].file.endswith("grief.yaml"), str(errors[0])
    assert errors[0].line == _line_of(path, phrase), str(errors[0])


def test_just_is_rejected_in_crisis_texts_only(content: Path) -> None:
    marker = "Things you can try right now:"
    crisis = content / "selfhelp" / "self_harm.yaml"
    crisis.write_text(
        crisis.read_text(encoding="utf-8").replace(marker, "Just breathe. " + marker), encoding="utf-8"
    )
    calm = content / "selfhelp" / "loneliness.yaml"
    calm.write_text(
        calm.read_text(encoding="utf-8").replace("First, ask yourself", "Just ask yourself"), encoding="utf-8"
    )
    errors = scan_safe_messaging(content)
    assert [Path(e.file).name for e in errors] == ["self_harm.yaml"], _show(errors)
    assert "minimising_in_crisis" in errors[0].message


def _rewrite_crisis_strings(content: Path, lang: str, change) -> None:
    path = content / "strings" / f"{lang}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in data.items():
        if "crisis" in key:  # every crisis text, as the scanner counts them (crisis.string_keys)
            data[key] = {k: change(v) for k, v in value.items()} if isinstance(value, dict) else change(value)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_crisis_texts_must_keep_112_and_the_bot_disclosure(content: Path) -> None:
    _rewrite_crisis_strings(content, "az", lambda text: text.replace("112", "***"))
    _rewrite_crisis_strings(
        content, "en", lambda text: re.sub(r"(?i)\b(chat)?bot\b|automated", "helper", text)
    )
    messages = [str(e) for e in scan_safe_messaging(content)]
    assert any("number_112" in m and "az/" in m for m in messages), messages
    assert any("bot_disclosure" in m and "en/" in m for m in messages), messages
    assert not any("ru/" in m for m in messages), messages


def test_crisis_article_must_ask_about_safety(content: Path) -> None:
    path = content / "selfhelp" / "self_harm.yaml"
    text = path.read_text(encoding="utf-8").replace("?", ".")
    path.write_text(text, encoding="utf-8")
    messages = [str(e) for e in scan_safe_messaging(content)]
    assert any("safety_question" in m and "teen/az" in m for m in messages), messages
    assert any("safety_question" in m and "parent/en" in m for m in messages), messages


def test_address_form_check_catches_siz_in_teen_text(content: Path) -> None:
    path = content / "selfhelp" / "bullying.yaml"
    text = path.read_text(encoding="utf-8").replace("Səndə günah yoxdur", "Sizdə günah yoxdur")
    text = text.replace("Bunu yaşamaq çox ağırdır.", "Bunu yaşamaq Sizin üçün çox ağırdır.")
    path.write_text(text, encoding="utf-8")
    errors = check_address_forms(content)
    assert len(errors) == 1 and errors[0].file.endswith("bullying.yaml"), _show(errors)
    assert errors[0].line == _line_of(path, "Sizin üçün"), str(errors[0])


# ---------------------------------------------------------------------------------------------
# No user-facing text in Python code
# ---------------------------------------------------------------------------------------------

CODE_PATHS = [BOT / "flows", BOT / "engine.py", BOT / "channels"]
LOCAL_LETTERS = re.compile(r"[əğıöşüçƏĞİÖŞÜÇ\u0400-\u04FF]")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
DEVELOPER_CALLS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}


def _developer_strings(tree: ast.AST) -> set[int]:
    """Ids of nodes in docstrings, log calls, raise and assert: text for developers."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                allowed.add(id(first.value))
        sub: ast.AST | None = None
        if isinstance(node, ast.Raise):
            sub = node.exc
        elif isinstance(node, ast.Assert):
            sub = node.msg
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name in DEVELOPER_CALLS:
                sub = node
        if sub is not None:
            allowed.update(id(n) for n in ast.walk(sub))
    return allowed


def find_user_text(paths: list[Path]) -> list[str]:
    """String literals that look like words for people: Azerbaijani/Cyrillic letters, or an
    English sentence (over 40 characters, at least six words)."""
    found: list[tuple[Path, int, str]] = []
    files = [f for p in paths if p.exists() for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        allowed = _developer_strings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):  # its parts are judged as one text
                allowed.update(id(v) for v in node.values)
        for node in ast.walk(tree):
            if id(node) in allowed:
                continue
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            sentence = (
                len(text) > 40
                and len(ENGLISH_WORD.findall(text)) >= 6
                and re.search(r"[a-z]{2,} [a-z]{2,}", text)
            )
            if LOCAL_LETTERS.search(text) or sentence:
                found.append((file, node.lineno, text))
    return [f"{file}:{line}: {text[:60]!r}" for file, line, text in sorted(found)]


def test_no_user_facing_text_in_python_code() -> None:
    assert find_user_text(CODE_PATHS) == []


def test_user_text_scanner_catches_planted_text(tmp_path: Path) -> None:
    planted = tmp_path / "flow.py"
    planted.write_text(
        '"""Module docstring is fine, even a long English sentence like this one."""\n'
        "import logging\n"
        "log = logging.getLogger(__name__)\n"
        "def f(turn, n):\n"
        '    log.info("a log line for developers is allowed to be a long sentence")\n'
        "    if n < 0:\n"
        '        raise ValueError("exceptions for developers may also be long sentences")\n'
        '    turn.say("Salam! Sənə necə kömək edə bilərəm?")\n'
        '    turn.say(f"Your case number {n} has been opened and a counsellor will write soon")\n'
        '    turn.say("Здравствуйте")\n'
        '    return turn.t("menu.start", lang="az")\n',
        encoding="utf-8",
    )
    found = find_user_text([planted])
    assert [line.split(":")[1] for line in found] == ["8", "9", "10"], found
