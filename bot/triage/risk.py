"""Explainable risk rules.

The lexicon lives in ``bot/content/triage/risk_rules.yaml`` (patterns, levels and counsellor-readable
labels).  This module compiles it and applies it to a normalised message: each rule that fires
becomes a :class:`~bot.domain.Signal` naming what was found; cues (a means, a place, a time) carry no
level on their own but combine with other signals, also with signals raised earlier in the same
conversation, into combos such as "suicidal thoughts + pills = imminent".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from bot.domain import Risk, Signal
from bot.triage.normalize import fold_pattern
from bot.triage.resources import load_yaml

_MACRO_RE = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_EVIDENCE_MAX = 80
_MAX_HITS_PER_RULE = 3
# Cues that only make sense in the message that carries them (a stale "now" or a passing mention of
# death from earlier in the conversation must not combine with a later message).
_NOT_REMEMBERED = frozenset({"time_now", "c_death"})


class LexiconError(ValueError):
    """The risk lexicon in bot/content/triage is malformed."""


@dataclass(frozen=True)
class Rule:
    code: str
    level: Risk
    label: str
    label_az: str
    topics: tuple[str, ...]
    regex: re.Pattern[str]
    unless: re.Pattern[str] | None
    suppress_in: frozenset[str]
    is_cue: bool


@dataclass(frozen=True)
class Combo:
    code: str
    level: Risk
    label: str
    label_az: str
    topics: tuple[str, ...]
    groups: tuple[frozenset[str], ...]
    current_only: bool
    none_of: frozenset[str] = frozenset()
    suppress_in: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Hit:
    code: str
    level: Risk
    label: str
    evidence: str
    start: int
    end: int
    topics: tuple[str, ...]
    is_cue: bool


@dataclass
class RiskAssessment:
    level: Risk
    signals: list[Signal] = field(default_factory=list)  # rules, combos and cues, strongest first
    topics: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)  # current-message hits with their spans
    contexts: frozenset[str] = frozenset()

    @property
    def codes(self) -> set[str]:
        return {s.code for s in self.signals}


def expand_macros(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(5):
        new = _MACRO_RE.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    missing = _MACRO_RE.findall(pattern)
    if missing:
        raise LexiconError(f"unknown macro(s) {missing} in pattern {pattern!r}")
    return pattern


def _compile_many(patterns: Iterable[str], macros: dict[str, str], where: str) -> re.Pattern[str] | None:
    sources = [str(p) for p in patterns or []]
    parts = [f"(?:{fold_pattern(expand_macros(p, macros))})" for p in sources]
    if not parts:
        return None
    try:
        return re.compile("|".join(parts))
    except re.error:
        for p, part in zip(sources, parts, strict=True):
            try:
                re.compile(part)
            except re.error as exc:
                raise LexiconError(f"{where}: bad pattern {p!r} -> {part!r}: {exc}") from exc
        raise


class RiskRules:
    """The compiled risk lexicon."""

    def __init__(self, data: dict) -> None:
        macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
        self.contexts: dict[str, re.Pattern[str]] = {}
        for name, pats in (data.get("contexts") or {}).items():
            rx = _compile_many(pats, macros, f"context {name}")
            if rx is not None:
                self.contexts[str(name)] = rx
        self.rules: list[Rule] = []
        for kind in ("rules", "cues"):
            for entry in data.get(kind) or []:
                code = str(entry["code"])
                rx = _compile_many(entry.get("patterns") or [], macros, code)
                if rx is None:
                    raise LexiconError(f"{code}: no patterns")
                suppress = frozenset(str(c) for c in entry.get("suppress_in") or [])
                unknown = suppress - set(self.contexts)
                if unknown:
                    raise LexiconError(f"{code}: unknown contexts {sorted(unknown)}")
                self.rules.append(
                    Rule(
                        code=code,
                        level=Risk(entry.get("level", "none")),
                        label=str(entry.get("label", code)),
                        label_az=str(entry.get("label_az", entry.get("label", code))),
                        topics=tuple(entry.get("topics") or ()),
                        regex=rx,
                        unless=_compile_many(entry.get("unless") or [], macros, f"{code} unless"),
                        suppress_in=suppress,
                        is_cue=kind == "cues",
                    )
                )
        codes = {r.code for r in self.rules}
        if len(codes) != len(self.rules):
            raise LexiconError("duplicate rule codes")
        self.combos: list[Combo] = []
        for entry in data.get("combos") or []:
            groups = tuple(frozenset(str(c) for c in g) for g in entry.get("all") or [])
            known = codes | {c.code for c in self.combos} | {str(entry["code"])}
            for g in groups:
                unknown = g - known
                if unknown:
                    raise LexiconError(f"combo {entry['code']}: unknown codes {sorted(unknown)}")
            self.combos.append(
                Combo(
                    code=str(entry["code"]),
                    level=Risk(entry.get("level", "urgent")),
                    label=str(entry.get("label", entry["code"])),
                    label_az=str(entry.get("label_az", entry.get("label", entry["code"]))),
                    topics=tuple(entry.get("topics") or ()),
                    groups=groups,
                    current_only=bool(entry.get("current_only", False)),
                    none_of=frozenset(str(c) for c in entry.get("none_of") or ()),
                    suppress_in=frozenset(str(c) for c in entry.get("suppress_in") or ()),
                )
            )
        self.combo_code_set = frozenset(c.code for c in self.combos)
        # Cues worth remembering in the conversation: those a combo can pick up from earlier messages.
        cue_codes = {r.code for r in self.rules if r.is_cue}
        self.memorable_cues = frozenset(
            code
            for c in self.combos
            if not c.current_only
            for g in c.groups
            for code in g
            if code in cue_codes and code not in _NOT_REMEMBERED
        )
        self.labels_az: dict[str, str] = {r.code: r.label_az for r in self.rules}
        self.labels_az.update({c.code: c.label_az for c in self.combos})
        self.labels: dict[str, str] = {r.code: r.label for r in self.rules}
        self.labels.update({c.code: c.label for c in self.combos})
        self.topics_by_code: dict[str, tuple[str, ...]] = {r.code: r.topics for r in self.rules}
        self.topics_by_code.update({c.code: c.topics for c in self.combos})

    # -- matching ----------------------------------------------------------------------------------

    def find_contexts(self, folded: str) -> frozenset[str]:
        return frozenset(name for name, rx in self.contexts.items() if rx.search(folded))

    def hits(self, folded: str, contexts: frozenset[str] | None = None) -> list[Hit]:
        if contexts is None:
            contexts = self.find_contexts(folded)
        out: list[Hit] = []
        for rule in self.rules:
            if rule.suppress_in & contexts:
                continue
            first = rule.regex.search(folded)
            if first is None:
                continue
            unless_spans: list[tuple[int, int]] | None = None
            found = 0
            for m in itertools.chain((first,), rule.regex.finditer(folded, first.end())):
                if rule.unless is not None:
                    if unless_spans is None:
                        unless_spans = [u.span() for u in rule.unless.finditer(folded)]
                    s, e = m.span()
                    if any(us < e and s < ue for us, ue in unless_spans):
                        continue
                evidence = m.group(0).strip()[:_EVIDENCE_MAX]
                out.append(
                    Hit(
                        rule.code,
                        rule.level,
                        rule.label,
                        evidence,
                        m.start(),
                        m.end(),
                        rule.topics,
                        rule.is_cue,
                    )
                )
                found += 1
                if found >= _MAX_HITS_PER_RULE:
                    break
        return out

    def assess(self, folded: str, prior: Sequence[Signal] = ()) -> RiskAssessment:
        contexts = self.find_contexts(folded)
        hits = self.hits(folded, contexts)
        current: dict[str, Signal] = {}
        spans: dict[str, list[tuple[int, int]]] = {}
        for h in hits:
            if h.code not in current:
                current[h.code] = Signal(h.code, h.level, h.label, h.evidence)
            spans.setdefault(h.code, []).append((h.start, h.end))
        prior_codes = {s.code for s in prior}
        for combo in self.combos:
            if combo.suppress_in & contexts:
                continue
            evidence = self._match_combo(combo, current, spans, prior_codes)
            if evidence is None:
                continue
            current.setdefault(combo.code, Signal(combo.code, combo.level, combo.label, evidence))
        signals = list(current.values())
        signals.sort(key=lambda s: (-s.level.rank, s.code in self.combo_code_set))
        level = Risk.max(*(s.level for s in signals))
        topics: list[str] = []
        for s in signals:
            if s.level.rank > Risk.NONE.rank:
                for t in self.topics_by_code.get(s.code, ()):
                    if t not in topics:
                        topics.append(t)
        return RiskAssessment(level=level, signals=signals, topics=topics, hits=hits, contexts=contexts)

    @staticmethod
    def _match_combo(
        combo: Combo,
        current: dict[str, Signal],
        spans: dict[str, list[tuple[int, int]]],
        prior_codes: set[str],
    ) -> str | None:
        """Evidence if every group is matched by a different signal (at least one from this message).

        Signals must be found on separate words: "qərarımı verdim" is both a plan and a decision but
        one piece of evidence, and the "tonight" inside "I wish I would die tonight" is part of a
        wish, not a second sign.
        """
        if combo.none_of & current.keys():
            return None
        options: list[list[tuple[str, bool]]] = []
        for group in combo.groups:
            opts = [(c, True) for c in group if c in current]
            if not combo.current_only:
                opts += [(c, False) for c in group if c in prior_codes and c not in current]
            if not opts:
                return None
            options.append(opts)
        for choice in itertools.product(*options):
            codes = [c for c, _ in choice]
            if len(set(codes)) != len(codes):
                continue
            if not any(is_current for _, is_current in choice):
                continue
            if not _separate_words([spans[c] for c, is_current in choice if is_current and c in spans]):
                continue
            parts = [current[c].evidence if is_current else f"earlier: {c}" for c, is_current in choice]
            return " + ".join(parts)[: _EVIDENCE_MAX * 2]
        return None


def _separate_words(span_lists: list[list[tuple[int, int]]]) -> bool:
    """Can one span be picked per signal so that no picked span lies inside another?"""
    for pick in itertools.product(*span_lists):
        if not any(
            i != j and a[0] <= b[0] and b[1] <= a[1] for i, a in enumerate(pick) for j, b in enumerate(pick)
        ):
            return True
    return False


@lru_cache(maxsize=1)
def load_rules() -> RiskRules:
    return RiskRules(load_yaml("risk_rules.yaml"))
