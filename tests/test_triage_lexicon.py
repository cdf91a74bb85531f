"""The risk lexicon (concepts and composition rules) and the other triage data files are valid."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.triage.normalize import normalize
from bot.triage.resources import TRIAGE_CONTENT_DIR, load_yaml, topic_categories
from bot.triage.risk import LexiconError, RiskRules, load_rules
from bot.triage.topics import load_topic_keywords

LABEL = {"en": "x", "az": "x", "ru": "x"}


def test_the_lexicon_is_a_small_set_of_concepts_and_rules():
    rules = load_rules()
    kinds = {c.kind for c in rules.concepts}
    assert {"means", "act", "question", "time", "sign", "person", "guard"} <= kinds
    assert 40 <= len(rules.concepts) <= 120 and 20 <= len(rules.rules) <= 60
    # the phrase families of the earlier rule set were 196 KB
    assert (TRIAGE_CONTENT_DIR / "risk_rules.yaml").stat().st_size < 100_000


def test_rule_topics_and_categories_are_taxonomy_codes():
    known = topic_categories()
    for rule in load_rules().rules:
        assert set(rule.topics) <= set(known), rule.code
        if rule.level.escalates:
            assert rule.topics and (rule.category or known.get(rule.topics[0])), rule.code
        if rule.category:
            assert rule.category in set(known.values()), rule.code


def test_lexicon_errors_are_reported():
    with pytest.raises(LexiconError, match="x"):
        RiskRules({"concepts": [{"code": "x", "label": LABEL, "patterns": ["(unclosed"]}]})
    with pytest.raises(LexiconError, match="nope"):
        RiskRules(
            {
                "concepts": [{"code": "x", "label": LABEL, "patterns": ["a"]}],
                "rules": [{"code": "y", "label": LABEL, "all": [["x"], ["nope"]]}],
            }
        )
    with pytest.raises(LexiconError, match="label"):
        RiskRules({"concepts": [{"code": "x", "label": {"en": "only english"}, "patterns": ["a"]}]})


def test_a_rule_needs_a_concept_from_each_group_on_separate_words():
    rules = RiskRules(
        {
            "concepts": [
                {"code": "wish", "label": LABEL, "patterns": [r"\bdie\b"], "remember": True},
                {"code": "pills", "label": LABEL, "patterns": [r"\bpils\b"], "remember": True},
            ],
            "rules": [{"code": "plan", "level": "imminent", "label": LABEL, "all": [["wish"], ["pills"]]}],
        }
    )

    def level(text, **kw):
        return rules.assess(normalize(text).folded, **kw).level.value

    assert level("i want to die, i have pills") == "imminent"
    assert level("i want to die") == "none"
    # in a conversation the earlier concept fills its group, but one must come from this message
    assert level("i have pills", earlier={"wish"}) == "imminent"
    assert level("hello", earlier={"wish", "pills"}) == "none"


def test_yaml_files_load_and_topic_keywords_compile():
    for path in TRIAGE_CONTENT_DIR.glob("*.yaml"):
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict), path.name
    kw = load_topic_keywords()
    assert {"school", "illness", "service_info"} <= set(kw.patterns)
    assert "school" in kw.hits(" mekteb ")
    assert load_yaml("triage.yaml")["model_signal"]


def test_no_python_in_content():
    for path in TRIAGE_CONTENT_DIR.rglob("*"):
        assert path.suffix != ".py"


def test_patterns_are_written_in_plain_spelling():
    """The compiler folds patterns; a hand-folded "gh" written as "qx" would never match."""
    text = (TRIAGE_CONTENT_DIR / "risk_rules.yaml").read_text(encoding="utf-8")
    assert not re.search(r"[a-z]qx", text)


def test_the_word_start_pre_check_never_changes_a_result():
    """The cheap pre-check skips a pattern only when no word can begin a match."""
    import json
    from pathlib import Path

    rules = load_rules()
    assert sum(c.prefixes is not None for c in rules.concepts) >= len(rules.concepts) // 3
    data = Path(__file__).resolve().parent / "data"
    texts = [
        json.loads(line).get("text", "")
        for path in sorted(data.glob("triage_*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for text in texts:
        folded = normalize(text).folded
        unfiltered = {c.code for c in rules.concepts if c.regex.search(folded)}
        assert set(rules.scan(folded)) <= unfiltered
        starts = {w[:2] for w in folded.split()}
        prefiltered = {
            c.code
            for c in rules.concepts
            if (c.prefixes is None or not c.prefixes.isdisjoint(starts)) and c.regex.search(folded)
        }
        assert prefiltered == unfiltered, text
