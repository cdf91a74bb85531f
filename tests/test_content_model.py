"""The content model: every file kind names the file and line of a misspelt key or a wrong type,
the content is parsed once, and the loaded content is made of the validated models."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import bot.content_model.loader as loader
from bot.content_model import ContentError, validate_content
from bot.content_model.models import Article, Taxonomy
from bot.content_model.yamlsource import Document
from bot.texts import ContentInvalid, load_content

CONTENT = Path(__file__).resolve().parents[1] / "bot" / "content"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of bot/content (without the large triage corpus)."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target, ignore=shutil.ignore_patterns("triage", "__pycache__"))
    return target


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed, n = re.subn(pattern, replacement, text, count=1, flags=re.MULTILINE)
    assert n == 1, f"{pattern!r} not in {path}"
    path.write_text(changed, encoding="utf-8")


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _in_file(errors: list[ContentError], path: Path) -> list[ContentError]:
    return [e for e in errors if e.file.endswith(str(Path(path.parent.name) / path.name))]


def _show(errors: list[ContentError]) -> str:
    return "\n".join(str(e) for e in errors[:30])


# (file, pattern, replacement, text on the line to be named, words the message must hold)
MISSPELT = [
    ("strings/az.yaml", r"^  teen: ", "  tean: ", "tean:", "unknown key 'tean' (expected teen, adult)"),
    ("selfhelp/grief.yaml", r"^sources:", "sourses:", "sourses:", "unknown key 'sourses'"),
    (
        "contacts.yaml",
        r"^    emergency: true",
        "    emergancy: true",
        "emergancy:",
        "unknown key 'emergancy'",
    ),
    ("taxonomy.yaml", r"^specificity:", "specifity:", "specifity:", "unknown key 'specifity'"),
    ("taxonomy.yaml", r"^    covers:", "    covrs:", "covrs:", "categories.education: unknown key 'covrs'"),
    ("intents.yaml", r"^intents:", "intent:", "intent:", "unknown key 'intent' (expected intents)"),
    ("helpline.yaml", r"^    answer:", "    anwser:", "anwser:", "topic 'about': unknown key 'anwser'"),
    ("profile.yaml", r"^child:", "chlid:", "chlid:", "unknown key 'chlid' (expected child, adult, gender)"),
    (
        "safe_messaging.yaml",
        r"^    scope: all",
        "    scop: all",
        "scop:",
        "rule 'method_quantity': unknown key",
    ),
]

WRONG_TYPE = [
    ("strings/en.yaml", r"^lang\.set: .*$", "lang.set: 42", "lang.set:", "must be text, got the number 42"),
    ("selfhelp/grief.yaml", r"^topics: \[grief\]", "topics: grief", "topics: grief", "topics must be a list"),
    (
        "contacts.yaml",
        r"^    free: true",
        '    free: "yes"',
        'free: "yes"',
        "free must be true or false, got 'yes'",
    ),
    (
        "taxonomy.yaml",
        r"^    az: Təhsil",
        "    az: [Təhsil]",
        "[Təhsil]",
        "education.az must be text, not a list",
    ),
    ("intents.yaml", r"^  fine:$", "  fine: 5\n  fine_old:", "fine: 5", "intents.fine must be a list"),
    (
        "helpline.yaml",
        r"^  - id: about",
        "  - id: 7",
        "id: 7",
        "must be text, got the number 7 (put it in quotes)",
    ),
    ("profile.yaml", r"^gender:", "gender: [female]\ngender_old:", "gender: [", "gender must be a mapping"),
    (
        "safe_messaging.yaml",
        r"^    scope: all",
        "    scope: [all]",
        "scope: [all]",
        "must be 'all' or 'crisis'",
    ),
]


@pytest.mark.parametrize(("name", "pattern", "replacement", "needle", "words"), MISSPELT + WRONG_TYPE)
def test_misspelt_key_or_wrong_type_names_file_and_line(
    content: Path, name: str, pattern: str, replacement: str, needle: str, words: str
) -> None:
    path = content / name
    _edit(path, pattern, replacement)
    line = _line_of(path, needle)
    errors = _in_file(validate_content(content), path)
    assert any(e.line == line and words in e.message for e in errors), _show(errors)
    found = next(e for e in errors if words in e.message)
    assert str(found).startswith(f"{found.file}:{line}: ") and found.file.endswith(name)


def test_contact_number_without_quotes_says_to_quote_it(content: Path) -> None:
    path = content / "contacts.yaml"
    _edit(path, r'number: "102"', "number: 102")
    errors = _in_file(validate_content(content), path)
    line = _line_of(path, "number: 102")
    message = "contact 'police'.number must be text, got the number 102 (put it in quotes)"
    assert ContentError(str(errors[0].file), line, message) in errors, _show(errors)


def test_a_key_defined_in_two_files_of_a_language_names_both(content: Path) -> None:
    part = content / "strings" / "telegram.en.yaml"
    with part.open("a", encoding="utf-8") as fh:
        fh.write('\nlang.set: "Again"\n')
    errors = _in_file(validate_content(content), part)
    en_line = _line_of(content / "strings" / "en.yaml", "lang.set:")
    line = _line_of(part, "lang.set:")
    assert any(e.line == line and f"strings/en.yaml:{en_line}" in e.message for e in errors), _show(errors)


def test_load_content_reports_file_and_line(content: Path) -> None:
    path = content / "selfhelp" / "grief.yaml"
    _edit(path, r"^title:", "titel:")
    with pytest.raises(ContentInvalid) as caught:
        load_content(content)
    messages = [str(e) for e in caught.value.errors]
    assert any(
        m.endswith("grief.yaml:3: unknown key 'titel' (expected id, topics, title, sources, versions)")
        for m in messages
    ), messages


def test_content_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    real = loader.read

    def counting(path: Path, errors: list[ContentError]) -> Document:
        reads.append(path)
        return real(path, errors)

    monkeypatch.setattr(loader, "read", counting)
    load_content()
    assert reads and len(reads) == len(set(reads)), "a content file was read twice"
    assert {p.name for p in reads} >= {
        "taxonomy.yaml",
        "contacts.yaml",
        "intents.yaml",
        "helpline.yaml",
        "profile.yaml",
        "safe_messaging.yaml",
        "az.yaml",
        "telegram.ru.yaml",
        "report.en.yaml",
        "grief.yaml",
    }


def test_the_loaded_content_is_the_validated_models() -> None:
    content = load_content()
    assert isinstance(content.articles["grief"], Article)
    assert isinstance(content.taxonomy, Taxonomy)
    assert content.articles["grief"].title.get("en") == "Grief and loss"
    assert content.articles["grief"].title.get("xx") is None
    assert content.category_label("health", "ru") == "Здоровье"
    assert [c.target for c in content.contacts if c.id == "helpline"] == ["116111"]


def test_taxonomy_topics_have_no_stray_keys() -> None:
    import yaml

    topics = yaml.safe_load((CONTENT / "taxonomy.yaml").read_text(encoding="utf-8"))["topics"]
    stray = {code: sorted(set(info) - {"category", "az", "ru", "en"}) for code, info in topics.items()}
    assert {code: keys for code, keys in stray.items() if keys} == {}
