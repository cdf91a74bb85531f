"""A cheap, exact pre-check for the lexicon's regular expressions.

Most concept and topic patterns can only match at the start of a word (every alternative begins with
``\\b`` and a letter or digit, or is an emoji, which the folded text keeps as a word of its own) and
begin with one of a few known pairs of letters ("xe" for "həb", "ta" for
"таблетки" ...).  :func:`word_start_prefixes` works these pairs out from the compiled pattern; a
message none of whose words begins with one of them cannot match, and the regular expression is not
run at all.  When the pairs cannot be worked out (a wildcard, a large character class, an emoji
alternative) the answer is None and the pattern is always run, so the pre-check never changes a
result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

try:  # Python 3.11+
    from re import _constants as _c  # type: ignore[attr-defined]
    from re import _parser as _p  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _p  # type: ignore[no-redef]

_N = 2  # letters of the prefix
_MAX_PREFIXES = 400
_MAX_CLASS = 10


class _Unknown(Exception):
    pass


def _class_chars(items) -> list[str]:
    chars: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            chars.append(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.extend(chr(x) for x in range(av[0], av[1] + 1))
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            chars.extend("0123456789")
        else:
            raise _Unknown
    if len(chars) > _MAX_CLASS:
        raise _Unknown
    return chars


def _extend(items: list, partial: set[str]) -> set[str]:
    """Prefixes after matching ``items`` from each partial prefix (complete ones pass through)."""
    out: set[str] = set()
    todo = {p for p in partial if len(p) < _N}
    out |= {p for p in partial if len(p) >= _N}
    if not todo:
        return out
    current = todo
    for index, (op, av) in enumerate(items):
        done = {p for p in current if len(p) >= _N}
        out |= done
        current -= done
        if not current:
            return out
        if op is _c.LITERAL:
            current = {p + chr(av) for p in current}
        elif op is _c.AT:
            continue  # zero width
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            continue  # zero width: checked by the real pattern
        elif op is _c.IN:
            chars = _class_chars(av)
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            chars = list("0123456789")
            current = {p + ch for p in current for ch in chars}
        elif op is _c.BRANCH:
            current = set().union(*(_extend(list(branch), current) for branch in av[1]))
        elif op is _c.SUBPATTERN:
            current = _extend(list(av[-1]), current)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, body = av
            if low == 0:
                # optional: either skipped or matched once
                taken = _extend(list(body), current)
                if high > 1 and any(len(p) < _N for p in taken):
                    raise _Unknown  # the body could come again before what follows
                rest = items[index + 1 :]
                return out | _extend(rest, current) | _extend(rest, taken)
            current = _extend(list(body), current)
            if any(len(p) < _N for p in current):
                raise _Unknown  # what follows a repeated body is not known
        else:
            raise _Unknown
        if len(current) > _MAX_PREFIXES:
            raise _Unknown
    if any(len(p) < _N for p in current):
        raise _Unknown  # the pattern can end before two letters
    return out | current


def word_start_prefixes(rx: re.Pattern[str]) -> frozenset[str] | None:
    """The two-letter word beginnings every match starts with, or None if unknown."""
    try:
        parsed = _p.parse(rx.pattern, rx.flags)
        items = list(parsed)
        alternatives = (
            [list(branch) for branch in items[0][1][1]]
            if len(items) == 1 and items[0][0] is _c.BRANCH
            else [items]
        )
        prefixes: set[str] = set()
        for alt in alternatives:
            # strip plain groups around the alternative: (?:\b...)
            while len(alt) == 1 and alt[0][0] is _c.SUBPATTERN:
                alt = list(alt[0][1][-1])
            if alt and alt[0][0] is _c.LITERAL and _is_symbol(chr(alt[0][1])):
                # an emoji: the folded text keeps emoji as tokens of their own
                prefixes.add(chr(alt[0][1]))
                continue
            if not alt or alt[0] != (_c.AT, _c.AT_BOUNDARY):
                return None
            found = _extend(alt[1:], {""})
            if not found or not all(p.isalnum() for p in found):
                return None
            prefixes |= found
        return frozenset(prefixes) if len(prefixes) <= _MAX_PREFIXES else None
    except (_Unknown, RecursionError, ValueError, TypeError, IndexError):
        return None


def _is_symbol(ch: str) -> bool:
    return not ch.isalnum() and not ch.isspace() and ch != "_"


def word_beginnings(words: Iterable[str]) -> frozenset[str]:
    """The first two characters of each word of a folded message, and its emoji."""
    out: set[str] = set()
    for w in words:
        if len(w) >= _N:
            out.add(w[:_N])
        if w and _is_symbol(w[0]):
            out.add(w[0])
    return frozenset(out)
