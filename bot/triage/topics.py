"""Topic keywords (bot/content/triage/topics.yaml): multilingual features for the model.

Patterns may use the macros of risk_rules.yaml ({W3} = up to three words in between ...).
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.triage.prefilter import word_beginnings, word_start_prefixes
from bot.triage.resources import load_yaml
from bot.triage.risk import compile_patterns


class TopicKeywords:
    def __init__(self, data: dict, macros: dict[str, str]) -> None:
        self.patterns: dict[str, re.Pattern[str]] = {}
        self._prefixes: dict[str, frozenset[str] | None] = {}
        for topic, pats in (data.get("topics") or {}).items():
            rx = compile_patterns(pats or [], macros, f"topic {topic}")
            if rx is not None:
                self.patterns[str(topic)] = rx
                self._prefixes[str(topic)] = word_start_prefixes(rx)

    def hits(self, folded: str) -> list[str]:
        starts = word_beginnings(folded.split())
        out = []
        for topic, rx in self.patterns.items():
            prefixes = self._prefixes[topic]
            if prefixes is not None and prefixes.isdisjoint(starts):
                continue
            if rx.search(folded):
                out.append(topic)
        return out


@lru_cache(maxsize=1)
def load_topic_keywords() -> TopicKeywords:
    macros = {str(k): str(v) for k, v in (load_yaml("risk_rules.yaml").get("macros") or {}).items()}
    return TopicKeywords(load_yaml("topics.yaml"), macros)
