"""Explainable risk rules: concept lexicons and a short list of composition rules over them.

The data live in ``bot/content/triage/risk_rules.yaml``:

* ``concepts``: small lexicons of one idea each (a means such as medicines or a rope, an act such as
  drinking or jumping with its Azerbaijani tenses and persons, a lethality question, a time, a
  farewell, an instrument of abuse ...), written as stems plus suffix patterns.  A concept alone
  raises nothing.  Concepts marked ``guard`` name a harmless context (a game, a film, a school essay,
  the helpline's own webinar, a question about the service, figurative speech, a negation).
* ``rules``: compositions of concepts (``all``: one concept from each group; ``none``: no concept
  of these, usually guards).  A rule that fires becomes a :class:`~bot.domain.Signal` with its level
  and label; in a conversation the groups may be filled by earlier messages (the concepts of the
  ``history`` texts, or signal codes already on the case, passed as ``prior``), but at least one
  concept must come from the message itself.

Every concept and rule has a counsellor-readable label in az, ru and en (:meth:`RiskRules.label`).
The concepts found are also features of the trained model, so it learns from them in every language
at once.  Rules can only add risk: nothing here lowers what the model decides.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from bot.domain import Risk, Signal
from bot.triage.normalize import fold_pattern
from bot.triage.prefilter import word_beginnings, word_start_prefixes
from bot.triage.resources import load_yaml

_MACRO_RE = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")
_EVIDENCE_MAX = 80
LANGS = ("en", "az", "ru")


class LexiconError(ValueError):
    """The risk lexicon in bot/content/triage is malformed."""


@dataclass(frozen=True)
class Concept:
    code: str
    kind: str
    labels: dict[str, str]
    regex: re.Pattern[str]
    unless: re.Pattern[str] | None
    remember: bool  # carried over to later messages of the conversation
    prefixes: frozenset[str] | None = None  # the word beginnings every match starts with, if known


@dataclass(frozen=True)
class Rule:
    code: str
    level: Risk
    labels: dict[str, str]
    groups: tuple[frozenset[str], ...]
    none_of: frozenset[str]
    topics: tuple[str, ...]
    category: str | None
    scope: str  # "message": all groups from this message; "conversation": earlier ones count

    @property
    def label(self) -> str:
        return self.labels["en"]


@dataclass(frozen=True)
class Hit:
    code: str
    evidence: str
    start: int
    end: int


@dataclass
class RiskAssessment:
    level: Risk
    signals: list[Signal] = field(default_factory=list)  # rules that fired, strongest first
    rules: list[Rule] = field(default_factory=list)  # the same, as rules
    concepts: dict[str, Hit] = field(default_factory=dict)  # concepts of this message
    guards: frozenset[str] = frozenset()  # harmless contexts found in this message

    @property
    def codes(self) -> set[str]:
        return {s.code for s in self.signals}

    @property
    def topics(self) -> list[str]:
        out: list[str] = []
        for r in self.rules:
            for t in r.topics:
                if t not in out:
                    out.append(t)
        return out


def expand_macros(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(6):
        new = _MACRO_RE.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    missing = _MACRO_RE.findall(pattern)
    if missing:
        raise LexiconError(f"unknown macro(s) {missing} in pattern {pattern!r}")
    return pattern


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # skip a character class: "]" right after "[" or "[^" is a literal
            i += 2 if pattern.startswith("[^", i) else 1
            i += 1 if pattern.startswith("]", i) else 0
            while pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _word_start_first(parts: list[str]) -> str:
    r"""``\bA|\bB|C`` -> ``\b(?:A|B)|C``: the same matches, found faster by Python's engine."""
    starting = [p[2:] for p in parts if p.startswith("\\b")]
    other = [p for p in parts if not p.startswith("\\b")]
    if len(starting) < 2:
        return "|".join(parts)
    return "|".join([f"\\b(?:{'|'.join(starting)})", *other])


def compile_patterns(patterns: Iterable[str], macros: dict[str, str], where: str) -> re.Pattern[str] | None:
    """One regular expression for a list of lexicon patterns (folded like the text)."""
    sources = [str(p) for p in patterns or []]
    folded = [fold_pattern(expand_macros(p, macros)) for p in sources]
    parts = [f"(?:{p})" for p in folded]
    if not parts:
        return None
    try:
        re.compile("|".join(parts))
        alternatives = [a for p in folded for a in _top_level_alternatives(p)]
        return re.compile(_word_start_first(alternatives))
    except re.error:
        for p, part in zip(sources, parts, strict=True):
            try:
                re.compile(part)
            except re.error as exc:
                raise LexiconError(f"{where}: bad pattern {p!r} -> {part!r}: {exc}") from exc
        raise


def _labels(entry: dict, code: str) -> dict[str, str]:
    raw = entry.get("label") or {}
    if not isinstance(raw, dict) or not all(str(raw.get(lang, "")).strip() for lang in LANGS):
        raise LexiconError(f"{code}: needs a label in {', '.join(LANGS)}")
    return {lang: str(raw[lang]).strip() for lang in LANGS}


class RiskRules:
    """The compiled concept lexicon and composition rules."""

    def __init__(self, data: dict) -> None:
        macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
        sets = {str(k): [str(c) for c in v or ()] for k, v in (data.get("sets") or {}).items()}
        self.concepts: list[Concept] = []
        for entry in data.get("concepts") or []:
            code = str(entry["code"])
            rx = compile_patterns(entry.get("patterns") or [], macros, code)
            if rx is None:
                raise LexiconError(f"{code}: no patterns")
            self.concepts.append(
                Concept(
                    code=code,
                    kind=str(entry.get("kind", "cue")),
                    labels=_labels(entry, code),
                    regex=rx,
                    unless=compile_patterns(entry.get("unless") or [], macros, f"{code} unless"),
                    remember=bool(entry.get("remember", False)),
                    prefixes=word_start_prefixes(rx),
                )
            )
        concept_codes = [c.code for c in self.concepts]
        if len(set(concept_codes)) != len(concept_codes):
            raise LexiconError("duplicate concept codes")
        known = set(concept_codes)

        def expand(codes: Iterable[str], where: str) -> frozenset[str]:
            out: set[str] = set()
            for c in codes:
                c = str(c)
                if c.startswith("@"):
                    if c[1:] not in sets:
                        raise LexiconError(f"{where}: unknown set {c}")
                    out.update(sets[c[1:]])
                else:
                    out.add(c)
            return frozenset(out)

        self.rules: list[Rule] = []
        for entry in data.get("rules") or []:
            code = str(entry["code"])
            groups = tuple(expand(g if isinstance(g, list) else [g], code) for g in entry.get("all") or [])
            if not groups:
                raise LexiconError(f"rule {code}: no concepts")
            none_of = expand(entry.get("none") or [], code)
            rule_codes = {r.code for r in self.rules}
            for g in (*groups, none_of):
                unknown = g - known - rule_codes
                if unknown:
                    raise LexiconError(f"rule {code}: unknown codes {sorted(unknown)}")
            self.rules.append(
                Rule(
                    code=code,
                    level=Risk(entry.get("level", "urgent")),
                    labels=_labels(entry, code),
                    groups=groups,
                    none_of=none_of,
                    topics=tuple(str(t) for t in entry.get("topics") or ()),
                    category=str(entry["category"]) if entry.get("category") else None,
                    scope=str(entry.get("scope", "conversation")),
                )
            )
        all_codes = known | {r.code for r in self.rules}
        if len(all_codes) != len(self.concepts) + len(self.rules):
            raise LexiconError("a rule has the code of a concept or of another rule")
        self.guard_codes = frozenset(c.code for c in self.concepts if c.kind == "guard")
        self.memorable = frozenset(c.code for c in self.concepts if c.remember)
        self.rule_codes = frozenset(r.code for r in self.rules)
        self.by_code: dict[str, Concept | Rule] = {c.code: c for c in self.concepts}
        self.by_code.update({r.code: r for r in self.rules})
        self.topics_by_code: dict[str, tuple[str, ...]] = {r.code: r.topics for r in self.rules}
        self.extra_labels: dict[str, dict[str, str]] = {}

    # -- labels ------------------------------------------------------------------------------------

    def label(self, code: str, lang: str = "en") -> str | None:
        item = self.by_code.get(code)
        labels = item.labels if item is not None else self.extra_labels.get(code)
        if labels is None:
            return None
        return labels.get(lang) or labels.get("en")

    # -- matching ----------------------------------------------------------------------------------

    def scan(self, folded: str) -> dict[str, Hit]:
        """The concepts found in a folded message, with the first piece of evidence of each."""
        found: dict[str, Hit] = {}
        starts = word_beginnings(folded.split())
        for c in self.concepts:
            if c.prefixes is not None and c.prefixes.isdisjoint(starts):
                continue  # no word of the message begins the way a match must
            m = c.regex.search(folded)
            if m is None:
                continue
            if c.unless is not None:
                spans = [u.span() for u in c.unless.finditer(folded)]
                if spans:
                    m = next(
                        (
                            x
                            for x in itertools.chain((m,), c.regex.finditer(folded, m.end()))
                            if not any(us < x.end() and x.start() < ue for us, ue in spans)
                        ),
                        None,
                    )
                    if m is None:
                        continue
            found[c.code] = Hit(c.code, m.group(0).strip()[:_EVIDENCE_MAX], m.start(), m.end())
        return found

    def assess(
        self,
        folded: str,
        prior: Sequence[Signal] | Iterable[str] = (),
        earlier: Iterable[str] = (),
        concepts: dict[str, Hit] | None = None,
    ) -> RiskAssessment:
        """Rules that fire for this message.

        ``prior``: signals (or their codes) already on the case; ``earlier``: concept codes found in
        the conversation's earlier messages.  Both can fill the groups of a conversation rule.
        """
        current = self.scan(folded) if concepts is None else concepts
        before = {s.code if isinstance(s, Signal) else str(s) for s in prior} | set(earlier)
        before -= current.keys()
        fired: dict[str, tuple[Rule, str]] = {}
        for rule in self.rules:
            evidence = self._match(rule, current, fired, before)
            if evidence is not None:
                fired[rule.code] = (rule, evidence)
        rules = sorted((r for r, _ in fired.values()), key=lambda r: -r.level.rank)
        signals = [Signal(r.code, r.level, r.label, fired[r.code][1]) for r in rules]
        level = Risk.max(*(r.level for r in rules))
        guards = frozenset(current.keys() & self.guard_codes)
        return RiskAssessment(level=level, signals=signals, rules=rules, concepts=current, guards=guards)

    @staticmethod
    def _match(
        rule: Rule, current: dict[str, Hit], fired: dict[str, tuple[Rule, str]], before: set[str]
    ) -> str | None:
        if rule.none_of & current.keys() or rule.none_of & fired.keys():
            return None
        if not rule.groups[0] & (current.keys() | fired.keys() | before):
            return None
        options: list[list[tuple[str, bool]]] = []
        for group in rule.groups:
            opts = [(c, True) for c in group if c in current or c in fired]
            if rule.scope != "message":
                opts += [(c, False) for c in group if c in before]
            if not opts:
                return None
            options.append(opts)
        for choice in itertools.islice(itertools.product(*options), 200):
            codes = [c for c, _ in choice]
            if len(set(codes)) != len(codes) or not any(now for _, now in choice):
                continue
            spans = [(current[c].start, current[c].end) for c, now in choice if now and c in current]
            if _nested(spans):
                continue
            parts = []
            for c, now in choice:
                if not now:
                    parts.append(f"earlier: {c}")
                elif c in current:
                    parts.append(current[c].evidence)
                else:
                    parts.append(fired[c][1])
            return " + ".join(parts)[: _EVIDENCE_MAX * 2]
        return None


def _nested(spans: list[tuple[int, int]]) -> bool:
    """Does one piece of evidence lie inside another (one word cannot be two signs)?"""
    return any(
        i != j and a[0] <= b[0] and b[1] <= a[1] for i, a in enumerate(spans) for j, b in enumerate(spans)
    )


@lru_cache(maxsize=1)
def load_rules() -> RiskRules:
    return RiskRules(load_yaml("risk_rules.yaml"))
