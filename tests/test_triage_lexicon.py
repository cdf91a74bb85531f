"""The risk lexicon and the other triage data files are valid and consistent."""

from __future__ import annotations

import re

import yaml

from bot.domain import Risk
from bot.triage.resources import TRIAGE_CONTENT_DIR, load_yaml, topic_categories
from bot.triage.risk import RiskRules, load_rules
from bot.triage.topics import load_topic_keywords


def test_risk_rules_compile_and_every_signal_has_labels():
    rules = load_rules()
    assert len(rules.rules) > 40 and rules.combos
    for r in rules.rules:
        assert r.label.strip() and r.label_az.strip(), r.code
    for c in rules.combos:
        assert c.label.strip() and c.label_az.strip(), c.code
        assert c.level.rank >= Risk.URGENT.rank


def test_rule_topics_are_taxonomy_codes():
    known = set(topic_categories())
    rules = load_rules()
    for code, topics in rules.topics_by_code.items():
        assert set(topics) <= known, (code, topics)
    data = load_yaml("topics.yaml")["topics"]
    pseudo = {"greeting", "spam", "figurative", "game", "media", "small_talk", "assignment", "feelings"}
    assert set(data) - pseudo <= known


def test_every_escalating_rule_maps_to_a_category():
    cats = topic_categories()
    for rule in load_rules().rules:
        if rule.level.escalates:
            assert rule.topics and cats.get(rule.topics[0]), rule.code


def test_lexicon_errors_are_reported():
    bad = {"rules": [{"code": "x", "level": "urgent", "label": "x", "patterns": ["(unclosed"]}]}
    try:
        RiskRules(bad)
    except ValueError as exc:
        assert "x" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a broken pattern must be reported")
    unknown = {
        "rules": [{"code": "x", "level": "urgent", "label": "x", "patterns": ["a"]}],
        "combos": [{"code": "y", "all": [["x"], ["nope"]]}],
    }
    try:
        RiskRules(unknown)
    except ValueError as exc:
        assert "nope" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown code in a combo must be reported")


def test_yaml_files_load_and_topic_keywords_compile():
    for path in TRIAGE_CONTENT_DIR.glob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path.name
    kw = load_topic_keywords()
    assert {"school", "illness", "service_info"} <= set(kw.patterns)
    assert "school" in kw.hits(" mekteb ")


def test_no_python_in_content():
    for path in TRIAGE_CONTENT_DIR.rglob("*"):
        assert path.suffix != ".py" or path.name == "__init__.py"


def test_patterns_are_written_in_plain_spelling():
    """The compiler folds patterns; a hand-folded "gh" written as "qh" would never match."""
    text = (TRIAGE_CONTENT_DIR / "risk_rules.yaml").read_text(encoding="utf-8")
    assert not re.search(r"[a-z]qh", text)
